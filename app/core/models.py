"""Model files as the domain sees them: manifest entries, checks, and the port that inspects files."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from app.core.llm import ModelInfo


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One known model from models/manifest.toml."""

    id: str
    file: str
    sha256: str
    size: int
    licence: str
    source: str
    context_length: int
    role: str  # "test" | "default" | "admin"
    name: str = ""


class CheckStatus(str, Enum):
    OK = "ok"  # checksum verified
    UNVERIFIED = "unverified"  # no expected checksum known (admin file without model_sha256)
    PENDING = "pending"  # an expected checksum is known; it is checked when the model loads, before use
    MISSING = "missing"
    MISMATCH = "mismatch"
    INVALID = "invalid"  # not a GGUF, truncated

    @property
    def label_de(self) -> str:
        return {
            CheckStatus.OK: "Prüfsumme korrekt",
            CheckStatus.UNVERIFIED: "keine Prüfsumme hinterlegt (nicht geprüft)",
            CheckStatus.PENDING: "Prüfsumme wird beim Laden geprüft",
            CheckStatus.MISSING: "Datei fehlt",
            CheckStatus.MISMATCH: "Prüfsumme falsch",
            CheckStatus.INVALID: "keine gültige GGUF-Datei",
        }[self]


@dataclass(frozen=True, slots=True)
class ModelSelection:
    """The model the app will use and what was found out about it before loading."""

    path: Path | None
    status: CheckStatus
    info: ModelInfo | None
    entry: ManifestEntry | None
    expected_sha256: str | None
    actual_sha256: str | None
    source: str  # German: why this file ("Richtlinie", "Einstellung", "Standardmodell (Demo)", "im Modellordner gefunden")
    problem: str = ""  # German message when status is not OK/UNVERIFIED

    @property
    def usable(self) -> bool:
        return self.status in (CheckStatus.OK, CheckStatus.UNVERIFIED, CheckStatus.PENDING) and self.info is not None


class ModelFiles(Protocol):
    """File-level access to models, implemented in adapters (reads manifest, hashes, GGUF headers)."""

    def read_manifest(self, manifest: Path) -> list[ManifestEntry]: ...

    def list_gguf(self, folder: Path) -> list[Path]: ...

    def sha256(self, file: Path) -> str:
        """SHA-256 of the file; may use a cache keyed by path, size and mtime."""
        ...

    def inspect(self, file: Path) -> ModelInfo:
        """Read GGUF metadata without loading weights; raises InvalidModelFile or ModelNotFound."""
        ...
