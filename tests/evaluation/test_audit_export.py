"""The exported chain is checkable by an outsider with the standard library alone."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from evaluation.models import Phase
from tests.personas import advance_to

VERIFIER = Path(settings.BASE_DIR) / "docs" / "verify_audit_export.py"


def export(cast, tmp_path) -> Path:
    out = tmp_path / "chain.txt"
    call_command("export_audit", str(cast.session.pk), "--out", str(out))
    return out


def run_verifier(path: Path) -> subprocess.CompletedProcess[str]:
    # A bare interpreter, outside the project's environment, as an outsider would run it.
    return subprocess.run([sys.executable, "-I", str(VERIFIER), str(path)], capture_output=True, text=True, check=False)


def test_an_exported_chain_verifies_with_the_standalone_checker(cast, tmp_path):
    advance_to(cast, Phase.LEADER_ELECTION)
    path = export(cast, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == cast.refresh().audit_seq + 1
    digest, _, body = lines[1].partition(" ")
    assert hashlib.sha256(body.encode("utf-8")).hexdigest() == digest
    result = run_verifier(path)
    assert result.returncode == 0, result.stdout
    assert f"head #{cast.session.audit_seq} {cast.session.audit_head}" in result.stdout


def test_the_standalone_checker_names_an_edited_event(cast, tmp_path):
    advance_to(cast, Phase.DECLARATIONS)
    path = export(cast, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace('"kind":"', '"kind":"x', 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_verifier(path)
    assert result.returncode == 1
    assert "event #5" in result.stdout


def test_the_standalone_checker_finds_a_missing_tail(cast, tmp_path):
    advance_to(cast, Phase.CHECK_IN)
    path = export(cast, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    result = run_verifier(path)
    assert result.returncode == 1
    assert "head is" in result.stdout
