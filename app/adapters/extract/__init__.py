"""Text extraction adapter: format detection by content, one reader per format, and a sandboxed worker process."""

from __future__ import annotations

from app.adapters.extract.limits import Limits
from app.adapters.extract.reader import extract_in_process
from app.adapters.extract.sandbox import SandboxedExtractor

__all__ = ["Limits", "SandboxedExtractor", "extract_in_process"]
