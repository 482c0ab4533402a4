"""The plain-language check: long sentences, passive voice, long compounds, several statements, foreign words."""

from __future__ import annotations

import pytest

from app.core.plain_language import (
    FOREIGN_WORDS,
    Finding,
    PlainLanguageRules,
    check,
    instructions_de,
    summary_de,
)

COMPLIANT = ("Wir haben Ihren Antrag bekommen. Wir prüfen ihn jetzt. Bitte schicken Sie uns noch Ihre "
             "Lohn-Abrechnung. Das ist wichtig.")
# 29 words, one subordinate clause – a typical Behördensatz
LONG = ("Im Rahmen der Prüfung Ihres Antrags auf Leistungen zur Sicherung des Lebensunterhalts vom 12.03.2025 haben "
        "wir festgestellt, dass für die abschließende Entscheidung noch mehrere Nachweise über Ihr Einkommen fehlen.")


def rules_of(text: str, rules: PlainLanguageRules | None = None) -> list[str]:
    return [f.rule for f in check(text, rules)]


def only(text: str, rule: str, rules: PlainLanguageRules | None = None) -> list[Finding]:
    return [f for f in check(text, rules) if f.rule == rule]


def assert_offsets(text: str, findings: list[Finding]) -> None:
    assert all(text[f.start:f.end] == f.text for f in findings)
    assert findings == sorted(findings, key=lambda f: (f.start, -f.end))


def test_a_compliant_leichte_sprache_text_has_no_findings() -> None:
    assert check(COMPLIANT) == []
    assert check(COMPLIANT, PlainLanguageRules.buergernah()) == []
    assert summary_de([]) == "Keine Hinweise – der Text erfüllt die Regeln."
    assert instructions_de([]) == ""


def test_a_long_sentence_is_flagged_with_its_span_and_word_count() -> None:
    text = "Wir haben Ihren Brief bekommen.\n\n" + LONG + " Bitte schicken Sie uns die Nachweise."
    findings = only(text, "sentence_length")
    assert len(findings) == 1
    f = findings[0]
    assert f.text == LONG and text[f.start:f.end] == LONG and f.start == text.index("Im Rahmen")
    assert f.sentence_index == 1
    assert f.message_de == "Satz mit 29 Wörtern – höchstens 15 Wörter pro Satz."


@pytest.mark.parametrize("text, span, message", [
    ("Ihr Antrag wird von uns geprüft.", "wird von uns geprüft", "Passiv: „wird … geprüft“ – besser aktiv: Wer prüft?"),
    ("Die Unterlagen wurden nicht eingereicht.", "wurden nicht eingereicht",
     "Passiv: „wurden … eingereicht“ – besser aktiv: Wer reicht … ein?"),
    ("Der Antrag ist abgelehnt worden.", "abgelehnt worden", "Passiv: „abgelehnt worden“ – besser aktiv: Wer lehnt … ab?"),
    ("Der Antrag muss noch geprüft werden.", "geprüft werden", "Passiv: „geprüft werden“ – besser aktiv: Wer prüft?"),
    ("Wir teilen Ihnen mit, dass Ihr Antrag bewilligt wurde.", "bewilligt wurde",
     "Passiv: „bewilligt wurde“ – besser aktiv: Wer bewilligt?"),
    ("Sie werden gebeten, die Unterlagen einzureichen.", "werden gebeten",
     "Passiv: „werden gebeten“ – besser aktiv: Wer tut das?"),
    ("Das Geld wird Ihnen überwiesen.", "wird Ihnen überwiesen", None),
    ("Der Bescheid wurde Ihnen bereits zugestellt.", "wurde Ihnen bereits zugestellt", None),
    ("Die Leistung würde dann gekürzt.", "würde dann gekürzt", None),
])
def test_passive_voice_is_flagged_with_the_verb_span(text: str, span: str, message: str | None) -> None:
    findings = only(text, "passive_voice")
    assert [f.text for f in findings] == [span]
    assert text[findings[0].start:findings[0].end] == span
    if message:
        assert findings[0].message_de == message


@pytest.mark.parametrize("text", [
    "Wir prüfen Ihren Antrag.",
    "Wir werden Ihren Antrag prüfen.",  # future tense
    "Wir werden Ihren Antrag bearbeiten.",  # future tense of a be- verb
    "Wir werden Ihnen das Geld überweisen.",
    "Wir werden Ihnen die Leistung gewähren.",  # ge- belongs to the verb
    "Wir werden die Unterlagen abgeben.",  # ab + geben, an infinitive
    "Sie würden uns sehr helfen.",  # Konjunktiv
    "Sie werden Mitglied der Krankenkasse.",  # „werden“ as a full verb
    "Wir werden die gestellten Anträge prüfen.",  # attributive participle, future tense
    "Wir werden gegen den Bescheid vorgehen.",
    "Wir werden Ihnen die Forderung erlassen.",  # „erlassen“ after „werden“: ambiguous, left alone
    "Die Frist ist abgelaufen.",  # perfect tense (no Zustandspassiv check)
])
def test_active_voice_and_future_tense_are_not_passive(text: str) -> None:
    assert only(text, "passive_voice") == []


