"""Grounding: German sentence splitting, citation markers, fact extraction, tolerant matching, flags."""

from __future__ import annotations

import pytest

from app.core.grounding import (
    Fact,
    check_facts,
    citation_numbers,
    extract_facts,
    fact_in_text,
    ground,
    split_sentences,
)
from app.core.lookup import NOTHING_FOUND, FlagKind

SOURCES = {
    1: "Nach § 28 Abs. 1 VwVfG ist einem Beteiligten vor Erlass eines Verwaltungsakts, der in seine Rechte "
       "eingreift, Gelegenheit zu geben, sich zu äußern. Die Frist zur Äußerung beträgt 14 Tage.",
    2: "Mit Bescheid vom 01.01.2025 (Az.: 42.1-0815/24) wurde eine Gebühr von 1234,56 Euro festgesetzt. "
       "Die Säumniszuschläge betragen 1 Prozent je Monat.",
}


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def facts(text: str) -> list[tuple[str, str, str]]:
    return [(f.kind, f.text, f.norm) for f in extract_facts(text)]


def fact(text: str) -> Fact:
    (only,) = extract_facts(text)
    return only


# -- sentences ---------------------------------------------------------------------------------------------------
def test_legal_references_and_abbreviations_do_not_end_a_sentence() -> None:
    text = ("Die Anhörung erfolgt gem. § 28 Abs. 1 S. 2 VwVfG. Danach entscheidet die Behörde, z. B. durch "
            "Bescheid. Der Antrag ist ggf. Herrn Dr. Müller vorzulegen, d. h. bis Ende Mai, vgl. Art. 3 GG.")
    assert texts(text) == [
        "Die Anhörung erfolgt gem. § 28 Abs. 1 S. 2 VwVfG.",
        "Danach entscheidet die Behörde, z. B. durch Bescheid.",
        "Der Antrag ist ggf. Herrn Dr. Müller vorzulegen, d. h. bis Ende Mai, vgl. Art. 3 GG.",
    ]


def test_ordinals_dates_and_numbers_do_not_end_a_sentence() -> None:
    text = ("Die Regelung gilt ab dem 1. Januar 2025 und ersetzt die Fassung vom 12.03.2024. Der 2. Senat hat "
            "1.234,56 € zugesprochen. Die Frist endet am 12.03.2024. Danach ist der Antrag verfristet.")
    assert texts(text) == [
        "Die Regelung gilt ab dem 1. Januar 2025 und ersetzt die Fassung vom 12.03.2024.",
        "Der 2. Senat hat 1.234,56 € zugesprochen.",
        "Die Frist endet am 12.03.2024.",
        "Danach ist der Antrag verfristet.",
    ]


def test_a_number_at_the_end_of_a_sentence_ends_it() -> None:
    assert texts("Maßgeblich ist § 60 Abs. 2. Die Zahl der Anträge beträgt 30. Sie steigt.") == [
        "Maßgeblich ist § 60 Abs. 2.", "Die Zahl der Anträge beträgt 30.", "Sie steigt."]


def test_sgb_book_numerals_end_a_sentence_but_single_letters_otherwise_do_not() -> None:
    assert texts("Es gilt § 60 i. V. m. § 66 SGB I. Die Mitwirkung ist Pflicht.") == [
        "Es gilt § 60 i. V. m. § 66 SGB I.", "Die Mitwirkung ist Pflicht."]


def test_question_and_exclamation_marks_end_sentences() -> None:
    assert texts("Ist der Antrag fristgerecht? Ja! Die Behörde entscheidet.") == [
        "Ist der Antrag fristgerecht?", "Ja!", "Die Behörde entscheidet."]


def test_citation_after_the_full_stop_belongs_to_the_sentence_before() -> None:
    text = "Er gilt zehn Jahre. [1] Danach wird er gelöscht.[2][3] Das steht fest."
    sentences = split_sentences(text)
    assert [(s.text, s.citations) for s in sentences] == [
        ("Er gilt zehn Jahre. [1]", (1,)), ("Danach wird er gelöscht.[2][3]", (2, 3)), ("Das steht fest.", ())]
    assert all(text[s.start:s.end] == s.text for s in sentences)
    assert [s.index for s in sentences] == [0, 1, 2]


def test_citation_before_the_full_stop_and_lists_of_citations() -> None:
    sentences = split_sentences("Er gilt zehn Jahre [1]. Die Frist beträgt 14 Tage [1][2]. Das gilt [1, 3].")
    assert [s.citations for s in sentences] == [(1,), (1, 2), (1, 3)]


