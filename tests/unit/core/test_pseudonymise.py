"""Pseudonymisation: identifiers masked before text leaves the PC, consistent placeholders, restore, no false hits."""

from __future__ import annotations

import re

import pytest

from app.core.pseudonymise import PLACEHOLDER_KINDS, Pseudonymiser

LETTER = """Stadt Musterstadt – Ordnungsamt
Marktplatz 7/9, 12345 Musterstadt

Frau
Erika Beispiel
Lindenstraße 4
12345 Musterstadt

Az. 32.4-SN/0815/2025

Anhörung nach § 28 VwVfG

Sehr geehrte Frau Beispiel,

Sie (geb. 03.04.1961) haben am 12.03.2024 die Erstattung einer Gebühr von 1.250,00 EUR beantragt. Die Zahlung
soll auf das Konto IBAN DE89 3704 0044 0532 0130 00 erfolgen. Sie erreichen uns unter Tel. 0171 1234567 oder
per E-Mail an erika.beispiel@example.org. Bitte äußern Sie sich bis zum 15. Juli 2024 (Frist 15. Juli 2024).
Herr Dr. Jonas Weber hat die Akte geprüft; Beispiel hat sich bisher nicht geäußert.

Mit freundlichen Grüßen
Im Auftrag
Jonas Weber
"""

IDENTIFIERS = [
    "Erika Beispiel", "Beispiel", "Erika", "Lindenstraße", "Lindenstraße 4", "12345", "03.04.1961",
    "DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "0532 0130", "0171 1234567", "1234567",
    "erika.beispiel", "example.org", "32.4-SN/0815/2025", "0815", "Jonas", "Weber", "Marktplatz 7/9",
]

LAW = """§ 28 Anhörung Beteiligter

(1) Bevor ein Verwaltungsakt erlassen wird, der in Rechte eines Beteiligten eingreift, ist diesem Gelegenheit zu
geben, sich zu den für die Entscheidung erheblichen Tatsachen zu äußern.

(2) Von der Anhörung kann abgesehen werden, wenn sie nach den Umständen des Einzelfalls nicht geboten ist,
insbesondere wenn

1. eine sofortige Entscheidung wegen Gefahr im Verzug oder im öffentlichen Interesse notwendig erscheint;

2. durch die Anhörung die Einhaltung einer für die Entscheidung maßgeblichen Frist in Frage gestellt würde;

(3) Eine Anhörung unterbleibt, wenn ihr ein zwingendes öffentliches Interesse entgegensteht.

Verwaltungsverfahrensgesetz in der Fassung der Bekanntmachung vom 23. Januar 2003 (BGBl. I S. 102), zuletzt
geändert durch Artikel 24 des Gesetzes vom 25.06.2021 (BGBl. I S. 2154). Nach Art. 3 Abs. 1 GG sind alle Menschen
vor dem Gesetz gleich. Im Jahr 2024 wurden 12000 Anträge gestellt, davon 1.250 im Haushaltsjahr 2024/2025.
Die Gebühr beträgt 0,50 EUR je Seite, der Zuschlag 10 %. Soweit nach den §§ 17 und 18 eine Vertretung
stattfindet, gilt § 3a Abs. 2 Satz 1 Nr. 3 VwVfG ab dem 1. Januar 2025. Am Montag 3 Termine, Frist 14 Tage.
"""

PLACEHOLDER = re.compile(r"\[(?:" + "|".join(PLACEHOLDER_KINDS) + r")_\d+\]")


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.fixture
def masked() -> tuple[Pseudonymiser, str]:
    p = Pseudonymiser()
    return p, p.mask(LETTER)


# -- the case file ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("identifier", IDENTIFIERS)
def test_no_identifier_or_part_of_it_leaves_the_pc(masked: tuple[Pseudonymiser, str], identifier: str) -> None:
    _, out = masked
    assert identifier not in out


def test_no_digit_run_of_iban_or_phone_survives(masked: tuple[Pseudonymiser, str]) -> None:
    _, out = masked
    compact = digits(out)
    assert "89370400440532013000" not in compact
    assert "01711234567" not in compact
    assert "03041961" not in compact


