"""Shapes of untrusted input to the core: per-lot rule settings and the bid-opening record import.

Money arrives as JSON strings or numbers; numbers are read as Decimal (never float) before
validation, so ``12000000.10`` is exactly twelve million and ten cents.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from evaluation.exceptions import ProtocolError
from evaluation.identifiers import is_valid_credit_code

Money = Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


class LotRules(_Strict):
    """Per-lot rule settings; every default is the one DOMAIN.md gives."""

    price_formula: Literal["lowest_price", "deviation_rate"] = "deviation_rate"
    benchmark: Literal["lowest", "mean", "trimmed_mean", "trimmed_by_count", "mean_with_float", "window_mean"] = (
        "lowest"
    )
    price_points: Annotated[Decimal, Field(gt=0, le=100)] = Decimal("30")
    e1: Annotated[Decimal, Field(ge=0)] = Decimal("1")
    e2: Annotated[Decimal, Field(ge=0)] = Decimal("0.5")
    price_floor: Annotated[Decimal, Field(ge=0)] = Decimal("0")
    # The published list k is drawn from at opening, for mean_with_float (fractions, e.g. -0.03).
    float_list: list[Annotated[Decimal, Field(ge=-1, le=1)]] = Field(
        default_factory=lambda: [
            Decimal("-0.03"),
            Decimal("-0.04"),
            Decimal("-0.05"),
            Decimal("-0.06"),
            Decimal("-0.07"),
        ],
        max_length=50,
    )
    # window_mean: the band below the ceiling, as percent of the ceiling.
    window_percent: Percent = Decimal("15")
    aggregation: Literal["mean", "trim_high_low", "drop_widest"] = "mean"
    deviation_threshold: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.3")
    tie_break: Literal["technical", "draw"] = "technical"
    anonymous_technical_review: bool = False
    small_enterprise_deduction_percent: Percent = Decimal("0")
    abnormally_low_percent: Percent = Decimal("20")
    max_candidates: Annotated[int, Field(ge=1, le=3)] = 3

    @model_validator(mode="after")
    def _e2_not_above_e1(self) -> LotRules:
        if self.e2 > self.e1:
            raise ValueError("E2 must not exceed E1 (DOMAIN.md: E2 ≤ E1)")
        return self

    @classmethod
    def parse(cls, value: Any) -> LotRules:
        if not isinstance(value, dict):
            raise ProtocolError("rule settings must be a JSON object")
        try:
            return cls.model_validate(value)
        except ValidationError as exc:
            raise ProtocolError(_describe(exc)) from exc


class Decryption(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


class OpeningEntry(_Strict):
    bidder: Annotated[str, Field(min_length=1, max_length=200)]
    credit_code: Annotated[str, Field(min_length=18, max_length=18)]
    price: Money | None = None
    decryption: Decryption
    decrypted_at: datetime | None = None
    label: Annotated[str, Field(min_length=1, max_length=16)] | None = None

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str) -> str:
        if not is_valid_credit_code(value):
            raise ValueError(f"{value} is not a valid unified social credit code")
        return value

    @model_validator(mode="after")
    def _decrypted_bids_have_price_and_time(self) -> OpeningEntry:
        if self.decryption == Decryption.SUCCESS and (self.price is None or self.decrypted_at is None):
            raise ValueError("a decrypted bid needs its price and decrypted_at")
        if self.decrypted_at is not None and self.decrypted_at.tzinfo is None:
            raise ValueError("decrypted_at needs a time zone offset")
        return self


class OpeningRecordIn(_Strict):
    """The bid-opening record of one lot, as exported by the opening system (开标记录)."""

    lot: Annotated[str, Field(min_length=1, max_length=64)]
    opened_at: datetime
    ceiling_price: Money | None = None
    bids: list[OpeningEntry] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> OpeningRecordIn:
        if self.opened_at.tzinfo is None:
            raise ValueError("opened_at needs a time zone offset")
        codes = [b.credit_code for b in self.bids]
        if len(set(codes)) != len(codes):
            raise ValueError("a bidder appears twice in the opening record")
        labels = [b.label for b in self.bids if b.label]
        if len(set(labels)) != len(labels):
            raise ValueError("an anonymous label appears twice in the opening record")
        return self

    @classmethod
    def parse_json(cls, raw: str | bytes) -> OpeningRecordIn:
        try:
            data = json.loads(raw, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ProtocolError(f"not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ProtocolError("the opening record must be a JSON object")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ProtocolError(_describe(exc)) from exc
