"""The features against a recording remote model: Nachschlagen, Zusammenfassen (several model calls, one
mapping), Entwerfen (known recipient names) and the query expansion. For each: the data centre received no
original identifier, the result the caseworker sees has the originals back, and the `ai_request` audit record
says it was pseudonymised, with counts – and holds no original (content logging off)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from app.core.letters import LetterRequest, LetterStyle
from app.core.llm import ChatMessage, ModelInfo
from app.core.lookup import Scope
from app.core.summary import SummaryRequest
from app.services.letters import LetterConfig, LetterService, known_names
from app.services.lookup import LookupService
from app.services.model_service import ModelService
from app.services.query_expansion import QueryExpander
from app.services.summarize import SummarizeService, SummarySettings
from tests.unit.services import test_letters as letters_t
from tests.unit.services import test_lookup as lookup_t
from tests.unit.services import test_summarize as summary_t
from tests.unit.services.test_audit_records import RecordingAudit, leaks, run
from tests.unit.services.test_model_service_remote import (
    ENDPOINT,
    ORIGINALS,
    PLACEHOLDER,
    RecordingRemote,
)

PASSAGES = {
    1: "Frau Sabine Korte, geb. 12.03.1961, Lindenstraße 4, 12345 Musterstadt, beantragt eine Erstattung.",
    2: "Die Erstattung erfolgt auf IBAN DE89 3704 0044 0532 0130 00. Aktenzeichen 32.4-SN/0815/2025.",
    3: "Rückfragen beantwortet Frau Korte unter Tel. 0171 1234567 oder per E-Mail an sabine.korte@example.de.",
}
CORE = ["Sabine Korte", "12.03.1961", "Lindenstraße 4", "12345 Musterstadt", "DE89 3704 0044 0532 0130 00",
        "32.4-SN/0815/2025", "0171 1234567", "sabine.korte@example.de"]


class Remote(RecordingRemote):
    """The recording remote with a context length (to force the summary's map steps)."""

    def __init__(self, reply, context_length: int = 8192) -> None:
        super().__init__(reply)
        self.context_length = context_length

    @property
    def info(self) -> ModelInfo:
        return replace(super().info, context_length=self.context_length)


def placeholders_in(messages: Sequence[ChatMessage]) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(messages[-1].content)))


def ready(model: Remote, audit: RecordingAudit) -> ModelService:
    service = ModelService(model, audit=audit, pseudonymise=True)
    list(service.load())
    return service


def no_original_sent(remote: RecordingRemote, extra: Sequence[str] = ()) -> None:
    sent = remote.sent_text()
    assert remote.received, "the remote model was not asked"
    assert [o for o in [*ORIGINALS, *extra] if o in sent] == []


def test_lookup_sends_placeholders_and_answers_with_the_originals() -> None:
    def reply(messages: Sequence[ChatMessage]) -> str:
        return "Die Angaben lauten: " + ", ".join(placeholders_in(messages)) + " [1][2][3]."

    audit = RecordingAudit(records_content=False)
    remote = Remote(reply)
    library = lookup_t.FakeLibrary({1: 0.9, 2: 0.9, 3: 0.9}, texts=PASSAGES)
    lookup = LookupService(library, ready(remote, audit), audit=audit)
    events, answer = run(lookup.ask("Welche Bankverbindung hat Frau Sabine Korte?", Scope()))
    no_original_sent(remote)
    assert [o for o in CORE if o not in answer.text] == []
    assert not PLACEHOLDER.search(answer.text)
    assert "".join(e for e in events if isinstance(e, str)).strip() == answer.text  # streamed = final text
    record = audit.only("ai_request")
    assert record["pseudonymised"] is True and record["remote"] == ENDPOINT
    assert sum(record["masked"].values()) >= 7 and record["masked"]["PERSON"] == 1
    assert leaks(audit, ORIGINALS) == []


def test_lookup_with_content_logging_records_the_originals_locally_but_no_mapping() -> None:
    audit = RecordingAudit(records_content=True)
    remote = Remote(lambda messages: "Frau [PERSON_1] [1].")
    library = lookup_t.FakeLibrary({1: 0.9}, texts=PASSAGES)
    lookup = LookupService(library, ready(remote, audit), audit=audit)
    run(lookup.ask("Was beantragt Frau Sabine Korte?", Scope()))
    no_original_sent(remote)
    record = audit.only("ai_request")
    assert record["question"] == "Was beantragt Frau Sabine Korte?"  # the local log, allowed by the policy
    assert record["output_text"] == "Frau Sabine Korte [1]."
    assert "[PERSON_1]" not in str(record) and record["masked"]["PERSON"] == 1


