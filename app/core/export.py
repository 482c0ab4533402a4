"""Documents Aktenlotse writes (DOCX): the content model and the writer port, shared by Vermerk and letters.

A written document is a draft unless its `DraftMeta` says `review_status="confirmed"` – and a confirmed one must
name the reviewer and the time. Drafts carry the line `DRAFT_LINE` in header and footer and the custom document
properties `ai_generated`, `model`, `model_sha256`, `created`, `review_status`, `draft_id` (plus `reviewer` and
`reviewed_at` once confirmed), so that both a person and a program can tell a draft from a final document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from app.core.errors import AktenlotseError

DRAFT_LINE = "ENTWURF – KI-generiert, Prüfung erforderlich"
PROPERTY_NAMES = ("ai_generated", "model", "model_sha256", "created", "review_status", "draft_id", "reviewer",
                  "reviewed_at", "kind")


@dataclass(frozen=True, slots=True)
class DraftMeta:
    draft_id: str
    model: str
    model_sha256: str
    created: datetime
    kind: str = "vermerk"  # "vermerk" | "brief"
    review_status: str = "draft"  # "draft" | "confirmed"
    reviewer: str = ""
    reviewed_at: datetime | None = None

    @property
    def is_final(self) -> bool:
        return self.review_status == "confirmed"

    def check(self) -> None:
        """A final document without a named reviewer and time is refused."""
        if self.review_status not in ("draft", "confirmed"):
            raise AktenlotseError("Unbekannter Prüfstatus.", self.review_status)
        if self.is_final and (not self.reviewer.strip() or self.reviewed_at is None):
            raise AktenlotseError("Ein endgültiges Dokument braucht die prüfende Person und den Zeitpunkt der "
                                  "Prüfung.")

    def properties(self) -> dict[str, str]:
        """The custom document properties, as strings (ISO times)."""
        props = {
            "ai_generated": "true", "model": self.model, "model_sha256": self.model_sha256,
            "created": self.created.isoformat(timespec="seconds"), "review_status": self.review_status,
            "draft_id": self.draft_id, "kind": self.kind,
        }
        if self.is_final:
            props["reviewer"] = self.reviewer
            props["reviewed_at"] = self.reviewed_at.isoformat(timespec="seconds") if self.reviewed_at else ""
        return props


@dataclass(frozen=True, slots=True)
class MemoSection:
    heading: str
    bullets: tuple[str, ...] = ()  # each bullet's text, with its [n] references already in it
    empty_text: str = "Keine Angaben in den Quellen gefunden."


@dataclass(frozen=True, slots=True)
class MemoDocument:
    """A *Vermerk* (internal memo): title, subject, a few label/value lines, sections of bullets, sources, notes."""

    subject: str
    sections: tuple[MemoSection, ...]
    title: str = "Vermerk"
    date_text: str = ""  # "25.11.2026"
    info: tuple[tuple[str, str], ...] = ()  # e.g. (("Grundlage", "3 Dokumente"), ("Länge", "Standard"))
    sources: tuple[str, ...] = ()  # "[1] bescheid.pdf, S. 2, § 28 Anhörung Beteiligter"
    notes: tuple[str, ...] = field(default_factory=tuple)  # points to check, omissions – shown before the sources


class DocumentWriter(Protocol):
    def write_memo(self, doc: MemoDocument, meta: DraftMeta, path: Path) -> Path:
        """Write atomically (a temporary file in the same folder, then rename); return the path written."""
        ...

    def read_properties(self, path: Path) -> dict[str, str]:
        """The custom document properties of a DOCX (for checks and tests)."""
        ...


@dataclass(frozen=True, slots=True)
class LetterDocument:
    """A letter in DIN 5008 form (Form B): sender line, address field, information block, subject, salutation,
    body paragraphs, closing, signature, enclosures. Text may contain placeholders like „[Frist eintragen]“, which
    the writer highlights so nobody sends them by mistake."""

    recipient_lines: tuple[str, ...]  # address field, up to 6 lines (Empfänger, Straße, PLZ Ort)
    subject: str  # Betreff (bold, no "Betreff:" label per DIN 5008)
    body: tuple[str, ...]  # paragraphs; "- " at the start of a paragraph makes a bullet
    salutation: str = "Sehr geehrte Damen und Herren,"
    closing: str = "Mit freundlichen Grüßen"
    signature: tuple[str, ...] = ()  # e.g. ("Im Auftrag", "Jonas Weber")
    sender_line: str = ""  # return address above the address field, e.g. "Stadt Musterstadt · Marktplatz 1 · 12345 Musterstadt"
    info: tuple[tuple[str, str], ...] = ()  # information block: (("Ihr Zeichen", "…"), ("Aktenzeichen", "…"), ("Datum", "…"))
    enclosures: tuple[str, ...] = ()  # Anlagen
    authority: str = ""  # letterhead text of the built-in layout (e.g. "Stadt Musterstadt – Ordnungsamt")


PLACEHOLDER_PATTERN = r"\[[^\[\]\n]{2,60}(?:eintragen|ergänzen|prüfen|einfügen)\]"


class LetterWriter(Protocol):
    def write_letter(self, doc: LetterDocument, meta: DraftMeta, path: Path, letterhead: Path | None = None) -> Path:
        """Write atomically; with `letterhead` (.docx or .dotx) the letter goes into the authority's template."""
        ...
