"""Entwerfen: letter types, fields, placeholders and the letter draft – data only (loading is in services).

A letter type is a resource file (`resources/letters/*.toml`, admins add their own in the folder policy names):
name, legal basis, fields, subject and the instructions for the model. A fact the inputs do not contain is never
invented: it stays a visible placeholder such as „[Frist eintragen]“, and the draft lists its open placeholders.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum

from app.core.export import DRAFT_LINE, PLACEHOLDER_PATTERN, DraftMeta, LetterDocument
from app.core.llm import GenerationParams
from app.core.lookup import DRAFT_MARKER
from app.core.summary import Passage

_PLACEHOLDER = re.compile(PLACEHOLDER_PATTERN)
_FIELD_REF = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class LetterStyle(str, Enum):
    FOERMLICH = "foermlich"
    BUERGERNAH = "buergernah"
    LEICHT = "leicht"

    @property
    def label_de(self) -> str:
        return {LetterStyle.FOERMLICH: "förmlich", LetterStyle.BUERGERNAH: "bürgernah",
                LetterStyle.LEICHT: "Leichte Sprache"}[self]


@dataclass(frozen=True, slots=True)
class LetterField:
    key: str  # "aktenzeichen", "empfaenger", "datum", "sachbearbeiter", "frist", …
    label_de: str
    required: bool = False
    multiline: bool = False
    hint_de: str = ""

    @property
    def placeholder(self) -> str:
        return f"[{self.label_de} eintragen]"


STANDARD_FIELDS: tuple[LetterField, ...] = (
    LetterField("empfaenger", "Empfänger", True, True, "Name und Anschrift, eine Zeile je Angabe"),
    LetterField("aktenzeichen", "Aktenzeichen", True),
    LetterField("ihr_zeichen", "Ihr Zeichen"),
    LetterField("datum", "Datum", True, hint_de="leer: heutiges Datum"),
    LetterField("sachbearbeiter", "Sachbearbeiter/in", True),
    LetterField("telefon", "Telefon"),
    LetterField("frist", "Frist"),
)


@dataclass(frozen=True, slots=True)
class LetterType:
    key: str  # "anhoerung"
    name_de: str  # "Anhörung vor Erlass eines Verwaltungsakts"
    description_de: str = ""
    legal_basis: str = ""  # "§ 28 VwVfG / § 24 SGB X"
    subject: str = ""  # may use {fields}: "Anhörung vor Erlass eines Bescheides – Aktenzeichen {aktenzeichen}"
    instructions: str = ""  # what the body must contain (goes into the prompt)
    fields: tuple[LetterField, ...] = STANDARD_FIELDS
    fixed_paragraphs_end: tuple[str, ...] = ()  # verbatim text after the model's body (may use {fields})
    text_blocks: tuple[str, ...] = ()  # names of admin text blocks inserted verbatim (e.g. "rechtsbehelfsbelehrung")
    enclosures: tuple[str, ...] = ()
    source: str = "mitgeliefert"  # or "Verwaltung" for admin-provided types

    def field(self, key: str) -> LetterField | None:
        return next((f for f in self.fields if f.key == key), None)


def open_placeholders(text: str) -> list[str]:
    """The placeholders still in `text`, in order of appearance (duplicates kept once)."""
    return list(dict.fromkeys(m.group(0) for m in _PLACEHOLDER.finditer(text)))


def fill(template: str, values: dict[str, str], fields: tuple[LetterField, ...]) -> str:
    """`{key}` → the field's value, or its placeholder „[Label eintragen]“ when empty. Unknown keys stay visible."""
    labels = {f.key: f for f in fields}

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        value = (values.get(key) or "").strip()
        if value:
            return value
        f = labels.get(key)
        return f.placeholder if f else f"[{key} eintragen]"

    return _FIELD_REF.sub(sub, template)


@dataclass(frozen=True, slots=True)
class LetterRequest:
    type_key: str
    fields: dict[str, str]
    instructions: str = ""
    paths: tuple[str, ...] = ()  # case documents (indexed files)
    style: LetterStyle = LetterStyle.FOERMLICH


@dataclass(frozen=True, slots=True)
class PlainFinding:
    """A plain-language finding as the UI shows it (mirrors app.core.plain_language.Finding)."""

    rule: str
    message_de: str
    text: str
    start: int
    end: int


@dataclass(slots=True)
class LetterDraft:
    """A generated letter, editable before export. Always a draft; `body` is the part the caseworker edits."""

    request: LetterRequest
    letter_type: LetterType
    subject: str
    body: str
    recipient_lines: tuple[str, ...]
    info: tuple[tuple[str, str], ...]
    signature: tuple[str, ...]
    salutation: str = "Sehr geehrte Damen und Herren,"
    closing: str = "Mit freundlichen Grüßen"
    enclosures: tuple[str, ...] = ()
    sender_line: str = ""
    authority: str = ""
    passages: list[Passage] = field(default_factory=list)
    replaced_facts: list[str] = field(default_factory=list)  # facts the model wrote that no input contains
    plain_findings: list[PlainFinding] = field(default_factory=list)
    refine_rounds: int = 0
    model_name: str = ""
    model_sha256: str = ""
    params: GenerationParams | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    draft: bool = field(default=True, init=False)

    @property
    def placeholders(self) -> list[str]:
        parts = [self.subject, *self.recipient_lines, *(v for _, v in self.info), self.body, *self.signature]
        return open_placeholders("\n".join(parts))

    def to_document(self) -> LetterDocument:
        paragraphs = tuple(p.strip() for p in re.split(r"\n\s*\n", self.body.strip()) if p.strip())
        return LetterDocument(
            recipient_lines=self.recipient_lines, subject=self.subject, body=paragraphs,
            salutation=self.salutation, closing=self.closing, signature=self.signature,
            sender_line=self.sender_line, info=self.info, enclosures=self.enclosures, authority=self.authority)

    def meta(self) -> DraftMeta:
        return DraftMeta(draft_id=self.id, model=self.model_name, model_sha256=self.model_sha256,
                         created=self.created, kind="brief")

    def as_text(self) -> str:
        lines = [f"[{DRAFT_MARKER}]", "", *self.recipient_lines, "",
                 *(f"{k}: {v}" for k, v in self.info), "", self.subject, "", self.salutation, "", self.body.strip(),
                 "", self.closing, "", *self.signature]
        if self.enclosures:
            lines += ["", "Anlagen:", *(f"- {e}" for e in self.enclosures)]
        lines += ["", f"[{DRAFT_LINE}]"]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": "letter", "id": self.id, "draft": True, "review_status": "draft", "banner": DRAFT_MARKER,
            "type": self.letter_type.key, "type_name": self.letter_type.name_de, "style": self.request.style.value,
            "created": self.created.isoformat(timespec="seconds"), "subject": self.subject,
            "recipient": list(self.recipient_lines), "info": [list(i) for i in self.info], "body": self.body,
            "signature": list(self.signature), "enclosures": list(self.enclosures),
            "placeholders": self.placeholders, "replaced_facts": self.replaced_facts,
            "plain_language": [{"rule": f.rule, "message": f.message_de, "text": f.text} for f in self.plain_findings],
            "refine_rounds": self.refine_rounds,
            "sources": [p.to_dict() for p in self.passages],
            "model": {"name": self.model_name, "sha256": self.model_sha256},
        }
