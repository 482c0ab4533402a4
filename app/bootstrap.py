"""The composition root: config → adapters → services → window (or a CLI command). Only this module knows everything."""

from __future__ import annotations

import argparse
from pathlib import Path
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app import __version__
from app.config import EffectiveConfig, load_config, paths
from app.core.audit import AuditTrail
from app.core.errors import AktenlotseError, ModelChecksumMismatch, ModelError
from app.core.models import CheckStatus, ModelFiles, ModelSelection
from app.services.model_service import ModelService

if TYPE_CHECKING:
    from app.services.library import LibraryService
    from app.services.lookup import LookupService
    from app.services.letters import LetterService
    from app.adapters.audit_log import JsonlAuditLog, UnavailableAuditLog
    from app.services.review import ReviewService
    from app.services.summarize import SummarizeService

    AuditLog = JsonlAuditLog | UnavailableAuditLog

_PROCESS_START = time.perf_counter()


@dataclass
class Container:
    """Everything a front end (GUI or CLI) needs, built once."""

    config: EffectiveConfig
    files: ModelFiles
    selection: ModelSelection | None
    model_service: ModelService
    _library: LibraryService | None = field(default=None, repr=False)
    _review: ReviewService | None = field(default=None, repr=False)
    audit_log: AuditLog | None = field(default=None, repr=False)  # None only with a broken policy
    key_message: str = ""  # why the audit log is not signed ("" when it is)
    embed: bool = True  # False: `index --no-embed` builds the lexical index only

    def library(self) -> LibraryService:
        """The document library, built on first use (chromadb and the embedder load lazily after that too)."""
        if self._library is None:
            self._library = build_library(self.config, embed=self.embed, audit=self.audit_log)
        return self._library

    def lookup(self) -> LookupService:
        """Nachschlagen over the library with the app's model."""
        from app.services.lookup import LookupService

        return LookupService(self.library(), self.model_service, audit=self.audit_log)

    def summarizer(self) -> SummarizeService:
        """Zusammenfassen over the library with the app's model; exports through the DOCX writer."""
        from app.adapters.docx_writer import DocxWriter
        from app.services.summarize import SummarizeService

        return SummarizeService(self.library(), self.model_service, DocxWriter(), audit=self.audit_log)

    def letters(self) -> LetterService:
        """Entwerfen: letter types (built-in + the policy's folder), the library's documents, the DOCX writer."""
        from app.adapters.docx_writer import DocxWriter
        from app.services.letters import LetterConfig, LetterService

        s = self.config.settings
        config = LetterConfig(admin_types_dir=s.letter_types_dir, admin_blocks_dir=s.text_blocks_dir,
                              letterhead=s.letterhead_path, sender_line=s.sender_line or "",
                              authority=s.authority_name or "")
        return LetterService(self.library(), self.model_service, DocxWriter(), config, audit=self.audit_log)


    def close(self) -> None:
        """Close what was built: the model, the library's stores and worker, the draft store."""
        self.model_service.close()
        if self._library is not None:
            self._library.close()
        if self._review is not None:
            self._review.close()

    def review(self) -> ReviewService:
        """Entwürfe: drafts and statistics in `<data_dir>/drafts.sqlite3`, decisions to the audit trail."""
        if self._review is None:
            self._review = build_review(self.config, audit=self.audit_log)
        return self._review

    def record(self, action: str, fields: Mapping[str, object]) -> None:
        """Record an app-level event (start, stop, policy); nothing without an audit log (broken policy)."""
        if self.audit_log is not None:
            self.audit_log.record(action, fields)

    def record_start(self, mode: str) -> None:
        policy = self.config.policy
        self.record("app_started", {"version": __version__, "mode": mode, "signed": self.key_message == ""})
        s = self.config.settings
        remote = [url for url in (s.remote_model_url, s.shared_knowledge_url) if url]
        self.record("policy_loaded", {"source": policy.description, "sha256": policy.sha256,
                                      "locked": sorted(self.config.locked),
                                      # where data may leave the PC: the configured endpoints (no credentials)
                                      "remote_endpoints": remote, "pseudonymise": s.remote_pseudonymise})


