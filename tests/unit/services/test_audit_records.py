"""What the services record through the `AuditTrail` port: model loaded / failed, indexing runs, every AI request
(with its outcome, also cancelled or failed), draft-marked exports and refused paths – ids, hashes and counts,
content only when the log records content. Built with the fakes of the services' own unit tests."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from app.adapters.fs_scan import FolderScanner
from app.core.draft_builders import from_letter, from_lookup, from_summary
from app.core.errors import (
    AktenlotseError,
    Cancelled,
    ModelError,
    ModelNotReady,
    PolicyViolation,
)
from app.core.letters import LetterRequest, LetterStyle
from app.core.llm import ModelState
from app.core.lookup import NOTHING_FOUND, Scope
from app.core.progress import CancelToken
from app.core.summary import SummaryLength, SummaryRequest
from app.services.indexing import doc_id_for
from app.services.letters import LetterConfig, LetterService
from app.services.library import LibraryService
from app.services.lookup import LookupService
from app.services.model_service import ModelService
from app.services.summarize import SummarizeService, SummarySettings
from tests.gui.fakes import ANSWER, FAKE_INFO, FakeLanguageModel, words
from tests.unit.services import test_letters as letters_t
from tests.unit.services import test_lookup as lookup_t
from tests.unit.services import test_summarize as summary_t
from tests.unit.services.test_indexing import Env

AI_KEYS = {"feature", "request_id", "model", "model_sha256", "backend", "params", "source_doc_ids", "sources",
           "output_sha256", "output_chars", "flags", "outcome", "seconds"}
VERIFIED = "ab" * 32


class RecordingAudit:
    """The port, in memory; fields go through JSON like the real log writes them."""

    def __init__(self, records_content: bool = False, fail: bool = False) -> None:
        self.records_content = records_content
        self.fail = fail
        self.entries: list[tuple[str, dict]] = []

    def record(self, action: str, fields: Mapping[str, object]) -> None:
        if self.fail:
            raise AktenlotseError("Das Prüfprotokoll kann nicht geschrieben werden.")
        self.entries.append((action, json.loads(json.dumps(dict(fields), ensure_ascii=False))))

    def actions(self) -> list[str]:
        return [a for a, _ in self.entries]

    def only(self, action: str) -> dict:
        found = [f for a, f in self.entries if a == action]
        assert len(found) == 1, self.entries
        return found[0]


def strings(value: object) -> Iterator[str]:
    """Every key and value of a record, recursively, as text."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from strings(v)
    else:
        yield str(value)


def leaks(audit: RecordingAudit, needles: list[str]) -> list[str]:
    texts = [s.lower() for _, fields in audit.entries for s in strings(fields)]
    return [n for n in needles if any(n.lower() in t for t in texts)]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run(gen):
    events: list[object] = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return events, stop.value


def ready(model: FakeLanguageModel, audit: RecordingAudit | None = None) -> ModelService:
    models = ModelService(model, preflight=lambda: VERIFIED, audit=audit)
    list(models.load())
    return models


class FileWriter:
    """A DocumentWriter + LetterWriter that writes a small file (so the export has a file to hash)."""

    def write_memo(self, doc, meta, path: Path) -> Path:
        path.write_bytes(f"VERMERK {meta.draft_id}".encode())
        return path

    def write_letter(self, doc, meta, path: Path, letterhead=None) -> Path:
        path.write_bytes(f"BRIEF {meta.draft_id}".encode())
        return path


# -- the model ---------------------------------------------------------------------------------------------------
def test_model_loaded_records_name_file_name_verified_sha_backend_and_context() -> None:
    audit = RecordingAudit()
    models = ready(FakeLanguageModel(), audit)
    assert audit.actions() == ["model_loaded"]
    fields = audit.only("model_loaded")
    assert {k: v for k, v in fields.items() if k != "seconds"} == {
        "model": "Fake-Modell 7B Instruct", "file": "fake-model.Q4_K_M.gguf", "sha256": VERIFIED,
        "backend": "lokal (Fake)", "n_ctx": 8192}
    assert isinstance(fields["seconds"], float) and fields["seconds"] >= 0
    assert not leaks(audit, ["/opt/aktenlotse"])  # the file's name, not its path
    assert models.state is ModelState.READY


def test_model_sha_falls_back_to_the_info_without_a_checksum_check() -> None:
    audit = RecordingAudit()
    list(ModelService(FakeLanguageModel(replace(FAKE_INFO, sha256="cd" * 32)), audit=audit).load())
    assert audit.only("model_loaded")["sha256"] == "cd" * 32


