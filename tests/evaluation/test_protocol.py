"""Untrusted input to the core: per-lot rules and the bid-opening record."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.exceptions import ProtocolError
from evaluation.identifiers import credit_code_check_char, is_valid_credit_code
from evaluation.protocol import LotRules, OpeningRecordIn

VALID_CODE = "91330100" + "MA2AAAAA0"  # 17 characters; the check character is computed below


def test_a_credit_code_check_character_follows_gb_32100():
    # Worked by hand: weights 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28 over
    # 9,1,3,3,0,1,0,0,M=21,A=10,2,A,A,A,A,A,0 sum to 1756; 1756 mod 31 = 20; 31 - 20 = 11 = 'B'.
    assert credit_code_check_char(VALID_CODE) == "B"
    assert is_valid_credit_code(VALID_CODE + "B")
    assert not is_valid_credit_code(VALID_CODE + "C")
    assert not is_valid_credit_code("91330100MA2AAAAI0B")  # I is not in the alphabet
    # Published codes: the standard's own example and two registered companies.
    for code in ("91350100M000100Y43", "91110000802100433B", "91440300708461136T"):
        assert is_valid_credit_code(code), code
    assert not is_valid_credit_code("short")


def test_lot_rules_default_to_domain_md_and_refuse_e2_above_e1():
    rules = LotRules.parse({})
    assert rules.benchmark == "lowest" and rules.aggregation == "mean" and rules.max_candidates == 3
    assert rules.deviation_threshold == Decimal("0.3") and rules.price_floor == Decimal("0")
    with pytest.raises(ProtocolError, match="E2 must not exceed E1"):
        LotRules.parse({"e1": "0.5", "e2": "1"})
    with pytest.raises(ProtocolError, match="benchmark"):
        LotRules.parse({"benchmark": "median"})
    with pytest.raises(ProtocolError, match="surprise"):
        LotRules.parse({"surprise": 1})
    with pytest.raises(ProtocolError, match="max_candidates"):
        LotRules.parse({"max_candidates": 4})


def record(**overrides) -> dict:
    base = {
        "lot": "BD01",
        "opened_at": "2026-12-01T09:00:00+08:00",
        "bids": [
            {
                "bidder": "甲",
                "credit_code": VALID_CODE + "B",
                "price": "100.10",
                "decryption": "success",
                "decrypted_at": "2026-12-01T09:05:00+08:00",
            },
        ],
    }
    base.update(overrides)
    return base


def test_prices_written_as_json_numbers_are_read_exactly_as_decimals():
    data = record()
    data["bids"][0]["price"] = 12000000.10
    parsed = OpeningRecordIn.parse_json(json.dumps(data))
    assert parsed.bids[0].price == Decimal("12000000.10")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"opened_at": "2026-12-01T09:00:00"}, "time zone"),
        ({"bids": []}, "at least 1"),
        ({"lot": ""}, "lot"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_malformed_opening_record_is_refused_with_the_reason(change, message):
    with pytest.raises(ProtocolError, match=message):
        OpeningRecordIn.parse_json(json.dumps(record(**change)))


def test_an_opening_record_entry_is_checked_field_by_field():
    for entry_change, message in [
        ({"credit_code": VALID_CODE + "C"}, "credit code"),
        ({"price": "100.001"}, "decimal places"),
        ({"price": "-5"}, "greater than 0"),
        ({"price": None}, "needs its price"),
        ({"decryption": "maybe"}, "decryption"),
    ]:
        data = record()
        data["bids"][0].update(entry_change)
        with pytest.raises(ProtocolError, match=message):
            OpeningRecordIn.parse_json(json.dumps(data))
    data = record()
    data["bids"].append(dict(data["bids"][0]))
    with pytest.raises(ProtocolError, match="appears twice"):
        OpeningRecordIn.parse_json(json.dumps(data))


def test_input_that_is_not_a_json_object_is_refused():
    for raw in (b"\xff\xfe", "not json", "[1, 2]", "null", '"text"'):
        with pytest.raises(ProtocolError):
            OpeningRecordIn.parse_json(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@given(value=json_values)
def test_arbitrary_json_never_raises_past_the_validators(value):
    with contextlib.suppress(ProtocolError):
        OpeningRecordIn.parse_json(json.dumps(value))
    with contextlib.suppress(ProtocolError):
        LotRules.parse(value)


@given(
    value=st.fixed_dictionaries(
        {
            "lot": st.text(max_size=70),
            "opened_at": st.text(max_size=30),
            "bids": st.lists(
                st.dictionaries(
                    st.sampled_from(["bidder", "credit_code", "price", "decryption", "decrypted_at", "label"]),
                    json_values,
                    max_size=6,
                ),
                max_size=3,
            ),
        }
    )
)
def test_arbitrary_opening_records_of_the_right_shape_never_raise_past_the_validator(value):
    with contextlib.suppress(ProtocolError):
        OpeningRecordIn.parse_json(json.dumps(value))
