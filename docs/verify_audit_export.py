#!/usr/bin/env python3
"""Check an exported audit chain (manage.py export_audit) with nothing but Python's standard library.

Usage: python3 verify_audit_export.py chain.txt  →  exit 0 and "intact", or exit 1 naming the first
broken event. It needs no part of the project: this is the check an outsider runs (docs/AUDIT.md).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys


def verify(lines: list[str]) -> tuple[bool, str]:
    header = re.search(r"head #(\d+) ([0-9a-f]{64})$", lines[0]) if lines else None
    if header is None:
        return False, "the first line must be the '# session … head #N HASH' header"
    head_seq, head_hash = int(header.group(1)), header.group(2)
    prev, seq = "", 0
    for number, line in enumerate(lines[1:], start=2):
        digest, _, body = line.partition(" ")
        event = json.loads(body)
        seq += 1
        if event.get("seq") != seq:
            return False, f"line {number}: event #{seq} is missing (found #{event.get('seq')})"
        if hashlib.sha256(body.encode("utf-8")).hexdigest() != digest:
            return False, f"event #{seq}: its body does not match its hash"
        if event.get("prev") != prev:
            return False, f"event #{seq}: its previous-hash does not match the event before it"
        prev = digest
    if seq != head_seq or prev != head_hash:
        return False, f"the chain ends at #{seq} but the head is #{head_seq}"
    return True, f"intact: {seq} events, head #{head_seq} {head_hash}"


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    ok, message = verify(lines)
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
