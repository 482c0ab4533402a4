"""The review workflow's domain: a draft's lifecycle, its text versions, its check list, and the ports it needs.

Every AI output (lookup answer, summary, letter) becomes a `Draft`. Its life is a small state machine:

    generated ──▶ in_review ──▶ confirmed
        │             ├────────▶ rejected
        └─────────────┴────────▶ discarded   (rejected is also possible straight from generated)

There is no path to `confirmed` that skips `in_review`, and `confirm()` refuses while the check list has open items
or the policy's requirements (a source opened, no open placeholders, a minimum review time) are not met. Terminal
states accept nothing more: every illegal move raises `IllegalTransition`. All times are passed in (`now`), so the
rules are testable without a clock; nothing here does I/O.
"""

from __future__ import annotations

import difflib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from app.core.audit import AuditTrail as AuditTrail  # the port lives in app.core.audit
from app.core.documents import Chunk, ChunkRef
from app.core.errors import AktenlotseError
from app.core.export import DRAFT_LINE, PLACEHOLDER_PATTERN, DraftMeta

if TYPE_CHECKING:
    from app.core.letters import LetterDraft
    from app.core.lookup import LookupAnswer
    from app.core.summary import Summary

_PLACEHOLDER = re.compile(PLACEHOLDER_PATTERN)
_CITATION = re.compile(r"\[(\d{1,3})\]")


class IllegalTransition(AktenlotseError):
    """A move the lifecycle does not allow (e.g. confirming a discarded draft)."""


