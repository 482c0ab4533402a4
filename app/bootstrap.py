"""The composition root: config → adapters → services → window (or a CLI command). Only this module knows everything."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app import __version__
from app.config import EffectiveConfig, load_config, paths
from app.core.errors import ModelChecksumMismatch, ModelError
from app.core.models import CheckStatus, ModelFiles, ModelSelection
from app.services.model_service import ModelService

if TYPE_CHECKING:
    from app.services.library import LibraryService
    from app.services.lookup import LookupService
    from app.services.letters import LetterService
    from app.services.review import ReviewService
    from app.services.summarize import SummarizeService

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

    def library(self) -> LibraryService:
        """The document library, built on first use (chromadb and the embedder load lazily after that too)."""
        if self._library is None:
            self._library = build_library(self.config)
        return self._library

    def lookup(self) -> LookupService:
        """Nachschlagen over the library with the app's model."""
        from app.services.lookup import LookupService

        return LookupService(self.library(), self.model_service)

    def summarizer(self) -> SummarizeService:
        """Zusammenfassen over the library with the app's model; exports through the DOCX writer."""
        from app.adapters.docx_writer import DocxWriter
        from app.services.summarize import SummarizeService

        return SummarizeService(self.library(), self.model_service, DocxWriter())

    def letters(self) -> LetterService:
        """Entwerfen: letter types (built-in + the policy's folder), the library's documents, the DOCX writer."""
        from app.adapters.docx_writer import DocxWriter
        from app.services.letters import LetterConfig, LetterService

        s = self.config.settings
        config = LetterConfig(admin_types_dir=s.letter_types_dir, admin_blocks_dir=s.text_blocks_dir,
                              letterhead=s.letterhead_path, sender_line=s.sender_line or "",
                              authority=s.authority_name or "")
        return LetterService(self.library(), self.model_service, DocxWriter(), config)


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
            self._review = build_review(self.config)
        return self._review


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


def build_review(config: EffectiveConfig, *, reviewer: str | None = None) -> ReviewService:
    from app.adapters.docx_writer import DocxWriter
    from app.adapters.log_audit import LogAuditTrail
    from app.adapters.sqlite_drafts import SqliteDrafts
    from app.core.drafts import ReviewPolicy
    from app.services.review import ReviewService

    s = config.settings
    store = SqliteDrafts(config.data_dir / "drafts.sqlite3")
    policy = ReviewPolicy(require_source_opened=s.review_require_source_opened,
                          no_open_placeholders=s.review_no_open_placeholders,
                          min_review_seconds=s.review_min_seconds, long_draft_chars=s.review_long_draft_chars)
    return ReviewService(store, LogAuditTrail(), reviewer=reviewer or os_account(), policy=policy,
                         writer=DocxWriter(), stats=store if s.review_stats else None,
                         letterhead=s.letterhead_path)


def build_library(config: EffectiveConfig, *, embed: bool = True) -> LibraryService:
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

    return LibraryService(indexing, retrieval, closers=[extractor.close, vectors.close, lexical.close, manifest.close],
                          watcher_factory=lambda folders: FolderWatcher(folders, quiet_s=2.0))


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
    selection = select_model(
        model_path=settings.model_path,
        model_sha256=settings.model_sha256,
        models_dir=config.models_dir,
        manifest_path=paths.model_manifest_path(),
        files=files,
        path_source="Richtlinie" if config.is_locked("model_path") else "Einstellung",
        verify=verify_now,
    )
    if not selection.usable or selection.info is None:
        return Container(config, files, selection, ModelService(None, ModelError(selection.problem or None)))

    from app.adapters.llama_cpp_model import LlamaCppModel

    model = LlamaCppModel(selection.info, n_threads=settings.n_threads, n_ctx=settings.context_length)
    return Container(config, files, selection, ModelService(model, preflight=_checksum_preflight(files, selection)))


def _checksum_preflight(files: ModelFiles, selection: ModelSelection):
    """Verify the model file's checksum before loading it (on the loading thread, not at start-up)."""
    expected = selection.expected_sha256
    if not expected or selection.path is None or selection.status is CheckStatus.OK:
        return None
    path = selection.path

    def verify() -> str:
        actual = files.sha256(path)
        if actual != expected:
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["--extract-worker"]:  # the frozen app's document-reader sandbox (app/adapters/extract/sandbox.py)
        from app.adapters.extract.worker import main as worker_main

        worker_main()
        return 0
    args = _parser().parse_args(raw)
    if args.command == "doctor":
        from app.cli.doctor import run_doctor

        container = build_container(verify_now=True)
        return run_doctor(container.config, container.selection, container.model_service, container.files,
                          as_json=args.json, load=args.load)
    if args.command == "stats":
        from app.cli.stats import run_stats

        return _with_container(lambda c: run_stats(
            c.review(), args.stats_command, summary=getattr(args, "summary", False),
            output=getattr(args, "output", None)))
    if args.command == "draft":
        from app.cli.draft import list_types, run_draft

        def draft(c: Container) -> int:
            service = c.letters()
            if args.list_types:
                return list_types(service, sys.stdout)
            return run_draft(service, c.model_service, type_key=args.type_key, fields=args.field,
                             sources=args.sources, style=args.style, instructions=args.instructions,
                             output=args.output, as_json=args.json, check=c.library().check_folders)

        return _with_container(draft)
    if args.command == "summarize":
        from app.cli.summarize import run_summarize

        return _with_container(lambda c: run_summarize(
            c.summarizer(), c.model_service, args.paths, length=args.length, focus=args.focus, as_json=args.json,
            docx=args.docx, check=c.library().check_folders))
    if args.command == "ask":
        from app.cli.ask import run_ask

        return _with_container(lambda c: run_ask(
            c.lookup(), c.model_service, args.question, scope_paths=args.scope, check=c.library().check_folders,
            as_json=args.json))
    if args.command in ("index", "search"):
        config = load_config()
        if config.policy_error is not None:
            print(f"Fehler: {config.policy_error.user_message}", file=sys.stderr)
            return 2
        library = build_library(config, embed=not getattr(args, "no_embed", False))
        try:
            if args.command == "index":
                from app.cli.index import run_index

                return run_index(library, args.paths, as_json=args.json, embed=not args.no_embed)
            from app.cli.search import run_search

            return run_search(library, args.query, k=args.k, as_json=args.json)
        finally:
            library.close()
    return run_gui(quit_after_shown=args.quit_after_shown)


def _with_container(command: Callable[[Container], int]) -> int:
    """Run a CLI command over the container: exit 2 on a broken policy, everything closed afterwards."""
    container = build_container()
    if container.config.policy_error is not None:
        print(f"Fehler: {container.config.policy_error.user_message}", file=sys.stderr)
        return 2
    try:
        return command(container)
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
    )
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
        container.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
