"""`aktenlotse --selftest`: does this installation work? Frozen or not, with the test model, in a throw-away folder.

Steps: find the test model (models/ beside the program, manifest role "test"), index the bundled sample
(resources/selftest), load the model and answer a lookup with a citation, hand the answer over as a draft and export
it as a draft DOCX (python-docx templates), open the main window offscreen (Qt plugins), write an audit record and
verify the log. Prints one line per step and exits 0 only if every step passed. Nothing touches the user's data:
AKTENLOTSE_HOME and the policy point into a temporary folder that is deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

from app.config import paths

QUESTION = "Bis wann muss der Antrag auf Sondernutzungserlaubnis gestellt werden?"


def _test_model() -> Path | None:
    try:
        manifest = tomllib.loads(paths.model_manifest_path().read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None  # no manifest beside the program: no known test model either
    for entry in manifest.get("model", []):
        if entry.get("role") == "test":
            candidate = paths.default_models_dir() / entry["file"]
            return candidate if candidate.is_file() else None
    return None


def run_selftest(out=None) -> int:
    out = out or sys.stdout
    started = time.perf_counter()
    failures: list[str] = []

    def step(name: str, action: Callable[[], str]) -> bool:
        t0 = time.perf_counter()
        try:
            detail = action()
        except Exception as exc:  # noqa: BLE001 - every failure is reported, the next steps may still say more
            failures.append(name)
            detail = getattr(exc, "detail", "")  # e.g. the ImportError behind "not installed" in a frozen build
            print(f"FEHLER  {name}: {type(exc).__name__}: {getattr(exc, 'user_message', '') or exc}"
                  + (f" [{detail}]" if detail else ""), file=out)
            return False
        print(f"ok      {name} ({time.perf_counter() - t0:.1f} s){': ' + detail if detail else ''}", file=out,
              flush=True)
        return True

    print(f"Aktenlotse Selbsttest ({'eingefroren' if paths.is_frozen() else 'Quelltext'}, {sys.platform})", file=out)
    model = _test_model()
    if model is None:
        print(f"FEHLER  Testmodell fehlt in {paths.default_models_dir()} (siehe models/manifest.toml, Rolle "
              "„test“).", file=out)
        return 1
    work = Path(tempfile.mkdtemp(prefix="aktenlotse-selbsttest-"))
    saved_env = {k: os.environ.get(k) for k in ("AKTENLOTSE_HOME", "AKTENLOTSE_POLICY", "QT_QPA_PLATFORM")}
    try:
        akten = work / "akten"
        shutil.copytree(paths.resources_dir() / "selftest", akten)
        policy = work / "policy.toml"
        policy.write_text(f"allowed_roots = [{str(akten)!r}]\nmodel_path = {str(model)!r}\ncontext_length = 2048\n"
                          .replace("'", '"').replace("\\", "\\\\"), encoding="utf-8")
        os.environ["AKTENLOTSE_HOME"] = str(work / "home")
        os.environ["AKTENLOTSE_POLICY"] = str(policy)
        _run_steps(step, akten, work)
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(work, ignore_errors=True)
    total = time.perf_counter() - started
    if failures:
        print(f"Selbsttest FEHLGESCHLAGEN nach {total:.1f} s: {', '.join(failures)}", file=out)
        return 1
    print(f"Selbsttest bestanden in {total:.1f} s.", file=out)
    return 0


def _run_steps(step, akten: Path, work: Path) -> None:
    from app.bootstrap import build_container

    state: dict[str, object] = {}

    def build() -> str:
        container = build_container(verify_now=True)
        state["container"] = container
        if container.config.policy_error is not None:
            raise container.config.policy_error
        if container.selection is None or not container.selection.usable:
            raise RuntimeError(container.selection.problem if container.selection else "kein Modell")
        return f"Modell {container.selection.path.name}: {container.selection.status.label_de}" + (
            "" if not container.key_message else "; Prüfprotokoll ohne Schlüsselbund (nicht signiert)")

    def index() -> str:
        library = state["container"].library()
        for _ in library.index([akten]):
            pass
        hits = library.search("Antragsfrist Sondernutzung", k=3)
        if not hits:
            raise RuntimeError("die Beispieldatei ist nicht auffindbar")
        return f"{len(hits)} Treffer, bester: {hits[0].chunk.location_de()}"

    def load() -> str:
        container = state["container"]
        for _ in container.model_service.load():
            pass
        return container.model_service.info.display_name if container.model_service.info else ""

    def lookup() -> str:
        generator = state["container"].lookup().ask(QUESTION)
        try:
            while True:
                next(generator)
        except StopIteration as stop:
            answer = stop.value
        if answer.nothing_found or not answer.sources or not answer.text.strip():
            raise RuntimeError("keine Antwort mit Quellen")
        state["answer"] = answer
        return f"{len(answer.text)} Zeichen, {len(answer.sources)} Quelle(n), {len(answer.flags)} Hinweis(e)"

    def draft() -> str:
        review = state["container"].review()
        draft_id = review.submit(state["answer"])
        target = work / "auskunft_entwurf.docx"
        review.export(draft_id, target, final=False)
        from app.adapters.docx_writer import DocxWriter

        status = DocxWriter().read_properties(target)["review_status"]
        if status != "draft":
            raise RuntimeError(f"review_status={status}")
        return f"Entwurf übergeben, DOCX {target.stat().st_size} Bytes, review_status=draft"

    def window() -> str:
        headless = sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                              or os.environ.get("WAYLAND_DISPLAY"))
        if headless:
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtWidgets import QApplication

        from app.ui.main_window import MainWindow

        app = QApplication.instance() or QApplication([])
        container = state["container"]
        win = MainWindow(container.config, container.model_service, container.selection,
                         library=container.library(), lookup=container.lookup(), review=container.review())
        win.show()
        app.processEvents()
        pages = win.navigation.count()
        win.close()
        app.processEvents()
        return f"Hauptfenster mit {pages} Arbeitsbereichen ({app.platformName()})"

    def audit() -> str:
        container = state["container"]
        container.record("selftest", {"ok": True})
        result = container.audit_log.verify()
        if not result.ok:
            raise RuntimeError(result.problem.describe_de())
        return f"{result.records} Einträge, {'signiert' if result.signed else 'nicht signiert'}"

    def remote_clients() -> str:
        """The data-centre clients are in the bundle and fail the way the product expects: a model endpoint and a
        Chroma server on a loopback port where nothing listens give RemoteUnavailable, no crash, no hang."""
        import socket

        from app.adapters.remote_model import OpenAICompatibleModel
        from app.adapters.shared_knowledge import ChromaSharedKnowledge
        from app.core.errors import RemoteUnavailable

        with socket.socket() as probe:  # a free port, closed again: nothing listens there
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        failures = []
        model = OpenAICompatibleModel(f"http://127.0.0.1:{port}/v1", "selbsttest", retries=0, timeout=5,
                                      connect_timeout=2)
        knowledge = ChromaSharedKnowledge(f"http://127.0.0.1:{port}", ["selbsttest"], timeout=5)
        for name, call in (("Sprachmodell", model.load), ("Fachbereichswissen", knowledge.describe)):
            try:
                call()
            except RemoteUnavailable:
                failures.append(name)
        model.close()
        knowledge.close()
        if failures != ["Sprachmodell", "Fachbereichswissen"]:
            raise RuntimeError(f"unerwartetes Verhalten: {failures}")
        return "OpenAI-kompatibler Client und Chroma-Client vorhanden; nicht erreichbar → klare Meldung"

    try:
        for name, action in (("Zusammenbau und Modellprüfsumme", build), ("Beispieldatei indexieren", index),
                             ("Testmodell laden", load), ("Nachschlagen mit Quelle", lookup),
                             ("Entwurf und DOCX", draft), ("Hauptfenster", window), ("Prüfprotokoll", audit),
                             ("Rechenzentrum-Clients", remote_clients)):
            if not step(name, action) and name in ("Zusammenbau und Modellprüfsumme",):
                break
    finally:
        container = state.get("container")
        if container is not None:
            container.close()