def os_account() -> str:
    """The reviewer is the signed-in OS account (Windows: DOMAIN\\user where known)."""
    import getpass
    import os

    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name known: confirming then says the reviewer is missing
        return ""
    domain = os.environ.get("USERDOMAIN", "")
    return f"{domain}\\{user}" if domain and sys.platform == "win32" else user


def is_security_officer(container: Container) -> bool:
    """The read-only audit view is for the accounts the policy names in `security_officers`."""
    from app.adapters.audit_log import JsonlAuditLog

    if not isinstance(container.audit_log, JsonlAuditLog):
        return False
    me = os_account().casefold()
    return bool(me) and any(me == name.strip().casefold() for name in container.config.settings.security_officers)


def build_audit(config: EffectiveConfig) -> tuple[AuditLog, str]:
    """The audit log in `audit_dir` with this installation's key from the OS keyring; (log, why unsigned or "")."""
    from app.adapters.audit_key import load_or_create_key
    from app.adapters.audit_log import AuditWriteError, JsonlAuditLog, UnavailableAuditLog

    status = load_or_create_key()
    try:
        log = JsonlAuditLog(config.audit_dir, actor=os_account(), key=status.key,
                            records_content=config.settings.audit_content)
    except AuditWriteError as error:  # fail closed: every action that must be logged is refused with this reason
        return UnavailableAuditLog(error), status.message_de
    return log, status.message_de


def build_review(config: EffectiveConfig, *, audit: AuditTrail | None = None,
                 reviewer: str | None = None) -> ReviewService:
    from app.adapters.docx_writer import DocxWriter
    from app.adapters.sqlite_drafts import SqliteDrafts
    from app.core.drafts import ReviewPolicy
    from app.services.review import ReviewService

    s = config.settings
    store = SqliteDrafts(config.data_dir / "drafts.sqlite3")
    policy = ReviewPolicy(require_source_opened=s.review_require_source_opened,
                          no_open_placeholders=s.review_no_open_placeholders,
                          min_review_seconds=s.review_min_seconds, long_draft_chars=s.review_long_draft_chars)
    if audit is None:
        audit = build_audit(config)[0]
    return ReviewService(store, audit, reviewer=reviewer or os_account(), policy=policy,
                         writer=DocxWriter(), stats=store if s.review_stats else None,
                         letterhead=s.letterhead_path)


def build_library(config: EffectiveConfig, *, embed: bool = True, audit: AuditTrail | None = None) -> LibraryService:
    """Manifest, BM25 index, chromadb vectors, e5 embedder, sandboxed extractor → IndexService → LibraryService.

    Files live in `<index_dir>/manifest.sqlite3`, `<index_dir>/lexical/` and `<index_dir>/vectors/`. Nothing heavy is
    imported or opened before first use of a store (chromadb, the e5 model, the extractor's worker process).
    With `embed=False` no vectors are made (the vector store is still opened to remove stale vectors).
    """
    from app.adapters.bm25_index import Bm25Index
    from app.adapters.chroma_store import ChromaVectorStore
    from app.adapters.e5_embedder import E5Embedder
    from app.adapters.extract import SandboxedExtractor
    from app.adapters.fs_scan import FolderScanner
    from app.adapters.sqlite_manifest import SqliteManifest
    from app.core.chunking import chunk_document
    from app.services.indexing import IndexService
    from app.services.library import LibraryService

    settings = config.settings
    index_dir = config.index_dir
    manifest = SqliteManifest(index_dir)
    lexical = Bm25Index(index_dir / "lexical")
    vectors = ChromaVectorStore(index_dir / "vectors")
    embedder = E5Embedder()
    extractor = SandboxedExtractor(timeout_s=30, max_bytes=settings.max_file_mb * 1024 * 1024)
    scanner = FolderScanner(config.allowed_roots, settings.max_file_mb, settings.exclude_patterns)
    indexing = IndexService(
        extractor=extractor, chunker=lambda doc, doc_id: chunk_document(doc, doc_id), manifest=manifest,
        lexical=lexical, vectors=vectors, embedder=embedder if embed else None, scanner=scanner,
    )
    from app.adapters.watcher import FolderWatcher
    from app.services.retrieval import RetrievalService, SynonymTable

    synonyms_file = paths.resources_dir() / "retrieval" / "synonyms_de.txt"
    synonyms = SynonymTable.parse(synonyms_file.read_text(encoding="utf-8")) if synonyms_file.is_file() else None
    retrieval = RetrievalService(lexical, vectors, embedder, synonyms=synonyms)

    closers = [extractor.close, vectors.close, lexical.close, manifest.close]
    shared = _shared_search(config, embedder, closers)
    return LibraryService(indexing, retrieval, closers=closers, audit=audit,
                          watcher_factory=lambda folders: FolderWatcher(folders, quiet_s=2.0), shared=shared)


