"""`aktenlotse doctor`: checks an installation and says in German what is wrong; exit 0 only when all is well."""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from app import __version__
from app.config import EffectiveConfig, paths
from app.core.endpoints import parse_endpoint
from app.core.errors import AktenlotseError, RemoteConfigError
from app.core.llm import GenerationParams
from app.core.models import ModelFiles, ModelSelection
from app.core.progress import CancelToken
from app.services.model_selection import found_models
from app.services.model_service import ModelService

DISTRIBUTIONS = ("llama_cpp_python", "PySide6_Essentials", "chromadb", "python-docx", "keyring", "pydantic", "gguf")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "nicht installiert"


def collect(
    config: EffectiveConfig,
    selection: ModelSelection | None,
    model_service: ModelService,
    files: ModelFiles,
    *,
    load: bool = False,
    audit_signing: str | None = None,
) -> dict[str, Any]:
    """Gather the report as plain data; `problems` lists German reasons that make the exit code non-zero."""
    problems: list[str] = []
    report: dict[str, Any] = {
        "aktenlotse": __version__,
        "versions": {"python": platform.python_version(), **{d: _version(d) for d in DISTRIBUTIONS}},
        "policy": {
            "source": config.policy.description,
            "sha256": config.policy.sha256,
            "locked": sorted(config.locked),
            "error": config.policy_error.user_message if config.policy_error else None,
            "error_detail": config.policy_error.detail if config.policy_error else None,
        },
        "paths": {
            "settings_file": str(config.user_dirs.settings_file),
            "data_dir": str(config.data_dir),
            "index_dir": str(config.index_dir),
            "audit_dir": str(config.audit_dir),
            "log_dir": str(config.user_dirs.log_dir),
            "models_dir": str(config.models_dir),
            "allowed_roots": [str(p) for p in config.allowed_roots],
        },
        "network": network(config),
        # "" = signed with the key from the OS keyring; otherwise why not (still hash-chained); None = unknown
        "audit": {"signed": audit_signing == "", "reason": audit_signing or None},
    }
    if config.policy_error:
        problems.append(config.policy_error.user_message)
    if config.user_settings_error:
        report["settings_warning"] = config.user_settings_error.user_message
    problems += [e["error"] for e in report["network"]["remote_endpoints"] if e["error"]]
    # with a data-centre model the local one matters only as the fallback the policy allows
    local_needed = not config.settings.remote_model_url or config.settings.remote_fallback_local
    if selection is None:
        report["model"] = None
        if not config.policy_error and local_needed:
            problems.append("Es wurde kein Sprachmodell ausgewählt.")
    else:
        info = selection.info
        report["model"] = {
            "file": str(selection.path) if selection.path else None,
            "source": selection.source,
            "status": selection.status.value,
            "status_text": selection.status.label_de,
            "expected_sha256": selection.expected_sha256,
            "actual_sha256": selection.actual_sha256,
            "demo": bool(info and info.is_demo),
            "size_bytes": info.size_bytes if info else None,
            "architecture": info.architecture if info else None,
            "name": info.name if info else None,
            "context_length": info.context_length if info else None,
            "chat_template": bool(info and info.chat_template),
            "problem": selection.problem or None,
        }
        if not selection.usable and local_needed:
            problems.append(selection.problem or selection.status.label_de)
    if config.policy_error is None:
        report["found_models"] = [
            {"file": info.path, "role": info.role, "architecture": info.architecture,
             "context_length": info.context_length, "size_bytes": info.size_bytes,
             "problem": info.extra.get("problem")}
            for info in found_models(config.models_dir, paths.model_manifest_path(), files)
        ]
    if load and not problems:
        report["generation"] = _try_generation(model_service, problems)
    report["problems"] = problems
    report["ok"] = not problems
    return report


def network(config: EffectiveConfig) -> dict[str, Any]:
    """The data-centre endpoints the policy configures, checked offline (address rules only; `aktenlotse remote
    check` connects). Empty list and mode "offline" when nothing is configured."""
    s = config.settings
    endpoints: list[dict[str, Any]] = []
    for purpose, url, extra in (
        ("Sprachmodell", s.remote_model_url, {"model": s.remote_model_name, "pseudonymise": s.remote_pseudonymise,
                                              "fallback_local": s.remote_fallback_local}),
        ("Fachbereichswissen", s.shared_knowledge_url, {"collections": list(s.shared_collections)}),
    ):
        if not url:
            continue
        entry: dict[str, Any] = {"purpose": purpose, "url": url, "display": None, "tls": None, "error": None, **extra}
        try:
            endpoint = parse_endpoint(url, purpose)
            entry.update(display=endpoint.display, tls=endpoint.tls)
        except RemoteConfigError as exc:
            entry["error"] = exc.user_message
        endpoints.append(entry)
    if s.remote_model_url and not s.remote_model_name:
        endpoints[0]["error"] = endpoints[0]["error"] or "Für das Sprachmodell im Rechenzentrum fehlt der Modellname."
    if s.shared_knowledge_url and not s.shared_collections and endpoints:
        endpoints[-1]["error"] = endpoints[-1]["error"] or "Für das Fachbereichswissen ist keine Sammlung genannt."
    return {"mode": "remote" if endpoints else "offline", "remote_endpoints": endpoints}


