"""The sandbox: a hanging reader is killed after the time limit, a crashing one is restarted; the next file reads.

The misbehaviour is injected through file names the worker honours only with AKTENLOTSE_TEST_HOOKS=1.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.adapters.extract import SandboxedExtractor
from app.core.library import ExtractionError
from tests.integration.extract.conftest import EXTRACT_DIR


@pytest.fixture()
def hooked(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxedExtractor]:
    monkeypatch.setenv("AKTENLOTSE_TEST_HOOKS", "1")  # inherited by the worker when it starts
    extractor = SandboxedExtractor(timeout_s=3, memory_mb=512)
    yield extractor
    extractor.close()


def _copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copyfile(EXTRACT_DIR / "vermerk_cp1252.txt", target)
    return target


def _assert_next_file_reads(extractor: SandboxedExtractor) -> None:
    doc = extractor.extract(EXTRACT_DIR / "widerspruch.docx")
    assert any(b.text == "Sachverhalt" for b in doc.blocks)


def test_hanging_reader_is_killed_after_timeout(hooked: SandboxedExtractor, tmp_path: Path) -> None:
    _assert_next_file_reads(hooked)  # worker up
    start = time.monotonic()
    with pytest.raises(ExtractionError) as info:
        hooked.extract(_copy(tmp_path, "akte__hang__.txt"))
    elapsed = time.monotonic() - start
    assert info.value.status == "error"
    assert info.value.reason == "Zeitlimit beim Lesen überschritten (3 s)"
    assert 2.5 < elapsed < 15
    _assert_next_file_reads(hooked)
    assert hooked.restarts == 1


@pytest.mark.parametrize("marker", ["__crash__", "__abort__"])
def test_crashing_reader_is_restarted(hooked: SandboxedExtractor, tmp_path: Path, marker: str) -> None:
    with pytest.raises(ExtractionError) as info:
        hooked.extract(_copy(tmp_path, f"akte{marker}.txt"))
    assert info.value.status == "error"
    assert info.value.reason == "Der Leser ist bei dieser Datei abgestürzt"
    _assert_next_file_reads(hooked)
    assert hooked.restarts == 1


def test_memory_hog_is_contained(hooked: SandboxedExtractor, tmp_path: Path) -> None:
    with pytest.raises(ExtractionError) as info:
        hooked.extract(_copy(tmp_path, "akte__oom__.txt"))
    assert info.value.status == "error"  # MemoryError under RLIMIT_AS, or the worker died: both are ERROR
    _assert_next_file_reads(hooked)


def test_hooks_are_inert_without_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AKTENLOTSE_TEST_HOOKS", raising=False)
    with SandboxedExtractor(timeout_s=10) as extractor:
        doc = extractor.extract(_copy(tmp_path, "akte__crash__.txt"))
    assert doc.blocks[0].text == "Aktenvermerk zur Ortsbesichtigung"


def test_close_stops_the_worker_and_a_new_call_restarts_it() -> None:
    extractor = SandboxedExtractor(timeout_s=10)
    extractor.extract(EXTRACT_DIR / "dienstanweisung.md")
    worker = extractor._worker
    assert worker is not None and worker.alive()
    extractor.close()
    assert not worker.alive()
    assert extractor.extract(EXTRACT_DIR / "dienstanweisung.md").format == "md"
    extractor.close()
