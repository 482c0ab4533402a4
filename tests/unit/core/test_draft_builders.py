"""Building drafts from lookup answers, summaries and letters, and turning them back into documents and records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.core.documents import Chunk, SearchMode
from app.core.draft_builders import (
    RECORD_VERSION,
    from_letter,
    from_lookup,
    from_record,
    from_summary,
    letter_for,
    memo_for,
    parse_sections,
    summary_text,
    to_record,
)
from app.core.drafts import (
    Author,
    CheckKind,
    Draft,
    DraftKind,
    DraftState,
    ReviewPolicy,
)
from app.core.errors import AktenlotseError
from app.core.export import MemoSection
from app.core.letters import LetterDraft, LetterRequest, LetterStyle, LetterType
from app.core.llm import GenerationParams
from app.core.lookup import (
    Flag,
    FlagKind,
    Grounding,
    LookupAnswer,
    Scope,
    Sentence,
    Source,
)
from app.core.summary import (
    Omission,
    Passage,
    Summary,
    SummaryLength,
    SummaryPoint,
    SummaryRequest,
    SummarySection,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
ROOT = "/akten/Ordnungsamt/Sondernutzung"
BESCHEID = f"{ROOT}/Bescheid_2024-03.pdf"
VWGO = f"{ROOT}/VwGO_Auszug.txt"
SATZUNG = f"{ROOT}/Satzung_2021.odt"
PARAMS = GenerationParams(max_tokens=300, temperature=0.1, top_p=0.8, seed=7, stop=("###",), repeat_penalty=1.2)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def chunk(path: str, ordinal: int, text: str, page: int | None = None, heading: tuple[str, ...] = ()) -> Chunk:
    return Chunk(id=f"{path}#{ordinal}", doc_id=path, path=path, text=text, ordinal=ordinal, start=10 * ordinal,
                 end=10 * ordinal + len(text), page=page, heading_path=heading)


C1 = chunk(BESCHEID, 9, "Gegen diesen Bescheid kann innerhalb eines Monats Widerspruch erhoben werden.", 2,
           ("Bescheid", "Rechtsbehelfsbelehrung"))
C2 = chunk(VWGO, 3, "Der Widerspruch ist innerhalb eines Monats schriftlich zu erheben.", None,
           ("VwGO", "§ 70 Form und Frist"))
C3 = chunk(SATZUNG, 4, "Die Erlaubnis kann widerrufen werden.", None, ("Satzung", "§ 6 Widerruf"))
C4 = chunk(BESCHEID, 2, "Die Gebühr beträgt 240,00 EUR.", 1)

# -- a lookup answer --------------------------------------------------------------------------------------------
QUESTION = "Innerhalb welcher Frist ist Widerspruch einzulegen?"
S0 = "Der Widerspruch ist innerhalb eines Monats nach Bekanntgabe einzulegen [1]."
S1 = "Er ist schriftlich zu erheben [2]."
S2 = "Die Frist endet damit am 15. April 2024 [1]."
S3 = "Bei einem Brief gilt der Bescheid am dritten Tag als bekanntgegeben."
ANSWER = f"{S0} {S1} {S2} {S3}"


def lookup_answer(**kw: object) -> LookupAnswer:
    offsets = []
    pos = 0
    for s in (S0, S1, S2, S3):
        offsets.append((pos, pos + len(s)))
        pos += len(s) + 1
    sentences = tuple(Sentence(i, s, *offsets[i], cites) for i, (s, cites) in
                      enumerate([(S0, (1,)), (S1, (2,)), (S2, (1,)), (S3, ())]))
    date_start = ANSWER.index("15. April 2024")
    flags = (
        Flag(FlagKind.FACT_NOT_IN_SOURCES, 2, "15. April 2024", date_start, date_start + 14,
             "steht in keiner der zitierten Quellen"),
        Flag(FlagKind.UNCITED_SENTENCE, 3, S3, *offsets[3]),
    )
    args: dict[str, object] = {
        "question": QUESTION, "scope": Scope.folder(ROOT),
        "sources": [Source(1, C1, 0.91, SearchMode.HYBRID), Source(2, C2, 0.88), Source(3, C3, 0.5, SearchMode.DENSE)],
        "text": "  " + ANSWER + "\n", "grounding": Grounding(sentences, flags),
        "model_name": "Fake-Modell 7B Instruct", "model_sha256": "ab" * 32, "backend": "lokal (Fake)",
        "params": PARAMS, "id": "lookup-1", "created": T0}
    args.update(kw)
    return LookupAnswer(**args)  # type: ignore[arg-type]


# -- a summary --------------------------------------------------------------------------------------------------
INVENTED = "Eine Entscheidung wurde bis zum 30. Juni 2024 zugesagt."


def summary(paths: tuple[str, ...] = (BESCHEID,), **kw: object) -> Summary:
    start = INVENTED.index("30. Juni 2024")
    sections = [
        SummarySection("Sachverhalt", (SummaryPoint("Es wurde eine Sondernutzung erlaubt.", (1,)),
                                       SummaryPoint("Die Gebühr beträgt 240,00 EUR.", (4, 1)))),
        SummarySection("Fristen und Termine", (
            SummaryPoint("Widerspruch binnen eines Monats.", (2,)),
            SummaryPoint(INVENTED, (2,), (Flag(FlagKind.FACT_NOT_IN_SOURCES, 3, "30. Juni 2024", start,
                                               start + 13, "steht in keiner der zitierten Quellen"),)))),
        SummarySection("Offene Punkte / fehlende Unterlagen", (SummaryPoint("Ob die Fläche reicht, ist offen."),)),
    ]
    args: dict[str, object] = {
        "request": SummaryRequest(paths, SummaryLength.STANDARD, "Fristen"), "sections": sections,
        "passages": [Passage(1, C1), Passage(2, C2), Passage(3, C3), Passage(4, C4)],
        "omitted": [Omission(SATZUNG, "zu lang für das Sprachmodell", "S. 12–20")],
        "model_name": "Fake-Modell 7B Instruct", "model_sha256": "cd" * 32, "backend": "lokal (Fake)",
        "params": PARAMS, "id": "summary-1", "created": T0}
    args.update(kw)
    return Summary(**args)  # type: ignore[arg-type]


SUMMARY_TEXT = (
    "Sachverhalt\n"
    "- Es wurde eine Sondernutzung erlaubt. [1]\n"
    "- Die Gebühr beträgt 240,00 EUR. [4][1]\n"
    "\n"
    "Fristen und Termine\n"
    "- Widerspruch binnen eines Monats. [2]\n"
    f"- {INVENTED} [2]\n"
    "\n"
    "Offene Punkte / fehlende Unterlagen\n"
    "- Ob die Fläche reicht, ist offen."
)

# -- a letter ---------------------------------------------------------------------------------------------------
BODY = ("mit Bescheid vom 4. März 2024 haben wir Ihnen eine Sondernutzung erlaubt.\n\n"
        "Wir beabsichtigen, die Erlaubnis zu widerrufen. Sie können sich bis zum [Frist eintragen] äußern.")
EDITED_BODY = ("mit Bescheid vom 4. März 2024 haben wir Ihnen eine Sondernutzung erlaubt.\n\n"
               "Wir beabsichtigen, die Erlaubnis zu widerrufen.\n   \n"
               "Sie können sich bis zum 31.03.2025 äußern.")


def letter(**kw: object) -> LetterDraft:
    args: dict[str, object] = {
        "request": LetterRequest("anhoerung", {"aktenzeichen": "32-1"}, paths=(BESCHEID, SATZUNG),
                                 style=LetterStyle.BUERGERNAH),
        "letter_type": LetterType("anhoerung", "Anhörung vor Erlass eines Verwaltungsakts"),
        "subject": "Anhörung vor Erlass eines Bescheides – Aktenzeichen 32-1", "body": BODY,
        "recipient_lines": ("[Empfänger eintragen]",),
        "info": (("Aktenzeichen", "32-1"), ("Datum", "03.03.2025")),
        "signature": ("Im Auftrag", "[Sachbearbeiter/in eintragen]"), "salutation": "Sehr geehrte Frau Beispiel,",
        "enclosures": ("Bescheid vom 04.03.2024",), "sender_line": "Stadt Musterstadt · 12340 Musterstadt",
        "authority": "Stadt Musterstadt – Ordnungsamt",
        "passages": [Passage(1, C1), Passage(2, C4), Passage(3, C3)],
        "model_name": "Fake-Modell 7B Instruct", "model_sha256": "ef" * 32, "params": PARAMS, "id": "letter-1",
        "created": T0}
    args.update(kw)
    return LetterDraft(**args)  # type: ignore[arg-type]


PARAMS_DICT = {"max_tokens": 300, "temperature": 0.1, "top_p": 0.8, "seed": 7, "repeat_penalty": 1.2}


# -- from_lookup ------------------------------------------------------------------------------------------------
def test_from_lookup_carries_everything() -> None:
    d = from_lookup(lookup_answer())
    assert d.kind is DraftKind.LOOKUP and d.state is DraftState.GENERATED
    assert d.title == QUESTION and d.id == "lookup-1" and d.created == T0
    assert [(v.number, v.text, v.author, v.created) for v in d.versions] == [(1, ANSWER, Author.MODEL, T0)]
    assert [(s.number, s.chunk, s.cited) for s in d.sources] == [(1, C1, True), (2, C2, True), (3, C3, False)]
    assert [(f.kind, f.label_de, f.text, f.detail) for f in d.flags] == [
        ("fact_not_in_sources", "Angabe nicht in den Quellen gefunden", "15. April 2024",
         "steht in keiner der zitierten Quellen"),
        ("uncited_sentence", "Aussage ohne Quellenangabe", S3, "")]
    assert (d.model_name, d.model_sha256, d.backend) == ("Fake-Modell 7B Instruct", "ab" * 32, "lokal (Fake)")
    assert d.params == PARAMS_DICT
    assert d.payload == {"question": QUESTION, "scope": "folder", "complete": True}
    assert [i.key for i in d.checklist()] == ["flag:0", "flag:1", "source:1", "source:2"]


def test_from_lookup_without_params() -> None:
    d = from_lookup(lookup_answer(params=None, complete=False))
    assert d.params == {} and d.payload["complete"] is False


@pytest.mark.parametrize("kw", [{"nothing_found": True}, {"text": "   \n"}, {"text": ""}],
                         ids=["nothing_found", "blank", "empty"])
def test_from_lookup_refuses_empty_answers(kw: dict[str, object]) -> None:
    with pytest.raises(AktenlotseError):
        from_lookup(lookup_answer(**kw))


# -- from_summary -----------------------------------------------------------------------------------------------
def test_summary_text() -> None:
    assert summary_text(summary()) == SUMMARY_TEXT
    assert summary_text(summary(sections=[])) == ""


def test_from_summary_carries_everything() -> None:
    d = from_summary(summary())
    assert d.kind is DraftKind.SUMMARY and d.id == "summary-1" and d.created == T0
    assert d.title == "Zusammenfassung: Bescheid_2024-03.pdf"
    assert [(v.number, v.text, v.author) for v in d.versions] == [(1, SUMMARY_TEXT, Author.MODEL)]
    # only passages the points cite, all of them cited
    assert [(x.number, x.chunk, x.cited) for x in d.sources] == [(1, C1, True), (2, C2, True), (4, C4, True)]
    assert [(f.kind, f.text, f.detail) for f in d.flags] == [
        ("fact_not_in_sources", "30. Juni 2024", "steht in keiner der zitierten Quellen")]
    assert (d.model_name, d.model_sha256, d.backend, d.params) == (
        "Fake-Modell 7B Instruct", "cd" * 32, "lokal (Fake)", PARAMS_DICT)
    assert d.payload == {"subject": d.title, "files": ["Bescheid_2024-03.pdf"], "length": "Standard",
                         "focus": "Fristen", "omitted": ["Satzung_2021.odt, S. 12–20: zu lang für das Sprachmodell"]}
    assert [i.key for i in d.checklist()] == ["flag:0", "source:1", "source:2", "source:4"]


def test_from_summary_of_several_documents() -> None:
    # the same file name in another folder counts once
    d = from_summary(summary(paths=(BESCHEID, VWGO, "/anderer/ordner/Bescheid_2024-03.pdf")))
    assert d.title == "Zusammenfassung: 2 Dokumente"
    assert d.payload["files"] == ["Bescheid_2024-03.pdf", "VwGO_Auszug.txt"]


def test_from_summary_refuses_an_empty_summary() -> None:
    with pytest.raises(AktenlotseError):
        from_summary(summary(sections=[]))


# -- from_letter ------------------------------------------------------------------------------------------------
def test_from_letter_unedited() -> None:
    d = from_letter(letter())
    assert d.kind is DraftKind.LETTER and d.id == "letter-1" and d.created == T0
    assert d.title == "Anhörung vor Erlass eines Bescheides – Aktenzeichen 32-1"
    assert [(v.number, v.text, v.author) for v in d.versions] == [(1, BODY, Author.MODEL)]
    # one source per case document (its first passage), all to be checked
    assert [(s.number, s.chunk, s.cited) for s in d.sources] == [(1, C1, True), (3, C3, True)]
    assert (d.model_name, d.model_sha256, d.params) == ("Fake-Modell 7B Instruct", "ef" * 32, PARAMS_DICT)
    p = d.payload
    assert p["recipient_lines"] == ["[Empfänger eintragen]"]
    assert p["info"] == [["Aktenzeichen", "32-1"], ["Datum", "03.03.2025"]]
    assert (p["type"], p["type_name"], p["style"]) == ("anhoerung", "Anhörung vor Erlass eines Verwaltungsakts",
                                                       "buergernah")
    assert (p["salutation"], p["closing"], p["sender_line"], p["authority"]) == (
        "Sehr geehrte Frau Beispiel,", "Mit freundlichen Grüßen", "Stadt Musterstadt · 12340 Musterstadt",
        "Stadt Musterstadt – Ordnungsamt")
    assert p["signature"] == ["Im Auftrag", "[Sachbearbeiter/in eintragen]"]
    assert p["enclosures"] == ["Bescheid vom 04.03.2024"]


def test_from_letter_with_edited_body_has_two_versions() -> None:
    d = from_letter(letter(), EDITED_BODY + "\n", now=at(120))
    assert [(v.number, v.author, v.created) for v in d.versions] == [(1, Author.MODEL, T0),
                                                                      (2, Author.PERSON, at(120))]
    assert d.generated_text == BODY and d.text == EDITED_BODY.strip()


def test_from_letter_with_unchanged_body_has_one_version() -> None:
    d = from_letter(letter(), "\n" + BODY + "  ", now=at(120))
    assert len(d.versions) == 1 and d.versions[0].author is Author.MODEL


def test_from_letter_edited_without_now_uses_creation_time() -> None:
    d = from_letter(letter(), EDITED_BODY)
    assert d.versions[1].created == T0


def test_letter_frame_placeholders_show_in_the_checklist() -> None:
    d = from_letter(letter())
    items = d.checklist()
    placeholders = [i.text for i in items if i.kind is CheckKind.PLACEHOLDER]
    assert placeholders == ["[Frist eintragen]", "[Empfänger eintragen]", "[Sachbearbeiter/in eintragen]"]
    assert [i.key for i in items if i.kind is CheckKind.SOURCE] == ["source:1", "source:3"]
    # filling the body's placeholder leaves the frame's ones
    d.start_review(at(1))
    d.edit(EDITED_BODY, at(2))
    assert [i.text for i in d.checklist() if i.kind is CheckKind.PLACEHOLDER] == [
        "[Empfänger eintragen]", "[Sachbearbeiter/in eintragen]"]
    assert d.stats().placeholders_open == 2


def test_letter_frame_placeholders_block_a_strict_policy() -> None:
    policy = ReviewPolicy(no_open_placeholders=True)
    d = from_letter(letter(), EDITED_BODY)
    d.start_review(at(1))
    d.open_source(1)
    d.open_source(3)
    with pytest.raises(AktenlotseError):
        d.tick("placeholder:[Empfänger eintragen]", policy=policy)
    assert any("Platzhalter" in r for r in d.blockers(policy))
    assert d.blockers() == ["2 Punkt(e) der Prüfliste sind offen."]


# -- back to documents ------------------------------------------------------------------------------------------
def test_memo_for_lookup_uses_the_current_text() -> None:
    d = from_lookup(lookup_answer())
    d.start_review(at(1))
    d.edit("Der Widerspruch ist binnen eines Monats einzulegen [1].\n\n  Die Frist beginnt mit der Bekanntgabe.  ",
           at(2))
    memo = memo_for(d)
    assert memo.title == "Auskunft" and memo.subject == QUESTION
    assert memo.sections == (MemoSection("Antwort", ("Der Widerspruch ist binnen eines Monats einzulegen [1].",
                                                     "Die Frist beginnt mit der Bekanntgabe.")),)
    assert memo.sources == ("[1] Bescheid_2024-03.pdf, S. 2, Rechtsbehelfsbelehrung",)  # [2] no longer cited
    assert ("Prüfstatus", "Entwurf – nicht geprüft") in memo.info
    assert ("Erstellt mit", "Aktenlotse, Modell Fake-Modell 7B Instruct") in memo.info
    assert memo.date_text == T0.astimezone().strftime("%d.%m.%Y")


def test_memo_for_a_confirmed_lookup_names_the_reviewer() -> None:
    d = from_lookup(lookup_answer())
    d.start_review(at(1))
    for item in d.checklist():
        d.tick(item.key)
    decided = T0 + timedelta(days=2)
    d.confirm("anna.pruef", decided)
    memo = memo_for(d)
    assert ("Geprüft von", "anna.pruef") in memo.info
    assert ("Geprüft am", decided.astimezone().strftime("%d.%m.%Y %H:%M")) in memo.info
    assert all(label != "Prüfstatus" for label, _ in memo.info)
    assert memo.date_text == decided.astimezone().strftime("%d.%m.%Y")
    assert len(memo.sources) == 2


def test_memo_for_summary_uses_the_edited_sections() -> None:
    d = from_summary(summary())
    d.start_review(at(1))
    d.edit("Sachverhalt\n- Es wurde eine Sondernutzung erlaubt. [1]\n\n"
           "Fristen und Termine\n- Widerspruch binnen eines Monats. [2]\n- Neuer Punkt der Prüferin.", at(2))
    memo = memo_for(d)
    assert memo.title == "Vermerk" and memo.subject == "Zusammenfassung: Bescheid_2024-03.pdf"
    assert memo.sections == (
        MemoSection("Sachverhalt", ("Es wurde eine Sondernutzung erlaubt. [1]",)),
        MemoSection("Fristen und Termine", ("Widerspruch binnen eines Monats. [2]", "Neuer Punkt der Prüferin.")),
    )
    # [4] was cut by the edit
    assert memo.sources == ("[1] Bescheid_2024-03.pdf, S. 2, Rechtsbehelfsbelehrung",
                            "[2] VwGO_Auszug.txt, § 70 Form und Frist")
    assert memo.info[:3] == (("Grundlage", "Bescheid_2024-03.pdf"), ("Länge", "Standard"),
                             ("Schwerpunkt", "Fristen"))
    assert memo.notes == ("Nicht berücksichtigt – Satzung_2021.odt, S. 12–20: zu lang für das Sprachmodell",)


def test_memo_for_summary_without_focus_has_no_focus_line() -> None:
    d = from_summary(summary(request=SummaryRequest((BESCHEID,), SummaryLength.KURZ)))
    memo = memo_for(d)
    assert all(label != "Schwerpunkt" for label, _ in memo.info)
    assert ("Länge", "Kurz (3–5 Punkte)") in memo.info
    assert [s.heading for s in memo.sections] == ["Sachverhalt", "Fristen und Termine",
                                                  "Offene Punkte / fehlende Unterlagen"]


def test_memo_for_refuses_letters_and_letter_for_refuses_the_rest() -> None:
    with pytest.raises(AktenlotseError):
        memo_for(from_letter(letter()))
    with pytest.raises(AktenlotseError):
        letter_for(from_lookup(lookup_answer()))
    with pytest.raises(AktenlotseError):
        letter_for(from_summary(summary()))


def test_letter_for_uses_the_edited_body() -> None:
    d = from_letter(letter())
    d.start_review(at(1))
    d.edit(EDITED_BODY, at(2))
    doc = letter_for(d)
    assert doc.body == ("mit Bescheid vom 4. März 2024 haben wir Ihnen eine Sondernutzung erlaubt.",
                        "Wir beabsichtigen, die Erlaubnis zu widerrufen.",
                        "Sie können sich bis zum 31.03.2025 äußern.")
    assert doc.recipient_lines == ("[Empfänger eintragen]",)
    assert doc.subject == "Anhörung vor Erlass eines Bescheides – Aktenzeichen 32-1"
    assert doc.info == (("Aktenzeichen", "32-1"), ("Datum", "03.03.2025"))
    assert doc.signature == ("Im Auftrag", "[Sachbearbeiter/in eintragen]")
    assert (doc.salutation, doc.closing, doc.sender_line, doc.authority) == (
        "Sehr geehrte Frau Beispiel,", "Mit freundlichen Grüßen", "Stadt Musterstadt · 12340 Musterstadt",
        "Stadt Musterstadt – Ordnungsamt")
    assert doc.enclosures == ("Bescheid vom 04.03.2024",)
    # the same as the letter's own document for the unedited body
    assert letter_for(from_letter(letter())) == letter().to_document()


# -- parse_sections ---------------------------------------------------------------------------------------------
def test_parse_sections_typical_text() -> None:
    assert parse_sections(SUMMARY_TEXT) == (
        MemoSection("Sachverhalt", ("Es wurde eine Sondernutzung erlaubt. [1]", "Die Gebühr beträgt 240,00 EUR. [4][1]")),
        MemoSection("Fristen und Termine", ("Widerspruch binnen eines Monats. [2]", f"{INVENTED} [2]")),
        MemoSection("Offene Punkte / fehlende Unterlagen", ("Ob die Fläche reicht, ist offen.",)),
    )


def test_parse_sections_edge_cases() -> None:
    assert parse_sections("") == ()
    assert parse_sections("\n  \n") == ()
    # a title without points stays as an empty section
    assert parse_sections("Sachverhalt\nFristen\n- bis Ende März") == (
        MemoSection("Sachverhalt"), MemoSection("Fristen", ("bis Ende März",)))
    assert parse_sections("Nur ein Titel") == (MemoSection("Nur ein Titel"),)
    # bullets before any title go under a default heading; other bullet marks work too
    assert parse_sections("- eins\n• zwei\n* drei") == (MemoSection("Zusammenfassung", ("eins", "zwei", "drei")),)
    assert parse_sections("  Titel  \n   -   eingerückt  ") == (MemoSection("Titel", ("eingerückt",)),)


def test_parse_sections_free_line_joins_the_section() -> None:
    text = "Sachverhalt\n- Es wurde eine Sondernutzung erlaubt. [1]\nErgänzung der Prüferin ohne Spiegelstrich."
    assert parse_sections(text) == (
        MemoSection("Sachverhalt", ("Es wurde eine Sondernutzung erlaubt. [1]",
                                    "Ergänzung der Prüferin ohne Spiegelstrich.")),)


# -- JSON records -----------------------------------------------------------------------------------------------
def _reviewed_lookup() -> Draft:
    d = from_lookup(lookup_answer())
    d.start_review(at(5), "anna")
    d.edit(ANSWER.replace(S3, "Die Bekanntgabe richtet sich nach § 41 VwVfG [1]."), at(10))
    d.edit(ANSWER.replace(S3, "Die Bekanntgabe richtet sich nach § 41 VwVfG [2]."), at(15))
    d.open_source(1)
    d.tick("flag:0")
    d.tick("source:2")
    d.confirm("anna.pruef", at(60))
    return d


def _rejected_summary() -> Draft:
    d = from_summary(summary())
    d.start_review(at(5))
    d.edit(SUMMARY_TEXT.replace(INVENTED, "Keine Zusage."), at(8))
    d.open_source(4)
    d.tick("source:1")
    d.reject("bert.pruef", at(30), "Unvollständig")
    return d


def _open_letter() -> Draft:
    d = from_letter(letter(), EDITED_BODY, now=at(2))
    d.start_review(at(5))
    d.tick("placeholder:[Empfänger eintragen]")
    d.open_source(3)
    return d


def _discarded_lookup() -> Draft:
    d = from_lookup(lookup_answer(params=None))
    d.discard(at(3), "system")
    return d


@pytest.mark.parametrize("build", [_reviewed_lookup, _rejected_summary, _open_letter, _discarded_lookup],
                         ids=["confirmed_lookup", "rejected_summary", "open_letter", "discarded_lookup"])
def test_record_round_trips_through_json(build) -> None:  # type: ignore[no-untyped-def]
    d = build()
    record = to_record(d)
    assert record["record_version"] == RECORD_VERSION
    loaded = json.loads(json.dumps(record))
    assert loaded == record  # JSON-safe: nothing changes type on the way
    back = from_record(loaded)
    assert to_record(back) == record
    assert back == d
    assert back.checklist() == d.checklist()
    assert back.stats() == d.stats()
    assert back.meta() == d.meta()
    assert back.clipboard_text() == d.clipboard_text()


def test_record_keeps_review_details() -> None:
    d = _reviewed_lookup()
    record = json.loads(json.dumps(to_record(d)))
    assert [(v["number"], v["author"]) for v in record["versions"]] == [(1, "model"), (2, "person"), (3, "person")]
    assert [(t["from"], t["to"], t["actor"]) for t in record["history"]] == [
        ("generated", "in_review", "anna"), ("in_review", "confirmed", "anna.pruef")]
    assert record["ticked"] == ["flag:0", "source:2"] and record["opened_sources"] == [1]
    back = from_record(record)
    assert back.state is DraftState.CONFIRMED and back.reviewer == "anna.pruef" and back.decided_at == at(60)
    assert back.review_started == at(5)
    assert back.sources[0].chunk.heading_path == ("Bescheid", "Rechtsbehelfsbelehrung")
    with pytest.raises(AktenlotseError):
        back.start_review(at(61))  # still terminal after loading


def test_an_open_draft_can_be_continued_after_loading() -> None:
    back = from_record(json.loads(json.dumps(to_record(_open_letter()))))
    assert back.state is DraftState.IN_REVIEW and back.ticked == {"placeholder:[Empfänger eintragen]"}
    back.tick("placeholder:[Sachbearbeiter/in eintragen]")
    back.open_source(1)
    assert back.blockers() == []
    back.confirm("anna.pruef", at(90))
    assert back.state is DraftState.CONFIRMED
    assert letter_for(back).body[-1] == "Sie können sich bis zum 31.03.2025 äußern."


def test_from_record_refuses_other_versions() -> None:
    record = to_record(_discarded_lookup())
    record["record_version"] = RECORD_VERSION + 1
    with pytest.raises(AktenlotseError):
        from_record(record)
    del record["record_version"]
    with pytest.raises(AktenlotseError):
        from_record(record)