def _shared_search(config: EffectiveConfig, embedder: object, closers: list) -> object | None:
    """The department's collections on the policy's Chroma server (read only), or None. A policy URL the product
    will not use (http to another host, a path, a missing CA file) leaves the search local, with a log line; the
    window and `aktenlotse doctor` name the reason."""
    settings = config.settings
    if not (settings.shared_knowledge_url and settings.shared_collections):
        return None
    import logging

    from app.adapters.remote_credentials import get_token
    from app.adapters.shared_knowledge import ChromaSharedKnowledge
    from app.core.errors import RemoteConfigError
    from app.services.shared_search import SharedSearch

    try:
        knowledge = ChromaSharedKnowledge(settings.shared_knowledge_url, settings.shared_collections,
                                          token=get_token("knowledge").token, ca_bundle=settings.remote_ca_bundle,
                                          timeout=min(settings.remote_timeout_seconds, 30))
    except RemoteConfigError as exc:
        logging.getLogger(__name__).warning("Fachbereichswissen ausgeschaltet: %s", exc)
        return None
    closers.append(knowledge.close)
    mask = None
    if settings.remote_pseudonymise:
        from app.core.pseudonymise import Pseudonymiser

        def mask(question: str) -> str:  # a fresh mapping per question: nothing is restored, nothing kept
            return Pseudonymiser().mask(question)

    return SharedSearch(knowledge, embedder, mask=mask)


def build_container(env: Mapping[str, str] | None = None, *, verify_now: bool = False) -> Container:
    """Build the object graph. Hashing a large model is left to the model's load step unless `verify_now`.

    Nothing here raises for bad input: a broken policy or model ends up as the service's error.
    """
    from app.adapters.model_files import GgufModelFiles
    from app.services.model_selection import select_model

    config = load_config(env)
    files = GgufModelFiles(cache_dir=config.user_dirs.cache_dir)
    if config.policy_error is not None:
        reason = ModelError(
            "Die Richtlinie Ihrer IT ist fehlerhaft; die KI-Funktionen bleiben gesperrt, bis sie korrigiert ist. "
            + config.policy_error.user_message,
            config.policy_error.detail,
        )
        return Container(config, files, None, ModelService(None, reason))
    settings = config.settings
    audit_log, key_message = build_audit(config)
    logged = {"audit_log": audit_log, "key_message": key_message}
    selection = select_model(
        model_path=settings.model_path,
        model_sha256=settings.model_sha256,
        models_dir=config.models_dir,
        manifest_path=paths.model_manifest_path(),
        files=files,
        path_source="Richtlinie" if config.is_locked("model_path") else "Einstellung",
        verify=verify_now,
    )
    local = None
    if selection.usable and selection.info is not None:
        from app.adapters.llama_cpp_model import LlamaCppModel

        local = LlamaCppModel(selection.info, n_threads=settings.n_threads, n_ctx=settings.context_length)
    if settings.remote_model_url:  # the policy sends AI requests to a data centre (docs/remote.md)
        return Container(config, files, selection, _remote_model_service(config, files, selection, local, audit_log),
                         **logged)
    if local is None:
        return Container(config, files, selection, ModelService(None, ModelError(selection.problem or None)),
                         **logged)
    return Container(config, files, selection, ModelService(local, preflight=_checksum_preflight(files, selection),
                                                            audit=audit_log),
                     **logged)