def test_deadline_paragraph_amount_and_authority_stay(masked: tuple[Pseudonymiser, str]) -> None:
    _, out = masked
    for kept in ("15. Juli 2024", "12.03.2024", "§ 28 VwVfG", "1.250,00 EUR", "Stadt Musterstadt – Ordnungsamt",
                 "Sehr geehrte Frau [PERSON_1],", "Herr Dr. [PERSON_2]", "Az. [AKTENZEICHEN_1]", "Tel. [TELEFON_1]"):
        assert kept in out


def test_every_kind_is_found_and_numbered_in_order(masked: tuple[Pseudonymiser, str]) -> None:
    p, out = masked
    assert "Frau\n[PERSON_1]\n[ADRESSE_3]\n[ADRESSE_2]" in out  # 12345 Musterstadt: the same placeholder twice
    assert "(geb. [GEBURTSDATUM_1])" in out
    assert "IBAN [IBAN_1] erfolgen" in out
    assert "E-Mail an [EMAIL_1]." in out
    assert "; [PERSON_1] hat sich" in out  # the surname alone, once the full name is known
    assert "Im Auftrag\n[PERSON_2]" in out
    assert p.counts() == {"PERSON": 2, "ADRESSE": 3, "GEBURTSDATUM": 1, "IBAN": 1, "TELEFON": 1, "EMAIL": 1,
                          "AKTENZEICHEN": 1}


def test_counts_and_repr_hold_numbers_only(masked: tuple[Pseudonymiser, str]) -> None:
    p, _ = masked
    counts = p.counts()
    assert set(counts) == set(PLACEHOLDER_KINDS)
    assert all(type(n) is int for n in counts.values())
    assert "Beispiel" not in repr(p) and "DE89" not in repr(p)
    counts["PERSON"] = 99
    assert p.counts()["PERSON"] == 2  # a copy


def test_placeholders_are_consistent_across_texts_of_one_request(masked: tuple[Pseudonymiser, str]) -> None:
    p, _ = masked
    question = p.mask("Was soll ich Frau Beispiel (Tel. 0171/1234567, IBAN DE89370400440532013000) antworten? "
                      "Sie ist am 3. April 1961 geboren und wohnt Lindenstraße 4. Und Herr Klaus Brandt?")
    assert question == ("Was soll ich Frau [PERSON_1] (Tel. [TELEFON_1], IBAN [IBAN_1]) antworten? Sie ist am "
                        "[GEBURTSDATUM_1] geboren und wohnt [ADRESSE_3]. Und Herr [PERSON_3]?")


def test_restore_gives_back_the_originals_even_with_altered_placeholders(masked: tuple[Pseudonymiser, str]) -> None:
    p, _ = masked
    answer = ("Sehr geehrte Frau [Person_1], wir erstatten 1.250,00 EUR auf [IBAN 1]. Rückfragen: [ telefon_1 ], "
              "[EMAIL-1]. Az.: AKTENZEICHEN_1. Unbekannt bleibt [PERSON_7] und [KUNDE_1].")
    restored = p.restore(answer)
    assert restored == ("Sehr geehrte Frau Erika Beispiel, wir erstatten 1.250,00 EUR auf DE89 3704 0044 0532 0130 00. "
                        "Rückfragen: 0171 1234567, erika.beispiel@example.org. Az.: 32.4-SN/0815/2025. "
                        "Unbekannt bleibt [PERSON_7] und [KUNDE_1].")


def test_round_trip_restores_the_whole_letter(masked: tuple[Pseudonymiser, str]) -> None:
    p, out = masked
    restored = p.restore(out)
    assert not PLACEHOLDER.search(restored)
    for original in ("Erika Beispiel", "Lindenstraße 4", "12345 Musterstadt", "03.04.1961", "0171 1234567",
                     "erika.beispiel@example.org", "32.4-SN/0815/2025", "Jonas Weber"):
        assert original in restored


# -- single detectors ------------------------------------------------------------------------------------------
def test_iban_needs_a_valid_checksum() -> None:
    p = Pseudonymiser()
    out = p.mask("Falsch: DE89 3704 0044 0532 0130 01. Richtig: AT61 1904 3002 3457 3201 und DE89370400440532013000.")
    assert "DE89 3704 0044 0532 0130 01" in out
    assert out.endswith("Richtig: [IBAN_1] und [IBAN_2].")
    assert p.counts()["IBAN"] == 2 and p.counts()["TELEFON"] == 0


