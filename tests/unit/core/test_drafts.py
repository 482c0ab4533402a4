"""The draft lifecycle (app.core.drafts): no path to confirmed skips the check step; illegal transitions raise."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

import pytest

from app.core.documents import Chunk
from app.core.drafts import (
    TRANSITIONS,
    Author,
    CheckKind,
    Draft,
    DraftFlag,
    DraftKind,
    DraftSource,
    DraftState,
    DraftStats,
    IllegalTransition,
    Resolution,
    ReviewIncomplete,
    ReviewPolicy,
    TextVersion,
    edit_ratio,
    placeholders_in,
)
from app.core.errors import AktenlotseError
from app.core.export import DRAFT_LINE

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
S = DraftState

UNCITED = "Bei einem Brief gilt der Bescheid am dritten Tag als bekanntgegeben."
DATE_FACT = "15. April 2024"
PLACEHOLDER = "[Frist eintragen]"
TEXT = (
    "Der Widerspruch ist innerhalb eines Monats einzulegen [1]. "
    f"Die Frist endet am {DATE_FACT} [2]. "
    f"{UNCITED} "
    f"Bitte Frist setzen: {PLACEHOLDER}."
)


def chunk(n: int) -> Chunk:
    return Chunk(id=f"c{n}", doc_id=f"d{n}", path=f"/akten/fall/dokument_{n}.pdf", text=f"Passage {n}",
                 ordinal=n, start=0, end=9, page=n, heading_path=("Bescheid", f"Abschnitt {n}"))


def source(n: int, cited: bool = True) -> DraftSource:
    return DraftSource(n, chunk(n), cited)


FLAGS = (
    DraftFlag("uncited_sentence", "Aussage ohne Quellenangabe", UNCITED),
    DraftFlag("fact_not_in_sources", "Angabe nicht in den Quellen gefunden", DATE_FACT, "nicht in Quelle [2]"),
)


def make_draft(text: str = TEXT, *, flags: tuple[DraftFlag, ...] = FLAGS,
               sources: tuple[DraftSource, ...] | None = None, kind: DraftKind = DraftKind.LOOKUP,
               title: str = "Innerhalb welcher Frist ist Widerspruch einzulegen?", **kw: object) -> Draft:
    if sources is None:
        sources = (source(1), source(2), source(3, cited=False))
    return Draft(kind=kind, title=title, versions=[TextVersion(1, text, Author.MODEL, T0)], sources=sources,
                 flags=flags, model_name="Test-Modell 7B", model_sha256="ab" * 32, backend="lokal", created=T0,
                 **kw)


def clean_draft(text: str = "Ein kurzer Text ohne Quellen und ohne Platzhalter.") -> Draft:
    return make_draft(text, flags=(), sources=())


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def resolve_all(draft: Draft) -> None:
    """Tick every open item (default policy)."""
    for item in draft.checklist():
        if not item.resolved:
            draft.tick(item.key)


# -- the transition table ----------------------------------------------------------------------------------------
def test_transition_table_is_the_documented_lifecycle() -> None:
    assert dict(TRANSITIONS) == {
        S.GENERATED: {S.IN_REVIEW, S.REJECTED, S.DISCARDED},
        S.IN_REVIEW: {S.CONFIRMED, S.REJECTED, S.DISCARDED},
        S.CONFIRMED: set(),
        S.REJECTED: set(),
        S.DISCARDED: set(),
    }
    assert set(TRANSITIONS) == set(DraftState)
    # the only way into confirmed is from in_review; nothing ever leads back to generated
    assert [s for s, targets in TRANSITIONS.items() if S.CONFIRMED in targets] == [S.IN_REVIEW]
    assert all(S.GENERATED not in targets for targets in TRANSITIONS.values())
    assert {s for s in DraftState if s.is_open} == {S.GENERATED, S.IN_REVIEW}


def draft_in(state: DraftState) -> Draft:
    d = clean_draft()
    if state is S.GENERATED:
        pass
    elif state is S.IN_REVIEW:
        d.start_review(at(1))
    elif state is S.CONFIRMED:
        d.start_review(at(1))
        d.confirm("anna.pruef", at(2))
    elif state is S.REJECTED:
        d.reject("anna.pruef", at(2), "falsch")
    elif state is S.DISCARDED:
        d.discard(at(2))
    assert d.state is state
    return d


ACTIONS = {
    S.IN_REVIEW: lambda d: d.start_review(at(10), "bert"),
    S.CONFIRMED: lambda d: d.confirm("bert.pruef", at(10)),
    S.REJECTED: lambda d: d.reject("bert.pruef", at(10), "passt nicht"),
    S.DISCARDED: lambda d: d.discard(at(10), "bert"),
}


@pytest.mark.parametrize("target", list(ACTIONS), ids=lambda s: s.value)
@pytest.mark.parametrize("state", list(DraftState), ids=lambda s: s.value)
def test_every_state_target_pair_is_allowed_or_raises(state: DraftState, target: DraftState) -> None:
    d = draft_in(state)
    history = list(d.history)
    before = (d.reviewer, d.decided_at, d.reject_reason, d.review_started)
    if target in TRANSITIONS[state]:
        ACTIONS[target](d)
        assert d.state is target
        assert d.history == [*history, d.history[-1]]
        assert (d.history[-1].source, d.history[-1].target, d.history[-1].at) == (state, target, at(10))
    elif state is S.IN_REVIEW and target is S.IN_REVIEW:  # start_review is idempotent while in review
        ACTIONS[target](d)
        assert d.state is S.IN_REVIEW and d.history == history and d.review_started == at(1)
    else:
        with pytest.raises(IllegalTransition):
            ACTIONS[target](d)
        assert d.state is state
        assert d.history == history
        assert (d.reviewer, d.decided_at, d.reject_reason, d.review_started) == before


@pytest.mark.parametrize("state", [s for s in DraftState if s is not S.IN_REVIEW], ids=lambda s: s.value)
def test_review_actions_only_in_review(state: DraftState) -> None:
    d = draft_in(state)
    versions = list(d.versions)
    with pytest.raises(IllegalTransition):
        d.edit("Ganz neuer Text.", at(20))
    with pytest.raises(IllegalTransition):
        d.open_source(1)
    with pytest.raises(IllegalTransition):
        d.tick("flag:0")
    assert d.versions == versions and d.opened_sources == set() and d.ticked == set()


def test_history_records_actor_and_time() -> None:
    d = clean_draft()
    d.start_review(at(5), "anna")
    d.confirm("anna.pruef", at(50))
    assert [(t.source, t.target, t.at, t.actor) for t in d.history] == [
        (S.GENERATED, S.IN_REVIEW, at(5), "anna"), (S.IN_REVIEW, S.CONFIRMED, at(50), "anna.pruef")]
    assert d.review_started == at(5)
    assert d.reviewer == "anna.pruef" and d.decided_at == at(50) and d.is_final


def test_reject_straight_from_generated_keeps_reason() -> None:
    d = clean_draft()
    d.reject("anna.pruef", at(3), "  Inhalt falsch  ")
    assert d.state is S.REJECTED and d.reject_reason == "Inhalt falsch" and d.decided_at == at(3)
    assert not d.is_final and not d.state.is_open


# -- confirm ---------------------------------------------------------------------------------------------------
def test_confirm_from_generated_cannot_skip_review() -> None:
    d = clean_draft()
    assert d.checklist() == []
    with pytest.raises(IllegalTransition):
        d.confirm("anna.pruef", at(1))
    assert d.state is S.GENERATED and d.history == [] and d.reviewer == "" and d.decided_at is None


@pytest.mark.parametrize("state", [S.CONFIRMED, S.REJECTED, S.DISCARDED], ids=lambda s: s.value)
def test_confirm_from_terminal_states_raises(state: DraftState) -> None:
    d = draft_in(state)
    reviewer = d.reviewer
    with pytest.raises(IllegalTransition):
        d.confirm("zweite.person", at(30))
    assert d.state is state and d.reviewer == reviewer


@pytest.mark.parametrize("reviewer", ["", "   ", "\t\n"])
def test_confirm_needs_a_named_reviewer(reviewer: str) -> None:
    d = draft_in(S.IN_REVIEW)
    with pytest.raises(AktenlotseError):
        d.confirm(reviewer, at(5))
    assert d.state is S.IN_REVIEW and d.reviewer == "" and len(d.history) == 1


def test_confirm_blocked_while_flags_placeholders_and_sources_open() -> None:
    d = make_draft()
    d.start_review(at(1))
    items = {i.key: i for i in d.checklist()}
    assert set(items) == {"flag:0", "flag:1", f"placeholder:{PLACEHOLDER}", "source:1", "source:2"}
    assert [items[k].kind for k in ("flag:0", f"placeholder:{PLACEHOLDER}", "source:1")] == [
        CheckKind.FLAG, CheckKind.PLACEHOLDER, CheckKind.SOURCE]
    assert not any(i.resolved for i in items.values())
    assert "source:3" not in items  # not cited by the text
    with pytest.raises(ReviewIncomplete) as err:
        d.confirm("anna.pruef", at(2))
    assert any("5 Punkt(e)" in r for r in err.value.reasons)
    assert d.state is S.IN_REVIEW

    # resolve one by one: each remaining open item still blocks
    keys = sorted(items)
    for i, key in enumerate(keys):
        d.tick(key)
        if i < len(keys) - 1:
            with pytest.raises(ReviewIncomplete):
                d.confirm("anna.pruef", at(3))
    assert all(i.resolution is Resolution.CHECKED for i in d.checklist())
    assert d.blockers() == []
    d.confirm("anna.pruef", at(4))
    assert d.state is S.CONFIRMED


def test_untick_reopens_an_item() -> None:
    d = make_draft()
    d.start_review(at(1))
    resolve_all(d)
    assert d.blockers() == []
    d.tick("flag:1", checked=False)
    assert next(i for i in d.checklist() if i.key == "flag:1").resolution is None
    with pytest.raises(ReviewIncomplete):
        d.confirm("anna.pruef", at(2))


def test_tick_unknown_key_raises() -> None:
    d = make_draft()
    d.start_review(at(1))
    with pytest.raises(AktenlotseError):
        d.tick("flag:99")
    with pytest.raises(AktenlotseError):
        d.tick("source:3")  # not cited, so not on the list
    assert d.ticked == set()


def test_editing_flagged_text_away_resolves_it_as_fixed() -> None:
    d = make_draft()
    d.start_review(at(1))
    assert d.edit(TEXT.replace(UNCITED, "Die Bekanntgabe richtet sich nach § 41 VwVfG [1]."), at(2))
    flag0 = next(i for i in d.checklist() if i.key == "flag:0")
    assert flag0.resolution is Resolution.FIXED
    assert next(i for i in d.checklist() if i.key == "flag:1").resolution is None
    # editing the flagged text back in reopens it
    d.edit(TEXT, at(3))
    assert next(i for i in d.checklist() if i.key == "flag:0").resolution is None


def test_flag_without_text_is_never_fixed_by_editing() -> None:
    d = make_draft("Text [1].", flags=(DraftFlag("not_supported", "Inhalt kaum in der Quelle", "  "),))
    d.start_review(at(1))
    d.edit("Ganz anderer Text [1].", at(2))
    assert next(i for i in d.checklist() if i.key == "flag:0").resolution is None


def test_opening_a_source_resolves_it_as_fixed() -> None:
    d = make_draft()
    d.start_review(at(1))
    d.open_source(2)
    items = {i.key: i for i in d.checklist()}
    assert items["source:2"].resolution is Resolution.FIXED
    assert items["source:1"].resolution is None
    d.tick("source:1")
    assert {i.key: i for i in d.checklist()}["source:1"].resolution is Resolution.CHECKED
    with pytest.raises(AktenlotseError):
        d.open_source(42)
    assert d.opened_sources == {2}


def test_removing_a_citation_removes_its_source_item() -> None:
    d = make_draft()
    d.start_review(at(1))
    d.edit(TEXT.replace(" [2]", ""), at(2))
    keys = {i.key for i in d.checklist()}
    assert "source:2" not in keys and "source:1" in keys


def test_placeholder_tick_with_default_policy_resolves_it() -> None:
    d = make_draft()
    d.start_review(at(1))
    key = f"placeholder:{PLACEHOLDER}"
    d.tick(key)
    item = next(i for i in d.checklist() if i.key == key)
    assert item.tickable and item.resolution is Resolution.CHECKED


def test_policy_no_open_placeholders_makes_them_untickable() -> None:
    policy = ReviewPolicy(no_open_placeholders=True)
    d = make_draft()
    d.start_review(at(1))
    key = f"placeholder:{PLACEHOLDER}"
    item = next(i for i in d.checklist(policy) if i.key == key)
    assert not item.tickable
    with pytest.raises(AktenlotseError):
        d.tick(key, policy=policy)
    assert key not in d.ticked
    for i in d.checklist(policy):
        if i.tickable:
            d.tick(i.key, policy=policy)
    with pytest.raises(ReviewIncomplete) as err:
        d.confirm("anna.pruef", at(2), policy)
    assert any("Platzhalter" in r for r in err.value.reasons)
    # ticked under the lenient policy does not count under the strict one
    d.tick(key)
    assert next(i for i in d.checklist(policy) if i.key == key).resolution is None
    with pytest.raises(ReviewIncomplete):
        d.confirm("anna.pruef", at(3), policy)
    # filling it in clears the item and the policy
    d.edit(TEXT.replace(PLACEHOLDER, "31.03.2025"), at(4))
    assert all(i.kind is not CheckKind.PLACEHOLDER for i in d.checklist(policy))
    assert d.blockers(policy) == []
    d.confirm("anna.pruef", at(5), policy)
    assert d.state is S.CONFIRMED


def test_policy_require_source_opened() -> None:
    policy = ReviewPolicy(require_source_opened=True)
    d = make_draft()
    d.start_review(at(1))
    resolve_all(d)  # ticking every source is not enough
    with pytest.raises(ReviewIncomplete) as err:
        d.confirm("anna.pruef", at(2), policy)
    assert err.value.reasons == ["Die Richtlinie verlangt, dass Sie mindestens eine Quelle öffnen."]
    d.open_source(1)
    assert d.blockers(policy) == []
    d.confirm("anna.pruef", at(3), policy)
    assert d.state is S.CONFIRMED


def test_policy_require_source_opened_ignored_without_cited_sources() -> None:
    d = clean_draft()
    d.start_review(at(1))
    d.confirm("anna.pruef", at(2), ReviewPolicy(require_source_opened=True))
    assert d.state is S.CONFIRMED


def test_min_review_seconds_for_long_drafts() -> None:
    policy = ReviewPolicy(min_review_seconds=60, long_draft_chars=100)
    long_text = "Ein langer Entwurf ohne offene Punkte. " * 5
    assert len(long_text) >= 100
    d = clean_draft(long_text)
    assert d.review_seconds_remaining(policy, at(0)) == 60  # not started yet
    d.start_review(at(10))
    assert d.review_seconds_remaining(policy, at(10)) == 60
    assert d.review_seconds_remaining(policy, at(40)) == 30
    assert d.review_seconds_remaining(policy, at(69.5)) == 1  # rounds up
    with pytest.raises(ReviewIncomplete) as err:
        d.confirm("anna.pruef", at(40), policy)
    assert err.value.reasons == ["Die Richtlinie verlangt eine Mindestprüfzeit; noch 30 s."]
    assert d.state is S.IN_REVIEW
    assert d.blockers(policy, at(70)) == []
    d.confirm("anna.pruef", at(70), policy)
    assert d.state is S.CONFIRMED and d.decided_at == at(70)


def test_min_review_seconds_not_for_short_drafts() -> None:
    policy = ReviewPolicy(min_review_seconds=600, long_draft_chars=1500)
    d = clean_draft("Kurz.")
    d.start_review(at(0))
    assert d.review_seconds_remaining(policy, at(1)) == 0
    d.confirm("anna.pruef", at(1), policy)
    assert d.state is S.CONFIRMED


def test_blockers_outside_review() -> None:
    d = clean_draft()
    assert d.blockers() == ["Der Entwurf ist nicht in Prüfung (Status: Neu)."]
    d.start_review(at(1))
    assert d.blockers() == []


# -- random walks: no path to confirmed skips the check step --------------------------------------------------
EDIT_TEXTS = [
    TEXT,
    TEXT.replace(UNCITED, ""),
    TEXT.replace(PLACEHOLDER, "31.03.2025"),
    TEXT.replace(" [2]", "").replace(DATE_FACT, "Ende März"),
    "Kurz [1].",
    "Ganz ohne Quellen.",
    f"Nur ein Platzhalter {PLACEHOLDER} [3].",
]
POLICIES = [ReviewPolicy(), ReviewPolicy(no_open_placeholders=True), ReviewPolicy(require_source_opened=True),
            ReviewPolicy(min_review_seconds=30, long_draft_chars=50)]


def random_walk(seed: int) -> bool:
    """Random calls on one draft; asserts the lifecycle rules after each; True if the walk confirmed."""
    rng = random.Random(seed)
    policy = rng.choice(POLICIES)
    d = make_draft()
    clock = 0.0
    for _step in range(60):
        clock += rng.choice([0, 1, 5, 20])
        now = at(clock)
        state = d.state
        history_len = len(d.history)
        action = rng.choice(["start", "edit", "tick", "untick", "open", "confirm", "confirm", "confirm",
                             "reject", "discard"])
        snapshot_items = d.checklist(policy)
        snapshot_blockers = d.blockers(policy, now)
        try:
            if action == "start":
                d.start_review(now)
            elif action == "edit":
                d.edit(rng.choice(EDIT_TEXTS), now)
            elif action in ("tick", "untick"):
                keys = [i.key for i in snapshot_items] or ["flag:0"]
                d.tick(rng.choice(keys), checked=action == "tick", policy=policy)
            elif action == "open":
                d.open_source(rng.choice([1, 2, 3]))
            elif action == "confirm":
                d.confirm(rng.choice(["anna.pruef", "", "bert"]), now, policy)
            elif action == "reject":
                if rng.random() < 0.9:  # keep most walks alive long enough to reach confirm
                    continue
                d.reject("anna.pruef", now)
            elif action == "discard":
                if rng.random() < 0.9:
                    continue
                d.discard(now)
        except AktenlotseError:
            # a refused call changes no state
            assert d.state is state and len(d.history) == history_len
        # the history is a chain of allowed moves ending in the current state
        prev = S.GENERATED
        for t in d.history:
            assert t.source is prev and t.target in TRANSITIONS[t.source]
            prev = t.target
        assert prev is d.state
        if d.state is S.CONFIRMED and state is not S.CONFIRMED:
            assert state is S.IN_REVIEW
            assert S.IN_REVIEW in [t.target for t in d.history[:-1]]
            assert d.history[-1].source is S.IN_REVIEW
            assert all(i.resolved for i in snapshot_items)
            assert snapshot_blockers == []
            assert d.reviewer.strip() and d.decided_at == now
    return d.state is S.CONFIRMED


@pytest.mark.parametrize("seed", range(100))
def test_random_walks_never_confirm_without_review(seed: int) -> None:
    random_walk(seed)


def test_random_walks_do_reach_confirmed() -> None:
    """The walks above are not vacuous: a good share of them end confirmed."""
    assert sum(random_walk(seed) for seed in range(100)) >= 10


def test_ticking_everything_always_allows_confirm() -> None:
    """With the default policy, resolving every check-list item in any order is enough."""
    confirmed = 0
    for seed in range(20):
        rng = random.Random(seed)
        d = make_draft()
        d.start_review(at(0))
        for _ in range(30):
            open_items = [i for i in d.checklist() if not i.resolved]
            if not open_items:
                break
            d.tick(rng.choice(open_items).key)
        d.confirm("anna.pruef", at(1))
        confirmed += d.state is S.CONFIRMED
    assert confirmed == 20


# -- edit ------------------------------------------------------------------------------------------------------
def test_edit_adds_versions_only_when_text_changed() -> None:
    d = make_draft()
    d.start_review(at(1))
    assert d.edit(TEXT, at(2)) is False
    assert len(d.versions) == 1
    assert d.edit("Neuer Text [1].", at(3)) is True
    assert d.edit("Neuer Text [1].", at(4)) is False
    assert d.edit("Noch neuer [1].", at(5)) is True
    assert [(v.number, v.author, v.created) for v in d.versions] == [
        (1, Author.MODEL, T0), (2, Author.PERSON, at(3)), (3, Author.PERSON, at(5))]
    assert d.text == "Noch neuer [1]." and d.generated_text == TEXT


def test_edit_not_allowed_before_review() -> None:
    d = make_draft()
    with pytest.raises(IllegalTransition):
        d.edit("Neuer Text.", at(1))
    assert len(d.versions) == 1


# -- meta and clipboard ----------------------------------------------------------------------------------------
def test_meta_of_a_draft() -> None:
    d = make_draft()
    m = d.meta()
    assert m.review_status == "draft" and not m.is_final
    assert m.reviewer == "" and m.reviewed_at is None
    assert (m.draft_id, m.model, m.model_sha256, m.created, m.kind) == (d.id, "Test-Modell 7B", "ab" * 32, T0,
                                                                        "vermerk")
    m.check()
    d.start_review(at(1))
    assert d.meta().review_status == "draft"
    d.reject("anna.pruef", at(2))
    assert d.meta().review_status == "draft" and d.meta().reviewer == ""


def test_meta_of_a_confirmed_draft() -> None:
    d = draft_in(S.CONFIRMED)
    m = d.meta()
    assert m.review_status == "confirmed" and m.is_final
    assert m.reviewer == "anna.pruef" and m.reviewed_at == at(2)
    m.check()
    assert m.properties()["reviewer"] == "anna.pruef"


def test_meta_kind_for_letters() -> None:
    d = make_draft(kind=DraftKind.LETTER)
    assert d.meta().kind == "brief"


def test_clipboard_text_of_a_draft_carries_the_marker() -> None:
    d = make_draft()
    text = d.clipboard_text()
    assert DRAFT_LINE in text
    assert text.startswith(f"[{DRAFT_LINE}]") and text.rstrip().endswith("nicht geprüft]")
    assert TEXT in text
    assert "Quellen:" in text and "[1] dokument_1.pdf" in text and "[2] dokument_2.pdf" in text
    assert "dokument_3.pdf" not in text  # not cited


def test_clipboard_text_of_a_confirmed_draft_names_the_reviewer() -> None:
    d = make_draft("Die Frist beträgt einen Monat [1].", flags=())
    d.start_review(at(1))
    d.open_source(1)
    d.confirm("anna.pruef", at(2))
    text = d.clipboard_text()
    assert DRAFT_LINE not in text and "ENTWURF" not in text
    assert "Geprüft und bestätigt: anna.pruef" in text
    assert at(2).astimezone().strftime("%d.%m.%Y %H:%M") in text
    assert text.startswith("Die Frist beträgt einen Monat [1].")


@pytest.mark.parametrize("state", [S.REJECTED, S.DISCARDED, S.IN_REVIEW], ids=lambda s: s.value)
def test_clipboard_text_of_unconfirmed_states_stays_a_draft(state: DraftState) -> None:
    assert DRAFT_LINE in draft_in(state).clipboard_text()


# -- helpers ---------------------------------------------------------------------------------------------------
def test_edit_ratio() -> None:
    assert edit_ratio("a b c d", "a b c d") == 0.0
    assert edit_ratio("", "") == 0.0
    assert edit_ratio("a b c d", "w x y z") == 1.0
    assert edit_ratio("a b c d", "") == 1.0
    assert edit_ratio("", "a b") == 1.0
    partial = edit_ratio("a b c d", "a b x y")
    assert 0.0 < partial < 1.0 and partial == 0.5
    assert edit_ratio("a  b\nc", "a b c") == 0.0  # word by word: whitespace does not count
    assert 0.0 < edit_ratio(TEXT, TEXT.replace(UNCITED, "")) < edit_ratio(TEXT, "ganz anders")


def test_placeholders_in() -> None:
    text = "An [Empfänger eintragen], Frist [Frist eintragen], wieder [Empfänger eintragen], [1], [x], [ok]"
    assert placeholders_in(text) == ["[Empfänger eintragen]", "[Frist eintragen]"]
    assert placeholders_in("Betrag [Betrag prüfen] und [Anlage einfügen] und [Datum ergänzen]") == [
        "[Betrag prüfen]", "[Anlage einfügen]", "[Datum ergänzen]"]
    assert placeholders_in("Keine [Platzhalter] hier [12].") == []


def test_letter_frame_placeholders_are_on_the_checklist() -> None:
    d = make_draft("Sehr geehrte Frau Beispiel, bitte äußern Sie sich.", flags=(), sources=(source(1),),
                   kind=DraftKind.LETTER, payload={"frame_text": "Betreff\n[Empfänger eintragen]"})
    keys = [i.key for i in d.checklist()]
    assert keys == ["placeholder:[Empfänger eintragen]", "source:1"]  # letters check every case document


# -- statistics ------------------------------------------------------------------------------------------------
def _string_fields(stats: DraftStats) -> list[str]:
    return [v for v in dataclasses.asdict(stats).values() if isinstance(v, str)]


def test_stats_contain_no_content_and_count_right() -> None:
    title = "Widerspruch Familie Meierhofer wegen Sondernutzung"
    d = make_draft(title=title)
    d.start_review(at(10))
    final = TEXT.replace(UNCITED, "Die Bekanntgabe richtet sich nach dem Gesetz.")
    d.edit(final, at(20))
    d.tick("flag:1")
    d.tick(f"placeholder:{PLACEHOLDER}")
    d.open_source(1)
    d.tick("source:2")
    d.confirm("m.meierhofer-pruef", at(70))
    st = d.stats()
    assert (st.kind, st.state, st.created_day) == ("lookup", "confirmed", "2025-03-03")
    assert st.versions == 2
    assert (st.generated_chars, st.final_chars) == (len(TEXT), len(final))
    assert st.edit_ratio == edit_ratio(TEXT, final) and 0 < st.edit_ratio < 1
    assert (st.seconds_to_decision, st.review_seconds) == (70.0, 60.0)
    assert (st.flags_shown, st.flags_fixed, st.flags_checked) == (2, 1, 1)
    assert st.placeholders_open == 1
    assert (st.sources_cited, st.sources_opened) == (2, 1)
    assert st.reject_reason_given is False
    content = [title, TEXT, final, UNCITED, DATE_FACT, PLACEHOLDER, "m.meierhofer-pruef", "Meierhofer",
               "dokument_1.pdf", "/akten/fall"]
    for value in _string_fields(st):
        for c in content:
            assert c not in value
    for value in dataclasses.asdict(st).values():
        assert value is None or isinstance(value, (int, float, bool)) or value in (
            "lookup", "summary", "letter", *(s.value for s in DraftState)) or value == st.created_day
    assert set(DraftStats.columns()) == {f.name for f in dataclasses.fields(DraftStats)}


def test_stats_of_a_rejected_draft_hide_the_reason() -> None:
    reason = "Falsche Frist genannt bei Herrn Quastenberg"
    d = make_draft(title="Frage zu Quastenberg")
    d.reject("k.quastenberg", at(30), reason)
    st = d.stats()
    assert st.state == "rejected" and st.reject_reason_given is True
    assert st.seconds_to_decision == 30.0 and st.review_seconds is None
    assert st.versions == 1 and st.edit_ratio == 0.0 and st.sources_opened == 0
    for value in _string_fields(st):
        for c in (reason, "Quastenberg", "k.quastenberg", TEXT):
            assert c not in value


def test_stats_of_an_open_draft() -> None:
    st = make_draft().stats()
    assert st.state == "generated" and st.seconds_to_decision is None and st.review_seconds is None
    assert st.flags_fixed == 0 and st.flags_checked == 0 and st.flags_shown == 2
