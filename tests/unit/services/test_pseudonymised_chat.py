"""Streaming restoration of placeholders (`restore_stream`) and the per-run `Masking`.

The property: however a model's answer is cut into pieces, the streamed result is exactly
`pseudonymiser.restore(whole_answer)` – nothing lost, nothing doubled, placeholders split across pieces restored –
and text that only looks like the start of a placeholder ("[Frist eintragen]", "[1]") is passed on, not held."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from app.core.llm import ChatMessage
from app.core.pseudonymise import Pseudonymiser
from app.services.pseudonymised_chat import HOLD_BACK, Masking, restore_stream

SOURCE = ("Antrag von Frau Sabine Korte, geb. 12.03.1961, wohnhaft Lindenstraße 4, 12345 Musterstadt. "
          "Erstattung auf IBAN DE89 3704 0044 0532 0130 00. Rückfragen unter Tel. 0171 1234567 oder an "
          "sabine.korte@example.de. Az. 32.4-SN/0815/2025. Herr Jonas Weber bearbeitet den Antrag.")
ORIGINALS = ["Sabine Korte", "12.03.1961", "Lindenstraße 4", "12345 Musterstadt", "DE89 3704 0044 0532 0130 00",
             "0171 1234567", "sabine.korte@example.de", "32.4-SN/0815/2025", "Jonas Weber"]

ANSWERS = [
    "[PERSON_1] wohnt in [ADRESSE_1], [ADRESSE_2] [1].",
    "[PERSON_1]",  # nothing but a placeholder
    "PERSON_1",  # bare, at start and end
    "Sehr geehrte Frau [PERSON_1],\n\nIhr Antrag ([AKTENZEICHEN_1]) vom 04.03.2025 ist eingegangen [1][2].",
    "[PERSON_1][PERSON_2][IBAN_1][TELEFON_1][EMAIL_1]",  # adjacent
    "[Person 1] und [ person - 2 ] sowie [person_1] und Person_2 und PERSON 1 [GEBURTSDATUM_1]",  # variants
    "Bitte bis [Frist eintragen] melden [1]. Siehe [3], [12] und [A] sowie [AB] oder [ADRE] ohne Ende",
    "xPERSON_1 PERSON_1x [PERSON_1 x PERSON_12345 [PERSON_9] PERSON_1] [[PERSON_1]] ]PERSON_1[ A",
    "Die Perspektive der PERSONALSTELLE: Personen, Adressen und E-Mails bleiben, [IBAN_1] nicht.",
    "Telefon: [TELEFON_1]; E-Mail: [EMAIL_1]; Az.: [AKTENZEICHEN_1]; geb. [GEBURTSDATUM_1]; [ADRESSE_1]",
    "Ende mit offenem Anfang [PERS",
    "Ende mit offenem Anfang PERSON_",
    "Ende mit Platzhalter [PERSON_2]",
    "Umlaute: Grüße an [PERSON_2] – „[PERSON_1]“ … ß [EMAIL_1]!",
    "",
]


def pseudonymiser() -> Pseudonymiser:
    p = Pseudonymiser()
    masked = p.mask(SOURCE)
    assert not any(o in masked for o in ORIGINALS), masked
    return p


def random_split(text: str, rng: random.Random) -> list[str]:
    if len(text) < 2:
        return [text]
    n = rng.randint(0, min(len(text) - 1, 12))
    cuts = sorted(rng.sample(range(1, len(text)), n))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    if rng.random() < 0.2:
        pieces.insert(rng.randint(0, len(pieces)), "")  # empty pieces happen too
    return pieces


@pytest.mark.parametrize("answer", ANSWERS)
def test_random_splits_give_exactly_the_restored_whole(answer: str) -> None:
    p = pseudonymiser()
    expected = p.restore(answer)
    rng = random.Random(sum(map(ord, answer)))  # seeded: the same splits on every run
    for _ in range(400):
        pieces = random_split(answer, rng)
        assert "".join(restore_stream(pieces, p)) == expected, pieces
    # and one character at a time
    assert "".join(restore_stream(list(answer), p)) == expected


def test_random_answers_built_from_placeholders_and_noise() -> None:
    p = pseudonymiser()
    tokens = ["[PERSON_1]", "[PERSON_2]", "[ADRESSE_1]", "[IBAN_1]", "PERSON_1", "[Person 2]", "[1]", "[Frist]",
              " ", "\n", ", ", "Antrag", "[", "]", "_", "PER", "Person", "x", "1", "[ADRESSE", "– ", "ä"]
    rng = random.Random(7)
    for _ in range(1500):
        answer = "".join(rng.choice(tokens) for _ in range(rng.randint(1, 25)))
        pieces = random_split(answer, rng)
        assert "".join(restore_stream(pieces, p)) == p.restore(answer), pieces


def test_the_restored_answer_contains_the_originals() -> None:
    p = pseudonymiser()
    answer = ("Frau [PERSON_1] (geb. [GEBURTSDATUM_1]), [ADRESSE_1], [ADRESSE_2], IBAN [IBAN_1], Tel. [TELEFON_1], "
              "[EMAIL_1], Az. [AKTENZEICHEN_1], Sachbearbeiter [PERSON_2]")
    restored = "".join(restore_stream([answer[i:i + 3] for i in range(0, len(answer), 3)], p))
    for original in ORIGINALS:
        assert original in restored
    assert "[" not in restored


def test_hold_back_is_bounded_and_false_alarms_pass_on() -> None:
    """Text is passed on while the stream is still running: at any moment at most HOLD_BACK characters of what
    the model sent are held, and "[Frist eintragen]" or "[1]" are not held at all once they are complete."""
    p = pseudonymiser()
    answer = ("Bitte reichen Sie die Unterlagen bis [Frist eintragen] ein [1]. Rückfragen beantwortet [PERSON_2] "
              "gern, Zimmer [A] 12, Akte [ADRE] – siehe auch [2], [3] und Personalien. " * 3)
    consumed: list[str] = []

    def source() -> Iterator[str]:
        for i in range(0, len(answer), 2):
            consumed.append(answer[i:i + 2])
            yield answer[i:i + 2]

    emitted = ""
    for out in restore_stream(source(), p):
        emitted += out
        sent = "".join(consumed)
        # what is still held is a tail of what was sent, and short
        assert len(p.restore(sent)) - len(emitted) <= HOLD_BACK
        if sent.endswith(("[Frist eintragen]", "[1]")):
            assert emitted == p.restore(sent)
    assert emitted == p.restore(answer)


def test_stopping_early_closes_the_model_stream() -> None:
    p = pseudonymiser()
    closed: list[bool] = []

    def source() -> Iterator[str]:
        try:
            while True:
                yield "Text [PERSON_1] "
        finally:
            closed.append(True)

    stream = restore_stream(source(), p)
    assert next(stream).startswith("Text Sabine Korte")
    stream.close()
    assert closed == [True]


def test_masking_keeps_one_mapping_across_calls_and_counts_numbers_only() -> None:
    masking = Masking()
    first = masking.mask_messages([ChatMessage("system", "Du bist ein Assistent."),
                                   ChatMessage("user", "Frau Sabine Korte, Tel. 0171 1234567, schreibt.")])
    second = masking.mask_messages([ChatMessage("user", "Notiz: Frau Korte rief an (Tel. 0171 1234567). "
                                                        "Herr Jonas Weber antwortet.")])
    assert [m.role for m in first] == ["system", "user"] and first[0].content == "Du bist ein Assistent."
    assert "[PERSON_1]" in first[1].content and "[TELEFON_1]" in first[1].content
    assert "[PERSON_1]" in second[0].content and "[TELEFON_1]" in second[0].content  # same placeholders
    assert "[PERSON_2]" in second[0].content
    texts = first[1].content + second[0].content
    assert "Korte" not in texts and "1234567" not in texts and "Weber" not in texts
    assert masking.counts()["PERSON"] == 2 and masking.counts()["TELEFON"] == 1 and masking.total == 3
    assert "Korte" not in repr(masking)
    assert masking.restore("[PERSON_1] und [PERSON_2]") == "Sabine Korte und Jonas Weber"
    assert "".join(masking.restore_stream(["[PERS", "ON_2", "] ruft [PERSON_1", "] an"])) == \
        "Jonas Weber ruft Sabine Korte an"


def test_masking_known_names_are_taken_until_the_first_text_is_masked() -> None:
    masking = Masking(["Sabine Korte"])
    masking.add_known_names(["Erika Beispielhaft"])
    assert masking.counts()["PERSON"] == 0
    masked = masking.mask("Sabine Korte und Erika Beispielhaft rufen an.")  # no salutation: only known names
    assert "Sabine" not in masked and "Beispielhaft" not in masked
    masking.add_known_names(["Jonas Weber"])  # too late for this run: the mapping does not change
    assert "Jonas Weber" in masking.mask("Jonas Weber antwortet.")