def test_dates_without_birth_context_are_kept() -> None:
    text = "Bescheid vom 01.02.2024, Frist bis 15. Juli 2024, Termin am 2024-08-01.\n* 15.07.2024 Fristende"
    p = Pseudonymiser()
    assert p.mask(text) == text
    assert p.mask("Herr Jonas Weber, * 1.2.1950, geboren am 4. Mai 1960") == \
        "Herr [PERSON_1], * [GEBURTSDATUM_1], geboren am [GEBURTSDATUM_2]"


@pytest.mark.parametrize("number", ["+49 171 1234567", "0171 1234567", "030/12345-67", "(030) 123 45 67",
                                    "+49 (0) 30 1234567", "0049 30 1234567", "089 12345678"])
def test_german_phone_notations(number: str) -> None:
    p = Pseudonymiser()
    assert p.mask(f"Erreichbar unter {number} werktags.") == "Erreichbar unter [TELEFON_1] werktags."


def test_the_same_phone_in_another_notation_gets_the_same_placeholder() -> None:
    p = Pseudonymiser()
    assert p.mask("0171 1234567 / +49 171 1234567") == "[TELEFON_1] / [TELEFON_1]"


def test_streets_and_postcodes() -> None:
    p = Pseudonymiser()
    out = p.mask("Anschrift: Am Markt 12a, 01067 Dresden; früher Hauptstr. 5 in 60311 Frankfurt am Main, "
                 "davor Konrad-Adenauer-Straße 1 und Berliner Allee 3-5. Die Lindenstraße 4 ist neu.")
    assert out == ("Anschrift: [ADRESSE_1], [ADRESSE_2]; früher [ADRESSE_3] in [ADRESSE_4], davor [ADRESSE_5] und "
                   "[ADRESSE_6]. Die [ADRESSE_7] ist neu.")


def test_file_numbers_with_and_without_label() -> None:
    p = Pseudonymiser()
    out = p.mask("Gz.: 50.2-WoG-2024/0815, Aktenzeichen: 1/2025, vgl. BB-32.1/2024; später nur 1/2025.")
    assert out == "Gz.: [AKTENZEICHEN_1], Aktenzeichen: [AKTENZEICHEN_2], vgl. [AKTENZEICHEN_3]; später nur " \
                  "[AKTENZEICHEN_2]."


def test_names_after_salutations_and_roles() -> None:
    p = Pseudonymiser()
    out = p.mask("Antragstellerin Sabine Korte. Herrn Müller bitte informieren. Frau Bürgermeisterin Anna Roth. "
                 "Später rief Frau Korte an; Kortes Antrag liegt vor. Herr Müller auch.")
    assert out == ("Antragstellerin [PERSON_1]. Herrn [PERSON_2] bitte informieren. Frau Bürgermeisterin [PERSON_3]. "
                   "Später rief Frau [PERSON_1] an; [PERSON_1]s Antrag liegt vor. Herr [PERSON_2] auch.")


def test_names_without_salutation_are_masked_only_when_known() -> None:
    text = "Sabine Korte rief an. Korte bat um Rückruf."
    assert Pseudonymiser().mask(text) == text
    p = Pseudonymiser(known_names=["Sabine Korte"])
    assert p.mask(text) == "[PERSON_1] rief an. [PERSON_1] bat um Rückruf."
    assert p.restore("[PERSON_1] erhält eine Antwort.") == "Sabine Korte erhält eine Antwort."


def test_surname_that_is_a_word_stays_after_an_article() -> None:
    p = Pseudonymiser(known_names=["Erika Beispiel"])
    assert p.mask("Zum Beispiel hat Beispiel zum Beispiel geschrieben.") == \
        "Zum Beispiel hat [PERSON_1] zum Beispiel geschrieben."


def test_authorities_weekdays_and_sentence_starts_are_not_names() -> None:
    text = ("Die Stadt Musterstadt, Ordnungsamt, teilt mit: Montag ist das Bürgeramt geschlossen. "
            "Sehr geehrte Damen und Herren, Beteiligte können Akteneinsicht verlangen.")
    p = Pseudonymiser()
    assert p.mask(text) == text


def test_no_false_positives_in_law_text() -> None:
    p = Pseudonymiser()
    assert p.mask(LAW) == LAW
    assert sum(p.counts().values()) == 0


def test_masking_is_deterministic_and_idempotent(masked: tuple[Pseudonymiser, str]) -> None:
    p, out = masked
    again = Pseudonymiser()
    assert again.mask(LETTER) == out
    assert p.mask(out) == out  # placeholders are not masked again