def test_ambiguous_participles_count_after_a_past_form_of_werden() -> None:
    assert [f.text for f in only("Der Bescheid wurde am Montag erlassen.", "passive_voice")] == [
        "wurde am Montag erlassen"]


def test_long_compound_flagged_with_a_split_suggestion_unless_hyphenated() -> None:
    text = "Bitte senden Sie die Mitwirkungsaufforderung zurück."
    (f,) = check(text)
    assert (f.rule, f.text, text[f.start:f.end]) == ("long_compound", "Mitwirkungsaufforderung", "Mitwirkungsaufforderung")
    assert f.message_de == ("Langes Wort „Mitwirkungsaufforderung“ (23 Buchstaben) – besser trennen: "
                            "Mitwirkungs-Aufforderung oder umschreiben.")
    assert check("Bitte senden Sie die Mitwirkungs-Aufforderung zurück.") == []
    assert check("Bitte senden Sie die Mitwirkungs·aufforderung zurück.") == []  # Mediopunkt


def test_word_length_limit_depends_on_the_level() -> None:
    text = "Die Einkommensteuerbescheinigung fehlt."  # 28 letters
    assert rules_of(text, PlainLanguageRules.leicht()) == ["long_compound"]
    assert rules_of(text, PlainLanguageRules.buergernah()) == ["long_compound"]
    text = "Die Krankenversicherungskarte fehlt."  # 25 letters: too long for leicht, fine for bürgernah
    assert rules_of(text, PlainLanguageRules.leicht()) == ["long_compound"]
    assert rules_of(text, PlainLanguageRules.buergernah()) == []


def test_foreign_words_are_flagged_also_inflected_and_as_phrases() -> None:
    text = "Das ist de facto eine Deadline für die Meetings."
    findings = check(text)
    assert [(f.rule, f.text) for f in findings] == [
        ("foreign_word", "de facto"), ("foreign_word", "Deadline"), ("foreign_word", "Meetings")]
    assert_offsets(text, findings)
    assert findings[1].message_de == "Fremdwort „Deadline“ – besser ein deutsches Wort, z. B. „Frist“."
    assert [f.text for f in check("Wir brauchen Ihr Feedback bis Montag.")] == ["Feedback"]


def test_common_words_are_not_foreign_words() -> None:
    # „in“ and „de“ are no entries of their own (only the phrases „in puncto“, „de facto“); „online“ and
    # „Formular“ are established words; „links“ is German
    assert check("Sie können das Formular online in der Stadt ausfüllen. Das Amt ist links.") == []
    assert {"compliance", "deadline", "feedback", "workflow", "checken"} <= FOREIGN_WORDS
    assert "online" not in FOREIGN_WORDS and "in" not in FOREIGN_WORDS


def test_custom_foreign_word_list_replaces_the_built_in_one() -> None:
    rules = PlainLanguageRules(foreign_words=frozenset({"formular"}))
    assert [f.text for f in check("Das Formular braucht kein Feedback.", rules)] == ["Formular"]


def test_several_subordinate_clauses_are_one_statement_findings() -> None:
    text = "Wir können nicht entscheiden, weil Sie uns nicht mitgeteilt haben, dass Sie umgezogen sind."
    (f,) = only(text, "one_statement")
    assert f.text == text and (f.start, f.end) == (0, len(text))
    assert "„weil“, „dass“" in f.message_de and f.message_de.endswith("besser ein Satz pro Aussage.")
    assert only("Wir können nicht entscheiden. Es fehlen Unterlagen.", "one_statement") == []


def test_relative_clause_counts_but_a_list_after_a_comma_does_not() -> None:
    assert only("Es fehlen Unterlagen, weil die Nachweise, die Sie geschickt haben, alt sind.", "one_statement")
    assert only("Bitte bringen Sie den Ausweis, die Lohn-Abrechnung und den Miet-Vertrag mit.", "one_statement") == []


def test_two_main_clauses_are_flagged_in_leicht_only() -> None:
    text = "Wir haben den Antrag geprüft, und wir zahlen das Geld im Mai."
    assert rules_of(text, PlainLanguageRules.leicht()) == ["one_statement"]
    assert rules_of(text, PlainLanguageRules.buergernah()) == []
    assert rules_of("Wir haben den Antrag geprüft; wir zahlen im Mai.") == ["one_statement"]


def test_buergernah_is_more_lenient_than_leicht() -> None:
    eighteen = ("Bitte schicken Sie uns die Lohn-Abrechnungen der letzten drei Monate und den neuen Miet-Vertrag "
                "bis Ende des Monats.")
    assert len(eighteen.split()) == 18
    (f,) = only(eighteen, "sentence_length", PlainLanguageRules.leicht())
    assert f.message_de == "Satz mit 18 Wörtern – höchstens 15 Wörter pro Satz."
    assert rules_of(eighteen, PlainLanguageRules.buergernah()) == []
    two_clauses = "Wir zahlen, sobald wir wissen, dass Sie noch hier wohnen."
    assert rules_of(two_clauses, PlainLanguageRules.leicht()) == ["one_statement"]
    assert rules_of(two_clauses, PlainLanguageRules.buergernah()) == []
    assert PlainLanguageRules.buergernah().level == "buergernah" and PlainLanguageRules.leicht().level == "leicht"
    assert PlainLanguageRules.leicht() == PlainLanguageRules()