def test_summary_uses_one_mapping_for_map_and_final_steps() -> None:
    def reply(messages: Sequence[ChatMessage]) -> str:
        user = messages[-1].content
        found = placeholders_in(messages)
        if "Schreibe jetzt die Zusammenfassung" in user:
            return "## Sachverhalt\n- Antrag von " + ", ".join(found) + " [1]\n## Beteiligte\n- Keine Angaben.\n"
        numbers = re.findall(r"^\[(\d+)\] \(", user, flags=re.MULTILINE) or ["1"]
        return "\n".join(f"- Notiz {' '.join(found)} [{n}]" for n in numbers)

    docs = {f"/akte/{i}.md": [f"{t} (Teil {i})" for t in [*PASSAGES.values(), "Herr Herbert Sommer ist Nachbar."]]
            * 2 for i in range(3)}
    audit = RecordingAudit()
    remote = Remote(reply, context_length=1024)
    svc = SummarizeService(summary_t.FakeLibrary(docs), ready(remote, audit), settings=SummarySettings(map_tokens=128),
                           audit=audit)
    _, summary = run(svc.summarize(SummaryRequest(tuple(docs))))
    assert summary.map_steps >= 2 and len(remote.received) >= 3
    no_original_sent(remote, ["Herbert Sommer", "Sommer"])
    # every call that carried Frau Korte's passage used the same placeholders for her, her birth date and address
    # (the prompts' worked example has a person and an address of its own, masked too)
    carried = [c[-1].content for c in remote.received if "beantragt eine Erstattung" in c[-1].content]
    masked_passage = {re.search(r"Frau \[PERSON_\d+\], geb\. \[GEBURTSDATUM_1\], \[ADRESSE_\d+\], \[ADRESSE_\d+\]",
                                c).group() for c in carried}
    assert len(carried) >= 2 and len(masked_passage) == 1
    assert [o for o in CORE if o not in summary.raw_text] == [] and "Herbert Sommer" in summary.raw_text
    record = audit.only("ai_request")
    # three persons: Frau Korte, Herr Sommer and the prompt example's – each counted once over all the calls
    assert record["pseudonymised"] is True and record["masked"]["PERSON"] == 3 and record["masked"]["IBAN"] == 1
    assert leaks(audit, [*ORIGINALS, "Sommer"]) == []


def test_letter_masks_the_recipient_known_names_and_restores_them() -> None:
    def reply(messages: Sequence[ChatMessage]) -> str:
        return "wir haben die Angaben erhalten: " + ", ".join(placeholders_in(messages)) + "."

    fields = {"empfaenger": "Frau Sabine Korte\nLindenstraße 4\n12345 Musterstadt", "aktenzeichen": "32.4-SN/0815/2025",
              "sachbearbeiter": "Jonas Weber", "telefon": "0171 1234567", "datum": "25.11.2026"}
    audit = RecordingAudit()
    remote = Remote(reply)
    letters = LetterService(letters_t.Library(), ready(remote, audit), None, LetterConfig(refine_rounds=1),
                            audit=audit)
    # no salutation before the names in the instructions: only the known names from the fields find them
    request = LetterRequest("eingangsbestaetigung", fields, "Sabine Korte bat um Rückruf; Jonas Weber antwortet.",
                            style=LetterStyle.LEICHT)
    _, draft = run(letters.draft(request))
    no_original_sent(remote, ["Jonas Weber", "Weber"])
    assert "Sabine Korte" in draft.body and "Jonas Weber" in draft.body and "32.4-SN/0815/2025" in draft.body
    assert not PLACEHOLDER.search(draft.body)
    record = audit.only("ai_request")
    assert record["pseudonymised"] is True and record["masked"]["PERSON"] >= 2
    assert leaks(audit, [*ORIGINALS, "Weber"]) == []


def test_letter_known_names_come_from_recipient_lines_and_caseworker() -> None:
    values = {"empfaenger": "Café Lindenblüte GmbH\nz. Hd. Frau Dr. Sabine Korte\nMarktplatz 7\n12345 Musterstadt",
              "sachbearbeiter": "Herr Jonas Weber"}
    assert known_names(values) == ["Café Lindenblüte GmbH", "Sabine Korte", "Jonas Weber"]
    assert known_names({}) == []


def test_query_expansion_masks_the_question_for_a_remote_model() -> None:
    remote = Remote(lambda messages: "Sondernutzung, Erstattung, [PERSON_1]")
    expander = QueryExpander(remote, prompt="Nenne Fachbegriffe.")
    terms = expander.expand("Erstattung für Frau Sabine Korte, Tel. 0171 1234567?")
    no_original_sent(remote)
    assert "[PERSON_1]" in remote.sent_text() and "[TELEFON_1]" in remote.sent_text()
    assert terms == "Sondernutzung"  # the restored name is in the question, so it is no extra term
    plain = Remote(lambda messages: "Sondernutzung")
    QueryExpander(plain, prompt="Nenne Fachbegriffe.", pseudonymise=False).expand("Frau Sabine Korte?")
    assert "Sabine Korte" in plain.sent_text()  # policy off: sent as is


def test_no_service_streams_from_a_model_except_through_the_masking_paths() -> None:
    """Every feature calls `ModelService.chat` (masked for a remote model); only the model service itself and the
    query expansion (which masks on its own) call `stream_chat` directly."""
    services = Path(__file__).resolve().parents[3] / "app" / "services"
    callers = sorted(p.name for p in services.glob("*.py") if "stream_chat(" in p.read_text(encoding="utf-8"))
    assert callers == ["model_service.py", "query_expansion.py"]
