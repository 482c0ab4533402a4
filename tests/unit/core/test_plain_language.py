"""The plain-language check: long sentences, passive voice, long compounds, several statements, foreign words."""

from __future__ import annotations

import pytest

from app.core.plain_language import PlainLanguageRules, check, instructions_de, summary_de

COMPLIANT = ("Wir haben Ihren Antrag bekommen. Wir prüfen ihn jetzt. Bitte schicken Sie uns noch Ihre "
             "Lohn-Abrechnung. Das ist wichtig. Bitte schicken Sie die Unterlagen bis [Frist eintragen].")
LONG = ("Im Rahmen der Prüfung Ihres Antrags auf Bewilligung von Leistungen zur Sicherung des Lebensunterhalts haben "
        "wir festgestellt dass noch Unterlagen fehlen und bitten Sie daher diese nachzureichen.")


def rules_of(text: str, rules: PlainLanguageRules | None = None) -> list[str]:
    return [f.rule for f in check(text, rules)]


def test_a_compliant_text_has_no_findings() -> None:
    assert check(COMPLIANT) == []
    assert summary_de([]) == "Keine Hinweise – der Text erfüllt die Regeln."


def test_a_long_sentence_is_flagged_with_its_span_and_word_count() -> None:
    text = "Wir haben Ihren Brief bekommen. " + LONG
    findings = [f for f in check(text) if f.rule == "sentence_length"]
    assert len(findings) == 1
    f = findings[0]
    assert text[f.start:f.end] == f.text == LONG and f.sentence_index == 1
    assert len(LONG.split()) == 27 and "Satz mit 27 Wörtern" in f.message_de and "höchstens 15" in f.message_de


@pytest.mark.parametrize("text, part", [
    ("Ihr Antrag wird von uns geprüft.", "wird von uns geprüft"),
    ("Die Unterlagen wurden nicht eingereicht.", "wurden nicht eingereicht"),
    ("Der Bescheid wird Ihnen zugestellt.", "wird Ihnen zugestellt"),
    ("Die Daten werden gespeichert.", "werden gespeichert"),
    ("Der Antrag wurde abgelehnt.", "wurde abgelehnt"),
])
def test_passive_voice_is_flagged(text: str, part: str) -> None:
    findings = [f for f in check(text) if f.rule == "passive_voice"]
    assert [f.text for f in findings] == [part]
    assert text[findings[0].start:findings[0].end] == part


@pytest.mark.parametrize("text", [
    "Wir prüfen Ihren Antrag.",
    "Wir werden Ihren Antrag prüfen.",
    "Das Amt wird Ihnen helfen.",
    "Sie würden uns helfen.",
])
def test_active_voice_and_future_tense_are_not_passive(text: str) -> None:
    assert "passive_voice" not in rules_of(text)


def test_long_compound_flagged_unless_hyphenated() -> None:
    assert rules_of("Bitte senden Sie die Mitwirkungsaufforderung zurück.") == ["long_compound"]
    assert rules_of("Bitte senden Sie die Mitwirkungs-Aufforderung zurück.") == []


def test_foreign_word_flagged() -> None:
    findings = check("Wir brauchen Ihr Feedback bis Montag.")
    assert [(f.rule, f.text) for f in findings] == [("foreign_word", "Feedback")]


def test_several_statements_in_one_sentence_flagged() -> None:
    text = "Wir können nicht entscheiden, weil Unterlagen fehlen, die Sie uns schicken müssen."
    assert "one_statement" in rules_of(text)
    assert "one_statement" not in rules_of("Wir können nicht entscheiden. Es fehlen Unterlagen.")


def test_placeholders_salutation_and_numbers_do_not_cause_findings() -> None:
    text = ("Sehr geehrte Frau Korte, bitte melden Sie sich bis [Frist für die Stellungnahme eintragen]. "
            "Es geht um § 28. Mit freundlichen Grüßen")
    assert check(text) == []


def test_buergernah_is_more_lenient_than_leicht() -> None:
    nineteen = ("Bitte schicken Sie uns die Lohn-Abrechnungen der letzten drei Monate und den neuen Miet-Vertrag "
                "bis Ende dieses Monats zurück.")
    assert len(nineteen.split()) == 19  # between the limits: 15 (leicht) and 20 (bürgernah)
    assert "sentence_length" in rules_of(nineteen, PlainLanguageRules.leicht())
    assert "sentence_length" not in rules_of(nineteen, PlainLanguageRules.buergernah())
    one_clause = "Wir entscheiden, sobald die Unterlagen da sind."
    assert "one_statement" in rules_of(one_clause, PlainLanguageRules.leicht())
    assert "one_statement" not in rules_of(one_clause, PlainLanguageRules.buergernah())


def test_summary_and_instructions_name_the_problems() -> None:
    findings = check("Ihr Antrag wird von uns geprüft. Wir brauchen Ihr Feedback. " + LONG)
    summary = summary_de(findings)
    assert summary.startswith(f"{len(findings)} Hinweise:") and "Passiv" in summary and "Fremdwort" in summary
    text = instructions_de(findings)
    assert "Schreibe „wird von uns geprüft“ aktiv" in text and "Ersetze das Fremdwort „Feedback“" in text
    assert "Teile den Satz" in text