def test_marker_alone_after_a_blank_line_belongs_to_the_sentence_before() -> None:
    text = "Die Frist beträgt 14 Tage.\n\n[1]"
    (sentence,) = split_sentences(text)
    assert sentence.citations == (1,) and sentence.text == text and (sentence.start, sentence.end) == (0, len(text))


@pytest.mark.parametrize(("text", "expected"), [
    ("[1–3]", (1, 2, 3)), ("[1-3]", (1, 2, 3)), ("[3, 1][1]", (1, 3)), ("[2; 4 - 5]", (2, 4, 5)),
    ("[Quelle 2]", (2,)), ("§ 28 [a] [1a] (1)", ()), ("[1-1000]", (1, 1000)),
])
def test_citation_numbers(text: str, expected: tuple[int, ...]) -> None:
    assert citation_numbers(text) == expected


def test_headings_list_items_and_blank_lines_end_sentences() -> None:
    text = ("## Ergebnis\n"
            "Folgende Unterlagen sind beizufügen:\n"
            "- Antrag vom 1. März 2024 [1]\n"
            "- Einkommensnachweis\n"
            "\n"
            "1. Januar 2025 ist der Stichtag\n"
            "\n"
            "Die Behörde entscheidet\nnach Aktenlage.")
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "## Ergebnis", "Folgende Unterlagen sind beizufügen:", "Antrag vom 1. März 2024 [1]", "Einkommensnachweis",
        "1. Januar 2025 ist der Stichtag", "Die Behörde entscheidet\nnach Aktenlage."]
    assert sentences[4].citations == () and "1. Januar 2025" in sentences[4].text, "a date is no list number"
    assert all(text[s.start:s.end] == s.text for s in sentences)


def test_numbered_list_items_lose_their_number() -> None:
    assert texts("1. Antrag stellen.\n2. Nachweise beifügen.\n10. Bescheid abwarten.") == [
        "Antrag stellen.", "Nachweise beifügen.", "Bescheid abwarten."]


def test_empty_text_has_no_sentences() -> None:
    assert split_sentences("") == [] and split_sentences(" \n\n ") == []


# -- facts -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "norm"), [
    ("am 12.03.2024", "2024-03-12"), ("am 12.3.24", "2024-03-12"), ("ab 1. Januar 2025", "2025-01-01"),
    ("ab 1. Jan. 2025", "2025-01-01"), ("im März 2024", "2024-03"), ("Stand: 2024-03-12", "2024-03-12"),
    ("bis zum 30. Juni", "--06-30"),
])
def test_dates_are_normalised(text: str, norm: str) -> None:
    assert (fact(text).kind, fact(text).norm) == ("date", norm)


@pytest.mark.parametrize(("text", "cents"), [
    ("1.234,56 €", "123456"), ("1234,56 EUR", "123456"), ("500 Euro", "50000"), ("€ 500", "50000"),
    ("500,- €", "50000"), ("EUR 12,5", "1250"), ("1,5 Mio. €", "150000000"),
])
def test_amounts_are_normalised_to_cents(text: str, cents: str) -> None:
    found = fact(f"Die Gebühr beträgt {text}.")
    assert (found.kind, found.text, found.norm) == ("amount", text, cents)


def test_percentages() -> None:
    assert facts("Zuschlag 5 %, Rabatt 5,5 Prozent, Anteil 12,50 v. H.") == [
        ("percent", "5 %", "5"), ("percent", "5,5 Prozent", "5.5"), ("percent", "12,50 v. H.", "12.5")]


def test_paragraph_references_one_fact_per_section() -> None:
    assert facts("Nach § 28 Abs. 1 S. 2 VwVfG, §§ 60, 66 SGB I, § 35a SGB VIII und Art. 3 GG") == [
        ("paragraph", "§ 28", "§28"), ("paragraph", "§§ 60", "§60"), ("paragraph", "66", "§66"),
        ("paragraph", "§ 35a", "§35a"), ("paragraph", "Art. 3", "art3")]


def test_numbers_inside_a_paragraph_reference_are_not_numbers_of_their_own() -> None:
    assert facts("§ 7 Abs. 12 Nr. 15 SGB II") == [("paragraph", "§ 7", "§7")]


@pytest.mark.parametrize(("text", "norm"), [
    ("AZ 123-45/2024", "123-45/2024"), ("Az.: 42.1-0815/24", "42.1-0815/24"), ("II-3/4711", "ii-3/4711"),
    ("1 BvR 123/20", "1bvr123/20"),
])
def test_file_numbers(text: str, norm: str) -> None:
    found = fact(f"Unser Zeichen {text} bitte angeben")
    assert (found.kind, found.text, found.norm) == ("file_number", text, norm)


