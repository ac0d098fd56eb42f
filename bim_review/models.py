"""BIM models of bids: the uploaded IFC file and the state of its conversion (see bim_review/outputs.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from evaluation.models import Bid, BidDocument, EvaluationSession


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


# --- issues on elements, in the BCF 3.0 model (bim_review/actions.py changes them) ---------------


def snapshot_path(instance: Viewpoint, filename: str) -> str:
    # Stored by content hash, like every document: the name says nothing about who took it.
    return f"bim/snapshots/{instance.snapshot_sha256[:2]}/{instance.snapshot_sha256}.png"


class Topic(models.Model):
    """A BCF topic: an issue raised in a session on one bid's model (or on elements of it).

    Status, priority and type are BCF's free words: our pages offer those of bim_review.protocol,
    an imported file keeps its own. Authors are kept as BCF writes them (a user name), so an
    imported topic needs no account of ours.
    """

    session = models.ForeignKey(EvaluationSession, on_delete=models.PROTECT, related_name="bim_topics")
    model = models.ForeignKey(BimModel, on_delete=models.PROTECT, related_name="topics")
    guid = models.UUIDField(_("GUID"))
    topic_type = models.CharField(_("类型"), max_length=64, default="Issue")
    status = models.CharField(_("状态"), max_length=64, default="Open")
    priority = models.CharField(_("优先级"), max_length=64, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("描述"), blank=True)
    labels = models.JSONField(_("标签"), default=list, blank=True)
    assignee = models.CharField(_("负责人"), max_length=150, blank=True)
    due_date = models.DateTimeField(_("期限"), null=True, blank=True)
    creation_author = models.CharField(max_length=150)
    creation_date = models.DateTimeField()
    modified_author = models.CharField(max_length=150, blank=True)
    modified_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("BIM 问题")
        verbose_name_plural = _("BIM 问题")
        ordering = ["session", "creation_date", "id"]
        constraints = [models.UniqueConstraint(fields=["session", "guid"], name="bim_topic_guid_unique_in_session")]

    def __str__(self) -> str:
        return self.title


class Viewpoint(models.Model):
    """A BCF viewpoint of a topic: the view as JSON (bim_review.protocol.Viewpoint) and its snapshot."""

    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="viewpoints")
    guid = models.UUIDField(_("GUID"))
    index = models.PositiveIntegerField(null=True, blank=True)
    data = models.JSONField(_("视点"))
    snapshot = models.FileField(_("截图"), upload_to=snapshot_path, max_length=200, blank=True)
    snapshot_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("视点")
        verbose_name_plural = _("视点")
        ordering = ["topic", "index", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["topic", "guid"], name="bim_viewpoint_guid_unique_in_topic")]

    def __str__(self) -> str:
        return str(self.guid)


class Comment(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="comments")
    guid = models.UUIDField(_("GUID"))
    author = models.CharField(_("作者"), max_length=150)
    date = models.DateTimeField(_("时间"))
    text = models.TextField(_("内容"))
    viewpoint = models.ForeignKey(Viewpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    modified_author = models.CharField(max_length=150, blank=True)
    modified_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("问题评论")
        verbose_name_plural = _("问题评论")
        ordering = ["topic", "date", "id"]
        constraints = [models.UniqueConstraint(fields=["topic", "guid"], name="bim_comment_guid_unique_in_topic")]

    def __str__(self) -> str:
        return f"{self.author}: {self.text[:40]}"


class ModelComparison(models.Model):
    """The compare of two model files, cached by their hashes (and the compare's own version).

    The result names elements by GlobalId only; which bid each side belongs to is added when it is
    shown, under the bid's anonymous label, so the cache itself reveals no bidder.
    """

    old_sha256 = models.CharField(max_length=64)
    new_sha256 = models.CharField(max_length=64)
    version = models.CharField(max_length=64)
    result = models.JSONField()
    seconds = models.DecimalField(max_digits=9, decimal_places=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["old_sha256", "new_sha256", "version"], name="bim_comparison_once")
        ]

    def __str__(self) -> str:
        return f"{self.old_sha256[:12]} → {self.new_sha256[:12]}"