def _remote_model_service(config: EffectiveConfig, files: ModelFiles, selection: ModelSelection,
                          local: object | None, audit_log: AuditTrail) -> ModelService:
    """The data-centre model; the local one (checksum-verified before it loads) only where the policy allows
    falling back to it. A configuration the product will not use (http to another host, missing CA file, no model
    name) leaves the service in its error state with the German reason."""
    from app.adapters.remote_credentials import get_token
    from app.adapters.remote_model import OpenAICompatibleModel
    from app.core.errors import RemoteConfigError

    settings = config.settings
    try:
        if not settings.remote_model_name:
            raise RemoteConfigError("Für das Sprachmodell im Rechenzentrum ist in der Richtlinie kein Modellname "
                                    "eingetragen (remote_model_name).")
        remote = OpenAICompatibleModel(settings.remote_model_url or "", settings.remote_model_name,
                                       token=get_token("model").token, ca_bundle=settings.remote_ca_bundle,
                                       timeout=float(settings.remote_timeout_seconds), retries=settings.remote_retries,
                                       context_length=settings.context_length)
    except RemoteConfigError as error:
        return ModelService(None, error, audit=audit_log)
    fallback = None
    if settings.remote_fallback_local and local is not None:
        fallback = _VerifiedLocalModel(local, _checksum_preflight(files, selection))
    return ModelService(remote, audit=audit_log, pseudonymise=settings.remote_pseudonymise, fallback=fallback)


class _VerifiedLocalModel:
    """The local model as the remote model's fallback: its checksum is checked (once) before it loads, as when it
    is the primary model."""

    def __init__(self, model, preflight) -> None:  # noqa: ANN001 - LlamaCppModel and _checksum_preflight's result
        self._model = model
        self._preflight = preflight
        self.verified_sha256 = ""

    def __getattr__(self, name: str):  # noqa: ANN204 - everything else is the local model's
        return getattr(self._model, name)

    @property
    def info(self):  # noqa: ANN201
        return self._model.info

    @property
    def backend_name(self) -> str:
        return self._model.backend_name

    @property
    def is_remote(self) -> bool:
        return False

    @property
    def endpoint(self) -> str:
        return ""

    def load(self):  # noqa: ANN201
        if self._preflight is not None and not self.verified_sha256:
            self.verified_sha256 = self._preflight()
        return self._model.load()

    def stream_chat(self, messages, params, cancel):  # noqa: ANN001, ANN201
        return self._model.stream_chat(messages, params, cancel)

    def close(self) -> None:
        self._model.close()


def _checksum_preflight(files: ModelFiles, selection: ModelSelection):
    """Before loading (on the loading thread, not at start-up): the model file's SHA-256 – checked against the
    expected one when policy or manifest name it, else only computed (cached by size and mtime) for the audit log."""
    expected = selection.expected_sha256
    path = selection.path
    if path is None:
        return None
    if selection.status is CheckStatus.OK and selection.actual_sha256:
        known = selection.actual_sha256
        return lambda: known

    def verify() -> str:
        actual = files.sha256(path)
        if expected and actual != expected:
            raise ModelChecksumMismatch(
                detail=f"{path}: erwartet {expected}, gefunden {actual}",
            )
        return actual

    return verify