def test_plain_numbers_need_two_digits_and_skip_markers_and_other_facts() -> None:
    assert facts("Die Frist beträgt 30 Tage, 7 Werktage, 1.500 Anträge am 12.03.2024 für 20 € [12].") == [
        ("number", "30", "30"), ("number", "1.500", "1500"), ("date", "12.03.2024", "2024-03-12"),
        ("amount", "20 €", "2000")]


def test_fact_spans_point_into_the_text() -> None:
    text = "Gem. § 28 VwVfG ist bis 1. Januar 2025 für 500,- € anzuhören, Az. 123-45/2024, zu 5 %."
    found = extract_facts(text)
    assert {f.kind for f in found} == {"paragraph", "date", "amount", "file_number", "percent"}
    assert all(text[f.start:f.end] == f.text for f in found)


# -- tolerant matching -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("claim", "source"), [
    ("1. Januar 2025", "Stichtag ist der 01.01.2025."),
    ("12.3.24", "Bescheid vom 12. März 2024"),
    ("März 2024", "Eingang am 15.03.2024"),
    ("1.234,56 €", "Gebühr: 1234,56 Euro"),
    ("500 Euro", "Betrag EUR 500,00"),
    ("§ 28", "nach §§ 28, 29 VwVfG"),
    ("§ 28 Abs. 2", "gemäß § 28 Abs. 1 VwVfG"),
    ("5,5 %", "Zinssatz 5,50 Prozent"),
    ("Az.: 42.1-0815/24", "Aktenzeichen 42.1-0815/24"),
    ("30", "innerhalb von 30 Tagen"),
    ("2024", "Bescheid vom 12.03.2024"),
])
def test_same_fact_in_other_notation_is_found(claim: str, source: str) -> None:
    assert fact_in_text(fact(claim), source)


@pytest.mark.parametrize(("claim", "source"), [
    ("30", "innerhalb von 300 Tagen"),
    ("30", "Zuschlag von 30,5 Prozent"),
    ("§ 28", "nach § 280 BGB"),
    ("§ 28", "Art. 28 GG"),
    ("1. Januar 2025", "Stichtag ist der 01.01.2024."),
    ("12.03.2024", "im März 2024"),
    ("1.234,56 €", "Gebühr: 1234,65 Euro"),
    ("5 %", "5 Tage"),
])
def test_different_fact_is_not_found(claim: str, source: str) -> None:
    assert not fact_in_text(fact(claim), source)


def test_check_facts_finds_an_invented_date_in_a_summary() -> None:
    summary = "Am 02.01.2025 wurde eine Gebühr von 1.234,56 € festgesetzt (Az.: 42.1-0815/24)."
    assert [(f.kind, f.text) for f in check_facts(summary, list(SOURCES.values()))] == [("date", "02.01.2025")]


def test_check_facts_is_empty_when_every_fact_occurs() -> None:
    summary = "Am 1. Januar 2025 wurden 1234,56 € festgesetzt; anzuhören ist nach § 28 VwVfG binnen 14 Tagen."
    assert check_facts(summary, list(SOURCES.values())) == []
    assert len(check_facts(summary, [])) == 4


# -- ground ------------------------------------------------------------------------------------------------------
def test_answer_whose_facts_occur_in_the_cited_sources_has_no_flags() -> None:
    answer = ("Vor dem Bescheid ist der Beteiligte nach § 28 VwVfG anzuhören [1]. Die Frist beträgt 14 Tage. [1]\n\n"
              "Der Bescheid vom 1. Januar 2025 setzt 1.234,56 € fest [2].")
    grounding = ground(answer, SOURCES)
    assert grounding.flags == ()
    assert grounding.cited_numbers() == (1, 2) and len(grounding.sentences) == 3


def test_invented_date_and_amount_are_flagged_with_their_span() -> None:
    answer = "Die Gebühr wurde am 3. Februar 2025 auf 99 € festgesetzt [2]."
    flags = ground(answer, SOURCES).flags
    assert [(f.kind, f.text, answer[f.start:f.end], f.detail, f.sentence_index) for f in flags] == [
        (FlagKind.FACT_NOT_IN_SOURCES, "3. Februar 2025", "3. Februar 2025", "nicht in Quelle [2]", 0),
        (FlagKind.FACT_NOT_IN_SOURCES, "99 €", "99 €", "nicht in Quelle [2]", 0)]


