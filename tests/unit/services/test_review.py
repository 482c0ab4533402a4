"""ReviewService (app.services.review): hand-over, decisions, audit records, export/copy gates, policy, statistics.

Fakes for the store and the audit trail (tests/gui/review_fakes.py), the real DOCX writer.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.adapters.docx_writer import DocxWriter
from app.core.documents import Chunk
from app.core.drafts import (
    DraftKind,
    DraftState,
    DraftStats,
    IllegalTransition,
    ReviewIncomplete,
    ReviewPolicy,
)
from app.core.errors import AktenlotseError
from app.core.export import DRAFT_LINE
from app.core.grounding import ground
from app.core.letters import LetterDraft, LetterRequest, LetterType
from app.core.lookup import LookupAnswer, Scope, Source
from app.core.summary import (
    Passage,
    Summary,
    SummaryPoint,
    SummaryRequest,
    SummarySection,
)
from app.services.indexing import doc_id_for
from app.services.review import SUMMARY_COLUMNS, ReviewService
from tests.gui.review_fakes import Clock, MemoryDrafts, RecordingAudit

REVIEWER = "ORDNUNGSAMT\\k.pruefer"
CASE = "/akten/Ordnungsamt/Sondernutzung_Lindenweg"
ANTRAG = f"{CASE}/Antrag_Sondernutzung.pdf"
STELLUNGNAHME = f"{CASE}/Stellungnahme_Verkehrsbehoerde.odt"
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # = Clock().now: drafts are created when the clock starts

P_ANTRAG = ("Die Antragstellerin Gerlinde Quast beantragt die Nutzung des Gehwegs vor dem Haus Lindenweg 12 "
            "für sechs Tische auf einer Fläche von 18 Quadratmetern.")
P_VERKEHR = ("Gegen die Außengastronomie bestehen keine Bedenken, wenn eine Restgehwegbreite von 2,00 m "
             "freigehalten wird.")


def chunk(path: str, ordinal: int, text: str, heading: tuple[str, ...] = ()) -> Chunk:
    return Chunk(id=f"{doc_id_for(path)}#{ordinal}", doc_id=doc_id_for(path), path=path, text=text, ordinal=ordinal,
                 start=0, end=len(text), page=1, heading_path=heading)


C1 = chunk(ANTRAG, 0, P_ANTRAG, ("Antrag", "Gegenstand"))
C2 = chunk(STELLUNGNAHME, 0, P_VERKEHR, ("Stellungnahme",))

QUESTION = "Welche Restgehwegbreite verlangt die Verkehrsbehörde für Frau Quast?"
ANSWER = ("Frau Quast beantragt sechs Tische vor dem Haus Lindenweg 12 [1]. "
          "Die Verkehrsbehörde verlangt eine Restgehwegbreite von 2,00 m [2]. "
          "Die Erlaubnis wird wohl bis zum 30. Juni 2027 erteilt.")


def make_answer(**kw: object) -> LookupAnswer:
    sources = [Source(1, C1, 0.9), Source(2, C2, 0.8)]
    grounding = ground(ANSWER, {s.number: s.chunk.citable_text() for s in sources})
    args: dict[str, object] = {"question": QUESTION, "scope": Scope.folder(CASE), "sources": sources, "text": ANSWER,
                                   "grounding": grounding, "model_name": "Test-Modell 7B", "model_sha256": "ab" * 32,
                                   "backend": "lokal", "created": T0}
    args.update(kw)
    return LookupAnswer(**args)  # type: ignore[arg-type]


def make_summary(**kw: object) -> Summary:
    sections = [
        SummarySection("Sachverhalt", (SummaryPoint("Gerlinde Quast beantragt sechs Tische am Lindenweg 12.", (1,)),)),
        SummarySection("Stellungnahmen", (SummaryPoint("Die Verkehrsbehörde verlangt 2,00 m Restgehweg.", (2,)),)),
    ]
    args: dict[str, object] = {"request": SummaryRequest((ANTRAG, STELLUNGNAHME)), "sections": sections,
                                   "passages": [Passage(1, C1), Passage(2, C2)], "model_name": "Test-Modell 7B",
                                   "model_sha256": "cd" * 32, "backend": "lokal", "created": T0}
    args.update(kw)
    return Summary(**args)  # type: ignore[arg-type]


LETTER_BODY = ("wir haben Ihren Antrag vom 04.03.2026 auf Nutzung des Gehwegs vor dem Haus Lindenweg 12 geprüft.\n\n"
               "Wir beabsichtigen, die Erlaubnis nur für fünf Tische zu erteilen. Sie können sich bis zum "
               "[Frist eintragen] äußern.")


def make_letter(**kw: object) -> LetterDraft:
    args: dict[str, object] = {
        "request": LetterRequest("anhoerung", {"aktenzeichen": "32.4-SN/4711/2026"}, paths=(ANTRAG,)),
        "letter_type": LetterType("anhoerung", "Anhörung vor Erlass eines Verwaltungsakts"),
        "subject": "Anhörung – Aktenzeichen 32.4-SN/4711/2026", "body": LETTER_BODY,
        "recipient_lines": ("Frau Gerlinde Quast", "Lindenweg 12", "12345 Musterstadt"),
        "info": (("Aktenzeichen", "32.4-SN/4711/2026"),), "signature": ("Im Auftrag", "Klara Prüfer"),
        "salutation": "Sehr geehrte Frau Quast,", "passages": [Passage(1, C1)], "model_name": "Test-Modell 7B",
        "model_sha256": "ef" * 32, "created": T0}
    args.update(kw)
    return LetterDraft(**args)  # type: ignore[arg-type]


MAKERS = {"lookup": make_answer, "summary": make_summary, "letter": make_letter}


def service(*, policy: ReviewPolicy | None = None, clock: Clock | None = None, stats: bool = True,
            writer: bool = True) -> tuple[ReviewService, MemoryDrafts, RecordingAudit]:
    store, audit = MemoryDrafts(), RecordingAudit()
    review = ReviewService(store, audit, reviewer=REVIEWER, policy=policy or ReviewPolicy(),
                           writer=DocxWriter() if writer else None, stats=store if stats else None,
                           clock=clock or Clock())
    return review, store, audit


def resolve_all(review: ReviewService, draft_id: str) -> None:
    """Open every source still to check, tick every other open item."""
    for item in review.get(draft_id).checklist(review.policy):
        if item.resolved:
            continue
        if item.kind.value == "source":
            review.open_source(draft_id, int(item.key.split(":")[1]))
        else:
            review.tick(draft_id, item.key)
    assert all(i.resolved for i in review.get(draft_id).checklist(review.policy))


def confirmed(review: ReviewService, kind: str) -> str:
    draft_id = review.submit(MAKERS[kind]())
    review.start_review(draft_id)
    resolve_all(review, draft_id)
    review.confirm(draft_id)
    return draft_id


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- hand-over --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(MAKERS))
def test_submit_saves_the_draft_and_audits_draft_created(kind: str) -> None:
    review, store, audit = service()
    item = MAKERS[kind]()
    draft_id = review.submit(item)
    assert draft_id == item.id
    saved = store.records[draft_id]
    assert saved.kind is DraftKind(kind) and saved.state is DraftState.GENERATED
    assert audit.actions() == ["draft_created"]
    fields = audit.records[0][1]
    assert fields["draft_id"] == draft_id and fields["kind"] == kind
    assert fields["output_sha256"] == hashlib.sha256(saved.generated_text.encode("utf-8")).hexdigest()
    expected_docs = sorted({s.chunk.doc_id for s in saved.sources})
    assert expected_docs  # every sample kind has sources, so the check below is not trivially []
    assert fields["source_doc_ids"] == expected_docs
    assert store.stats[draft_id].state == "generated"


@pytest.mark.parametrize("kind", list(MAKERS))
def test_handing_over_the_same_item_twice_keeps_one_draft(kind: str) -> None:
    review, store, audit = service()
    item = MAKERS[kind]()
    first = review.submit(item)
    review.start_review(first)
    second = review.submit(item)
    assert second == first
    assert list(store.records) == [first]
    assert audit.actions().count("draft_created") == 1
    assert store.records[first].state is DraftState.IN_REVIEW  # the second hand-over did not reset the draft


def test_letter_edited_before_hand_over_becomes_version_two() -> None:
    review, store, _ = service()
    draft_id = review.submit(make_letter(), edited_body=LETTER_BODY.replace("[Frist eintragen]", "15.01.2027"))
    assert [v.author.value for v in store.records[draft_id].versions] == ["model", "person"]


def test_submit_refuses_other_things() -> None:
    review, store, audit = service()
    with pytest.raises(AktenlotseError):
        review.submit("ein Text")  # type: ignore[arg-type]
    assert store.records == {} and audit.records == []


# -- decisions --------------------------------------------------------------------------------------------------
DECISIONS = {
    "confirm": ("draft_confirmed", DraftState.CONFIRMED),
    "reject": ("draft_rejected", DraftState.REJECTED),
    "discard": ("draft_discarded", DraftState.DISCARDED),
}


@pytest.mark.parametrize("kind", list(MAKERS))
@pytest.mark.parametrize("decision", list(DECISIONS))
def test_each_decision_writes_exactly_one_audit_record(kind: str, decision: str) -> None:
    review, store, audit = service()
    draft_id = review.submit(MAKERS[kind]())
    review.start_review(draft_id)
    resolve_all(review, draft_id)
    before = len(audit.records)
    if decision == "reject":
        review.reject(draft_id, "Frau Quast wurde falsch angeschrieben")
    else:
        getattr(review, decision)(draft_id)
    action, state = DECISIONS[decision]
    new = audit.records[before:]
    assert [a for a, _ in new] == [action]
    fields = new[0][1]
    assert fields["reviewer"] == REVIEWER
    assert fields["draft_id"] == draft_id and fields["state"] == state.value
    assert store.records[draft_id].state is state
    if decision == "reject":
        assert fields["reason_given"] is True
    if decision == "confirm":
        assert fields["output_sha256"] == hashlib.sha256(store.records[draft_id].text.encode()).hexdigest()


def _content_needles(review: ReviewService, draft_ids: list[str], extra: list[str]) -> tuple[set[str], set[str]]:
    """Whole texts and the words (≥ 5 letters) of every title, version, passage, flag, payload text and reason."""
    texts: set[str] = set(extra)
    for draft_id in draft_ids:
        d = review.get(draft_id)
        texts |= {d.title, d.reject_reason, *(v.text for v in d.versions), *(s.chunk.text for s in d.sources),
                  *(f.text for f in d.flags)}
        texts |= {str(v) for v in d.payload.values() if isinstance(v, str)}
        texts |= {str(x) for v in d.payload.values() if isinstance(v, list) for x in v}  # file names, info, …
        texts |= {s.chunk.path for s in d.sources} | {s.chunk.file_name for s in d.sources}
    texts = {t for t in texts if t.strip()}
    words = {w.lower() for t in texts for w in re.findall(r"[A-Za-zÄÖÜäöüß]{5,}", t)}
    return texts, words


def test_audit_records_carry_no_content(tmp_path: Path) -> None:
    review, _store, audit = service()
    ids = [confirmed(review, kind) for kind in MAKERS]
    for draft_id in ids:
        review.export(draft_id, tmp_path / f"{draft_id}.docx", final=True)
    reason = "Frau Gerlinde Quast hat ihren Antrag zurückgezogen, Rücksprache mit Herrn Obermaier"
    rejected = review.submit(make_answer(id="rejected-1"))
    review.start_review(rejected)
    review.edit(rejected, ANSWER + " Ergänzung der Sachbearbeiterin zum Lindenweg.")
    review.reject(rejected, reason)
    discarded = review.submit(make_summary(id="discarded-1"))
    review.discard(discarded)
    for draft_id in ids:
        review.copy_text(draft_id, final=True)
    texts, words = _content_needles(review, [*ids, rejected, discarded], [QUESTION, reason, LETTER_BODY])
    assert len(words) > 40  # the scan below has something to find
    assert {"draft_created", "draft_confirmed", "draft_rejected", "draft_discarded", "draft_copied",
            "draft_exported"} <= set(
        audit.actions())
    for action, fields in audit.records:
        for key, value in fields.items():
            if key == "reviewer":  # the account is meant to be there (it may share a word with a path: ORDNUNGSAMT)
                assert value == REVIEWER
                continue
            rendered = str(value)
            for text in texts:
                assert text not in rendered, (action, key)
            tokens = {w.lower() for w in re.findall(r"[A-Za-zÄÖÜäöüß]{5,}", rendered)}
            assert not tokens & words, (action, key, tokens & words)


# -- confirm refuses --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(MAKERS))
def test_confirm_refuses_while_the_checklist_is_open(kind: str) -> None:
    review, store, audit = service()
    draft_id = review.submit(MAKERS[kind]())
    review.start_review(draft_id)
    assert any(not i.resolved for i in review.get(draft_id).checklist(review.policy))
    with pytest.raises(ReviewIncomplete) as caught:
        review.confirm(draft_id)
    assert caught.value.reasons
    assert "draft_confirmed" not in audit.actions()
    assert store.records[draft_id].state is DraftState.IN_REVIEW
    assert store.stats[draft_id].state == "in_review"


def test_confirm_refuses_a_draft_not_in_review() -> None:
    review, store, audit = service()
    draft_id = review.submit(make_answer())
    with pytest.raises(IllegalTransition):
        review.confirm(draft_id)  # generated: no path to confirmed that skips the review
    assert store.records[draft_id].state is DraftState.GENERATED
    review.reject(draft_id, "")
    with pytest.raises(IllegalTransition):
        review.confirm(draft_id)
    assert store.records[draft_id].state is DraftState.REJECTED
    assert "draft_confirmed" not in audit.actions()


def test_confirm_twice_is_refused_and_audited_once() -> None:
    review, _, audit = service()
    draft_id = confirmed(review, "summary")
    with pytest.raises(IllegalTransition):
        review.confirm(draft_id)
    assert audit.actions().count("draft_confirmed") == 1


def test_confirm_without_a_reviewer_is_refused() -> None:
    store, audit = MemoryDrafts(), RecordingAudit()
    review = ReviewService(store, audit, reviewer="  ", stats=store, clock=Clock())
    draft_id = review.submit(make_summary())
    review.start_review(draft_id)
    resolve_all(review, draft_id)
    with pytest.raises(AktenlotseError):
        review.confirm(draft_id)
    assert store.records[draft_id].state is DraftState.IN_REVIEW
    assert "draft_confirmed" not in audit.actions()


# -- export -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(MAKERS))
def test_final_export_before_confirmation_writes_nothing(kind: str, tmp_path: Path) -> None:
    review, _, audit = service()
    draft_id = review.submit(MAKERS[kind]())
    review.start_review(draft_id)
    out = tmp_path / "export"
    out.mkdir()
    target = out / "final.docx"
    with pytest.raises(AktenlotseError):
        review.export(draft_id, target, final=True)
    assert not target.exists() and list(out.iterdir()) == []  # no temporary file left either
    assert "draft_exported" not in audit.actions()


@pytest.mark.parametrize("kind", list(MAKERS))
def test_draft_export_is_marked_as_draft(kind: str, tmp_path: Path) -> None:
    review, _, audit = service()
    draft_id = review.submit(MAKERS[kind]())
    written = review.export(draft_id, tmp_path / "entwurf.docx", final=False)
    assert written.is_file()
    props = DocxWriter().read_properties(written)
    assert props["review_status"] == "draft"
    assert props["draft_id"] == draft_id
    assert "reviewer" not in props and "reviewed_at" not in props
    action, fields = audit.records[-1]
    assert action == "draft_exported" and fields["final"] is False
    assert fields["file_sha256"] == sha256_file(written)


@pytest.mark.parametrize("kind", list(MAKERS))
def test_final_export_after_confirmation(kind: str, tmp_path: Path) -> None:
    clock = Clock()
    review, _store, audit = service(clock=clock)
    draft_id = review.submit(MAKERS[kind]())
    review.start_review(draft_id)
    resolve_all(review, draft_id)
    clock.advance(90)
    review.confirm(draft_id)
    written = review.export(draft_id, tmp_path / "endgueltig.docx", final=True)
    props = DocxWriter().read_properties(written)
    assert props["review_status"] == "confirmed"
    assert props["reviewer"] == REVIEWER
    assert datetime.fromisoformat(props["reviewed_at"]) == T0 + timedelta(seconds=90)
    assert props["kind"] == ("brief" if kind == "letter" else "vermerk")
    action, fields = audit.records[-1]
    assert action == "draft_exported" and fields["final"] is True and fields["format"] == "docx"
    assert fields["file_sha256"] == sha256_file(written)
    assert fields["draft_id"] == draft_id


@pytest.mark.parametrize("final", [True, False])
@pytest.mark.parametrize("decision", ["reject", "discard"])
def test_rejected_or_discarded_drafts_are_not_exported(decision: str, final: bool, tmp_path: Path) -> None:
    review, _, audit = service()
    draft_id = review.submit(make_letter())
    getattr(review, decision)(draft_id)
    out = tmp_path / "export"
    out.mkdir()
    with pytest.raises(AktenlotseError):
        review.export(draft_id, out / "x.docx", final=final)
    assert list(out.iterdir()) == []
    assert "draft_exported" not in audit.actions()


def test_export_without_a_writer_is_refused(tmp_path: Path) -> None:
    review, _, audit = service(writer=False)
    draft_id = review.submit(make_answer())
    with pytest.raises(AktenlotseError):
        review.export(draft_id, tmp_path / "x.docx", final=False)
    assert "draft_exported" not in audit.actions()


# -- copy -------------------------------------------------------------------------------------------------------
def test_copy_as_final_is_refused_before_confirmation() -> None:
    review, _, audit = service()
    draft_id = review.submit(make_answer())
    review.start_review(draft_id)
    with pytest.raises(AktenlotseError):
        review.copy_text(draft_id, final=True)
    assert "draft_copied" not in audit.actions()


def test_draft_copy_carries_the_draft_line_and_final_copy_names_the_reviewer() -> None:
    review, _, audit = service()
    draft_id = review.submit(make_answer())
    review.start_review(draft_id)
    draft_copy = review.copy_text(draft_id, final=False)
    assert DRAFT_LINE in draft_copy
    assert REVIEWER not in draft_copy
    resolve_all(review, draft_id)
    review.confirm(draft_id)
    final_copy = review.copy_text(draft_id, final=True)
    assert DRAFT_LINE not in final_copy
    assert REVIEWER in final_copy
    assert "Frau Quast beantragt sechs Tische" in final_copy
    copied = [f for a, f in audit.records if a == "draft_copied"]
    assert [f["final"] for f in copied] == [False, True]
    assert copied[1]["output_sha256"] == hashlib.sha256(final_copy.encode("utf-8")).hexdigest()


# -- policy -----------------------------------------------------------------------------------------------------
def test_minimum_review_time_blocks_confirm_until_the_clock_advanced() -> None:
    clock = Clock()
    policy = ReviewPolicy(min_review_seconds=60, long_draft_chars=50)
    review, store, audit = service(policy=policy, clock=clock)
    draft_id = review.submit(make_answer())
    review.start_review(draft_id)
    resolve_all(review, draft_id)
    clock.advance(30)
    with pytest.raises(ReviewIncomplete) as caught:
        review.confirm(draft_id)
    assert any("Mindestprüfzeit" in r for r in caught.value.reasons)
    assert "draft_confirmed" not in audit.actions()
    assert store.records[draft_id].state is DraftState.IN_REVIEW
    clock.advance(29)
    with pytest.raises(ReviewIncomplete):
        review.confirm(draft_id)
    clock.advance(1)
    assert review.blockers(draft_id) == []
    review.confirm(draft_id)
    assert store.records[draft_id].state is DraftState.CONFIRMED
    assert store.stats[draft_id].review_seconds == 60.0


def test_minimum_review_time_does_not_apply_to_short_drafts() -> None:
    clock = Clock()
    review, store, _ = service(policy=ReviewPolicy(min_review_seconds=600, long_draft_chars=100_000), clock=clock)
    draft_id = confirmed(review, "lookup")
    assert store.records[draft_id].state is DraftState.CONFIRMED


def test_policy_no_open_placeholders_refuses_ticking_and_confirming() -> None:
    review, store, _ = service(policy=ReviewPolicy(no_open_placeholders=True))
    draft_id = review.submit(make_letter())
    review.start_review(draft_id)
    with pytest.raises(AktenlotseError):
        review.tick(draft_id, "placeholder:[Frist eintragen]")
    for item in review.get(draft_id).checklist(review.policy):
        if item.kind.value == "source":
            review.open_source(draft_id, int(item.key.split(":")[1]))
    with pytest.raises(ReviewIncomplete):
        review.confirm(draft_id)
    review.edit(draft_id, review.get(draft_id).text.replace("[Frist eintragen]", "15.01.2027"))
    review.confirm(draft_id)
    assert store.records[draft_id].state is DraftState.CONFIRMED


# -- statistics -------------------------------------------------------------------------------------------------
def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def populate(review: ReviewService) -> dict[str, list[str]]:
    """Two confirmed lookups (one edited), one rejected lookup, a confirmed and a discarded summary, an open letter."""
    ids: dict[str, list[str]] = {"lookup": [], "summary": [], "letter": []}
    ids["lookup"].append(confirmed(review, "lookup"))
    edited = review.submit(make_answer(id="lookup-edited"))
    review.start_review(edited)
    review.edit(edited, ANSWER.replace("wohl bis zum 30. Juni 2027", "nach Eingang der Unterlagen"))
    resolve_all(review, edited)
    review.confirm(edited)
    ids["lookup"].append(edited)
    rejected = review.submit(make_answer(id="lookup-rejected"))
    review.reject(rejected, "Frau Quast hat den Antrag zurückgenommen")
    ids["lookup"].append(rejected)
    ids["summary"].append(confirmed(review, "summary"))
    discarded = review.submit(make_summary(id="summary-discarded"))
    review.discard(discarded)
    ids["summary"].append(discarded)
    ids["letter"].append(review.submit(make_letter()))
    return ids


def test_stats_csv_has_one_content_free_row_per_draft() -> None:
    review, _store, _ = service()
    ids = populate(review)
    table = parse(review.stats_csv())
    assert tuple(table[0]) == DraftStats.columns()
    rows = [dict(zip(table[0], r)) for r in table[1:]]
    assert len(rows) == sum(len(v) for v in ids.values()) == 6
    assert sorted(r["state"] for r in rows) == sorted(
        ["confirmed", "confirmed", "rejected", "confirmed", "discarded", "generated"])
    assert sorted(r["kind"] for r in rows) == sorted(["lookup"] * 3 + ["summary"] * 2 + ["letter"])
    rejected = next(r for r in rows if r["state"] == "rejected")
    assert rejected["reject_reason_given"] == "1"
    assert "Quast" not in review.stats_csv()
    assert {r["created_day"] for r in rows} == {"2026-11-25"}


def test_stats_summary_counts_per_kind() -> None:
    review, store, _ = service()
    populate(review)
    table = parse(review.stats_csv(summary=True))
    assert tuple(table[0]) == SUMMARY_COLUMNS
    by_kind = {r[0]: dict(zip(table[0], r)) for r in table[1:]}
    assert list(by_kind) == ["lookup", "summary", "letter"]
    counts = {k: (v["created"], v["open"], v["confirmed"], v["rejected"], v["discarded"]) for k, v in by_kind.items()}
    assert counts == {"lookup": ("3", "0", "2", "1", "0"), "summary": ("2", "0", "1", "0", "1"),
                      "letter": ("1", "1", "0", "0", "0")}
    lookup_ratios = [s.edit_ratio for s in store.stats.values() if s.kind == "lookup" and s.state == "confirmed"]
    assert min(lookup_ratios) == 0.0 and sorted(lookup_ratios)[1] > 0
    assert float(by_kind["lookup"]["mean_edit_ratio_confirmed"]) == pytest.approx(sum(lookup_ratios) / 2, abs=1e-4)
    assert by_kind["lookup"]["confirmed_unchanged"] == "1"
    assert float(by_kind["summary"]["mean_edit_ratio_confirmed"]) == 0.0
    assert by_kind["letter"]["mean_edit_ratio_confirmed"] == ""  # nothing confirmed: no mean


def test_stats_off_gives_only_the_header() -> None:
    review, store, audit = service(stats=False)
    populate(review)
    assert review.stats_disabled
    assert store.stats == {}  # nothing was counted
    assert "draft_confirmed" in audit.actions()  # the audit trail still records decisions
    table = parse(review.stats_csv())
    assert table == [list(DraftStats.columns())]
    assert parse(review.stats_csv(summary=True)) == [list(SUMMARY_COLUMNS)], "no rows of zeros that look like data"


@pytest.mark.parametrize("decision", ["reject", "discard"])
def test_rejected_or_discarded_drafts_are_not_copied(decision: str) -> None:
    review, _, audit = service()
    draft_id = review.submit(make_answer())
    getattr(review, decision)(draft_id)
    with pytest.raises(AktenlotseError):
        review.copy_text(draft_id, final=False)
    assert "draft_copied" not in audit.actions()


class _BrokenAudit(RecordingAudit):
    """Writes until `fail` is set, then refuses like a full disk."""

    fail: bool = False

    def record(self, action: str, fields) -> None:
        if self.fail:
            from app.adapters.audit_log import AuditWriteError

            raise AuditWriteError("Das Prüfprotokoll kann nicht geschrieben werden.", "ENOSPC")
        super().record(action, fields)


@pytest.mark.parametrize("decision", ["confirm", "reject", "discard"])
def test_a_decision_whose_audit_record_fails_is_not_saved(decision: str) -> None:
    store, audit = MemoryDrafts(), _BrokenAudit()
    review = ReviewService(store, audit, reviewer=REVIEWER, writer=DocxWriter(), stats=store, clock=Clock())
    draft_id = review.submit(make_answer())
    review.start_review(draft_id)
    resolve_all(review, draft_id)
    audit.fail = True
    with pytest.raises(AktenlotseError, match="Prüfprotokoll"):
        getattr(review, decision)(draft_id)
    assert review.get(draft_id).state is DraftState.IN_REVIEW
    assert store.stats[draft_id].state == "in_review"


def test_an_export_whose_audit_record_fails_leaves_no_file(tmp_path: Path) -> None:
    store, audit = MemoryDrafts(), _BrokenAudit()
    review = ReviewService(store, audit, reviewer=REVIEWER, writer=DocxWriter(), stats=store, clock=Clock())
    draft_id = review.submit(make_answer())
    audit.fail = True
    out = tmp_path / "export"
    out.mkdir()
    with pytest.raises(AktenlotseError):
        review.export(draft_id, out / "entwurf.docx", final=False)
    assert list(out.iterdir()) == []