# -- command line -------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aktenlotse",
        description="Aktenlotse – KI-Assistent für die Sachbearbeitung, offline. Ohne Unterbefehl startet die Oberfläche.",
    )
    parser.add_argument("--version", action="version", version=f"Aktenlotse {__version__}")
    parser.add_argument("--quit-after-shown", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--selftest", action="store_true",
                        help="Installation prüfen: Testmodell, Beispieldatei, Nachschlagen, Entwurf, Fenster, "
                             "Prüfprotokoll (in einem temporären Ordner); Exit 0 wenn alles geht")
    sub = parser.add_subparsers(dest="command", metavar="BEFEHL")
    doctor = sub.add_parser("doctor", help="Installation prüfen: Versionen, Richtlinie, Pfade, Modell und Prüfsumme.")
    doctor.add_argument("--json", action="store_true", help="Ausgabe als JSON")
    doctor.add_argument("--load", action="store_true", help="Das Modell zusätzlich laden und eine kurze Antwort erzeugen.")
    index = sub.add_parser("index", help="Ordner oder Dateien in die Dokumentenbibliothek aufnehmen (inkrementell).")
    index.add_argument("paths", nargs="+", metavar="PFAD", help="Ordner oder Dateien innerhalb der freigegebenen Ordner")
    index.add_argument("--json", action="store_true", help="Zusammenfassung als JSON")
    index.add_argument("--no-embed", action="store_true", help="Nur Stichwortsuche aufbauen, keine Vektoren berechnen")
    search = sub.add_parser("search", help="Die Dokumentenbibliothek durchsuchen.")
    search.add_argument("query", metavar="ANFRAGE")
    search.add_argument("--k", type=int, default=10, help="Anzahl der Treffer (Standard 10)")
    search.add_argument("--json", action="store_true", help="Ausgabe als JSON")
    ask = sub.add_parser("ask", help="Eine Frage an die eigenen Dokumente stellen – Antwort mit Quellen (Entwurf).")
    ask.add_argument("question", metavar="FRAGE")
    ask.add_argument("--scope", action="append", default=[], metavar="PFAD",
                     help="Nur in diesem Ordner (Akte) oder diesen Dateien suchen; mehrfach angebbar")
    ask.add_argument("--json", action="store_true", help="Ausgabe als JSON (Antwort, Quellen, Hinweise)")
    summ = sub.add_parser("summarize", help="Dokumente oder eine Akte zusammenfassen (Entwurf, mit Quellen).")
    summ.add_argument("paths", nargs="+", metavar="PFAD", help="Indexierte Dateien oder Ordner (Akte)")
    summ.add_argument("--length", default="standard", choices=["kurz", "standard", "ausfuehrlich"],
                      help="Länge: kurz (3–5 Punkte), standard, ausfuehrlich")
    summ.add_argument("--focus", default="", help="Schwerpunkt, z. B. „Worum geht es dem Antragsteller?“")
    summ.add_argument("--json", action="store_true", help="Ausgabe als JSON")
    summ.add_argument("--docx", metavar="DATEI", help="Zusätzlich als Vermerk (Entwurf) im DOCX-Format speichern")
    drf = sub.add_parser("draft", help="Einen Brief entwerfen (DOCX, als Entwurf gekennzeichnet).")
    drf.add_argument("--type", dest="type_key", default="", help="Brieftyp, z. B. anhoerung (--list-types zeigt alle)")
    drf.add_argument("--field", action="append", default=[], metavar="SCHLÜSSEL=WERT",
                     help="Angabe, z. B. aktenzeichen=32.4-SN/0815/2025; mehrfach angebbar")
    drf.add_argument("--from", dest="sources", action="append", default=[], metavar="DATEI",
                     help="Indexierte Unterlage der Akte; mehrfach angebbar")
    drf.add_argument("--style", default="foermlich", choices=["foermlich", "buergernah", "leicht"])
    drf.add_argument("--instructions", default="", help="Was der Brief sagen soll")
    drf.add_argument("-o", "--output", metavar="DATEI.docx", help="Wohin der Entwurf geschrieben wird")
    drf.add_argument("--json", action="store_true", help="Entwurf zusätzlich als JSON ausgeben")
    drf.add_argument("--list-types", action="store_true", help="Brieftypen und ihre Felder anzeigen")
    stats = sub.add_parser("stats", help="Inhaltsfreie Nutzungsstatistik der Entwürfe (wissenschaftliche Begleitung).")
    stats_sub = stats.add_subparsers(dest="stats_command", metavar="AKTION", required=True)
    stats_export = stats_sub.add_parser("export", help="Statistik ausgeben: keine Texte, keine Namen, keine Dateinamen.")
    stats_export.add_argument("--csv", action="store_true", help="Als CSV ausgeben (Standard)")
    stats_export.add_argument("--summary", action="store_true", help="Eine Zeile je Funktion statt einer je Entwurf")
    stats_export.add_argument("-o", "--output", metavar="DATEI.csv", help="In diese Datei schreiben statt auf die Konsole")
    stats_sub.add_parser("show", help="Übersicht je Funktion anzeigen")
    from app.cli.shared import add_shared_parser

    add_shared_parser(sub)
    from app.cli.remote import add_remote_parser

    add_remote_parser(sub)
    audit = sub.add_parser("audit", help="Prüfprotokoll prüfen oder exportieren (für Sicherheitsbeauftragte).")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="AKTION", required=True)
    verify = audit_sub.add_parser("verify", help="Kette und Signaturen prüfen; Exit 1 beim ersten beschädigten Eintrag.")
    verify.add_argument("--dir", metavar="ORDNER", help="Ein anderes (kopiertes) Protokoll prüfen; es wird nur gelesen")
    verify.add_argument("--no-key", action="store_true", help="Ohne Schlüssel prüfen (nur die Hash-Kette)")
    verify.add_argument("--json", action="store_true", help="Ergebnis als JSON")
    export = audit_sub.add_parser("export", help="Einträge eines Zeitraums als CSV oder JSON ausgeben.")
    export.add_argument("--from", dest="start", metavar="DATUM", help="Erster Tag (JJJJ-MM-TT oder TT.MM.JJJJ)")
    export.add_argument("--to", dest="end", metavar="DATUM", help="Letzter Tag (einschließlich)")
    export.add_argument("--format", default="csv", choices=["csv", "json"])
    export.add_argument("--dir", metavar="ORDNER", help="Ein anderes (kopiertes) Protokoll lesen")
    export.add_argument("-o", "--output", metavar="DATEI", help="In diese Datei schreiben statt auf die Konsole")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["--extract-worker"]:  # the frozen app's document-reader sandbox (app/adapters/extract/sandbox.py)
        from app.adapters.extract.worker import main as worker_main

        worker_main()
        return 0
    args = _parser().parse_args(raw)
    if args.selftest:
        from app.selftest import run_selftest

        return run_selftest()
    if args.command == "doctor":
        from app.cli.doctor import run_doctor

        container = build_container(verify_now=True)
        try:
            return run_doctor(container.config, container.selection, container.model_service, container.files,
                              as_json=args.json, load=args.load,
                              audit_signing=container.key_message if container.audit_log is not None else None)
        finally:
            container.close()
    if args.command == "remote":
        return _remote_command(args)
    if args.command == "shared":
        return _shared_command(args)
    if args.command == "audit":
        return _with_container(lambda c: _audit_command(c, args), log_start=False)
    if args.command == "stats":
        from app.cli.stats import run_stats

        return _with_container(lambda c: run_stats(
            c.review(), args.stats_command, summary=getattr(args, "summary", False),
            output=getattr(args, "output", None)), log_start=False)
    if args.command == "draft":
        from app.cli.draft import list_types, run_draft

        def draft(c: Container) -> int:
            service = c.letters()
            if args.list_types:
                return list_types(service, sys.stdout)
            return run_draft(service, c.model_service, type_key=args.type_key, fields=args.field,
                             sources=args.sources, style=args.style, instructions=args.instructions,
                             output=args.output, as_json=args.json, check=c.library().check_folders)

        return _with_container(draft, mode="draft")
    if args.command == "summarize":
        from app.cli.summarize import run_summarize

        return _with_container(lambda c: run_summarize(
            c.summarizer(), c.model_service, args.paths, length=args.length, focus=args.focus, as_json=args.json,
            docx=args.docx, check=c.library().check_folders), mode="summarize")
    if args.command == "ask":
        from app.cli.ask import run_ask

        return _with_container(lambda c: run_ask(
            c.lookup(), c.model_service, args.question, scope_paths=args.scope, check=c.library().check_folders,
            as_json=args.json), mode="ask")
    if args.command in ("index", "search"):
        def library_command(c: Container) -> int:
            c.embed = not getattr(args, "no_embed", False)
            if args.command == "index":
                from app.cli.index import run_index

                return run_index(c.library(), args.paths, as_json=args.json, embed=c.embed)
            from app.cli.search import run_search

            return run_search(c.library(), args.query, k=args.k, as_json=args.json)

        return _with_container(library_command, mode=args.command)
    return run_gui(quit_after_shown=args.quit_after_shown)