@pytest.mark.parametrize(("error", "reason"), [(ModelError("kaputt"), "ModelError"),
                                               (RuntimeError("llama exploded"), "RuntimeError")])
def test_a_failed_load_is_recorded_with_the_error_class_and_still_raised(error, reason) -> None:
    audit = RecordingAudit()
    models = ModelService(FakeLanguageModel(load_error=error), audit=audit)
    with pytest.raises(ModelError):
        list(models.load())
    assert audit.actions() == ["model_load_failed"]
    assert audit.only("model_load_failed") == {"model": "Fake-Modell 7B Instruct", "reason": reason}
    assert models.state is ModelState.ERROR


def test_a_model_whose_load_cannot_be_recorded_is_not_reported_ready() -> None:
    models = ModelService(FakeLanguageModel(), audit=RecordingAudit(fail=True))
    with pytest.raises(AktenlotseError):
        list(models.load())
    assert models.state is ModelState.ERROR


@pytest.mark.parametrize("content", [False, True])
def test_modell_testen_is_an_ai_request(content: bool) -> None:
    audit = RecordingAudit(records_content=content)
    models = ready(FakeLanguageModel(pieces=words(ANSWER)), audit)
    prompt = "Wer ist zuständig für Hundesteuer?"
    out = "".join(models.test_prompt(prompt, CancelToken()))
    fields = audit.entries[-1][1]
    assert audit.entries[-1][0] == "ai_request" and AI_KEYS <= set(fields)
    assert fields["feature"] == "model_test" and fields["outcome"] == "done" and len(fields["request_id"]) == 32
    assert fields["output_sha256"] == sha(out) and fields["output_chars"] == len(out)
    assert fields["params"]["max_tokens"] == 256 and fields["model_sha256"] == VERIFIED
    if content:
        assert fields["prompt"] == prompt and fields["output_text"] == out
    else:
        assert "prompt" not in fields and "output_text" not in fields
        assert not leaks(audit, [prompt, "Hundesteuer", "Eingangsbestätigung", "Aktenzeichen"])


# -- Nachschlagen ------------------------------------------------------------------------------------------------
QUESTION = "Wie lange dauert die Bearbeitung eines Antrags auf Akteneinsicht?"
LOOKUP_ANSWER = "Anträge auf Akteneinsicht sind innerhalb von 14 Tagen zu bearbeiten [1]."


def lookup_needles() -> list[str]:
    return [QUESTION, LOOKUP_ANSWER, *lookup_t.PASSAGES.values(), "merkblatt", "/akten", "Akteneinsicht",
            "Bearbeitung", "Gebühr", "Terminvereinbarung"]


def test_lookup_records_one_ai_request_with_ids_hashes_and_counts() -> None:
    audit = RecordingAudit()
    models = ready(FakeLanguageModel(pieces=words(LOOKUP_ANSWER)))
    _, answer = run(LookupService(lookup_t.FakeLibrary({1: 0.90, 2: 0.88}), models, audit=audit).ask(QUESTION))
    assert audit.actions() == ["ai_request"]
    fields = audit.only("ai_request")
    assert set(fields) == AI_KEYS | {"scope"}
    assert fields["feature"] == "lookup" and fields["outcome"] == "done" and fields["request_id"] == answer.id
    assert fields["model"] == "Fake-Modell 7B Instruct" and fields["model_sha256"] == VERIFIED
    assert fields["backend"] == "lokal (Fake)" and fields["scope"] == "all"
    assert fields["params"] == {"max_tokens": 384, "temperature": 0.1, "top_p": 0.9, "seed": 0, "stop": [],
                                "repeat_penalty": 1.1}
    assert fields["source_doc_ids"] == ["d"] and fields["sources"] == 2
    assert fields["output_sha256"] == sha(answer.text) == sha(from_lookup(answer).generated_text)  # = draft_created
    assert fields["output_chars"] == len(answer.text) and fields["flags"] == len(answer.flags)
    assert not leaks(audit, lookup_needles())


def test_lookup_with_content_logging_records_question_and_answer() -> None:
    audit = RecordingAudit(records_content=True)
    models = ready(FakeLanguageModel(pieces=words(LOOKUP_ANSWER)))
    _, answer = run(LookupService(lookup_t.FakeLibrary({1: 0.90}), models, audit=audit).ask(QUESTION))
    fields = audit.only("ai_request")
    assert fields["question"] == QUESTION and fields["output_text"] == answer.text == LOOKUP_ANSWER


