"""The domain core: projects, lots, bids, experts, venues, sessions, committees, audit log."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from evaluation.validators import validate_credit_code, validate_lot_rules


class Category(models.TextChoices):
    BUILDING_MUNICIPAL = "building_municipal", _("房建市政")
    WATER = "water", _("水利")
    TRANSPORT = "transport", _("交通")
    GOV_PROCUREMENT = "gov_procurement", _("政府采购")


class EvaluationMethod(models.TextChoices):
    COMPREHENSIVE = "comprehensive", _("综合评估法")
    LOWEST_EVALUATED_PRICE = "lowest_evaluated_price", _("经评审的最低投标价法")


class Phase(models.TextChoices):
    SCHEDULED = "scheduled", _("待开始")
    CHECK_IN = "check_in", _("签到核验")
    DECLARATIONS = "declarations", _("回避声明与承诺")
    LEADER_ELECTION = "leader_election", _("推选组长")
    PRELIMINARY_REVIEW = "preliminary_review", _("初步评审")
    DETAILED_REVIEW = "detailed_review", _("详细评审")
    SUMMARY = "summary", _("汇总")
    SIGNING = "signing", _("签署报告")
    ARCHIVED = "archived", _("已归档")
    SEALED_OVERNIGHT = "sealed_overnight", _("隔夜封存")
    SUSPENDED = "suspended", _("暂停")
    FAILED = "failed", _("废标")
    STOPPED = "stopped", _("终止评标")


class TenderProject(models.Model):
    code = models.CharField(_("项目编号"), max_length=64, unique=True)
    name = models.CharField(_("项目名称"), max_length=200)
    category = models.CharField(_("类别"), max_length=32, choices=Category.choices)
    tenderer = models.CharField(_("招标人"), max_length=200)
    agency = models.CharField(_("招标代理机构"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("招标项目")
        verbose_name_plural = _("招标项目")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Lot(models.Model):
    project = models.ForeignKey(TenderProject, on_delete=models.PROTECT, related_name="lots")
    code = models.CharField(_("标段编号"), max_length=64)
    name = models.CharField(_("标段名称"), max_length=200)
    evaluation_method = models.CharField(
        _("评标办法"), max_length=32, choices=EvaluationMethod.choices, default=EvaluationMethod.COMPREHENSIVE
    )
    ceiling_price = models.DecimalField(
        _("最高投标限价"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    # Per-lot rule settings (benchmark variant, aggregation, thresholds ...), validated by
    # evaluation.protocol.LotRules; an empty dict means every default of DOMAIN.md.
    rules = models.JSONField(_("评审规则设置"), default=dict, blank=True, validators=[validate_lot_rules])

    class Meta:
        verbose_name = _("标段")
        verbose_name_plural = _("标段")
        ordering = ["project__code", "code"]
        constraints = [models.UniqueConstraint(fields=["project", "code"], name="lot_code_unique_in_project")]

    def __str__(self) -> str:
        return f"{self.project.code}/{self.code} {self.name}"

    @property
    def is_gov_procurement(self) -> bool:
        return self.project.category == Category.GOV_PROCUREMENT


class Bidder(models.Model):
    name = models.CharField(_("投标人名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code])
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="bidders", verbose_name=_("投标人账号")
    )

    class Meta:
        verbose_name = _("投标人")
        verbose_name_plural = _("投标人")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Bid(models.Model):
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="bids")
    bidder = models.ForeignKey(Bidder, on_delete=models.PROTECT, related_name="bids")
    price = models.DecimalField(
        _("投标报价"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    opened_at = models.DateTimeField(_("开标时间"))
    # Shown to experts instead of the bidder's name in anonymous (暗标) technical review.
    anonymous_label = models.CharField(_("暗标编号"), max_length=16)

    class Meta:
        verbose_name = _("投标文件")
        verbose_name_plural = _("投标文件")
        ordering = ["lot", "anonymous_label"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "bidder"], name="one_bid_per_bidder_per_lot"),
            models.UniqueConstraint(fields=["lot", "anonymous_label"], name="anonymous_label_unique_in_lot"),
        ]

    def __str__(self) -> str:
        return f"{self.lot.code} {self.anonymous_label} {self.bidder.name}"


def document_path(instance: BidDocument, filename: str) -> str:
    # Stored by content hash, so the same file is stored once and its name reveals no bidder.
    return f"documents/{instance.sha256[:2]}/{instance.sha256}"


class DocumentKind(models.TextChoices):
    COMMERCIAL = "commercial", _("商务文件")
    TECHNICAL = "technical", _("技术文件")
    QUALIFICATION = "qualification", _("资格审查文件")
    BIM_MODEL = "bim_model", _("BIM 模型")
    OTHER = "other", _("其他")


class BidDocument(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("类型"), max_length=32, choices=DocumentKind.choices)
    file = models.FileField(_("文件"), upload_to=document_path, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    size = models.PositiveBigIntegerField(_("字节数"), editable=False)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("投标文件附件")
        verbose_name_plural = _("投标文件附件")
        ordering = ["bid", "kind", "original_name"]
        constraints = [models.UniqueConstraint(fields=["bid", "sha256"], name="document_once_per_bid")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"


class Venue(models.Model):
    """A trading center's evaluation room; main or sub is decided per session (SessionVenue)."""

    city = models.CharField(_("城市"), max_length=64)
    center = models.CharField(_("交易中心"), max_length=200, unique=True)
    room = models.CharField(_("评标室"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("评标场地")
        verbose_name_plural = _("评标场地")
        ordering = ["city", "center"]

    def __str__(self) -> str:
        return f"{self.city} · {self.center}"


class Expert(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="expert")
    full_name = models.CharField(_("姓名"), max_length=64)
    city = models.CharField(_("所在城市"), max_length=64)
    specialties = models.JSONField(_("专业"), default=list, blank=True)
    employer = models.CharField(_("工作单位"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("评标专家")
        verbose_name_plural = _("评标专家")
        ordering = ["city", "full_name"]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.city})"


class EvaluationSession(models.Model):
    """One evaluation of one lot; a re-evaluation is a new session that points to this one."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="sessions")
    title = models.CharField(_("评标会名称"), max_length=200, blank=True)
    scheduled_start = models.DateTimeField(_("计划开始"))
    scheduled_end = models.DateTimeField(_("计划结束"), null=True, blank=True)
    venues = models.ManyToManyField(Venue, through="SessionVenue", related_name="sessions")
    phase = models.CharField(_("阶段"), max_length=32, choices=Phase.choices, default=Phase.SCHEDULED)
    # Where a seal or a suspension returns to; empty otherwise.
    return_phase = models.CharField(_("恢复后阶段"), max_length=32, choices=Phase.choices, blank=True)
    phase_changed_at = models.DateTimeField(null=True, blank=True)
    outcome_reason = models.TextField(_("废标/终止原因"), blank=True)
    re_evaluation_of = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="re_evaluation",
        verbose_name=_("重新评审的原评标会"),
    )
    # The head of the session's audit chain, moved in the same transaction as each event.
    audit_seq = models.PositiveBigIntegerField(default=0, editable=False)
    audit_head = models.CharField(max_length=64, default="", blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("评标会")
        verbose_name_plural = _("评标会")
        ordering = ["scheduled_start", "id"]

    def __str__(self) -> str:
        return self.title or f"{self.lot}"

    @property
    def version(self) -> int:
        return self.audit_seq

    @property
    def is_sealed(self) -> bool:
        return self.phase == Phase.SEALED_OVERNIGHT

    @property
    def main_venue(self) -> Venue | None:
        link = self.session_venues.filter(kind=SessionVenue.Kind.MAIN).select_related("venue").first()
        return link.venue if link else None

    def seated_members(self) -> models.QuerySet[CommitteeMember]:
        """Members who sit on the committee now: neither recused nor removed."""
        return self.members.filter(recused_at__isnull=True, removed_at__isnull=True)

    def leader(self) -> CommitteeMember | None:
        return self.seated_members().filter(role=CommitteeMember.Role.LEADER).first()


class SessionVenue(models.Model):
    class Kind(models.TextChoices):
        MAIN = "main", _("主场")
        SUB = "sub", _("副场")

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="session_venues")
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="session_links")
    kind = models.CharField(_("主/副场"), max_length=8, choices=Kind.choices)

    class Meta:
        verbose_name = _("评标会场地")
        verbose_name_plural = _("评标会场地")
        constraints = [
            models.UniqueConstraint(fields=["session", "venue"], name="venue_once_per_session"),
            models.UniqueConstraint(fields=["session"], condition=Q(kind="main"), name="one_main_venue_per_session"),
        ]

    def __str__(self) -> str:
        return f"{self.venue} ({self.get_kind_display()})"


class BidOpeningRecord(models.Model):
    """The bid-opening record of a lot, imported once as JSON from the opening system."""

    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="opening_record")
    opened_at = models.DateTimeField(_("开标时间"))
    # The imported document exactly as received, its hash, and its parsed form.
    raw = models.TextField(_("原始 JSON"))
    sha256 = models.CharField(max_length=64)
    data = models.JSONField(_("开标记录"))
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        verbose_name = _("开标记录")
        verbose_name_plural = _("开标记录")

    def __str__(self) -> str:
        return f"{self.lot} @ {self.opened_at:%Y-%m-%d %H:%M}"


class CommitteeMember(models.Model):
    class Kind(models.TextChoices):
        EXPERT = "expert", _("评标专家")
        TENDERER_REP = "tenderer_rep", _("招标人代表")

    class Role(models.TextChoices):
        MEMBER = "member", _("成员")
        LEADER = "leader", _("组长")

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    kind = models.CharField(_("身份"), max_length=16, choices=Kind.choices, default=Kind.EXPERT)
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(_("角色"), max_length=8, choices=Role.choices, default=Role.MEMBER)
    checked_in_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    check_in_note = models.CharField(_("核验记录"), max_length=500, blank=True)
    recused_at = models.DateTimeField(_("回避时间"), null=True, blank=True)
    recusal_reason = models.TextField(_("回避原因"), blank=True)
    removed_at = models.DateTimeField(_("移出时间"), null=True, blank=True)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("替补对象"),
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("评标委员会成员")
        verbose_name_plural = _("评标委员会成员")
        ordering = ["session", "venue__city", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="member_once_per_session"),
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(role="leader", recused_at__isnull=True, removed_at__isnull=True),
                name="one_leader_per_session",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        expert = getattr(self.user, "expert", None)
        return expert.full_name if expert else (self.user.get_full_name() or self.user.get_username())

    @property
    def is_seated(self) -> bool:
        return self.recused_at is None and self.removed_at is None


class Declaration(models.Model):
    class Kind(models.TextChoices):
        RECUSAL = "recusal", _("回避声明")
        INTEGRITY = "integrity", _("廉洁承诺")

    member = models.ForeignKey(CommitteeMember, on_delete=models.CASCADE, related_name="declarations")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The statement exactly as the member saw and accepted it.
    text = models.TextField()
    grounds = models.JSONField(default=list, blank=True)
    details = models.TextField(blank=True)
    declared_at = models.DateTimeField()

    class Meta:
        verbose_name = _("声明")
        verbose_name_plural = _("声明")
        constraints = [models.UniqueConstraint(fields=["member", "kind"], name="declaration_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.member} {self.get_kind_display()}"


class SessionRole(models.TextChoices):
    HOST = "host", _("主持人")
    ATTENDANT = "attendant", _("场地核验员")
    REVIEWER = "reviewer", _("BIM 审查员")
    SUPERVISOR = "supervisor", _("监督人员")


class Assignment(models.Model):
    """Staff assigned to a session: host, venue attendant, reviewer or supervisor."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("角色"), max_length=16, choices=SessionRole.choices)
    # The venue an attendant verifies; the host's and reviewer's seat, if any.
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        verbose_name = _("人员分工")
        verbose_name_plural = _("人员分工")
        # One role per person per session: roles of one session never combine.
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="one_role_per_person_per_session")]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()}"