def _remote_command(args: argparse.Namespace) -> int:
    """`aktenlotse remote token set|delete`, `remote check`: the data-centre endpoints of the policy."""
    from app.adapters import remote_credentials
    from app.adapters.remote_model import OpenAICompatibleModel, probe_http
    from app.adapters.shared_knowledge import ChromaSharedKnowledge
    from app.cli.remote import RemoteTools, run_remote

    tools = RemoteTools(get_token=remote_credentials.get_token, set_token=remote_credentials.set_token,
                        delete_token=remote_credentials.delete_token, make_model=OpenAICompatibleModel,
                        probe=probe_http, make_knowledge=ChromaSharedKnowledge)
    return run_remote(args, load_config(), tools)


def _shared_command(args: argparse.Namespace) -> int:
    """`aktenlotse shared publish|list`: for the data centre's admins, who fill the department's collections."""
    from app.adapters.e5_embedder import E5Embedder
    from app.adapters.extract import SandboxedExtractor
    from app.adapters.remote_credentials import get_token
    from app.adapters.shared_knowledge import ChromaSharedPublisher
    from app.cli.shared import run_shared

    s = load_config().settings
    extractor = SandboxedExtractor(timeout_s=30, max_bytes=s.max_file_mb * 1024 * 1024)
    try:
        return run_shared(args, publisher_factory=lambda url: ChromaSharedPublisher(
            url, token=get_token("knowledge").token, ca_bundle=s.remote_ca_bundle,
            timeout=s.remote_timeout_seconds), extractor=extractor, embedder=E5Embedder())
    finally:
        extractor.close()


