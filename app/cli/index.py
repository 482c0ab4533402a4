"""`aktenlotse index PATH...`: index folders incrementally with a progress bar on stderr and a summary table."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, TextIO

from app.core.documents import FileEvent, FileStatus, IndexProgress
from app.core.errors import AktenlotseError, Cancelled
from app.core.progress import CancelToken
from app.services.library import LibraryService

_PHASES = {"recover": "Prüfen", "scan": "Suchen", "lexical": "Dateien", "embed": "Vektoren", "done": "Fertig"}


def fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "Restzeit wird ermittelt"
    s = int(round(seconds))
    return f"noch ~{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"noch ~{s // 60}:{s % 60:02d}"


def progress_line(p: IndexProgress, width: int = 20) -> str:
    unit = "Abschnitte" if p.phase == "embed" else "Dateien"
    if not p.total:
        return f"{_PHASES.get(p.phase, p.phase)}: {p.message}"
    filled = int(width * p.done / p.total)
    return f"[{'#' * filled}{'-' * (width - filled)}] {p.done}/{p.total} {unit}, {fmt_eta(p.eta_s)}"


class _Bar:
    """Plain-text progress on stderr: redrawn in place on a terminal, otherwise a line at most every 2 s."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.tty = err.isatty()
        self.last = 0.0
        self.phase = ""

    def show(self, p: IndexProgress) -> None:
        now = time.monotonic()
        changed = p.phase != self.phase
        if not changed and p.done != p.total and now - self.last < (0.2 if self.tty else 2.0):
            return
        if changed and self.tty and self.phase:
            self.err.write("\n")
        self.phase, self.last = p.phase, now
        line = progress_line(p)
        self.err.write(f"\r{line:<70}" if self.tty else line + "\n")
        self.err.flush()


def run_index(library: LibraryService, paths: Sequence[str], *, as_json: bool = False, embed: bool = True,
              out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        folders = library.check_folders(paths)
    except AktenlotseError as exc:
        err.write(f"Fehler: {exc.user_message}\n")
        return 2
    bar = _Bar(err)
    cancel = CancelToken()
    events: list[FileEvent] = []
    cancelled = False
    try:
        for item in library.index(folders, cancel, embed=embed):
            if isinstance(item, IndexProgress):
                bar.show(item)
            elif isinstance(item, FileEvent):
                events.append(item)
    except (Cancelled, KeyboardInterrupt):
        cancelled = True
    if bar.tty:
        err.write("\n")
    report = _report(library, folders, cancelled)
    if as_json:
        json.dump(report, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        _print_table(report, out)
    return 130 if cancelled else 0


def _report(library: LibraryService, folders: Sequence[Any], cancelled: bool) -> dict[str, Any]:
    prefixes = [str(f) for f in folders]
    records = [r for r in library.statuses()
               if any(r.path == p or r.path.startswith(p.rstrip(os.sep) + os.sep) for p in prefixes)]
    summary: dict[str, int] = {}
    for r in records:
        summary[r.status.value] = summary.get(r.status.value, 0) + 1
    problems = [{"path": r.path, "status": r.status.value, "status_text": r.status.label_de, "reason": r.reason}
                for r in records if r.status is not FileStatus.INDEXED or r.reason]
    return {
        "folders": prefixes,
        "run": asdict(library.last_run),
        "summary": summary,
        "embedded_files": sum(1 for r in records if r.embedded),
        "problems": problems,
        "cancelled": cancelled,
    }


def _print_table(report: dict[str, Any], out: TextIO) -> None:
    w = out.write
    run = report["run"]
    w(f"\nDiesmal: {run['indexed']} neu indexiert, {run['unchanged']} unverändert, {run['failed']} nicht indexiert, "
      f"{run['removed']} entfernt, {run['chunks_embedded']} Abschnitte mit Vektoren\n\n")
    w(f"{'Status':<34} {'Dateien':>8}\n")
    for status in FileStatus:
        n = report["summary"].get(status.value, 0)
        if n:
            w(f"{status.label_de:<34} {n:>8}\n")
    w(f"{'davon mit Bedeutungssuche':<34} {report['embedded_files']:>8}\n")
    if report["problems"]:
        w("\nDateien mit Hinweisen\n")
        for p in report["problems"]:
            w(f"  {p['path']}\n    {p['status_text']}: {p['reason']}\n")
    if run.get("embed_error"):
        w(f"\nBedeutungssuche nicht verfügbar: {run['embed_error']}\n")
    if report["cancelled"]:
        w("\nAbgebrochen – der nächste Lauf setzt dort fort.\n")
