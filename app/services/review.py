"""Entwürfe: the review use cases – hand over, review, confirm / reject / discard, export and copy, statistics.

Every way out of the app as *final* (DOCX export, "copy as final") goes through here and needs a confirmed draft.
Every decision is first recorded through the `AuditTrail` port (ids, hashes and counts, no content; on disk when
it returns), then saved, then the content-free statistics row is updated. If the record cannot be written, the
decision is not saved and the error goes to the caller; an export whose record fails is deleted again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import statistics
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from app.core.draft_builders import from_letter, from_lookup, from_summary, letter_for, memo_for
from app.core.drafts import (
    AuditTrail,
    Draft,
    DraftKind,
    DraftState,
    DraftStats,
    DraftStore,
    ReviewPolicy,
    StatsStore,
)
from app.core.errors import AktenlotseError
from app.core.export import DocumentWriter, LetterWriter
from app.core.letters import LetterDraft
from app.core.lookup import LookupAnswer
from app.core.summary import Summary


class Writer(DocumentWriter, LetterWriter, Protocol):
    """The DOCX writer writes both memos and letters."""


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


SUMMARY_COLUMNS = ("kind", "created", "open", "confirmed", "rejected", "discarded", "confirmed_unchanged",
                   "mean_edit_ratio_confirmed", "median_seconds_to_decision", "median_review_seconds",
                   "flags_shown", "flags_fixed", "flags_checked", "sources_cited", "sources_opened")


class ReviewService:
    """`ReviewService(store, audit, policy=…, reviewer=…, writer=…, stats=…)`; `submit()` is the `DraftReview` port."""

    def __init__(self, store: DraftStore, audit: AuditTrail, *, reviewer: str, policy: ReviewPolicy | None = None,
                 writer: Writer | None = None, stats: StatsStore | None = None, letterhead: Path | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._store = store
        self._audit = audit
        self.reviewer = reviewer
        self.policy = policy or ReviewPolicy()
        self._writer = writer
        self._stats = stats  # None: the policy switched the evaluation statistics off
        self._letterhead = letterhead
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    # -- handing over ------------------------------------------------------------------------------------------
    def submit(self, item: LookupAnswer | Summary | LetterDraft, edited_body: str | None = None) -> str:
        """Take a generated answer, summary or letter into review; returns the draft id (same as the item's id)."""
        if isinstance(item, LookupAnswer):
            draft = from_lookup(item)
        elif isinstance(item, Summary):
            draft = from_summary(item)
        elif isinstance(item, LetterDraft):
            draft = from_letter(item, edited_body, now=self._clock())
        else:
            raise AktenlotseError("Dieser Inhalt kann nicht zur Prüfung übergeben werden.", type(item).__name__)
        existing = self._store.get(draft.id)
        if existing is not None:
            return existing.id  # handed over twice: the first hand-over counts; changes are made under Entwürfe
        self._record("draft_created", draft, source_doc_ids=sorted({s.chunk.doc_id for s in draft.sources}),
                     output_sha256=sha256_text(draft.generated_text), flags=len(draft.flags),
                     versions=len(draft.versions))
        self._store.save(draft)
        return draft.id

    # -- reading -----------------------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The service's clock (review times are measured with it)."""
        return self._clock()

    def drafts(self, *, open_only: bool = False) -> list[Draft]:
        return self._store.list(open_only=open_only)

    def get(self, draft_id: str) -> Draft:
        draft = self._store.get(draft_id)
        if draft is None:
            raise AktenlotseError("Diesen Entwurf gibt es nicht (mehr).", draft_id)
        return draft

    def blockers(self, draft_id: str) -> list[str]:
        return self.get(draft_id).blockers(self.policy, self._clock())

    # -- reviewing ---------------------------------------------------------------------------------------------
    def start_review(self, draft_id: str) -> Draft:
        draft = self.get(draft_id)
        if draft.state is DraftState.GENERATED:
            draft.start_review(self._clock(), self.reviewer)
            self._record("draft_review_started", draft)
            self._store.save(draft)
        return draft

    def edit(self, draft_id: str, text: str) -> Draft:
        draft = self.get(draft_id)
        if draft.edit(text, self._clock()):
            self._store.save(draft)
        return draft

    def edit_frame(self, draft_id: str, *, subject: str, recipient_lines: tuple[str, ...],
                   info: tuple[tuple[str, str], ...], signature: tuple[str, ...]) -> Draft:
        """A letter's address, subject, information block and signature (where placeholders often remain)."""
        draft = self.get(draft_id)
        if draft.edit_frame(subject=subject, recipient_lines=recipient_lines, info=info, signature=signature):
            self._store.save(draft)
        return draft

    def open_source(self, draft_id: str, number: int) -> Draft:
        draft = self.get(draft_id)
        if number not in draft.opened_sources:
            draft.open_source(number)
            self._store.save(draft)
        return draft

    def tick(self, draft_id: str, key: str, checked: bool = True) -> Draft:
        draft = self.get(draft_id)
        draft.tick(key, checked, self.policy)
        self._store.save(draft)
        return draft

    # -- deciding ----------------------------------------------------------------------------------------------
    def confirm(self, draft_id: str) -> Draft:
        draft = self.get(draft_id)
        items = draft.checklist(self.policy)
        draft.confirm(self.reviewer, self._clock(), self.policy)
        self._record("draft_confirmed", draft, reviewer=self.reviewer, output_sha256=sha256_text(draft.text),
                     versions=len(draft.versions), items=len(items),
                     items_ticked=sum(1 for i in items if i.resolution is not None and i.resolution.value == "checked"),
                     sources_opened=len(draft.opened_sources))
        self._store.save(draft)
        return draft

    def reject(self, draft_id: str, reason: str = "") -> Draft:
        draft = self.get(draft_id)
        draft.reject(self.reviewer, self._clock(), reason)
        self._record("draft_rejected", draft, reviewer=self.reviewer, reason_given=bool(draft.reject_reason))
        self._store.save(draft)
        return draft

    def discard(self, draft_id: str) -> Draft:
        draft = self.get(draft_id)
        draft.discard(self._clock(), self.reviewer)
        self._record("draft_discarded", draft, reviewer=self.reviewer)
        self._store.save(draft)
        return draft

    # -- leaving the app ---------------------------------------------------------------------------------------
    def export(self, draft_id: str, path: Path, *, final: bool = True) -> Path:
        """Write the DOCX. `final=True` needs a confirmed draft; otherwise it is written marked as a draft."""
        draft = self.get(draft_id)
        if final and not draft.is_final:
            raise AktenlotseError("Ein endgültiges Dokument gibt es erst nach der Bestätigung. Bitte prüfen und "
                                  "bestätigen Sie den Entwurf zuerst.", f"{draft.id}: {draft.state.value}")
        if draft.state in (DraftState.REJECTED, DraftState.DISCARDED):
            raise AktenlotseError(f"Ein {draft.state.label_de.lower()}er Entwurf wird nicht exportiert.")
        if self._writer is None:
            raise AktenlotseError("Der Export als Word-Dokument ist in dieser Installation nicht verfügbar.")
        meta = draft.meta()
        meta.check()
        if draft.kind is DraftKind.LETTER:
            written = self._writer.write_letter(letter_for(draft), meta, Path(path), self._letterhead)
        else:
            written = self._writer.write_memo(memo_for(draft), meta, Path(path))
        try:
            self._record("draft_exported", draft, format="docx", final=meta.is_final,
                         file_sha256=_sha256_file(written))
        except AktenlotseError:
            Path(written).unlink(missing_ok=True)  # an export that is not in the audit log did not happen
            raise
        return written

    def copy_text(self, draft_id: str, *, final: bool) -> str:
        """What goes to the clipboard; `final=True` needs a confirmed draft (no draft marker then)."""
        draft = self.get(draft_id)
        if final and not draft.is_final:
            raise AktenlotseError("„Als endgültig kopieren“ geht erst nach der Bestätigung.")
        if draft.state in (DraftState.REJECTED, DraftState.DISCARDED):
            raise AktenlotseError(f"Ein {draft.state.label_de.lower()}er Entwurf wird nicht weitergegeben.")
        text = draft.clipboard_text()
        self._record("draft_copied", draft, final=draft.is_final, output_sha256=sha256_text(text))
        return text

    # -- statistics --------------------------------------------------------------------------------------------
    @property
    def stats_disabled(self) -> bool:
        return self._stats is None

    def stats_rows(self) -> list[DraftStats]:
        return [] if self._stats is None else self._stats.rows()

    def stats_csv(self, *, summary: bool = False) -> str:
        """The evaluator's CSV: one content-free row per draft, or (`summary`) one row per feature."""
        rows = self.stats_rows()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if not summary:
            writer.writerow(DraftStats.columns())
            for r in rows:
                writer.writerow(["" if v is None else (int(v) if isinstance(v, bool) else v)
                                 for v in (getattr(r, c) for c in DraftStats.columns())])
            return out.getvalue()
        writer.writerow(SUMMARY_COLUMNS)
        if self._stats is None:
            return out.getvalue()  # switched off: no rows, not rows of zeros that look like "not used"
        for kind in DraftKind:
            writer.writerow(summarise_stats(kind.value, [r for r in rows if r.kind == kind.value]))
        return out.getvalue()

    def close(self) -> None:
        close = getattr(self._store, "close", None)
        if close is not None:
            close()

    # -- internals ---------------------------------------------------------------------------------------------
    def _record(self, action: str, draft: Draft, **fields: object) -> None:
        base = {"draft_id": draft.id, "kind": draft.kind.value, "state": draft.state.value,
                "model_sha256": draft.model_sha256}
        self._audit.record(action, base | fields)
        if self._stats is not None:
            self._stats.put(draft.id, draft.stats(self.policy))


def summarise_stats(kind: str, rows: list[DraftStats]) -> list[object]:
    def count(state: str) -> int:
        return sum(1 for r in rows if r.state == state)

    confirmed = [r for r in rows if r.state == DraftState.CONFIRMED.value]
    decided = [r.seconds_to_decision for r in rows if r.seconds_to_decision is not None]
    reviewed = [r.review_seconds for r in rows if r.review_seconds is not None]
    return [
        kind, len(rows), sum(1 for r in rows if r.state in ("generated", "in_review")), len(confirmed),
        count("rejected"), count("discarded"), sum(1 for r in confirmed if r.edit_ratio == 0),
        round(statistics.fmean(r.edit_ratio for r in confirmed), 4) if confirmed else "",
        round(statistics.median(decided), 1) if decided else "",
        round(statistics.median(reviewed), 1) if reviewed else "",
        sum(r.flags_shown for r in rows), sum(r.flags_fixed for r in rows), sum(r.flags_checked for r in rows),
        sum(r.sources_cited for r in rows), sum(r.sources_opened for r in rows),
    ]