def _try_generation(model_service: ModelService, problems: list[str]) -> dict[str, Any]:
    cancel = CancelToken()
    try:
        for _ in model_service.load(cancel):
            pass
        text = "".join(model_service.test_prompt("Sag Hallo.", cancel, GenerationParams(max_tokens=16)))
    except AktenlotseError as exc:
        problems.append(exc.user_message)
        return {"ok": False, "error": exc.user_message, "detail": exc.detail}
    return {"ok": bool(text.strip()), "text": text}


def _print_text(report: dict[str, Any], out: TextIO) -> None:
    w = out.write
    w(f"Aktenlotse {report['aktenlotse']} – Diagnose\n\n")
    w("Versionen\n")
    for name, version in report["versions"].items():
        w(f"  {name:<20} {version}\n")
    pol = report["policy"]
    w("\nRichtlinie\n")
    w(f"  Quelle               {pol['source']}\n")
    if pol["sha256"]:
        w(f"  SHA-256              {pol['sha256']}\n")
    w(f"  Gesperrte Schlüssel  {', '.join(pol['locked']) or '–'}\n")
    if pol["error"]:
        w(f"  FEHLER               {pol['error']}\n")
        if pol["error_detail"]:
            w(f"  Details              {pol['error_detail']}\n")
    w("\nPfade\n")
    labels = {
        "settings_file": "Einstellungen", "data_dir": "Daten", "index_dir": "Index", "audit_dir": "Prüfprotokoll",
        "log_dir": "Protokolle", "models_dir": "Modellordner", "allowed_roots": "Freigegebene Ordner",
    }
    for key, label in labels.items():
        value = report["paths"][key]
        w(f"  {label:<20} {', '.join(value) if isinstance(value, list) else value}\n")
    w("\nModell\n")
    model = report["model"]
    if model is None:
        w("  –\n")
    else:
        w(f"  Datei                {model['file']}\n")
        w(f"  Auswahl              {model['source']}\n")
        w(f"  Prüfung              {model['status_text']}\n")
        if model["expected_sha256"]:
            w(f"  SHA-256 erwartet     {model['expected_sha256']}\n")
        if model["actual_sha256"]:
            w(f"  SHA-256 gefunden     {model['actual_sha256']}\n")
        if model["size_bytes"] is not None:
            w(f"  Größe                {model['size_bytes'] / 2**20:.1f} MiB\n")
            w(f"  Architektur          {model['architecture']}  ({model['name']})\n")
            w(f"  Kontextlänge         {model['context_length']}\n")
            w(f"  Chat-Vorlage         {'vorhanden' if model['chat_template'] else 'fehlt'}\n")
        if model["demo"]:
            w("  Hinweis              Demo-Modell – für den Produktivbetrieb stellt Ihre IT ein Modell bereit.\n")
    if report.get("found_models"):
        w("\nModelle im Modellordner\n")
        roles = {"admin": "von der IT", "default": "Demo", "test": "Test"}
        for found in report["found_models"]:
            detail = found["problem"] or (
                f"{found['architecture']}, Kontext {found['context_length']}, {found['size_bytes'] / 2**20:.1f} MiB"
            )
            w(f"  {Path(found['file']).name:<44} {roles.get(found['role'], found['role']):<10} {detail}\n")
    if "generation" in report:
        gen = report["generation"]
        w(f"  Testantwort          {gen.get('text', gen.get('error', ''))!r}\n")
    audit = report["audit"]
    w("\nPrüfprotokoll\n")
    w("  Signatur             " + ("HMAC mit Schlüssel aus dem Schlüsselbund\n" if audit["signed"] else
                                  f"keine – {audit['reason'] or 'unbekannt'}\n"))
    w("\nNetz\n")
    endpoints = report["network"]["remote_endpoints"]
    if not endpoints:
        w("  Offline – keine entfernten Endpunkte konfiguriert\n")
    for e in endpoints:
        where = e["display"] or e["url"]
        tls = "" if e["tls"] is None else (" (TLS)" if e["tls"] else " (unverschlüsselt, nur lokal)")
        w(f"  {e['purpose']:<20} {where}{tls}\n")
        if "model" in e:
            w(f"  {'':<20} Modell {e['model'] or '–'}; Pseudonymisierung {'an' if e['pseudonymise'] else 'AUS'}; "
              f"lokaler Ersatz {'erlaubt' if e['fallback_local'] else 'nein'}\n")
        if e.get("collections") is not None:
            w(f"  {'':<20} Sammlungen: {', '.join(e['collections']) or '–'}\n")
        if e["error"]:
            w(f"  {'':<20} FEHLER: {e['error']}\n")
    if report.get("settings_warning"):
        w(f"\nWarnung: {report['settings_warning']}\n")
    w("\nErgebnis: ")
    if report["ok"]:
        w("OK\n")
    else:
        w("FEHLER\n")
        for problem in report["problems"]:
            w(f"  - {problem}\n")


def run_doctor(
    config: EffectiveConfig,
    selection: ModelSelection | None,
    model_service: ModelService,
    files: ModelFiles,
    *,
    as_json: bool = False,
    load: bool = False,
    out: TextIO | None = None,
    audit_signing: str | None = None,
) -> int:
    out = out or sys.stdout
    report = collect(config, selection, model_service, files, load=load, audit_signing=audit_signing)
    if as_json:
        json.dump(report, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        _print_text(report, out)
    return 0 if report["ok"] else 1