def _audit_command(container: Container, args: argparse.Namespace) -> int:
    from app.adapters.audit_log import AuditWriteError, JsonlAuditLog
    from app.cli.audit import run_export, run_verify

    own = container.audit_log if isinstance(container.audit_log, JsonlAuditLog) else None
    try:
        if args.dir:
            key = None if getattr(args, "no_key", False) or own is None else own.key
            log = JsonlAuditLog(Path(args.dir), actor=os_account(), key=key, read_only=True)
        elif own is None:
            raise container.audit_log.error if container.audit_log is not None else AuditWriteError(
                "Ohne gültige Richtlinie gibt es kein Prüfprotokoll.")
        else:
            log = JsonlAuditLog(own.folder, actor=own.actor, key=None, read_only=True) \
                if getattr(args, "no_key", False) else own
    except AuditWriteError as error:
        print(f"Fehler: {error.user_message} {error.detail}".strip(), file=sys.stderr)
        return 2
    if args.audit_command == "verify":
        return run_verify(log, own, as_json=args.json)
    return run_export(log, own, start=args.start, end=args.end, fmt=args.format, output=args.output)


def _with_container(command: Callable[[Container], int], *, log_start: bool = True, mode: str = "") -> int:
    """Run a CLI command over the container: exit 2 on a broken policy, everything closed afterwards."""
    container = build_container()
    if container.config.policy_error is not None:
        print(f"Fehler: {container.config.policy_error.user_message}", file=sys.stderr)
        return 2
    if container.key_message:
        print(f"Hinweis: {container.key_message}", file=sys.stderr)
    try:
        if log_start:  # the commands that use AI or documents are logged; audit and stats log what they do
            container.record_start(f"cli:{mode}")
        return command(container)
    except AktenlotseError as error:  # e.g. the audit log cannot be written: the action is not done
        print(f"Fehler: {error.user_message}", file=sys.stderr)
        return 1
    finally:
        container.close()