class ReviewIncomplete(AktenlotseError):
    """`confirm()` while items are open; `reasons` lists them in German."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("Der Entwurf kann noch nicht bestätigt werden: " + "; ".join(reasons), "\n".join(reasons))
        self.reasons = reasons


class DraftKind(str, Enum):
    LOOKUP = "lookup"
    SUMMARY = "summary"
    LETTER = "letter"

    @property
    def label_de(self) -> str:
        return {DraftKind.LOOKUP: "Auskunft", DraftKind.SUMMARY: "Zusammenfassung", DraftKind.LETTER: "Brief"}[self]


class DraftState(str, Enum):
    GENERATED = "generated"
    IN_REVIEW = "in_review"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    DISCARDED = "discarded"

    @property
    def label_de(self) -> str:
        return {DraftState.GENERATED: "Neu", DraftState.IN_REVIEW: "In Prüfung", DraftState.CONFIRMED: "Bestätigt",
                DraftState.REJECTED: "Abgelehnt", DraftState.DISCARDED: "Verworfen"}[self]

    @property
    def is_open(self) -> bool:
        return self in (DraftState.GENERATED, DraftState.IN_REVIEW)


#: The whole lifecycle. Anything not listed raises `IllegalTransition`.
TRANSITIONS: Mapping[DraftState, frozenset[DraftState]] = {
    DraftState.GENERATED: frozenset({DraftState.IN_REVIEW, DraftState.REJECTED, DraftState.DISCARDED}),
    DraftState.IN_REVIEW: frozenset({DraftState.CONFIRMED, DraftState.REJECTED, DraftState.DISCARDED}),
    DraftState.CONFIRMED: frozenset(),
    DraftState.REJECTED: frozenset(),
    DraftState.DISCARDED: frozenset(),
}


class Author(str, Enum):
    MODEL = "model"
    PERSON = "person"


@dataclass(frozen=True, slots=True)
class TextVersion:
    number: int  # 1 = what the model generated
    text: str
    author: Author
    created: datetime


@dataclass(frozen=True, slots=True)
class DraftSource(ChunkRef):
    """A passage the draft was built on; `cited`: the text refers to it (or, for letters, it is a case document)."""

    number: int
    chunk: Chunk
    cited: bool = True


@dataclass(frozen=True, slots=True)
class DraftFlag:
    """A warning the generator raised (uncited sentence, fact not in the sources, …), content kept for the reviewer."""

    kind: str  # FlagKind value or "replaced_fact"
    label_de: str
    text: str
    detail: str = ""


class CheckKind(str, Enum):
    FLAG = "flag"
    PLACEHOLDER = "placeholder"
    SOURCE = "source"

    @property
    def label_de(self) -> str:
        return {CheckKind.FLAG: "Hinweis", CheckKind.PLACEHOLDER: "Offener Platzhalter",
                CheckKind.SOURCE: "Quelle noch nicht geöffnet"}[self]


class Resolution(str, Enum):
    CHECKED = "checked"  # the reviewer ticked that they checked it
    FIXED = "fixed"  # gone from the text, or (sources) opened

    @property
    def label_de(self) -> str:
        return {Resolution.CHECKED: "geprüft", Resolution.FIXED: "erledigt"}[self]


@dataclass(frozen=True, slots=True)
class CheckItem:
    key: str  # stable within a draft: "flag:2", "placeholder:[Frist eintragen]", "source:3"
    kind: CheckKind
    title: str  # what the list shows first: the flag's label, "Offener Platzhalter", "Quelle [3] öffnen"
    text: str  # the flagged text, the placeholder, the source's location
    detail: str = ""
    resolution: Resolution | None = None
    tickable: bool = True  # False: only fixing it resolves it (policy forbids open placeholders)

    @property
    def resolved(self) -> bool:
        return self.resolution is not None


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """What an authority may require on top of the check list (policy keys `review_*`)."""

    require_source_opened: bool = False  # at least one source opened in the viewer
    no_open_placeholders: bool = False  # placeholders must be filled, ticking them is not enough
    min_review_seconds: int = 0  # for drafts of at least `long_draft_chars` characters
    long_draft_chars: int = 1500


@dataclass(frozen=True, slots=True)
class Transition:
    source: DraftState
    target: DraftState
    at: datetime
    actor: str = ""  # OS account for decisions, "" for the system


def edit_ratio(generated: str, final: str) -> float:
    """Share of the text that changed, word by word: 0.0 unchanged … 1.0 all new (content-free, for statistics)."""
    a, b = generated.split(), final.split()
    if not a and not b:
        return 0.0
    return round(1.0 - difflib.SequenceMatcher(None, a, b, autojunk=False).ratio(), 4)


def placeholders_in(text: str) -> list[str]:
    return list(dict.fromkeys(_PLACEHOLDER.findall(text)))


def cited_numbers(text: str) -> set[int]:
    return {int(n) for n in _CITATION.findall(text)}


@dataclass(slots=True)
class Draft:
    """One AI output under review. Mutated only through the transition methods, which enforce the lifecycle."""

    kind: DraftKind
    title: str  # the question, the summary's subject, the letter's subject (content: never in statistics)
    versions: list[TextVersion]
    sources: tuple[DraftSource, ...] = ()
    flags: tuple[DraftFlag, ...] = ()
    model_name: str = ""
    model_sha256: str = ""
    backend: str = ""
    params: dict[str, object] = field(default_factory=dict)
    payload: dict[str, object] = field(default_factory=dict)  # kind-specific parts the export needs
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    state: DraftState = DraftState.GENERATED
    history: list[Transition] = field(default_factory=list)
    review_started: datetime | None = None
    opened_sources: set[int] = field(default_factory=set)
    ticked: set[str] = field(default_factory=set)
    reviewer: str = ""
    decided_at: datetime | None = None
    reject_reason: str = ""

    # -- reading -----------------------------------------------------------------------------------------------
    @property
    def text(self) -> str:
        """The current text (the latest version)."""
        return self.versions[-1].text

    @property
    def generated_text(self) -> str:
        return self.versions[0].text

    @property
    def is_final(self) -> bool:
        return self.state is DraftState.CONFIRMED

    @property
    def placeholder_text(self) -> str:
        """The current text plus the fixed parts around it (a letter's address, subject, information block)."""
        frame = self.payload.get("frame_text", "")
        return self.text + ("\n" + frame if isinstance(frame, str) and frame else "")

    def source(self, number: int) -> DraftSource | None:
        return next((s for s in self.sources if s.number == number), None)

    def sources_to_check(self) -> list[DraftSource]:
        """Cited sources the current text still refers to (letters: their case documents)."""
        if self.kind is DraftKind.LETTER:
            return [s for s in self.sources if s.cited]
        numbers = cited_numbers(self.text)
        return [s for s in self.sources if s.number in numbers]

    def checklist(self, policy: ReviewPolicy | None = None) -> list[CheckItem]:
        """Everything a person must look at, each with how (or whether) it is resolved, for the current text."""
        policy = policy or ReviewPolicy()
        text = self.text
        items: list[CheckItem] = []
        for i, flag in enumerate(self.flags):
            key = f"flag:{i}"
            gone = bool(flag.text.strip()) and flag.text.strip() not in text
            resolution = Resolution.FIXED if gone else (Resolution.CHECKED if key in self.ticked else None)
            items.append(CheckItem(key, CheckKind.FLAG, flag.label_de, flag.text, flag.detail, resolution))
        for placeholder in placeholders_in(self.placeholder_text):
            key = f"placeholder:{placeholder}"
            tickable = not policy.no_open_placeholders
            resolution = Resolution.CHECKED if key in self.ticked and tickable else None
            items.append(CheckItem(key, CheckKind.PLACEHOLDER, CheckKind.PLACEHOLDER.label_de, placeholder,
                                   "Bitte ausfüllen" + ("" if tickable else " – die Richtlinie verlangt es"),
                                   resolution, tickable))
        for source in self.sources_to_check():
            key = f"source:{source.number}"
            resolution = (Resolution.FIXED if source.number in self.opened_sources
                          else Resolution.CHECKED if key in self.ticked else None)
            items.append(CheckItem(key, CheckKind.SOURCE, f"Quelle [{source.number}] ansehen", source.location_de(),
                                   "Öffnen zeigt die Textstelle; oder abhaken, wenn Sie sie anders geprüft haben",
                                   resolution))
        return items

    def blockers(self, policy: ReviewPolicy | None = None, now: datetime | None = None) -> list[str]:
        """Why `confirm()` would refuse now, in German; empty when it may go ahead."""
        policy = policy or ReviewPolicy()
        reasons: list[str] = []
        if self.state is not DraftState.IN_REVIEW:
            reasons.append(f"Der Entwurf ist nicht in Prüfung (Status: {self.state.label_de}).")
            return reasons
        open_items = [i for i in self.checklist(policy) if not i.resolved]
        if open_items:
            reasons.append(f"{len(open_items)} Punkt(e) der Prüfliste sind offen.")
        if policy.no_open_placeholders and placeholders_in(self.placeholder_text):
            reasons.append("Die Richtlinie verlangt, dass keine Platzhalter offen sind.")
        if policy.require_source_opened and self.sources_to_check() and not self.opened_sources:
            reasons.append("Die Richtlinie verlangt, dass Sie mindestens eine Quelle öffnen.")
        remaining = self.review_seconds_remaining(policy, now)
        if remaining > 0:
            reasons.append(f"Die Richtlinie verlangt eine Mindestprüfzeit; noch {remaining} s.")
        return reasons

    def review_seconds_remaining(self, policy: ReviewPolicy, now: datetime | None) -> int:
        longest = max(len(self.generated_text), len(self.text))  # cutting the text does not skip the wait
        if policy.min_review_seconds <= 0 or longest < policy.long_draft_chars:
            return 0
        if self.review_started is None:
            return policy.min_review_seconds
        now = now or datetime.now(timezone.utc)
        spent = (now - self.review_started).total_seconds()
        return max(0, int(policy.min_review_seconds - spent + 0.999))

    # -- transitions -------------------------------------------------------------------------------------------
    def _move(self, target: DraftState, now: datetime, actor: str = "") -> None:
        if target not in TRANSITIONS[self.state]:
            raise IllegalTransition(
                f"Ein Entwurf im Status „{self.state.label_de}“ kann nicht „{target.label_de}“ werden.",
                f"{self.id}: {self.state.value} → {target.value}")
        self.history.append(Transition(self.state, target, now, actor))
        self.state = target

    def _require_review(self, action: str) -> None:
        if self.state is not DraftState.IN_REVIEW:
            raise IllegalTransition(f"{action} ist nur während der Prüfung möglich (Status: {self.state.label_de}).",
                                    f"{self.id}: {self.state.value}")

    def start_review(self, now: datetime, actor: str = "") -> None:
        """generated → in_review (idempotent while in review)."""
        if self.state is DraftState.IN_REVIEW:
            return
        self._move(DraftState.IN_REVIEW, now, actor)
        self.review_started = now

    def edit(self, text: str, now: datetime) -> bool:
        """A new version by the reviewer; False if the text is unchanged."""
        self._require_review("Bearbeiten")
        if text == self.text:
            return False
        self.versions.append(TextVersion(len(self.versions) + 1, text, Author.PERSON, now))
        return True

    def edit_frame(self, *, subject: str, recipient_lines: tuple[str, ...], info: tuple[tuple[str, str], ...],
                   signature: tuple[str, ...]) -> bool:
        """A letter's fixed parts (address, subject, information block, signature); False if nothing changed."""
        self._require_review("Bearbeiten")
        if self.kind is not DraftKind.LETTER:
            raise AktenlotseError("Nur ein Brief hat Anschrift und Briefkopf.")
        new = {"subject": subject.strip(), "recipient_lines": [x.strip() for x in recipient_lines if x.strip()],
               "info": [[k.strip(), v.strip()] for k, v in info if k.strip()],
               "signature": [x.strip() for x in signature if x.strip()]}
        if all(self.payload.get(k) == v for k, v in new.items()):
            return False
        self.payload.update(new)
        self.payload["frame_text"] = "\n".join([new["subject"], *new["recipient_lines"],
                                                 *(v for _, v in new["info"]), *new["signature"]])
        self.payload["frame_edits"] = int(self.payload.get("frame_edits", 0)) + 1
        self.title = new["subject"] or self.title
        return True

    def open_source(self, number: int) -> None:
        self._require_review("Quellen als geöffnet vermerken")
        if self.source(number) is None:
            raise AktenlotseError(f"Der Entwurf hat keine Quelle [{number}].")
        self.opened_sources.add(number)

    def tick(self, key: str, checked: bool = True, policy: ReviewPolicy | None = None) -> None:
        """Tick (or untick) a check-list item as checked by the reviewer."""
        self._require_review("Abhaken")
        item = next((i for i in self.checklist(policy) if i.key == key), None)
        if item is None:
            raise AktenlotseError("Diesen Prüfpunkt gibt es nicht (mehr).", key)
        if checked and not item.tickable:
            raise AktenlotseError("Dieser Punkt lässt sich nicht abhaken: bitte im Text erledigen.", key)
        (self.ticked.add if checked else self.ticked.discard)(key)

    def confirm(self, reviewer: str, now: datetime, policy: ReviewPolicy | None = None) -> None:
        """in_review → confirmed, only with a named reviewer and nothing blocking."""
        if not reviewer.strip():
            raise AktenlotseError("Zum Bestätigen muss die prüfende Person feststehen (Benutzerkonto).")
        if self.state is not DraftState.IN_REVIEW:
            self._move(DraftState.CONFIRMED, now, reviewer)  # raises: only in_review → confirmed exists
        reasons = self.blockers(policy, now)
        if reasons:
            raise ReviewIncomplete(reasons)
        self._move(DraftState.CONFIRMED, now, reviewer)
        self.reviewer, self.decided_at = reviewer, now

    def reject(self, reviewer: str, now: datetime, reason: str = "") -> None:
        if not reviewer.strip():
            raise AktenlotseError("Zum Ablehnen muss die prüfende Person feststehen (Benutzerkonto).")
        self._move(DraftState.REJECTED, now, reviewer)
        self.reviewer, self.decided_at, self.reject_reason = reviewer, now, reason.strip()

    def discard(self, now: datetime, actor: str = "") -> None:
        self._move(DraftState.DISCARDED, now, actor)
        self.decided_at = now

    # -- leaving the app ---------------------------------------------------------------------------------------
    def meta(self) -> DraftMeta:
        """Document properties: confirmed drafts are final (reviewer and time), everything else is a draft."""
        kind = "brief" if self.kind is DraftKind.LETTER else "vermerk"
        if self.is_final:
            return DraftMeta(draft_id=self.id, model=self.model_name, model_sha256=self.model_sha256,
                             created=self.created, kind=kind, review_status="confirmed", reviewer=self.reviewer,
                             reviewed_at=self.decided_at)
        return DraftMeta(draft_id=self.id, model=self.model_name, model_sha256=self.model_sha256,
                         created=self.created, kind=kind)

    def clipboard_text(self) -> str:
        """The current text with its sources; a draft carries the draft marker above and below."""
        body = [self.text.strip()]
        cited = self.sources_to_check()
        if cited:
            body += ["", "Quellen:", *(f"[{s.number}] {s.location_de()}" for s in cited)]
        if self.is_final:
            when = self.decided_at.astimezone().strftime("%d.%m.%Y %H:%M") if self.decided_at else ""
            return "\n".join([*body, "", f"Geprüft und bestätigt: {self.reviewer}, {when}"])
        return "\n".join([f"[{DRAFT_LINE}]", "", *body, "", f"[{DRAFT_LINE} – nicht geprüft]"])

    # -- statistics --------------------------------------------------------------------------------------------
    def stats(self, policy: ReviewPolicy | None = None) -> DraftStats:
        """Content-free numbers for the scientific evaluation: no text, no names, no file names."""
        items = self.checklist(policy)
        flags = [i for i in items if i.kind is CheckKind.FLAG]
        decided = self.decided_at
        return DraftStats(
            kind=self.kind.value,
            created_day=self.created.astimezone(timezone.utc).date().isoformat(),
            state=self.state.value,
            versions=len(self.versions),
            generated_chars=len(self.generated_text),
            final_chars=len(self.text),
            edit_ratio=edit_ratio(self.generated_text, self.text),
            seconds_to_decision=None if decided is None else round((decided - self.created).total_seconds(), 1),
            review_seconds=None if decided is None or self.review_started is None
            else round((decided - self.review_started).total_seconds(), 1),
            flags_shown=len(flags),
            flags_fixed=sum(1 for i in flags if i.resolution is Resolution.FIXED),
            flags_checked=sum(1 for i in flags if i.resolution is Resolution.CHECKED),
            placeholders_open=len(placeholders_in(self.placeholder_text)),
            sources_cited=len(self.sources_to_check()),
            sources_opened=len(self.opened_sources),
            reject_reason_given=bool(self.reject_reason),
        )


@dataclass(frozen=True, slots=True)
class DraftStats:
    """One row of the evaluation data. Every field is a number, a date, a fixed word or a flag – never content."""

    kind: str
    created_day: str
    state: str
    versions: int
    generated_chars: int
    final_chars: int
    edit_ratio: float
    seconds_to_decision: float | None
    review_seconds: float | None
    flags_shown: int
    flags_fixed: int
    flags_checked: int
    placeholders_open: int
    sources_cited: int
    sources_opened: int
    reject_reason_given: bool

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(cls.__dataclass_fields__)


# -- ports ---------------------------------------------------------------------------------------------------------
class DraftStore(Protocol):
    """Where drafts live between sessions (an SQLite file in the user's data folder)."""

    def save(self, draft: Draft) -> None: ...

    def get(self, draft_id: str) -> Draft | None: ...

    def list(self, *, open_only: bool = False) -> list[Draft]: ...


class StatsStore(Protocol):
    """Content-free evaluation rows, one per draft, kept even when drafts are deleted."""

    def put(self, draft_id: str, stats: DraftStats) -> None: ...

    def rows(self) -> list[DraftStats]: ...


class DraftReview(Protocol):
    """The hook the workspaces hand their output to (Entwürfe); returns the id the draft is tracked under.

    `edited_body`: for letters, the body as the caseworker left it in "Entwerfen" (becomes version 2).
    """

    def submit(self, item: LookupAnswer | Summary | LetterDraft, edited_body: str | None = None) -> str: ...