def test_fact_must_be_in_the_cited_source_not_just_any_source() -> None:
    answer = "Die Gebühr beträgt 1.234,56 € [1]. Die Frist beträgt 14 Tage [1, 2]."
    flags = ground(answer, SOURCES).flags
    assert [(f.text, f.detail) for f in flags] == [("1.234,56 €", "nicht in Quelle [1]")]


def test_uncited_sentence_is_flagged_and_its_facts_checked_against_all_sources() -> None:
    answer = "Die Frist beträgt 14 Tage [1]. Die Gebühr wurde am 05.05.2025 erhoben. Die Frist beträgt 14 Tage."
    flags = ground(answer, SOURCES).flags
    second = answer.index("Die Gebühr")
    assert [(f.kind, f.start, f.sentence_index) for f in flags] == [
        (FlagKind.UNCITED_SENTENCE, second, 1), (FlagKind.FACT_NOT_IN_SOURCES, answer.index("05.05"), 1),
        (FlagKind.UNCITED_SENTENCE, answer.rindex("Die Frist"), 2)]
    assert flags[0].text == "Die Gebühr wurde am 05.05.2025 erhoben." and flags[1].detail == "in keiner Quelle"


def test_unknown_citation_is_flagged_at_its_marker() -> None:
    answer = "Die Frist beträgt 14 Tage [1][7]. Der Bescheid ist bestandskräftig [3]."
    flags = ground(answer, SOURCES).flags
    unknown = [f for f in flags if f.kind is FlagKind.UNKNOWN_CITATION]
    assert [(f.text, answer[f.start:f.end], f.sentence_index) for f in unknown] == [
        ("[7]", "[7]", 0), ("[3]", "[3]", 1)]
    uncited = [f for f in flags if f.kind is FlagKind.UNCITED_SENTENCE]
    assert [f.sentence_index for f in uncited] == [1], "a sentence citing only an unknown source counts as uncited"


def test_statements_without_content_are_not_flagged_as_uncited() -> None:
    answer = ("## Ergebnis\n\nFolgende Unterlagen sind beizufügen:\n- Antrag [1]\n- Nachweis\n\nKurz: ja.\n\n"
              "**Hinweis**\n\nDie Frist beträgt 14 Tage [1].")
    assert ground(answer, SOURCES).flags == ()


def test_an_answer_that_cites_nothing_is_flagged_even_when_short() -> None:
    assert [f.kind for f in ground("OK", SOURCES).flags] == [FlagKind.UNCITED_SENTENCE]
    assert ground("OK. Die Frist beträgt 14 Tage [1].", SOURCES).flags == (), "a filler beside a cited sentence"


def test_short_sentence_with_a_fact_is_still_flagged() -> None:
    flags = ground("Frist: 21 Tage.", SOURCES).flags
    assert [f.kind for f in flags] == [FlagKind.UNCITED_SENTENCE, FlagKind.FACT_NOT_IN_SOURCES]


def test_nothing_found_yields_no_flags() -> None:
    grounding = ground(NOTHING_FOUND, {})
    assert grounding.flags == () and [s.text for s in grounding.sentences] == [NOTHING_FOUND]


def test_flags_are_sorted_by_start() -> None:
    answer = "Das gilt ab 02.02.2026 [9]. Die Säumniszuschläge betragen 2 Prozent je Monat [2]."
    flags = ground(answer, SOURCES).flags
    assert [f.start for f in flags] == sorted(f.start for f in flags) and len(flags) == 4


def test_cited_sentence_about_something_else_is_flagged_as_not_supported() -> None:
    from app.core.grounding import support

    copied = "Erika Muster beantragt Wohngeld für ihre Wohnung in der Lindenstraße [2]."
    grounding = ground(copied, SOURCES)
    assert [f.kind for f in grounding.flags] == [FlagKind.NOT_SUPPORTED]
    assert grounding.flags[0].text == copied and "[2]" in grounding.flags[0].detail
    # paraphrase with separable verbs and inflection is not flagged
    assert support("Der Bescheid setzt eine Gebühr fest.", [SOURCES[2]]) == 1.0
    assert support("Beteiligte sind vorher anzuhören.", [SOURCES[1]]) is not None
    assert ground("Einem Beteiligten ist Gelegenheit zur Äußerung zu geben [1].", SOURCES).flags == ()
    assert support("Ja.", [SOURCES[1]]) is None  # no content words: nothing to judge