def run_gui(*, quit_after_shown: bool = False) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.config import save_user_settings
    from app.ui.errors import install_excepthook
    from app.ui.i18n import install_qt_translations
    from app.ui.main_window import MainWindow
    from app.ui.style import apply_app_style
    from app.ui.task_runner import TaskRunner

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName(paths.APP_NAME)
    app.setApplicationDisplayName(paths.APP_NAME)
    app.setOrganizationName(paths.APP_AUTHOR)
    app.setWindowIcon(QIcon(str(paths.resources_dir() / "icons" / "aktenlotse.svg")))
    apply_app_style(app)
    container = build_container()
    translators = install_qt_translations(app, container.config.settings.language)  # kept alive while the app runs
    install_excepthook(container.config.user_dirs.log_dir / "aktenlotse.log")
    runner = TaskRunner()
    window = MainWindow(
        container.config,
        container.model_service,
        container.selection,
        runner=runner,
        save_settings=lambda changes: save_user_settings(container.config, changes),
        # ~0.1 s: chromadb, bm25s and the e5 model load on first use, on the library's worker thread
        library=container.library() if container.config.usable else None,
        lookup=container.lookup() if container.config.usable else None,
        summarizer=container.summarizer() if container.config.usable else None,
        drafter=container.letters() if container.config.usable else None,
        review=container.review() if container.config.usable else None,
        audit_view=container.audit_log if is_security_officer(container) else None,
    )
    _show_audit_state(window, container)
    window.show()
    window.start_model_loading()  # in the background: the window is already there
    if window.library_page is not None and not quit_after_shown:
        window.library_page.enable_auto_update()  # re-check indexed folders, then watch them
    if quit_after_shown:  # for bench/startup.py: how long until the window is up while the model loads
        app.processEvents()
        state = container.model_service.state.value
        print(f"window_shown_s={time.perf_counter() - _PROCESS_START:.3f} model_state={state}", flush=True)
        QTimer.singleShot(0, window.close)
    try:
        return app.exec()
    finally:
        del translators
        try:
            container.record("app_stopped", {"mode": "gui"})
        except AktenlotseError:
            pass  # already shown while running; nothing left to refuse at exit
        container.close()


def _show_audit_state(window, container: Container) -> None:
    """Record the start; say in the window when the log is unsigned (no keyring) or cannot be written at all."""
    from app.ui.message_bar import Severity

    try:
        container.record_start("gui")
    except AktenlotseError as error:
        window.message_bar.set_message(
            "audit", "Das Prüfprotokoll kann nicht geschrieben werden. KI-Funktionen und Entscheidungen werden "
            "abgelehnt, bis Ihre IT das behebt: " + error.user_message, Severity.ERROR, error)
        return
    if container.key_message:
        window.message_bar.set_message(
            "audit", "Prüfprotokoll ohne Signatur: kein Schlüsselbund auf diesem Rechner. Die Einträge bleiben "
            "verkettet und prüfbar.", Severity.INFO, AktenlotseError("Prüfprotokoll ohne Signatur",
                                                                     container.key_message))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
