"""The review workflow for GUI tests: the real ReviewService over an in-memory store, a recording audit trail.

`make_review()` gives the real service (real state machine, real DOCX writer) with fakes only where the tests need
to look inside: `MemoryDrafts` (DraftStore + StatsStore) and `RecordingAudit` (the AuditTrail port).
`SpyReview` also records what was handed over and can be told to fail.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from app.adapters.docx_writer import DocxWriter
from app.core.drafts import Draft, DraftStats, ReviewPolicy
from app.core.errors import AktenlotseError
from app.services.review import ReviewService

REVIEWER = "VERWALTUNG\\j.weber"


class MemoryDrafts:
    """DraftStore and StatsStore in memory; stored drafts are copies, as a database would give back."""

    def __init__(self) -> None:
        self.records: dict[str, Draft] = {}
        self.stats: dict[str, DraftStats] = {}

    def save(self, draft: Draft) -> None:
        self.records[draft.id] = copy.deepcopy(draft)

    def get(self, draft_id: str) -> Draft | None:
        found = self.records.get(draft_id)
        return None if found is None else copy.deepcopy(found)

    def list(self, *, open_only: bool = False) -> list[Draft]:
        drafts = [copy.deepcopy(d) for d in self.records.values() if d.state.is_open or not open_only]
        return sorted(drafts, key=lambda d: d.created, reverse=True)

    def put(self, draft_id: str, stats: DraftStats) -> None:
        self.stats[draft_id] = stats

    def rows(self) -> list[DraftStats]:
        return list(self.stats.values())


@dataclass
class RecordingAudit:
    records: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    records_content: bool = False

    def record(self, action: str, fields: Mapping[str, object]) -> None:
        self.records.append((action, dict(fields)))

    def actions(self) -> list[str]:
        return [a for a, _ in self.records]


class Clock:
    """A settable clock for minimum-review-time tests."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class SpyReview(ReviewService):
    """The real service; also records each hand-over, and `fail_with` makes `submit` raise."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.submitted: list[object] = []
        self.edited_bodies: list[str | None] = []
        self.fail_with: AktenlotseError | None = None

    def submit(self, item: object, edited_body: str | None = None) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.submitted.append(item)
        self.edited_bodies.append(edited_body)
        return super().submit(item, edited_body)


def make_review(policy: ReviewPolicy | None = None, clock: Clock | None = None) -> SpyReview:
    store = MemoryDrafts()
    service = SpyReview(store, RecordingAudit(), reviewer=REVIEWER, policy=policy or ReviewPolicy(),
                        writer=DocxWriter(), stats=store, clock=clock)
    return service


def audit_of(service: ReviewService) -> RecordingAudit:
    return service._audit  # noqa: SLF001 - tests look at what was recorded


def store_of(service: ReviewService) -> MemoryDrafts:
    return service._store  # noqa: SLF001


# -- sample drafts of each kind, from the other workspaces' fakes ----------------------------------------------
def run_to_end(generator) -> object:
    """Drive a service generator (as the TaskRunner would) and return its result."""
    try:
        while True:
            next(generator)
    except StopIteration as stop:
        return stop.value


def sample_answer():
    """A lookup answer with an invented date and an uncited sentence (two flags) and two cited sources."""
    from app.core.lookup import LookupAnswer, Scope

    from . import lookup_fakes as lf

    return LookupAnswer(lf.QUESTION, Scope.everything(), list(lf.SOURCES), text=lf.ANSWER,
                        grounding=lf.ground(lf.ANSWER, lf.SOURCES), model_name="Fake-Modell 7B Instruct",
                        model_sha256="ab" * 32, backend="lokal (Fake)")


def sample_summary():
    from app.core.progress import CancelToken
    from app.core.summary import SummaryRequest

    from .summary_fakes import CASE_PATHS, FakeSummarizer

    summarizer = FakeSummarizer(step_delay=0)
    return run_to_end(summarizer.summarize(SummaryRequest(CASE_PATHS), CancelToken()))


def sample_letter(fields: dict[str, str] | None = None):
    from app.core.letters import LetterRequest
    from app.core.progress import CancelToken

    from .letter_fakes import RECIPIENT, FakeDrafter
    from .summary_fakes import ANTRAG

    drafter = FakeDrafter(piece_delay=0)
    values = {"empfaenger": RECIPIENT, "aktenzeichen": "50.2-WoG-2024/0815"} if fields is None else fields
    return run_to_end(drafter.draft(LetterRequest("anhoerung", values, paths=(ANTRAG,)), CancelToken()))
