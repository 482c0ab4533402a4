"""Zip-bomb guard: check the central directory before inflating anything, and read members with a size cap."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from app.adapters.extract.limits import Limits, fail, size_text
from app.core.documents import FileStatus

BOMB_REASON = "Archiv mit extremer Kompression abgelehnt (Schutz vor Zip-Bomben)"
NESTED_EXT = (".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".jar")


def open_zip(source: Path | bytes, limits: Limits, depth: int = 0) -> zipfile.ZipFile:
    """Open a zip and apply the guard (also to small nested archives, one level deep)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        fail(FileStatus.ERROR, "Die Datei ist beschädigt (ZIP-Struktur unlesbar, evtl. unvollständig)", repr(exc))
    if len(infos) > limits.zip_max_members:
        fail(FileStatus.REFUSED, BOMB_REASON, f"{len(infos)} Einträge")
    total = sum(i.file_size for i in infos)
    if total > limits.zip_max_total:
        fail(FileStatus.REFUSED, BOMB_REASON, f"entpackt {size_text(total)}")
    for info in infos:
        if info.file_size > limits.zip_ratio_min_size:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.zip_max_ratio:
                fail(FileStatus.REFUSED, BOMB_REASON, f"{info.filename}: Verhältnis {ratio:.0f}:1")
    if depth < 1:
        for info in infos:
            if info.filename.lower().endswith(NESTED_EXT) and info.file_size <= 10 * 1024 * 1024:
                try:
                    inner = read_member(zf, info.filename, limits)
                except Exception:  # noqa: BLE001, S112 - an unreadable nested member is not our concern here
                    continue
                if inner[:2] == b"PK":
                    try:
                        open_zip(inner, limits, depth + 1).close()
                    except Exception as exc:
                        if getattr(exc, "status", "") == FileStatus.REFUSED.value:
                            raise
    return zf


def is_encrypted(zf: zipfile.ZipFile) -> bool:
    return any(i.flag_bits & 0x1 for i in zf.infolist())


def read_member(zf: zipfile.ZipFile, name: str, limits: Limits) -> bytes:
    """Inflate one member, never more than the cap (the declared size may lie)."""
    cap = limits.zip_max_member_bytes
    try:
        with zf.open(name) as fh:
            data = fh.read(cap + 1)
    except KeyError:
        raise
    except RuntimeError as exc:  # encrypted member
        fail(FileStatus.ENCRYPTED, "verschlüsselt (Kennwortschutz)", repr(exc))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        fail(FileStatus.ERROR, f"Die Datei ist beschädigt ({name} lässt sich nicht entpacken)", repr(exc))
    except Exception as exc:  # noqa: BLE001 - zlib.error, lzma/bz2 errors
        fail(FileStatus.ERROR, f"Die Datei ist beschädigt ({name} lässt sich nicht entpacken)", repr(exc))
    if len(data) > cap:
        fail(FileStatus.REFUSED, BOMB_REASON, f"{name} größer als {size_text(cap)}")
    return data


def has(zf: zipfile.ZipFile, name: str) -> bool:
    try:
        zf.getinfo(name)
    except KeyError:
        return False
    return True
