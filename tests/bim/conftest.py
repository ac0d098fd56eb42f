"""Fixtures of the BIM tests: conversions cached by file hash for the whole run, and small models.

A conversion takes seconds; the session-wide cache folder (``bim_cache``) holds each file's outputs
under its cache key, so a model is converted once per test run however many tests read it. Tests
that must convert for real (faults, retries) use their own folder (``fresh_bim_dir``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from bim_review import outputs
from bim_review.convert import cache_key, convert_file
from tests.bim.ifc_fixtures import House, make_house

SAMPLES = ("AC20-FZK-Haus.ifc", "duplex.ifc", "IfcOpenHouse_IFC4.ifc")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sample(name: str) -> Path:
    path = Path(django_settings.EVAL_SHARED_DIR) / "ifc" / name
    assert path.is_file(), f"the sample IFC model is missing: {path}"
    return path


@pytest.fixture(scope="session")
def bim_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bim-cache")


@pytest.fixture(scope="session")
def convert_cached(bim_cache):
    """convert(path) -> the outputs' folder, converted at most once per file per test run."""

    def convert(path: Path) -> Path:
        target = bim_cache / cache_key(sha256_of(path))
        if not outputs.is_complete(target):
            convert_file(path, target, name=path.name)
        return target

    return convert


@pytest.fixture(scope="session")
def house(tmp_path_factory) -> House:
    return make_house(tmp_path_factory.mktemp("house") / "xinghe-tender-model.ifc")


@pytest.fixture
def bim_dir(settings, bim_cache, tmp_path) -> Path:
    """The server's folders for a test: media in tmp, BIM outputs in the run's shared cache."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVAL_BIM_DIR = bim_cache
    settings.EVAL_BIM_RUNNER = "worker"  # tests run the step function themselves
    return bim_cache


@pytest.fixture
def fresh_bim_dir(settings, tmp_path) -> Path:
    """An empty outputs folder: nothing cached, every conversion runs."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVAL_BIM_DIR = tmp_path / "bim"
    settings.EVAL_BIM_RUNNER = "worker"
    return settings.EVAL_BIM_DIR