def test_lookup_nothing_found_is_recorded_without_a_model_call() -> None:
    audit = RecordingAudit()
    model = FakeLanguageModel()
    _, answer = run(LookupService(lookup_t.FakeLibrary({1: 0.70}), ModelService(model), audit=audit).ask(QUESTION))
    fields = audit.only("ai_request")
    assert answer.nothing_found and model.prompts == []
    assert fields["outcome"] == "nothing_found" and fields["sources"] == 0 and fields["source_doc_ids"] == []
    assert fields["output_sha256"] == sha(NOTHING_FOUND) and fields["params"] == {}


def test_a_cancelled_lookup_is_recorded_as_cancelled_and_still_raises() -> None:
    audit = RecordingAudit()
    models = ready(FakeLanguageModel(pieces=words("Eins zwei drei vier fünf")))
    cancel = CancelToken()
    streamed = []
    with pytest.raises(Cancelled):
        for item in LookupService(lookup_t.FakeLibrary({1: 0.9}), models, audit=audit).ask(QUESTION, cancel=cancel):
            if isinstance(item, str):
                streamed.append(item)
                cancel.cancel()
    fields = audit.only("ai_request")
    assert fields["outcome"] == "cancelled" and fields["reason"] == "Cancelled"
    assert len(fields["request_id"]) == 32 and fields["sources"] == 1
    assert fields["output_sha256"] == sha("".join(streamed).strip())  # what the caseworker saw so far


def test_a_failed_lookup_is_recorded_as_failed_and_still_raises() -> None:
    audit = RecordingAudit()
    lookup = LookupService(lookup_t.FakeLibrary({1: 0.9}), ModelService(FakeLanguageModel()), audit=audit)
    with pytest.raises(ModelNotReady):
        run(lookup.ask(QUESTION, Scope()))
    fields = audit.only("ai_request")
    assert fields["outcome"] == "failed" and fields["reason"] == "ModelNotReady" and fields["output_sha256"] == ""
    assert not leaks(audit, lookup_needles())


def test_without_an_audit_trail_nothing_changes_for_the_caller() -> None:
    models = ready(FakeLanguageModel(pieces=words(LOOKUP_ANSWER)))
    events, answer = run(LookupService(lookup_t.FakeLibrary({1: 0.9}), models).ask(QUESTION))
    assert answer.text == LOOKUP_ANSWER and "".join(e for e in events if isinstance(e, str)) == LOOKUP_ANSWER


# -- Zusammenfassen ----------------------------------------------------------------------------------------------
class HashedLibrary(summary_t.FakeLibrary):
    """The summary tests' library with real-style document ids (a hash of the path, as the indexer makes them)."""

    def __init__(self, docs) -> None:
        super().__init__(docs)
        self.docs = {p: [replace(c, doc_id=doc_id_for(p)) for c in cs] for p, cs in self.docs.items()}


def summary_service(docs, audit, *, context_length: int = 8192, cancel_after=None, gate=None, **settings):
    model = summary_t.ScriptedModel(context_length=context_length, gate=gate, cancel_after_calls=cancel_after)
    return SummarizeService(HashedLibrary(docs), ready(model), FileWriter(), SummarySettings(**settings), audit=audit)


SUMMARY_NEEDLES = [*summary_t.TEXTS, "Sabine", "Korte", "Marktplatz", "Sondernutzung", "Herbert", "/akte", "a.md",
                   "Was will die Antragstellerin"]


def test_summary_records_steps_length_sources_and_the_draft_hash(tmp_path: Path) -> None:
    audit = RecordingAudit()
    svc = summary_service({"/akte/a.md": summary_t.TEXTS, "/akte/b.md": summary_t.TEXTS[:2]}, audit)
    request = SummaryRequest(("/akte/a.md", "/akte/b.md"), SummaryLength.STANDARD, "Was will die Antragstellerin?")
    _, summary = run(svc.summarize(request))
    fields = audit.only("ai_request")
    assert set(fields) == AI_KEYS | {"length", "documents", "map_steps", "reduce_steps", "omitted"}
    assert fields["feature"] == "summary" and fields["outcome"] == "done" and fields["request_id"] == summary.id
    assert fields["length"] == "standard" and fields["documents"] == 2 and fields["omitted"] == 0
    assert fields["map_steps"] == 0 and fields["reduce_steps"] == 0
    assert fields["source_doc_ids"] == sorted({doc_id_for("/akte/a.md"), doc_id_for("/akte/b.md")})
    assert fields["sources"] == 6 and fields["flags"] == len(summary.flags) > 0
    assert fields["output_sha256"] == sha(from_summary(summary).generated_text)  # = draft_created
    assert fields["params"]["max_tokens"] == 480
    assert not leaks(audit, SUMMARY_NEEDLES)

    out = svc.export_memo(summary, tmp_path / "vermerk.docx")
    assert audit.actions() == ["ai_request", "export"]
    assert audit.only("export") == {"kind": "vermerk", "final": False, "request_id": summary.id,
                                    "file_sha256": hashlib.sha256(out.read_bytes()).hexdigest()}


