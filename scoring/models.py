"""Scoring data: reusable templates, the per-lot copy of one, and what the committee enters.

A template (``ScoringTemplate``) is edited by the center in the admin. A lot gets a frozen copy of
one (``LotScheme`` with its criteria), made once before review starts, so editing the template
later never changes a lot in progress. Everything the committee enters belongs to a session:
preliminary marks and the committee's conclusion per bid, the evaluated-price inputs, the score
sheets with their versioned cells, and the Art. 64 corrections made after the summary.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from evaluation.models import Bid, CommitteeMember, EvaluationMethod, EvaluationSession, Lot
from evaluation.validators import validate_lot_rules


class PreliminaryGroup(models.TextChoices):
    FORM = "form", _("形式评审")
    QUALIFICATION = "qualification", _("资格评审")
    RESPONSIVENESS = "responsiveness", _("响应性评审")


class CriterionGroup(models.TextChoices):
    TECHNICAL = "technical", _("技术")
    COMMERCIAL = "commercial", _("商务")
    PRICE = "price", _("价格")
    CREDIT = "credit", _("信用")


class Art64Reason(models.TextChoices):
    """The only four reasons a score may change after the summary (财政部令第87号 Art. 64)."""

    ARITHMETIC = "arithmetic", _("分值汇总计算错误")
    OUT_OF_RANGE = "out_of_range", _("分项评分超出评分标准规定的评分范围")
    OBJECTIVE_DIFFERS = "objective_differs", _("客观评审因素评分不一致")
    ABNORMAL = "abnormal", _("经评标委员会认定评分畸高、畸低")


# --- templates and their per-lot copies -----------------------------------------------------------


class PreliminaryCriterionFields(models.Model):
    code = models.CharField(_("编号"), max_length=32)
    group = models.CharField(_("类别"), max_length=16, choices=PreliminaryGroup.choices)
    title = models.CharField(_("评审因素"), max_length=200)
    description = models.TextField(_("评审标准"), blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class CriterionFields(models.Model):
    code = models.CharField(_("编号"), max_length=32)
    group = models.CharField(_("类别"), max_length=16, choices=CriterionGroup.choices)
    title = models.CharField(_("评分因素"), max_length=200)
    description = models.TextField(_("评分标准"), blank=True)
    max_points = models.DecimalField(
        _("满分"), validators=[MinValueValidator(Decimal("0.01"))], max_digits=7, decimal_places=2
    )
    step = models.DecimalField(
        _("分值步长"),
        default=Decimal("0.5"),
        validators=[MinValueValidator(Decimal("0.01"))],
        max_digits=7,
        decimal_places=2,
    )
    objective = models.BooleanField(_("客观分"), default=False)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def computed(self) -> bool:
        """The price score is computed from the evaluated prices, never typed (DOMAIN.md)."""
        return self.group == CriterionGroup.PRICE

    def clean(self) -> None:
        if self.max_points is not None and self.step is not None and self.max_points % self.step:
            raise ValidationError({"step": _("满分必须是分值步长的整数倍")})


class ScoringTemplate(models.Model):
    name = models.CharField(_("名称"), max_length=100, unique=True)
    method = models.CharField(_("评标办法"), max_length=32, choices=EvaluationMethod.choices)
    description = models.TextField(_("说明"), blank=True)
    # Default rule settings for lots that use it (the shape of evaluation.protocol.LotRules); a
    # lot's own settings override them when the template is copied to the lot.
    rules = models.JSONField(_("默认评审规则"), default=dict, blank=True, validators=[validate_lot_rules])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("评分模板")
        verbose_name_plural = _("评分模板")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TemplatePreliminaryCriterion(PreliminaryCriterionFields):
    template = models.ForeignKey(ScoringTemplate, on_delete=models.CASCADE, related_name="preliminary_criteria")

    class Meta(PreliminaryCriterionFields.Meta):
        verbose_name = _("初步评审因素")
        verbose_name_plural = _("初步评审因素")
        constraints = [models.UniqueConstraint(fields=["template", "code"], name="template_preliminary_code_unique")]


class TemplateCriterion(CriterionFields):
    template = models.ForeignKey(ScoringTemplate, on_delete=models.CASCADE, related_name="criteria")

    class Meta(CriterionFields.Meta):
        verbose_name = _("详细评审因素")
        verbose_name_plural = _("详细评审因素")
        constraints = [models.UniqueConstraint(fields=["template", "code"], name="template_criterion_code_unique")]


class LotScheme(models.Model):
    """The lot's own copy of a template: criteria and rule settings, frozen once review starts."""

    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="scoring_scheme")
    template = models.ForeignKey(ScoringTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    template_name = models.CharField(_("来源模板"), max_length=100)
    method = models.CharField(_("评标办法"), max_length=32, choices=EvaluationMethod.choices)
    # The settings in force for this lot (LotRules): the template's defaults overlaid with the lot's.
    rules = models.JSONField(_("评审规则"), default=dict, validators=[validate_lot_rules])
    # mean_with_float: the k drawn at bid opening from the published list, and who drew it when.
    float_draw = models.DecimalField(_("下浮系数抽取结果"), max_digits=6, decimal_places=4, null=True, blank=True)
    float_drawn_at = models.DateTimeField(null=True, blank=True)
    float_drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    copied_at = models.DateTimeField()
    copied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("标段评分办法")
        verbose_name_plural = _("标段评分办法")

    def __str__(self) -> str:
        return f"{self.lot} · {self.template_name}"


class PreliminaryCriterion(PreliminaryCriterionFields):
    scheme = models.ForeignKey(LotScheme, on_delete=models.CASCADE, related_name="preliminary_criteria")

    class Meta(PreliminaryCriterionFields.Meta):
        verbose_name = _("标段初步评审因素")
        verbose_name_plural = _("标段初步评审因素")
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="scheme_preliminary_code_unique")]


