"""Limits for reading untrusted files and the helper that raises a German ExtractionError."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from app.core.documents import FileStatus
from app.core.library import ExtractionError

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds applied to every file; the defaults suit office documents on a caseworker's PC."""

    max_bytes: int = 100 * MB  # file size on disk
    zip_max_total: int = 200 * MB  # sum of declared uncompressed member sizes
    zip_max_ratio: float = 100.0  # per member, for members above zip_ratio_min_size
    zip_ratio_min_size: int = 1 * MB
    zip_max_members: int = 10_000
    zip_max_member_bytes: int = 100 * MB  # what we actually inflate from one member
    max_pages: int = 5_000
    max_attachment_depth: int = 1


def fail(status: FileStatus, reason: str, detail: str = "") -> NoReturn:
    raise ExtractionError(status.value, reason, detail)


def size_text(n: int) -> str:
    return f"{n / MB:.1f} MB".replace(".", ",")
