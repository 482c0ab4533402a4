"""In-process extraction: size checks, format detection by content, dispatch to the readers, error mapping."""

from __future__ import annotations

import os
from pathlib import Path

from app.adapters.extract.limits import Limits, fail, size_text
from app.core.documents import ExtractedDocument, FileStatus
from app.core.library import ExtractionError

HEAD_BYTES = 8192


def extract_in_process(path: Path | str, limits: Limits | None = None) -> ExtractedDocument:
    """Read one file in this process (no sandbox). Raises ExtractionError for anything it cannot index."""
    try:
        return _read_file(Path(path), limits or Limits(), 0)
    except ExtractionError:
        raise
    except MemoryError as exc:
        raise ExtractionError(FileStatus.ERROR.value, "Zu wenig Arbeitsspeicher beim Lesen dieser Datei",
                              repr(exc)) from None
    except RecursionError as exc:
        raise ExtractionError(FileStatus.ERROR.value, "Die Datei ist zu tief verschachtelt oder beschädigt",
                              repr(exc)) from None
    except Exception as exc:  # noqa: BLE001 - every other failure is "this file is broken", never a crash
        raise ExtractionError(FileStatus.ERROR.value, "Die Datei ist beschädigt oder konnte nicht gelesen werden",
                              f"{type(exc).__name__}: {exc}") from None


def check_size(path: Path, limits: Limits) -> int:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        fail(FileStatus.ERROR, "Die Datei wurde nicht gefunden")
    except OSError as exc:
        fail(FileStatus.ERROR, "Auf die Datei kann nicht zugegriffen werden", repr(exc))
    if not path.is_file():
        fail(FileStatus.ERROR, "Keine reguläre Datei")
    if size == 0:
        fail(FileStatus.EMPTY, "Datei ist leer")
    if size > limits.max_bytes:
        fail(FileStatus.REFUSED, f"Datei ist zu groß ({size_text(size)}; erlaubt sind {size_text(limits.max_bytes)})")
    return size


def _read_file(path: Path, limits: Limits, depth: int) -> ExtractedDocument:
    check_size(path, limits)
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        fail(FileStatus.ERROR, "Die Datei kann nicht gelesen werden (gesperrt oder keine Berechtigung)", repr(exc))
    _test_hooks(path)
    from app.adapters.extract.detect import detect

    fmt, zf = detect(path, head, limits)
    if zf is not None:
        with zf:
            if fmt == "docx":
                from app.adapters.extract.ooxml import read_docx

                return read_docx(path, zf, limits)
            from app.adapters.extract.odt import read_odt

            return read_odt(path, zf, limits)
    if fmt == "pdf":
        from app.adapters.extract.pdf import read_pdf

        return read_pdf(path, limits)
    data = path.read_bytes()
    if fmt == "eml":
        from app.adapters.extract.mail import read_eml

        return read_eml(path, data, limits, _read_file, depth)
    from app.adapters.extract import plain

    if fmt == "html":
        return plain.read_html(path, data)
    if fmt == "md":
        return plain.read_md(path, data)
    return plain.read_txt(path, data)


def _test_hooks(path: Path) -> None:
    """Test-only misbehaviour, honoured only with AKTENLOTSE_TEST_HOOKS=1: hang or crash on marked file names."""
    if os.environ.get("AKTENLOTSE_TEST_HOOKS") != "1":
        return
    name = path.name
    if "__hang__" in name:
        import threading

        threading.Event().wait()
    if "__crash__" in name:
        os._exit(70)
    if "__abort__" in name:
        os.abort()
    if "__oom__" in name:
        hog = []
        while True:
            hog.append(bytearray(64 * 1024 * 1024))