class Criterion(CriterionFields):
    scheme = models.ForeignKey(LotScheme, on_delete=models.CASCADE, related_name="criteria")

    class Meta(CriterionFields.Meta):
        verbose_name = _("标段详细评审因素")
        verbose_name_plural = _("标段详细评审因素")
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="scheme_criterion_code_unique")]


# --- preliminary review ---------------------------------------------------------------------------


class PreliminaryMark(models.Model):
    """One member's pass/fail on one criterion of one bid; a fail carries its reason."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="preliminary_marks")
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="preliminary_marks")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="+")
    criterion = models.ForeignKey(PreliminaryCriterion, on_delete=models.PROTECT, related_name="marks")
    passed = models.BooleanField()
    reason = models.TextField(blank=True)
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "bid", "criterion"], name="preliminary_mark_once"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.bid_id}/{self.criterion_id} {'pass' if self.passed else 'fail'}"


class PreliminaryConclusion(models.Model):
    """The committee's conclusion on one bid: unanimous, or the majority with each dissent kept."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="preliminary_conclusions")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="+")
    passed = models.BooleanField()
    unanimous = models.BooleanField()
    # For a failed bid, the grounds the majority gave: [{"criterion", "code", "title", "reasons"}].
    reasons = models.JSONField(default=list, blank=True)
    # Members whose own verdict differs from the conclusion: [{"member", "name", "passed", "reasons"}].
    dissent = models.JSONField(default=list, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "bid"], name="preliminary_conclusion_once")]

    def __str__(self) -> str:
        return f"{self.bid_id} {'pass' if self.passed else 'fail'}"


# --- evaluated price ------------------------------------------------------------------------------


class PriceReview(models.Model):
    """What turns a bid price into its evaluated price, recorded by the leader for the committee.

    A correction (arithmetic error, words over figures) counts only once the bidder confirms it; a
    bidder who refuses it is rejected. An abnormally low price needs the bidder's explanation, and
    the bid is rejected unless the committee finds it credible.
    """

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="price_reviews")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="+")
    corrected_price = models.DecimalField(_("修正后报价"), max_digits=16, decimal_places=2, null=True, blank=True)
    correction_reason = models.TextField(_("修正原因"), blank=True)
    # None: not yet answered; True: confirmed in writing; False: refused (the bid is rejected).
    bidder_confirmed = models.BooleanField(_("投标人确认"), null=True, blank=True)
    bidder_confirmation = models.TextField(_("投标人书面确认"), blank=True)
    small_enterprise = models.BooleanField(_("小微企业价格扣除"), default=False)
    low_price_explanation = models.TextField(_("低价说明"), blank=True)
    # None: not judged; True: credible; False: not credible (the bid is rejected).
    low_price_credible = models.BooleanField(_("说明可信"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "bid"], name="price_review_once")]

    def __str__(self) -> str:
        return f"price review of {self.bid_id}"


# --- detailed review ------------------------------------------------------------------------------


class ScoreSheet(models.Model):
    """One member's sheet (bids × criteria) in one session."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="score_sheets")
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="score_sheets")
    submitted_at = models.DateTimeField(null=True, blank=True)
    recheck_reason = models.TextField(blank=True)
    recheck_requested_at = models.DateTimeField(null=True, blank=True)
    # The totals per bid the member saw when submitting (bid id → total of their typed cells), kept
    # so the arithmetic check (Art. 64) compares them with the sum of the saved cells.
    declared_totals = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "member"], name="score_sheet_once")]

    def __str__(self) -> str:
        return f"sheet of {self.member}"


class ScoreCell(models.Model):
    """One score: (member, bid, criterion). ``version`` counts its saves, so a stale tab is told."""

    sheet = models.ForeignKey(ScoreSheet, on_delete=models.CASCADE, related_name="cells")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="+")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="cells")
    value = models.DecimalField(null=True, blank=True, max_digits=7, decimal_places=2)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()
    # The member's written reason for keeping (or changing) a score that deviates from the others,
    # and the version it was given for: a later change needs a new one.
    deviation_reason = models.TextField(blank=True)
    deviation_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sheet", "bid", "criterion"], name="score_cell_once")]

    def __str__(self) -> str:
        return f"{self.sheet_id}:{self.bid_id}/{self.criterion_id}={self.value}"


class ScoreCorrection(models.Model):
    """A change after the summary, for one of the four Art. 64 reasons: kept for the report."""

    cell = models.ForeignKey(ScoreCell, on_delete=models.PROTECT, related_name="corrections")
    reason = models.CharField(max_length=24, choices=Art64Reason.choices)
    explanation = models.TextField()
    old_value = models.DecimalField(null=True, max_digits=7, decimal_places=2)
    new_value = models.DecimalField(max_digits=7, decimal_places=2)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.cell_id}: {self.old_value} → {self.new_value} ({self.reason})"


class SummaryDraws(models.Model):
    """Draws the summary needed (drop_widest tie, ranking tie), recorded once so it is reproducible."""

    session = models.OneToOneField(EvaluationSession, on_delete=models.CASCADE, related_name="summary_draws")
    widest_expert = models.CharField(max_length=32, blank=True)
    rank = models.JSONField(default=dict, blank=True)  # bid id → draw number, lower first
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"draws of session {self.session_id}"
