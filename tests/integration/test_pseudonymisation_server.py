"""Pseudonymisation against a real server: `ModelService(OpenAICompatibleModel(...), pseudonymise=True)` talking to
`python -m llama_cpp.server` with the test model on 127.0.0.1. The server records every request body on its side
(`tests/servers/llama_capture_server.py`), so the assertions are about what actually arrived there, not about what
the client meant to send.

What this proves and what it cannot:

* **Nothing original arrives at the server** – checked on every captured request (raw body and JSON-decoded
  messages) for a text full of identifiers; and the placeholders do arrive.
* **Restoration end to end** is shown with a system prompt asking the model to repeat the user's text. The tiny
  test model (SmolLM2-135M) does echo the first placeholders with greedy decoding, but how many it repeats (and
  whether it repeats one placeholder forever) is up to the model – so the test asserts that originals appear in the
  answer (they can only come from restoration: the server never saw one) and that no placeholder of the mapping is
  left, not an exact answer.
* **Restoration independently of the model**: the run's mapping restores the masked text the server captured to
  the originals. Whether a large model keeps the placeholders intact in free prose is not shown here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from app.adapters.remote_model import OpenAICompatibleModel
from app.core.llm import ChatMessage, GenerationParams
from app.core.lookup import Scope
from app.core.progress import CancelToken
from app.services.audit_fields import AiRequest
from app.services.lookup import LookupService, LookupSettings
from app.services.model_service import ModelService
from tests.servers.servers import TEST_MODEL, RunningServer, start_llama_server
from tests.unit.services import test_lookup as lookup_t
from tests.unit.services.test_audit_records import RecordingAudit, leaks, run

pytestmark = [pytest.mark.model,
              pytest.mark.skipif(not TEST_MODEL.exists(), reason=f"test model {TEST_MODEL.name} missing")]

MODEL_NAME = "aktenlotse-test"
CASE = ("Frau Sabine Korte, geb. 12.03.1961, Lindenstraße 4, 12345 Musterstadt, IBAN DE89 3704 0044 0532 0130 00, "
        "Tel. 0171 1234567, sabine.korte@example.de, Az. 32.4-SN/0815/2025.")
ORIGINALS = ["Sabine Korte", "Korte", "Sabine", "12.03.1961", "1961", "Lindenstraße 4", "Lindenstraße",
             "Lindenstra\\u00dfe", "12345 Musterstadt", "Musterstadt", "DE89 3704 0044 0532 0130 00",
             "DE89370400440532013000", "3704 0044", "0171 1234567", "1234567", "sabine.korte@example.de",
             "sabine.korte", "32.4-SN/0815/2025", "0815/2025"]
RESTORED = ["Sabine Korte", "12.03.1961", "Lindenstraße 4", "12345 Musterstadt", "DE89 3704 0044 0532 0130 00",
            "0171 1234567", "sabine.korte@example.de", "32.4-SN/0815/2025"]
PLACEHOLDERS = ["[PERSON_1]", "[GEBURTSDATUM_1]", "[ADRESSE_1]", "[ADRESSE_2]", "[IBAN_1]", "[TELEFON_1]",
                "[EMAIL_1]", "[AKTENZEICHEN_1]"]
REPEAT = "Wiederhole den Text des Nutzers wörtlich und vollständig. Schreibe sonst nichts."
GREEDY = GenerationParams(max_tokens=64, temperature=0.0, top_p=1.0, seed=0, repeat_penalty=1.0)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_llama_server(tmp_path_factory.mktemp("llama-server"), capture=True)
    yield running
    running.stop()


@pytest.fixture
def audit() -> RecordingAudit:
    return RecordingAudit(records_content=False)


@pytest.fixture
def service(server: RunningServer, audit: RecordingAudit) -> Iterator[ModelService]:
    model = OpenAICompatibleModel(server.base_url + "/v1", MODEL_NAME, timeout=120, retries=0)
    service = ModelService(model, audit=audit, pseudonymise=True)
    list(service.load())
    yield service
    service.close()


def requests_since(server: RunningServer, before: int) -> list[dict[str, object]]:
    return server.captured()[before:]


def message_texts(request: dict[str, object]) -> list[str]:
    body = str(request["body"])
    if not body:
        return []
    return [str(m.get("content", "")) for m in json.loads(body).get("messages", [])]


def assert_nothing_original_arrived(requests: list[dict[str, object]]) -> str:
    """No original in any captured request (raw body, decoded messages, path); returns the decoded chat text."""
    posts = [r for r in requests if r["path"] == "/v1/chat/completions"]
    assert posts, f"no chat request reached the server: {requests}"
    decoded = "\n".join(t for r in posts for t in message_texts(r))
    for request in requests:
        raw = json.dumps(request, ensure_ascii=False) + str(request["body"])
        found = [o for o in ORIGINALS if o in raw or o in decoded]
        assert found == [], f"original identifiers arrived at the server: {found}"
    return decoded


def test_direct_chat_arrives_masked_and_the_echo_is_restored(server: RunningServer, service: ModelService,
                                                              audit: RecordingAudit) -> None:
    before = len(server.captured())
    trace = AiRequest(audit, "model_test", service)
    messages = [ChatMessage("system", REPEAT), ChatMessage("user", CASE)]
    answer = "".join(trace.run(service.chat(messages, GREEDY, CancelToken(), trace=trace)))
    decoded = assert_nothing_original_arrived(requests_since(server, before))
    assert [p for p in PLACEHOLDERS if p not in decoded] == []

    # independently of the model: the run's mapping turns what the server received back into the originals
    captured_user = [t for r in requests_since(server, before) if r["path"] == "/v1/chat/completions"
                     for t in message_texts(r)][-1]
    assert trace.masking.restore(captured_user) == CASE

    # end to end: the tiny model echoes (some of) the placeholders; what it echoed comes back as the originals
    echoed = [o for o in RESTORED if o in answer]
    assert echoed, f"the model echoed no placeholder this time: {answer!r}"
    assert [p for p in PLACEHOLDERS if p in answer] == []

    record = audit.only("ai_request")
    assert record["pseudonymised"] is True and record["remote"] == server.base_url + "/v1"
    assert record["masked"] == {"PERSON": 1, "ADRESSE": 2, "GEBURTSDATUM": 1, "IBAN": 1, "TELEFON": 1, "EMAIL": 1,
                                "AKTENZEICHEN": 1}
    assert leaks(audit, ORIGINALS) == []


def test_lookup_over_identifiers_sends_only_placeholders(server: RunningServer, service: ModelService,
                                                          audit: RecordingAudit) -> None:
    passages = {1: CASE, 2: "Die Erstattung an Frau Korte erfolgt auf die IBAN DE89 3704 0044 0532 0130 00."}
    library = lookup_t.FakeLibrary({1: 0.9, 2: 0.9}, texts=passages)
    lookup = LookupService(library, service, LookupSettings(answer_tokens=48), system_prompt=REPEAT, audit=audit)
    before = len(server.captured())
    _, answer = run(lookup.ask("Auf welches Konto erhält Frau Sabine Korte die Erstattung?", Scope()))
    decoded = assert_nothing_original_arrived(requests_since(server, before))
    assert "[PERSON_1]" in decoded and "[IBAN_1]" in decoded
    assert not re.search(r"\[(?:PERSON|IBAN|ADRESSE|EMAIL|TELEFON|AKTENZEICHEN|GEBURTSDATUM)_1\]", answer.text)
    record = audit.only("ai_request")
    assert record["feature"] == "lookup" and record["pseudonymised"] is True
    assert record["masked"]["PERSON"] == 1 and record["masked"]["IBAN"] == 1 and sum(record["masked"].values()) >= 8
    assert leaks(audit, ORIGINALS) == []