def test_a_hierarchical_summary_counts_its_map_and_reduce_steps() -> None:
    audit = RecordingAudit()
    docs = {f"/akte/{i}.md": [f"{t} (Teil {i})" for t in summary_t.TEXTS] * 3 for i in range(4)}
    _, summary = run(summary_service(docs, audit, context_length=1024, map_tokens=128)
                     .summarize(SummaryRequest(tuple(docs))))
    fields = audit.only("ai_request")
    assert fields["map_steps"] == summary.map_steps >= 3 and fields["reduce_steps"] == summary.reduce_steps >= 1


def test_summary_with_content_logging_records_focus_and_text() -> None:
    audit = RecordingAudit(records_content=True)
    _, summary = run(summary_service({"/akte/a.md": summary_t.TEXTS}, audit)
                     .summarize(SummaryRequest(("/akte/a.md",), focus="Fristen?")))
    fields = audit.only("ai_request")
    assert fields["focus"] == "Fristen?" and fields["output_text"] == from_summary(summary).generated_text
    assert "Sabine Korte" in fields["output_text"]


def test_a_cancelled_summary_is_recorded_with_the_steps_done_and_still_raises() -> None:
    audit = RecordingAudit()
    docs = {f"/akte/{i}.md": [f"{t} (Teil {i})" for t in summary_t.TEXTS] * 3 for i in range(4)}
    cancel = CancelToken()
    svc = summary_service(docs, audit, context_length=1024, cancel_after=2, gate=cancel, map_tokens=128)
    with pytest.raises(Cancelled):
        run(svc.summarize(SummaryRequest(tuple(docs)), cancel))
    fields = audit.only("ai_request")
    assert fields["outcome"] == "cancelled" and fields["map_steps"] == 2 and fields["sources"] == 48
    assert len(fields["request_id"]) == 32 and fields["output_sha256"] == ""


def test_a_summary_of_nothing_readable_is_recorded_as_failed() -> None:
    audit = RecordingAudit()
    with pytest.raises(AktenlotseError):
        run(summary_service({}, audit).summarize(SummaryRequest(("/akte/fehlt.md",))))
    fields = audit.only("ai_request")
    assert fields["outcome"] == "failed" and fields["reason"] == "AktenlotseError" and fields["request_id"] == ""
    assert not leaks(audit, ["fehlt", "/akte"])


# -- Entwerfen ---------------------------------------------------------------------------------------------------
INSTRUCTIONS = "Ablehnung, Gehweg zu schmal"
LETTER_BODY = "wir beabsichtigen, Ihren Antrag vom 04.03.2025 abzulehnen, weil der Gehweg zu schmal ist."


def letter_service(audit, *replies: str) -> LetterService:
    return LetterService(letters_t.Library(), ready(letters_t.Scripted(*replies)), FileWriter(), LetterConfig(),
                         audit=audit)


def letter_request(style: LetterStyle = LetterStyle.FOERMLICH) -> LetterRequest:
    return LetterRequest("anhoerung", dict(letters_t.FIELDS), INSTRUCTIONS, ("/akte/antrag.md",), style)


def test_letter_records_type_style_placeholders_and_the_draft_hash(tmp_path: Path) -> None:
    audit = RecordingAudit()
    svc = letter_service(audit, LETTER_BODY)
    _, draft = run(svc.draft(letter_request()))
    fields = audit.only("ai_request")
    assert set(fields) == AI_KEYS | {"type", "style", "documents", "placeholders", "replaced_facts", "refine_rounds"}
    assert fields["feature"] == "letter" and fields["outcome"] == "done" and fields["request_id"] == draft.id
    assert fields["type"] == "anhoerung" and fields["style"] == LetterStyle.FOERMLICH.value
    assert fields["placeholders"] == len(draft.placeholders) >= 1 and fields["documents"] == 1
    assert fields["source_doc_ids"] == ["d"] and fields["sources"] == 1 and fields["params"]["max_tokens"] == 700
    assert fields["output_sha256"] == sha(from_letter(draft).generated_text)  # = draft_created
    needles = [INSTRUCTIONS, LETTER_BODY, letters_t.CASE, "Lindenblüte", "Korte", "Jonas Weber", "Weber",
               "32.4-SN/0815/2025", "Marktplatz", "antrag.md", "/akte", "schmal", "Gehweg"]
    assert not leaks(audit, needles)

    out = svc.export_letter(draft, tmp_path / "brief.docx")
    assert audit.only("export") == {"kind": "brief", "final": False, "request_id": draft.id,
                                    "file_sha256": hashlib.sha256(out.read_bytes()).hexdigest()}
    assert not leaks(audit, needles + ["brief.docx", str(tmp_path)])


