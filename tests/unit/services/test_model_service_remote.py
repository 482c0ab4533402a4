"""ModelService with a remote model: pseudonymisation before the text leaves the PC, restoration of the answer,
what the audit record says about it, and the local fallback where the policy allows it.

`RecordingRemote` stands in for the data centre: it records every message it received (what would have left the
PC) and answers by echoing the placeholders it saw, cut into small pieces so placeholders arrive split."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import pytest

from app.core.errors import (
    ModelError,
    RemoteConfigError,
    RemoteRejected,
    RemoteUnavailable,
)
from app.core.llm import (
    ChatMessage,
    GenerationParams,
    LanguageModel,
    ModelInfo,
    ModelState,
)
from app.core.progress import CancelToken
from app.services.audit_fields import AiRequest
from app.services.model_service import (
    BACKEND_FALLBACK,
    BACKEND_LOCAL,
    BACKEND_REMOTE,
    ModelService,
)
from tests.unit.services.test_audit_records import RecordingAudit, leaks

ENDPOINT = "https://llm.rz.verwaltung.test/v1"
CASE = ("Antrag von Frau Sabine Korte, geb. 12.03.1961, wohnhaft Lindenstraße 4, 12345 Musterstadt. "
        "Erstattung auf IBAN DE89 3704 0044 0532 0130 00. Rückfragen unter Tel. 0171 1234567 oder an "
        "sabine.korte@example.de. Az. 32.4-SN/0815/2025. Frau Korte bittet um Entscheidung.")
# What must never reach the data centre: every identifier, and telling parts of them.
ORIGINALS = ["Sabine Korte", "Korte", "Sabine", "12.03.1961", "1961", "Lindenstraße 4", "Lindenstraße",
             "12345 Musterstadt", "Musterstadt", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "3704",
             "0171 1234567", "1234567", "sabine.korte@example.de", "example.de", "32.4-SN/0815/2025", "0815"]
# What the restored answer must contain (the identifiers as written in the case).
RESTORED = ["Sabine Korte", "12.03.1961", "Lindenstraße 4", "12345 Musterstadt", "DE89 3704 0044 0532 0130 00",
            "0171 1234567", "sabine.korte@example.de", "32.4-SN/0815/2025"]
PLACEHOLDER = re.compile(r"\[[A-Z]+_\d+\]")


def echo_placeholders(messages: Sequence[ChatMessage]) -> str:
    seen = list(dict.fromkeys(PLACEHOLDER.findall("\n".join(m.content for m in messages))))
    return "Sehr geehrte/r [PERSON_1], wir haben Ihre Angaben: " + ", ".join(seen) + " [1]."


class RecordingRemote:
    """A remote LanguageModel that records what it received; `fail` raises before (or after) the first piece."""

    def __init__(self, reply: Callable[[Sequence[ChatMessage]], str] = echo_placeholders, *,
                 fail: BaseException | None = None, fail_after: int = 0, load_error: BaseException | None = None,
                 piece_size: int = 3) -> None:
        self.reply = reply
        self.fail = fail
        self.fail_after = fail_after
        self.load_error = load_error
        self.piece_size = piece_size
        self.received: list[list[ChatMessage]] = []
        self.load_calls = 0

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(path=ENDPOINT, size_bytes=0, name="Modell im Rechenzentrum")  # as the real adapter

    @property
    def backend_name(self) -> str:
        return "Rechenzentrum (llm.rz.verwaltung.test)"

    @property
    def is_remote(self) -> bool:
        return True

    @property
    def endpoint(self) -> str:
        return ENDPOINT

    def load(self) -> ModelInfo:
        self.load_calls += 1
        if self.load_error is not None:
            raise self.load_error
        return self.info

    def stream_chat(self, messages: Sequence[ChatMessage], params: GenerationParams, cancel: CancelToken
                    ) -> Iterator[str]:
        self.received.append(list(messages))
        text = self.reply(messages)
        for n, i in enumerate(range(0, len(text), self.piece_size)):
            if self.fail is not None and n == self.fail_after:
                raise self.fail
            cancel.raise_if_cancelled()
            yield text[i:i + self.piece_size]

    def close(self) -> None: ...

    def sent_text(self) -> str:
        return "\n".join(m.content for call in self.received for m in call)


class LocalModel:
    """A local LanguageModel (the fallback): records the messages and answers with a fixed text."""

    def __init__(self, answer: str = "Lokale Antwort.", load_error: BaseException | None = None) -> None:
        self.answer = answer
        self.load_error = load_error
        self.load_calls = 0
        self.received: list[list[ChatMessage]] = []
        self.verified_sha256 = ""

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(path="/models/lokal.gguf", size_bytes=1, name="Lokales Modell")

    backend_name = "lokal (Fake)"
    is_remote = False
    endpoint = ""

    def load(self) -> ModelInfo:
        self.load_calls += 1
        if self.load_error is not None:
            raise self.load_error
        self.verified_sha256 = "cd" * 32
        return self.info

    def stream_chat(self, messages: Sequence[ChatMessage], params: GenerationParams, cancel: CancelToken
                    ) -> Iterator[str]:
        self.received.append(list(messages))
        yield from self.answer.split(" ")

    def close(self) -> None: ...


def messages(case: str = CASE) -> list[ChatMessage]:
    return [ChatMessage("system", "Du bist ein Assistent der Verwaltung."),
            ChatMessage("user", f"Akte:\n{case}\n\nFasse den Antrag zusammen.")]


def ready(model: LanguageModel, **kwargs) -> ModelService:
    service = ModelService(model, **kwargs)
    list(service.load())
    assert service.state is ModelState.READY
    return service


def chat(service: ModelService, trace: AiRequest | None = None, msgs: list[ChatMessage] | None = None,
         **kwargs) -> str:
    return "".join(service.chat(msgs or messages(), GenerationParams(), CancelToken(), trace=trace, **kwargs))


def test_fakes_satisfy_the_port() -> None:
    assert isinstance(RecordingRemote(), LanguageModel) and isinstance(LocalModel(), LanguageModel)


def test_nothing_original_reaches_the_remote_and_the_answer_is_restored() -> None:
    remote = RecordingRemote()
    service = ready(remote)
    answer = chat(service)
    sent = remote.sent_text()
    assert [o for o in ORIGINALS if o in sent] == []
    assert {"[PERSON_1]", "[GEBURTSDATUM_1]", "[ADRESSE_1]", "[ADRESSE_2]", "[IBAN_1]", "[TELEFON_1]", "[EMAIL_1]",
            "[AKTENZEICHEN_1]"} <= set(PLACEHOLDER.findall(sent))
    assert [r for r in RESTORED if r not in answer] == []
    assert not PLACEHOLDER.search(answer)
    assert answer.startswith("Sehr geehrte/r Sabine Korte, ")
    assert service.active_backend == BACKEND_REMOTE and service.pseudonymises


def test_audit_extra_has_endpoint_pseudonymised_and_counts_never_the_originals() -> None:
    audit = RecordingAudit(records_content=False)
    service = ready(RecordingRemote(), audit=audit)
    trace = AiRequest(audit, "lookup", service)
    list(trace.run(service.chat(messages(), GenerationParams(), CancelToken(), trace=trace)))
    record = audit.only("ai_request")
    assert record["remote"] == ENDPOINT and record["pseudonymised"] is True
    assert record["masked"] == {"PERSON": 1, "ADRESSE": 2, "GEBURTSDATUM": 1, "IBAN": 1, "TELEFON": 1, "EMAIL": 1,
                                "AKTENZEICHEN": 1}
    assert leaks(audit, ORIGINALS) == []
    assert "fallback" not in record


def test_one_mapping_for_all_calls_of_a_run_and_counts_accumulate() -> None:
    remote = RecordingRemote()
    service = ready(remote)
    trace = AiRequest(None, "summary", service)
    chat(service, trace, [ChatMessage("user", "Frau Sabine Korte, Tel. 0171 1234567.")])
    chat(service, trace, [ChatMessage("user", "Herr Jonas Weber schreibt an Frau Korte (Tel. 0171 1234567).")])
    first, second = remote.received[0][0].content, remote.received[1][0].content
    assert "[PERSON_1]" in first and "[PERSON_1]" in second and "[PERSON_2]" in second
    assert "[TELEFON_1]" in second and "[TELEFON_2]" not in second
    assert trace.extra["masked"]["PERSON"] == 2 and trace.extra["masked"]["TELEFON"] == 1
    # without a trace every call has a mapping of its own
    chat(service, None, [ChatMessage("user", "Herr Jonas Weber.")])
    assert "[PERSON_1]" in remote.received[2][0].content


def test_known_names_are_masked_without_any_salutation() -> None:
    remote = RecordingRemote()
    service = ready(remote)
    trace = AiRequest(None, "letter", service)
    answer = chat(service, trace, [ChatMessage("user", "Sabine Korte und Jonas Weber haben angerufen.")],
                  known_names=["Sabine Korte", "Jonas Weber"])
    assert "Korte" not in remote.sent_text() and "Weber" not in remote.sent_text()
    assert "Sabine Korte" in answer and "Jonas Weber" in answer


def test_without_pseudonymisation_the_originals_are_sent_and_recorded_as_such() -> None:
    audit = RecordingAudit()
    remote = RecordingRemote(reply=lambda msgs: "Antwort für Frau Sabine Korte.")
    service = ready(remote, audit=audit, pseudonymise=False)
    trace = AiRequest(audit, "lookup", service)
    answer = "".join(trace.run(service.chat(messages(), GenerationParams(), CancelToken(), trace=trace)))
    assert "Sabine Korte" in remote.sent_text() and "DE89 3704 0044 0532 0130 00" in remote.sent_text()
    assert answer == "Antwort für Frau Sabine Korte."
    record = audit.only("ai_request")
    assert record["remote"] == ENDPOINT and record["pseudonymised"] is False and "masked" not in record
    assert not service.pseudonymises


def test_a_local_model_gets_the_messages_unchanged_and_no_remote_fields() -> None:
    local = LocalModel()
    service = ready(local)
    trace = AiRequest(None, "lookup", service)
    assert chat(service, trace) == "LokaleAntwort."
    assert local.received[0] == messages()
    assert trace.extra == {} and trace.masking is None
    assert service.active_backend == BACKEND_LOCAL and not service.pseudonymises


def test_model_test_prompt_goes_through_the_same_masking() -> None:
    audit = RecordingAudit()
    remote = RecordingRemote()
    service = ready(remote, audit=audit)
    answer = "".join(service.test_prompt("Was tun bei Frau Sabine Korte, IBAN DE89 3704 0044 0532 0130 00?",
                                         CancelToken()))
    assert "Korte" not in remote.sent_text() and "3704" not in remote.sent_text()
    assert "Sabine Korte" in answer and "DE89 3704 0044 0532 0130 00" in answer
    record = audit.only("ai_request")
    assert record["feature"] == "model_test" and record["pseudonymised"] is True and record["masked"]["IBAN"] == 1
    assert leaks(audit, ["Korte", "3704"]) == []


def test_unreachable_before_the_first_piece_falls_back_to_the_local_model() -> None:
    remote = RecordingRemote(fail=RemoteUnavailable(detail="timeout"))
    local = LocalModel("Lokale Antwort für Frau Sabine Korte.")
    service = ready(remote, fallback=local)
    backends: list[str] = []
    service.add_backend_listener(backends.append)
    trace = AiRequest(None, "lookup", service)
    answer = chat(service, trace)
    assert answer == "LokaleAntwortfürFrauSabineKorte."  # the fake's words, unmasked: it is local
    assert local.load_calls == 1 and local.received[0] == messages()  # the originals: nothing left the PC
    assert trace.extra["fallback"] == "local" and trace.extra["remote"] == ENDPOINT
    assert service.active_backend == BACKEND_FALLBACK and backends == [BACKEND_FALLBACK]
    assert service.model is local and service.verified_sha256 == "cd" * 32
    # the rest of the run stays local; the next run tries the data centre again
    chat(service, trace)
    assert len(remote.received) == 1 and local.load_calls == 1
    remote.fail = None
    chat(service, AiRequest(None, "lookup", service))
    assert len(remote.received) == 2 and service.active_backend == BACKEND_REMOTE
    assert backends == [BACKEND_FALLBACK, BACKEND_REMOTE]


@pytest.mark.parametrize("error", [RemoteRejected(detail="401"), RemoteConfigError(detail="kein Token")])
def test_rejected_or_misconfigured_never_falls_back(error: Exception) -> None:
    local = LocalModel()
    service = ready(RecordingRemote(fail=error), fallback=local)
    with pytest.raises(type(error)):
        chat(service, AiRequest(None, "lookup", service))
    assert local.load_calls == 0 and service.active_backend == BACKEND_REMOTE


def test_unreachable_after_the_first_piece_never_switches_models() -> None:
    local = LocalModel()
    service = ready(RecordingRemote(fail=RemoteUnavailable(detail="cut"), fail_after=2), fallback=local)
    pieces: list[str] = []
    with pytest.raises(RemoteUnavailable):
        pieces.extend(service.chat(messages(), GenerationParams(), CancelToken()))
    assert local.load_calls == 0 and local.received == []


def test_unreachable_without_fallback_propagates() -> None:
    service = ready(RecordingRemote(fail=RemoteUnavailable(detail="timeout")))
    trace = AiRequest(None, "lookup", service)
    with pytest.raises(RemoteUnavailable):
        chat(service, trace)
    assert "fallback" not in trace.extra


def test_load_falls_back_when_the_data_centre_is_unreachable() -> None:
    audit = RecordingAudit()
    remote = RecordingRemote(load_error=RemoteUnavailable(detail="connect timeout"))
    local = LocalModel()
    service = ModelService(remote, audit=audit, fallback=local)
    backends: list[str] = []
    service.add_backend_listener(backends.append)
    list(service.load())
    assert service.state is ModelState.READY and service.error is None
    assert service.active_backend == BACKEND_FALLBACK and backends == [BACKEND_FALLBACK]
    record = audit.only("model_loaded")
    assert record["fallback"] == "local" and record["remote"] == ENDPOINT and record["model"] == "Lokales Modell"
    assert record["sha256"] == "cd" * 32 and record["file"] == "lokal.gguf"
    # every chat goes to the local model, unmasked; the remote one is not asked
    trace = AiRequest(None, "lookup", service)
    chat(service, trace)
    assert remote.received == [] and local.received[0] == messages() and trace.extra["fallback"] == "local"


def test_load_without_fallback_is_an_error_with_the_german_message() -> None:
    audit = RecordingAudit()
    error = RemoteUnavailable(detail="connect timeout")
    service = ModelService(RecordingRemote(load_error=error), audit=audit)
    with pytest.raises(RemoteUnavailable):
        list(service.load())
    assert service.state is ModelState.ERROR and service.error is error
    assert "Rechenzentrum" in service.error.user_message
    assert audit.actions() == ["model_load_failed"]


def test_load_rejected_never_falls_back_and_a_failing_fallback_is_an_error() -> None:
    local = LocalModel()
    service = ModelService(RecordingRemote(load_error=RemoteRejected(detail="401")), fallback=local)
    with pytest.raises(RemoteRejected):
        list(service.load())
    assert local.load_calls == 0 and service.state is ModelState.ERROR
    broken = LocalModel(load_error=ModelError("Die Modelldatei wurde nicht gefunden."))
    service = ModelService(RecordingRemote(load_error=RemoteUnavailable()), fallback=broken)
    with pytest.raises(ModelError):
        list(service.load())
    assert service.state is ModelState.ERROR


def test_a_remote_model_that_loaded_records_its_endpoint() -> None:
    audit = RecordingAudit()
    ready(RecordingRemote(), audit=audit)
    record = audit.only("model_loaded")
    assert record["remote"] == ENDPOINT and "fallback" not in record
    assert record["file"] == ""  # an endpoint is no model file (its URL's last part "v1" is not a file name)


def test_reconnect_after_a_fallback_at_load_goes_back_to_the_data_centre() -> None:
    audit = RecordingAudit()
    remote = RecordingRemote(load_error=RemoteUnavailable(detail="connect refused"))
    local = LocalModel()
    service = ModelService(remote, audit=audit, fallback=local)
    list(service.load())
    assert service.active_backend == BACKEND_FALLBACK
    with pytest.raises(RemoteUnavailable):  # still down: the error says so, the fallback stays
        list(service.reconnect())
    assert service.active_backend == BACKEND_FALLBACK and "model_reconnected" not in audit.actions()

    remote.load_error = None
    list(service.reconnect())
    assert service.active_backend == BACKEND_REMOTE
    assert audit.only("model_reconnected")["remote"] == ENDPOINT
    chat(service, AiRequest(None, "lookup", service))
    assert remote.received and local.received == []  # the next run goes to the data centre (masked)
    assert "Korte" not in "\n".join(m.content for m in remote.received[0])
