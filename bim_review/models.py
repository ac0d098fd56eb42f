"""BIM models of bids: the uploaded IFC file and the state of its conversion (see bim_review/outputs.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from evaluation.models import Bid, BidDocument


class IfcSchema(models.TextChoices):
    IFC2X3 = "IFC2X3", "IFC2X3"
    IFC4 = "IFC4", "IFC4"
    IFC4X3 = "IFC4X3", "IFC4X3"


class ConversionStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    CONVERTING = "converting", _("转换中")
    READY = "ready", _("已就绪")
    FAILED = "failed", _("转换失败")


class BimModel(models.Model):
    """One IFC model of a bid. The file itself is the bid's BIM document (stored by SHA-256).

    ``original_name`` may reveal the bidder: it is shown only to the host and reviewers, never to
    experts (anonymous technical review, issue 6 item 7). Outputs live under ``cache_key``.
    """

    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="bim_models")
    document = models.OneToOneField(BidDocument, on_delete=models.PROTECT, related_name="bim_model")
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    size = models.PositiveBigIntegerField(_("字节数"), editable=False)
    schema = models.CharField(_("IFC 版本"), max_length=16, choices=IfcSchema.choices)
    original_name = models.CharField(_("原文件名"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("转换状态"), max_length=16, choices=ConversionStatus.choices, default=ConversionStatus.QUEUED
    )
    # The conversion's current stage ("open", "geometry", "compress", "metadata", ...) and percent.
    stage = models.CharField(_("阶段"), max_length=32, blank=True)
    percent = models.PositiveSmallIntegerField(_("进度"), default=0)
    failure_reason = models.TextField(_("失败原因"), blank=True)
    # Elements whose geometry failed in every kernel: [{"id": GlobalId, "class": ..., "reason": ...}].
    failed_elements = models.JSONField(default=list, blank=True)
    # sha256 of (file hash, ifcopenshell version, conversion settings): the outputs' folder name.
    cache_key = models.CharField(max_length=64, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("BIM 模型")
        verbose_name_plural = _("BIM 模型")
        ordering = ["bid", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["bid", "sha256"], name="bim_model_once_per_bid")]

    def __str__(self) -> str:
        return f"{self.bid.anonymous_label} {self.schema} ({self.sha256[:12]})"

    @property
    def is_ready(self) -> bool:
        return self.status == ConversionStatus.READY