def test_letter_with_content_logging_records_instructions_fields_and_text() -> None:
    audit = RecordingAudit(records_content=True)
    _, draft = run(letter_service(audit, LETTER_BODY).draft(letter_request()))
    fields = audit.only("ai_request")
    assert fields["instructions"] == INSTRUCTIONS and fields["fields"] == letters_t.FIELDS
    assert fields["output_text"] == draft.body and "abzulehnen" in fields["output_text"]


def test_an_unknown_letter_type_is_recorded_as_failed_and_still_raises() -> None:
    audit = RecordingAudit()
    with pytest.raises(AktenlotseError):
        run(letter_service(audit).draft(LetterRequest("gibtsnicht", {})))
    fields = audit.only("ai_request")
    assert fields["outcome"] == "failed" and fields["type"] == "gibtsnicht" and fields["sources"] == 0


def test_a_cancelled_letter_is_recorded_as_cancelled() -> None:
    audit = RecordingAudit()
    cancel = CancelToken()
    with pytest.raises(Cancelled):
        for item in letter_service(audit, LETTER_BODY).draft(letter_request(), cancel):
            if isinstance(item, str):
                cancel.cancel()
    fields = audit.only("ai_request")
    assert fields["outcome"] == "cancelled" and fields["sources"] == 1 and len(fields["request_id"]) == 32


# -- the library -------------------------------------------------------------------------------------------------
def test_a_folder_outside_the_roots_is_recorded_as_policy_violation_and_refused(tmp_path: Path) -> None:
    env = Env(tmp_path)
    outside = tmp_path / "privat_geheim"
    outside.mkdir()
    audit = RecordingAudit()
    library = LibraryService(env.service, audit=audit)
    assert library.check_folders([env.root]) == [Path(os.path.realpath(env.root))] and audit.entries == []
    with pytest.raises(PolicyViolation):
        library.check_folders([env.root, outside])
    assert audit.only("policy_violation") == {
        "rule": "outside_allowed_roots", "operation": "check_folders",
        "path_sha256": sha(os.path.realpath(outside))}
    assert not leaks(audit, ["privat_geheim", str(tmp_path)])


def test_reading_an_indexed_file_no_longer_inside_a_root_is_a_recorded_violation(tmp_path: Path) -> None:
    env = Env(tmp_path)
    path = env.write("bescheid_mueller.txt", "Bescheid über Hundesteuer")
    audit = RecordingAudit()
    library = LibraryService(env.service, audit=audit)
    list(library.index([env.root]))
    env.service.scanner = FolderScanner([tmp_path / "anderswo"])  # the policy's roots changed since indexing
    with pytest.raises(PolicyViolation):
        library.document_text(os.path.realpath(path))
    assert audit.actions() == ["index_run", "policy_violation"]
    assert audit.only("policy_violation")["operation"] == "document_text"
    assert not leaks(audit, ["bescheid_mueller", "Hundesteuer", str(tmp_path)])


def test_an_indexing_run_records_its_counts_and_no_paths(tmp_path: Path) -> None:
    env = Env(tmp_path)
    env.write("antrag_korte.txt", "Antrag auf Sondernutzung\n\nZweiter Absatz")
    env.write("sub/kaputt.txt", "BROKEN")
    audit = RecordingAudit()
    list(LibraryService(env.service, audit=audit).index([env.root]))
    fields = audit.only("index_run")
    assert {k: v for k, v in fields.items() if k != "seconds"} == {
        "folders": 1, "files_seen": 2, "unchanged": 0, "indexed": 1, "failed": 1, "removed": 0, "chunks_added": 2,
        "chunks_embedded": 2, "files_embedded": 1, "embed": True, "embed_failed": False, "outcome": "done"}
    assert not leaks(audit, ["antrag_korte", "kaputt", "Sondernutzung", str(tmp_path)])


def test_a_cancelled_indexing_run_is_recorded_as_cancelled_and_still_raises(tmp_path: Path) -> None:
    env = Env(tmp_path)
    env.write("a.txt", "eins")
    env.write("b.txt", "zwei")
    audit = RecordingAudit()
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        list(LibraryService(env.service, audit=audit).index([env.root], cancel))
    fields = audit.only("index_run")
    assert fields["outcome"] == "cancelled" and fields["indexed"] == 0