class ElectionRound(models.Model):
    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="election_rounds")
    number = models.PositiveSmallIntegerField()
    candidates = models.ManyToManyField(CommitteeMember, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    # Counts per candidate id ("blank" for blank ballots), written when the round closes.
    tally = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "number"], name="election_round_unique")]
        ordering = ["session", "number"]

    def __str__(self) -> str:
        return f"round {self.number}"


class Ballot(models.Model):
    """A secret ballot: it records the choice but not the voter (see VoteReceipt)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(ElectionRound, on_delete=models.CASCADE, related_name="ballots")
    # Null is a blank ballot.
    candidate = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, null=True, related_name="+")

    def __str__(self) -> str:
        return "ballot"


class VoteReceipt(models.Model):
    """That a member voted in a round, without the choice, so nobody votes twice."""

    round = models.ForeignKey(ElectionRound, on_delete=models.CASCADE, related_name="receipts")
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "member"], name="one_vote_per_round")]

    def __str__(self) -> str:
        return f"{self.member} voted in {self.round}"


class Suspension(models.Model):
    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="suspensions")
    cause = models.TextField(_("原因"))
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["session", "started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.cause}"


class CoSignRequest(models.Model):
    """The first half of a two-person transition (seal, unseal): who asked, waiting for the other."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.CASCADE, related_name="cosign_requests")
    transition = models.CharField(max_length=32)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_role = models.CharField(max_length=16, choices=SessionRole.choices)
    requested_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "transition"], name="one_open_cosign_per_transition")]

    def __str__(self) -> str:
        return f"{self.transition} signed by {self.requested_role}"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("audit events are append-only")


class AuditEvent(models.Model):
    """One link of a session's append-only hash chain (see evaluation/audit.py)."""

    session = models.ForeignKey(EvaluationSession, on_delete=models.PROTECT, related_name="audit_events")
    seq = models.PositiveBigIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计日志")
        ordering = ["session", "seq"]
        constraints = [models.UniqueConstraint(fields=["session", "seq"], name="audit_seq_unique_in_session")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("audit events are append-only")
