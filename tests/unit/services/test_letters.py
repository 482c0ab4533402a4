"""LetterService with a scripted model: letter types from resource files, placeholders for missing facts, invented
facts replaced, frame parts never from the model, the Leichte-Sprache refine loop, admin types and text blocks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from app.core.documents import Chunk, FileRecord, FileStatus
from app.core.errors import AktenlotseError
from app.core.letters import LetterRequest, LetterStyle, open_placeholders
from app.core.llm import ChatMessage, GenerationParams
from app.core.progress import CancelToken
from app.services.letters import LetterConfig, LetterService, enforce_facts, load_letter_type, strip_frame
from app.services.model_service import ModelService
from tests.gui.fakes import FakeLanguageModel

CASE = ("Frau Sabine Korte beantragte am 04.03.2025 eine Sondernutzungserlaubnis für 24 m² vor dem Haus "
        "Marktplatz 7. Die Straßenverkehrsbehörde verlangt eine Restgehwegbreite von 2,00 m.")


class Library:
    def statuses(self):
        return [FileRecord("/akte/antrag.md", 1, 1, "h", FileStatus.INDEXED, chunk_ids=("c1",))]

    def chunks(self, path):
        return [Chunk("c1", "d", path, CASE, 0, 0, len(CASE), heading_path=("Antrag",))]

    read_chunks = chunks

    def document_text(self, path):
        return CASE


class Scripted(FakeLanguageModel):
    def __init__(self, *replies: str) -> None:
        super().__init__()
        self.replies = list(replies)
        self.calls: list[str] = []

    def stream_chat(self, messages: Sequence[ChatMessage], params: GenerationParams, cancel: CancelToken
                    ) -> Iterator[str]:
        self.calls.append(messages[-1].content)
        text = self.replies.pop(0) if self.replies else "Danke."
        for word in text.split(" "):
            cancel.raise_if_cancelled()
            yield word + " "


def service(model: Scripted, **config) -> LetterService:
    models = ModelService(model)
    list(models.load())
    return LetterService(Library(), models, None, LetterConfig(**config))


def run(gen):
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return events, stop.value


FIELDS = {"empfaenger": "Café Lindenblüte GmbH\nFrau Sabine Korte\nMarktplatz 7\n12345 Musterstadt",
          "aktenzeichen": "32.4-SN/0815/2025", "sachbearbeiter": "Jonas Weber", "datum": "25.11.2026"}


def test_builtin_letter_types_load_with_fields_and_legal_basis() -> None:
    types = {t.key: t for t in service(Scripted()).letter_types()}
    assert list(types) == ["eingangsbestaetigung", "anhoerung", "nachforderung", "buergeranfrage", "bescheid", "frei"]
    assert types["anhoerung"].legal_basis == "§ 28 VwVfG / § 24 SGB X"
    assert types["nachforderung"].legal_basis == "§§ 60, 66 SGB I"
    assert types["bescheid"].text_blocks == ("rechtsbehelfsbelehrung",)
    assert types["frei"].field("betreff") is not None and types["frei"].field("betreff").required


def test_missing_frist_stays_a_placeholder_and_frame_comes_from_fields() -> None:
    body = "Sehr geehrte Frau Korte,\n\nwir beabsichtigen, Ihren Antrag vom 04.03.2025 abzulehnen.\n\nMit freundlichen Grüßen\nX"
    model = Scripted(body)
    events, draft = run(service(model).draft(LetterRequest("anhoerung", dict(FIELDS), "Ablehnung, Gehweg zu schmal",
                                                           ("/akte/antrag.md",))))
    assert draft.subject == "Anhörung vor Erlass eines Bescheides – Aktenzeichen 32.4-SN/0815/2025"
    assert draft.recipient_lines[0] == "Café Lindenblüte GmbH" and len(draft.recipient_lines) == 4
    assert ("Aktenzeichen", "32.4-SN/0815/2025") in draft.info and ("Datum", "25.11.2026") in draft.info
    assert draft.signature == ("Im Auftrag", "Jonas Weber")
    assert not draft.body.startswith("Sehr geehrte") and "Mit freundlichen Grüßen" not in draft.body
    assert "04.03.2025" in draft.body  # a fact from the case document stays
    assert "[Frist eintragen]" in draft.body and draft.placeholders == ["[Frist eintragen]"]
    assert "".join(e for e in events if isinstance(e, str)).strip() == body.strip()
    assert "Unterlagen der Akte" in model.calls[0] and CASE in model.calls[0]


def test_invented_facts_are_replaced_by_placeholders_and_listed() -> None:
    body = ("Für die Erlaubnis wird eine Gebühr von 480,00 Euro erhoben. Bitte zahlen Sie bis zum 15.04.2025 auf "
            "das Konto mit dem Aktenzeichen 99-XY/123. Rechtsgrundlage ist § 18 StrWG. Die Fläche beträgt 24 m².")
    draft = run(service(Scripted(body)).draft(LetterRequest("frei", {**FIELDS, "betreff": "Gebühr"}, "",
                                                            ("/akte/antrag.md",))))[1]
    assert draft.replaced_facts == ["480,00 Euro", "15.04.2025", "Aktenzeichen 99-XY/123", "§ 18"]
    assert "[Betrag eintragen]" in draft.body and "[Datum eintragen]" in draft.body
    assert "[Vorschrift prüfen]" in draft.body and "24 m²" in draft.body  # 24 is in the case document
    assert set(draft.placeholders) >= {"[Betrag eintragen]", "[Datum eintragen]", "[Vorschrift prüfen]"}


def test_facts_from_instructions_and_fields_are_kept() -> None:
    body = "Bitte reichen Sie die Nachweise bis zum 11.04.2025 ein. Die Gebühr beträgt 60,00 Euro."
    draft = run(service(Scripted(body)).draft(LetterRequest(
        "nachforderung", {**FIELDS, "frist": "11.04.2025"}, "Verwaltungsgebühr 60,00 Euro erwähnen")))[1]
    assert draft.replaced_facts == [] and "11.04.2025" in draft.body and "60,00 Euro" in draft.body
    assert "[Frist eintragen]" not in draft.body  # the type's fixed paragraph got the field


def test_bescheid_gets_the_text_block_verbatim_and_admin_blocks_override(tmp_path: Path) -> None:
    draft = run(service(Scripted("1. Die Erlaubnis wird erteilt.\n\nBegründung:\nDer Antrag ist zulässig."))
                .draft(LetterRequest("bescheid", dict(FIELDS))))[1]
    assert draft.body.rstrip().endswith("zu erheben.") and "Rechtsbehelfsbelehrung:" in draft.body
    blocks = tmp_path / "bausteine"
    blocks.mkdir()
    (blocks / "rechtsbehelfsbelehrung.txt").write_text("Rechtsbehelfsbelehrung: Klage beim VG Musterstadt.",
                                                       encoding="utf-8")
    draft = run(service(Scripted("1. Die Erlaubnis wird erteilt."), admin_blocks_dir=blocks)
                .draft(LetterRequest("bescheid", dict(FIELDS))))[1]
    assert draft.body.endswith("Rechtsbehelfsbelehrung: Klage beim VG Musterstadt.")


def test_admin_letter_type_is_added_and_a_broken_one_reported(tmp_path: Path) -> None:
    (tmp_path / "hund.toml").write_text('key = "hundesteuer"\nname = "Hundesteuer-Anmeldung bestätigen"\n'
                                        'subject = "Hundesteuer – {aktenzeichen}"\n', encoding="utf-8")
    (tmp_path / "kaputt.toml").write_text("key = \n", encoding="utf-8")
    svc = service(Scripted(), admin_types_dir=tmp_path)
    types = {t.key: t for t in svc.letter_types()}
    assert types["hundesteuer"].source == "Verwaltung" and "anhoerung" in types
    assert any("kaputt.toml" in p for p in svc.problems)
    with pytest.raises(AktenlotseError):
        load_letter_type(tmp_path / "kaputt.toml")
    with pytest.raises(AktenlotseError):
        svc.letter_type("gibtsnicht")


def test_leichte_sprache_runs_check_and_refine_until_the_text_passes() -> None:
    hard = ("Ihr Antrag wird von uns geprüft, nachdem die fehlenden Unterlagen, die wir Ihnen bereits genannt haben, "
            "bei uns eingegangen sind und die Prüfung der Mitwirkungsaufforderung abgeschlossen wurde.")
    easy = "Wir prüfen Ihren Antrag. Vorher brauchen wir noch Unterlagen. Bitte schicken Sie uns die Unterlagen."
    model = Scripted(hard, easy)
    events, draft = run(service(model).draft(LetterRequest("frei", {**FIELDS, "betreff": "Antrag"}, "",
                                                           style=LetterStyle.LEICHT)))
    assert draft.refine_rounds == 1 and len(model.calls) == 2
    assert "Überarbeite" in model.calls[1] and hard in model.calls[1]
    assert draft.body.startswith("Wir prüfen Ihren Antrag.") and draft.plain_findings == []
    assert any("Verständlichkeit" in getattr(e, "message", "") for e in events)


def test_leichte_sprache_findings_that_remain_are_kept_for_the_caseworker() -> None:
    hard = "Ihr Antrag wird von uns geprüft, weil die Unterlagen, die Sie geschickt haben, unvollständig sind."
    draft = run(service(Scripted(hard, hard, hard)).draft(
        LetterRequest("frei", {**FIELDS, "betreff": "Antrag"}, "", style=LetterStyle.LEICHT)))[1]
    assert draft.refine_rounds == 2
    rules = {f.rule for f in draft.plain_findings}
    assert "passive_voice" in rules
    assert all(draft.body[f.start:f.end] == f.text for f in draft.plain_findings)


def test_recheck_after_editing_updates_placeholders_and_findings() -> None:
    svc = service(Scripted("Bitte melden Sie sich bis [Frist eintragen]."))
    draft = run(svc.draft(LetterRequest("frei", {**FIELDS, "betreff": "Rückfrage"}, "",
                                        style=LetterStyle.BUERGERNAH)))[1]
    assert "[Frist eintragen]" in draft.placeholders
    edited = svc.recheck(draft, "Bitte melden Sie sich bis zum 30.11.2026.")
    assert edited.placeholders == [] and edited.id == draft.id and edited.body.endswith("30.11.2026.")


def test_pure_helpers() -> None:
    assert strip_frame("Betreff: X\nSehr geehrte Damen und Herren,\n\nText.\n\nMit freundlichen Grüßen\nWeber") == "Text."
    body, replaced = enforce_facts("Frist: 01.02.2025, Betrag 5,00 €.", "Betrag 5,00 Euro")
    assert body == "Frist: [Datum eintragen], Betrag 5,00 €." and replaced == ["01.02.2025"]
    assert open_placeholders("a [Frist eintragen] b [Betrag eintragen] [Frist eintragen]") == [
        "[Frist eintragen]", "[Betrag eintragen]"]
