"""Zusammenfassen: what a summary is – request, structured sections of points, each point tied to its passages.

A summary is always a draft (`Summary.draft`, `to_dict()["review_status"] == "draft"`). Points carry the numbers
of the passages they came from (`Passage.number`, shown as [n]); the fact check (`app.core.grounding`) flags
dates, deadlines, amounts, file numbers and § references that do not occur in those passages.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import PurePath

from app.core.documents import Chunk, ChunkRef
from app.core.llm import GenerationParams
from app.core.lookup import DRAFT_MARKER, Flag


class SummaryLength(str, Enum):
    KURZ = "kurz"
    STANDARD = "standard"
    AUSFUEHRLICH = "ausfuehrlich"

    @property
    def label_de(self) -> str:
        return {SummaryLength.KURZ: "Kurz (3–5 Punkte)", SummaryLength.STANDARD: "Standard",
                SummaryLength.AUSFUEHRLICH: "Ausführlich"}[self]

    @property
    def points_per_section(self) -> int:
        return {SummaryLength.KURZ: 5, SummaryLength.STANDARD: 3, SummaryLength.AUSFUEHRLICH: 6}[self]


# The structure of a case-file summary, in this order. "Kurz" uses KEY_POINTS only.
SACHVERHALT = "Sachverhalt"
ANLIEGEN = "Anliegen/Antrag"
FRISTEN = "Fristen und Termine"
BETEILIGTE = "Beteiligte"
OFFENE_PUNKTE = "Offene Punkte / fehlende Unterlagen"
CASE_SECTIONS: tuple[str, ...] = (SACHVERHALT, ANLIEGEN, FRISTEN, BETEILIGTE, OFFENE_PUNKTE)
KEY_POINTS = "Kernpunkte"


def sections_for(length: SummaryLength) -> tuple[str, ...]:
    return (KEY_POINTS,) if length is SummaryLength.KURZ else CASE_SECTIONS


@dataclass(frozen=True, slots=True)
class SummaryRequest:
    """What to summarise: indexed files (real paths), how long, with an optional focus question."""

    paths: tuple[str, ...]
    length: SummaryLength = SummaryLength.STANDARD
    focus: str = ""


@dataclass(frozen=True, slots=True)
class Passage(ChunkRef):
    """A numbered piece of the input ([n] in the summary). `chunk` says file, page, heading and span."""

    number: int
    chunk: Chunk

    @property
    def text(self) -> str:
        return self.chunk.text

    def to_dict(self) -> dict[str, object]:
        c = self.chunk
        return {"number": self.number, "file": c.path, "page": c.page, "page_end": c.page_end,
                "section": self.section, "start": c.start, "end": c.end, "chunk_id": c.id, "passage": c.text}


@dataclass(frozen=True, slots=True)
class SummaryPoint:
    """One bullet point. `refs`: passage numbers it came from; `flags`: offsets are into `text`."""

    text: str
    refs: tuple[int, ...] = ()
    flags: tuple[Flag, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "refs": list(self.refs), "flags": [f.to_dict() for f in self.flags]}


@dataclass(frozen=True, slots=True)
class SummarySection:
    title: str
    points: tuple[SummaryPoint, ...] = ()


@dataclass(frozen=True, slots=True)
class Omission:
    """Input that did not make it into the summary, and why – never left out silently."""

    path: str
    reason: str
    pages: str = ""  # e.g. "S. 12–20", "" for the whole file

    def describe_de(self) -> str:
        where = f"{PurePath(self.path).name}" + (f", {self.pages}" if self.pages else "")
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SummaryStep:
    """Yielded after every model call, so a front end can show where the hierarchy is."""

    kind: str  # "map" | "reduce"
    index: int  # 1-based within its level
    total: int
    level: int = 1  # 1 = map over the input; 2, 3 … = reduce levels


@dataclass(slots=True)
class Summary:
    request: SummaryRequest
    sections: list[SummarySection]
    passages: list[Passage]
    omitted: list[Omission] = field(default_factory=list)
    map_steps: int = 0
    reduce_steps: int = 0
    model_name: str = ""
    model_sha256: str = ""
    backend: str = ""
    params: GenerationParams | None = None
    raw_text: str = ""  # the model's final text before parsing (kept for review and audit)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    draft: bool = field(default=True, init=False)

    @property
    def points(self) -> list[SummaryPoint]:
        return [p for s in self.sections for p in s.points]

    @property
    def flags(self) -> list[Flag]:
        return [f for p in self.points for f in p.flags]

    def passage(self, number: int) -> Passage | None:
        return next((p for p in self.passages if p.number == number), None)

    def as_text(self) -> str:
        """Plain text with the draft marker above and below (clipboard, CLI)."""
        lines = [f"[{DRAFT_MARKER}]", ""]
        for section in self.sections:
            lines.append(section.title)
            lines += [f"- {p.text}" + ("" if not p.refs else " " + "".join(f"[{n}]" for n in p.refs))
                      for p in section.points] or ["- (keine Angaben gefunden)"]
            lines.append("")
        if self.omitted:
            lines.append("Nicht berücksichtigt:")
            lines += [f"- {o.describe_de()}" for o in self.omitted]
            lines.append("")
        lines.append("Quellen:")
        lines += [f"[{p.number}] {p.location_de()}" for p in self.passages if p.number in self.cited_numbers()]
        lines += ["", f"[{DRAFT_MARKER} – nicht geprüft]"]
        return "\n".join(lines)

    def cited_numbers(self) -> set[int]:
        return {n for p in self.points for n in p.refs}

    def to_dict(self) -> dict[str, object]:
        p = self.params
        cited = self.cited_numbers()
        return {
            "kind": "summary", "id": self.id, "draft": True, "review_status": "draft", "banner": DRAFT_MARKER,
            "created": self.created.isoformat(timespec="seconds"),
            "request": {"paths": list(self.request.paths), "length": self.request.length.value,
                        "focus": self.request.focus},
            "sections": [{"title": s.title, "points": [pt.to_dict() for pt in s.points]} for s in self.sections],
            "passages": [pa.to_dict() for pa in self.passages if pa.number in cited],
            "omitted": [{"file": o.path, "pages": o.pages, "reason": o.reason} for o in self.omitted],
            "steps": {"map": self.map_steps, "reduce": self.reduce_steps},
            "flags": [f.to_dict() | {"point": pt.text} for pt in self.points for f in pt.flags],
            "model": {"name": self.model_name, "sha256": self.model_sha256, "backend": self.backend},
            "params": None if p is None else {"max_tokens": p.max_tokens, "temperature": p.temperature,
                                              "top_p": p.top_p, "seed": p.seed, "repeat_penalty": p.repeat_penalty},
        }
