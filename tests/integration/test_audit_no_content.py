"""Acceptance: with the default policy the audit log contains no text from the fixture documents.

Real components throughout – policy → build_container, the sandboxed extractor, BM25 + chromadb + e5, llama.cpp with
the small test model (SmolLM2-135M, context 2048 tokens by policy), the DOCX writer – and a real signed
`JsonlAuditLog` passed into the services. One session: index the fixture case file and the Merkblatt, load the model,
one lookup, one summary of the case file, one letter with facts from the case file, a draft-marked export of both,
a refused folder outside the allowed roots. Then the log files are read as raw bytes and searched for every word of
five or more letters of the fixture documents, every file name and stem, the question, the letter's fields and
instructions and the model's output texts.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from app.adapters.audit_log import JsonlAuditLog
from app.adapters.docx_writer import DocxWriter
from app.bootstrap import build_container
from app.core.draft_builders import summary_text
from app.core.errors import PolicyViolation
from app.core.letters import LetterRequest
from app.core.lookup import LookupAnswer
from app.core.summary import SummaryLength, SummaryRequest
from app.services.letters import LetterConfig, LetterService
from app.services.library import LibraryService
from app.services.lookup import LookupService
from app.services.model_service import ModelService
from app.services.summarize import SummarizeService, SummarySettings

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
CASE = FIXTURES / "akte_sondernutzung"
MERKBLATT = FIXTURES / "lookup" / "merkblatt_akteneinsicht.md"
QUESTION = "Wie hoch ist die Gebühr für Kopien bei der Akteneinsicht?"
FIELDS = {"empfaenger": "Café Lindenblüte GmbH\nFrau Sabine Korte\nMarktplatz 7\n12345 Musterstadt",
          "aktenzeichen": "32.4-SN/0815/2025", "sachbearbeiter": "Jonas Weber"}
INSTRUCTIONS = "Ablehnung der Fläche an der Hausecke, Restgehwegbreite zu gering"
SECRET = "Vertrauliche Gesundheitsangaben der Nachbarin Lieselotte Brandhuber"
FAST = SummarySettings(map_tokens=64, final_tokens={length: 160 for length in SummaryLength})
WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{5,}")
# Per action, the fields whose values the app fixes (enums, the model's identity – `file` is the model file's name,
# checked below): their exact JSON strings, the actions, the actor and all keys are the only text besides hashes,
# ids and numbers that may appear in the log.
ENUM_FIELDS = {
    "model_loaded": {"model", "backend", "file"},
    "index_run": {"outcome"},
    "ai_request": {"feature", "outcome", "model", "backend", "scope", "length", "style", "type", "reason"},
    "export": {"kind"},
    "policy_violation": {"rule", "operation"},
}
# Fixture words that are also a key or a fixed value of a record – explained:
EXPLAINED = {
    "vermerk": "the memo's export kind (`kind: vermerk`); the case file has a Vermerk, 07_vermerk_pruefung.md",
    "verwaltung": "the actor's domain in `VERWALTUNG\\pruefer`",
    "standard": "the summary length `standard`",
}


def run(gen):
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return {k for k in value} | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def allowed_tokens(record: dict) -> set[str]:
    """Every key, the action, the actor and the fixed values of the action's ENUM_FIELDS – as the exact JSON
    strings the log file holds (so a word inside any other value is still found)."""
    fields = record["fields"]
    values = [record["action"], record["actor"]]
    values += [v for k, v in fields.items() if k in ENUM_FIELDS[record["action"]] and isinstance(v, str)]
    return {json.dumps(t, ensure_ascii=False) for t in (*keys(record), *values)}


def test_with_the_default_policy_the_log_contains_no_text_from_the_fixture_documents(
        tmp_path: Path, test_model_path: Path) -> None:
    root = tmp_path / "akten"
    shutil.copytree(CASE, root / "akte_sondernutzung")
    (root / "merkblaetter").mkdir()
    shutil.copy(MERKBLATT, root / "merkblaetter" / MERKBLATT.name)
    outside = tmp_path / "privat_ablage"
    outside.mkdir()
    (outside / "geheime_notiz.md").write_text(f"# Notiz\n\n{SECRET}.\n", encoding="utf-8")
    (tmp_path / "home").mkdir()
    (tmp_path / "ausgabe").mkdir()
    policy = tmp_path / "policy.toml"
    policy.write_text(f'allowed_roots = ["{root}"]\nmodel_path = "{test_model_path}"\ncontext_length = 2048\n',
                      encoding="utf-8")
    container = build_container({"AKTENLOTSE_HOME": str(tmp_path / "home"), "AKTENLOTSE_POLICY": str(policy)})
    assert container.config.policy_error is None
    assert container.config.settings.audit_content is False  # the default policy: no content in the log
    log = JsonlAuditLog(tmp_path / "audit", actor="VERWALTUNG\\pruefer", key=b"k" * 32,
                        records_content=container.config.settings.audit_content)
    base = container.library()
    library = LibraryService(base.indexing, base.retrieval, audit=log)  # the container's stores, our audit trail
    # The policy names no checksum, so the container has no checksum preflight; ours hashes the file the way the
    # composition root's preflight does, so that the records carry the verified SHA-256.
    file_sha = container.files.sha256(test_model_path)
    models = ModelService(container.model_service.model, preflight=lambda: file_sha, audit=log)
    try:
        # -- the session --------------------------------------------------------------------------------------
        list(library.index(library.check_folders([root])))
        list(models.load())
        answer: LookupAnswer = run(LookupService(library, models, audit=log).ask(QUESTION))
        assert not answer.nothing_found and answer.text, "the lookup must reach the model"

        summarizer = SummarizeService(library, models, DocxWriter(), settings=FAST, audit=log)
        case = [r.path for r in summarizer.documents() if "akte_sondernutzung" in r.path]
        assert len(case) == 7
        summary = run(summarizer.summarize(SummaryRequest(tuple(case), focus="Was fehlt noch?")))
        summarizer.export_memo(summary, tmp_path / "ausgabe" / "vermerk_sondernutzung.docx")

        letters = LetterService(library, models, DocxWriter(), LetterConfig(body_tokens=200), audit=log)
        stellungnahme = next(p for p in case if p.endswith("04_stellungnahme_verkehr.md"))
        letter = run(letters.draft(LetterRequest("anhoerung", dict(FIELDS), INSTRUCTIONS, (stellungnahme,))))
        letters.export_letter(letter, tmp_path / "ausgabe" / "anhoerung_korte.docx")

        with pytest.raises(PolicyViolation):
            library.check_folders([outside])
    finally:
        models.close()
        base.close()

    # -- what was recorded ----------------------------------------------------------------------------------------
    records = log.records()
    actions = [r["action"] for r in records]
    assert actions.count("model_loaded") == 1 and actions.count("index_run") == 1
    assert actions.count("policy_violation") == 1 and actions.count("export") == 2
    requests = {r["fields"]["feature"]: r["fields"] for r in records if r["action"] == "ai_request"}
    assert actions.count("ai_request") == 3 and set(requests) == {"lookup", "summary", "letter"}
    assert all(f["outcome"] == "done" and f["sources"] > 0 and f["output_sha256"] for f in requests.values())
    assert requests["lookup"]["request_id"] == answer.id and requests["summary"]["request_id"] == summary.id
    assert requests["summary"]["map_steps"] == summary.map_steps >= 1
    assert {r["fields"]["kind"] for r in records if r["action"] == "export"} == {"vermerk", "brief"}
    index_run = next(r["fields"] for r in records if r["action"] == "index_run")
    assert index_run["indexed"] == 8 and index_run["outcome"] == "done"
    loaded = next(r["fields"] for r in records if r["action"] == "model_loaded")
    assert loaded["file"] == test_model_path.name and loaded["n_ctx"] == 2048
    assert re.fullmatch(r"[0-9a-f]{64}", file_sha) and loaded["sha256"] == file_sha
    assert all(f["model_sha256"] == file_sha for f in requests.values())
    verified = log.verify()
    assert verified.ok and verified.signed and verified.records == len(records) == 8

    # -- the needles ----------------------------------------------------------------------------------------------
    documents = sorted(root.rglob("*.md")) + [outside / "geheime_notiz.md"]
    words = {w.lower() for p in documents for w in WORD.findall(p.read_text(encoding="utf-8"))}
    names = {n.lower() for p in [*documents, *root.iterdir(), outside] for n in (p.name, p.stem)}
    names |= {"vermerk_sondernutzung", "anhoerung_korte", str(tmp_path).lower(), str(root).lower()}
    outputs = [answer.text, summary.raw_text, summary_text(summary), letter.body]
    lines = {line.strip().lower() for text in outputs for line in text.splitlines() if len(line.strip()) >= 12}
    inputs = {QUESTION.lower(), INSTRUCTIONS.lower(), "was fehlt noch", *(v.lower() for v in FIELDS.values())}
    needles = words | names | lines | inputs
    assert len(words) > 200 and len(needles) > 300

    allowed = {token for record in records for token in allowed_tokens(record)}
    vocabulary = " ".join(allowed).lower()
    excluded = sorted(n for n in needles if n in vocabulary)
    assert set(excluded) <= set(EXPLAINED), f"unexplained overlap with keys/fixed values: {excluded}"
    assert "vermerk" in excluded  # the overlap is computed, not assumed: the word is in 07_vermerk_pruefung.md

    raw = "\n".join(p.read_bytes().decode("utf-8") for p in sorted((tmp_path / "audit").iterdir()) if p.is_file())
    assert raw.count('"action":') == 8
    scrubbed = raw
    for token in sorted(allowed, key=len, reverse=True):  # keys and fixed values as exact JSON strings only
        scrubbed = scrubbed.replace(token, '""')
    scrubbed = scrubbed.lower()
    found = sorted(n for n in needles if n in scrubbed)
    assert found == [], f"text from the documents or the session in the audit log: {found[:20]}"
    # The scrub removed only keys and fixed values: a leaked passage inside a value would still be there.
    assert '"fields":' not in scrubbed and scrubbed.count('""') >= len(records)
