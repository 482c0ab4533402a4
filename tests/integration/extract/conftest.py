"""Shared pieces of the extraction tests: fixture folders and one sandbox per module (the worker is reused)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.adapters.extract import SandboxedExtractor

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
EXTRACT_DIR = FIXTURES / "extract"
BAD_DIR = FIXTURES / "bad"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxedExtractor]:
    extractor = SandboxedExtractor(timeout_s=30, memory_mb=1024)
    yield extractor
    extractor.close()