def test_placeholders_count_as_one_word_and_are_never_findings() -> None:
    text = "Bitte schicken Sie uns die Unterlagen bis [Frist für die Einreichung der Mitwirkungsaufforderungsbelege]."
    assert check(text) == []
    fifteen = "Bitte schicken Sie uns die Lohn-Abrechnung und den Miet-Vertrag bis spätestens zum [Datum. Bitte eintragen]."
    assert check(fifteen) == []  # 15 words with the placeholder as one; its full stop does not end the sentence


def test_salutation_closing_paragraph_references_numbers_and_addresses_are_ignored() -> None:
    text = ("Sehr geehrte Frau Korte,\n\nbitte melden Sie sich bis zum 30.11.2026. Es geht um § 28 Abs. 1 SGB X. "
            "Schreiben Sie an info@stadt-musterhausen.de oder www.stadt-musterhausen.de/wohngeldantragsformulare.\n\n"
            "Mit freundlichen Grüßen\nIm Auftrag\nSachgebietsleiterinnenvertretung Weber")
    assert check(text) == []


def test_offsets_and_sentence_indexes_match_the_text() -> None:
    text = "Sehr geehrter Herr Weber,\n\n" + COMPLIANT + "\n\nIhr Antrag wird geprüft. Wir brauchen Feedback. " + LONG
    findings = check(text)
    assert_offsets(text, findings)
    assert {f.rule for f in findings} == {"passive_voice", "foreign_word", "sentence_length", "nominal_style"}
    passive = only(text, "passive_voice")[0]
    assert passive.text == "wird geprüft" and text[passive.start - 11:passive.start] == "Ihr Antrag "
    assert passive.sentence_index < only(text, "foreign_word")[0].sentence_index


def test_nominal_style_flags_many_ung_nouns() -> None:
    text = "Die Prüfung der Bewilligung der Leistung erfolgt nach Vorlage der Bescheinigung."
    (f,) = only(text, "nominal_style")
    assert f.text == text and "„Prüfung“" in f.message_de
    assert only(text, "nominal_style", PlainLanguageRules(max_nominal=0)) == []


def test_summary_counts_the_findings_by_rule() -> None:
    findings = check("Ihr Antrag wird von uns geprüft. Die Mitwirkungsaufforderung fehlt. " + LONG)
    assert summary_de(findings) == "4 Hinweise: 1 × zu langer Satz, 1 × Passiv, 1 × langes Wort, 1 × Nominalstil"
    assert summary_de(check("Wir brauchen Ihr Feedback.")) == "1 Hinweis: 1 × Fremdwort"
    assert summary_de(check("Wir brauchen Ihr Feedback zum Meeting.")) == "2 Hinweise: 2 × Fremdwörter"


def test_instructions_name_the_concrete_places_to_fix() -> None:
    findings = check("Ihr Antrag wird von uns geprüft. Wir brauchen Ihr Feedback. Die Mitwirkungsaufforderung "
                     "fehlt. " + LONG)
    lines = instructions_de(findings).splitlines()
    assert "- Schreibe „wird von uns geprüft“ aktiv. Sage, wer es tut: Wer prüft?" in lines
    assert "- Ersetze das Fremdwort „Feedback“ durch ein deutsches Wort, z. B. „Rückmeldung“." in lines
    assert ("- Das Wort „Mitwirkungsaufforderung“ ist zu lang. Schreibe „Mitwirkungs-Aufforderung“ oder sage es mit "
            "anderen Wörtern.") in lines
    split = [line for line in lines if line.startswith("- Teile den Satz „Im Rahmen der Prüfung")]
    assert len(split) == 1 and split[0].endswith("in kurze Sätze. Jeder Satz sagt nur eine Sache.")
    assert " …“" in split[0], "a long sentence is shortened in the quote"


def test_a_sentence_too_long_with_several_statements_gets_one_instruction_and_the_limit_holds() -> None:
    text = ("Wir können nicht entscheiden, weil Sie uns nicht mitgeteilt haben, dass Sie umgezogen sind, und weil "
            "wir Ihre neue Anschrift nicht kennen.")
    findings = check(text)
    assert {f.rule for f in findings} == {"sentence_length", "one_statement"}
    assert len(instructions_de(findings).splitlines()) == 1
    many = check(" ".join(f"Wir brauchen {w}." for w in ("Feedback", "Support", "Updates", "Tickets")))
    lines = instructions_de(many, limit=2).splitlines()
    assert len(lines) == 3 and lines[-1] == "- … und 2 weitere Stellen nach denselben Regeln."
