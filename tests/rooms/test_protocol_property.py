"""Whatever a client sends, the validator answers with a message or a ProtocolError, never anything else."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from rooms.protocol import CLIENT_TYPES, ProtocolError, parse_client

LIMIT = 8 * 1024

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
# Frames that look like the protocol's, so the validator's inner paths are exercised, not only "not JSON".
protocol_like = st.fixed_dictionaries(
    {"type": st.sampled_from(CLIENT_TYPES) | st.text(max_size=12)},
    optional={
        "id": json_values,
        "text": json_values,
        "name": json_values,
        "member": json_values,
        "candidate": json_values,
        "raised": json_values,
        "state": json_values,
        "last_version": json_values,
        "grounds": json_values,
        "kind": st.sampled_from(["recusal", "integrity"]) | json_values,
        "venue": json_values,
        "reason": json_values,
    },
)


def _check(raw: str | bytes, limit: int = LIMIT) -> None:
    error: ProtocolError | None = None
    try:
        message = parse_client(raw, max_bytes=limit)
    except ProtocolError as exc:
        error = exc
    if error is None:
        assert message.type in CLIENT_TYPES
    else:
        assert error.code and error.message
        assert error.ref is None or (isinstance(error.ref, str) and len(error.ref) <= 64)


@given(st.text(max_size=200))
def test_arbitrary_text_never_raises_past_the_validator(raw):
    _check(raw)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_past_the_validator(raw):
    _check(raw)


@given(json_values)
def test_arbitrary_json_never_raises_past_the_validator(value):
    _check(json.dumps(value))


@given(protocol_like)
def test_protocol_shaped_json_never_raises_past_the_validator(value):
    _check(json.dumps(value))


def test_deeply_nested_json_is_refused_not_crashed():
    # Beyond the frame limit, so that Python's JSON parser meets the nesting, not the size check.
    _check("[" * 100_000 + "]" * 100_000, limit=10**6)
    _check('{"type": "chat", "text": ' + "[" * 5000 + "]" * 5000 + "}", limit=10**6)
