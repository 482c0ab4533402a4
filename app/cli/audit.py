"""`aktenlotse audit verify [--dir DIR] [--no-key]` and `aktenlotse audit export --from --to --format csv|json`.

verify: exit 0 when the chain is intact (warnings go to stderr), 1 with the first broken record and what is wrong
(verändert, gelöscht, umgestellt, am Ende gekürzt, Schlüssel passt nicht), 2 when the log cannot be read.
Both runs are themselves recorded in this installation's log (`audit_verified`, `audit_exported`).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol, TextIO

from app.cli.common import write_output
from app.core.audit import VerifyResult
from app.core.errors import AktenlotseError


class AuditReader(Protocol):
    folder: Path

    def verify(self) -> VerifyResult: ...

    def export(self, start: datetime | None, end: datetime | None, fmt: str) -> str: ...


class AuditWriter(Protocol):
    def record(self, action: str, fields: dict[str, object]) -> None: ...


def run_verify(log: AuditReader, own: AuditWriter | None, *, as_json: bool = False, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        result = log.verify()
    except OSError as exc:
        print(f"Fehler: Das Prüfprotokoll kann nicht gelesen werden: {exc}", file=sys.stderr)
        return 2
    problem = result.problem
    if own is not None:
        own.record("audit_verified", {"ok": result.ok, "records": result.records, "files": result.files,
                                      "problem": problem.kind.value if problem else "", "signed": result.signed,
                                      "folder_is_own": own is log})
    if as_json:
        json.dump({"ok": result.ok, "records": result.records, "files": result.files, "signed": result.signed,
                   "torn_tails": result.torn_tails, "warnings": list(result.warnings),
                   "problem": None if problem is None else {
                       "kind": problem.kind.value, "label": problem.kind.label_de, "file": problem.file,
                       "line": problem.line, "seq": problem.seq, "detail": problem.detail_de}},
                  out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif problem is None:
        signed = "signiert (HMAC geprüft)" if result.signed else "nicht signiert geprüft"
        print(f"OK: {result.records} Einträge in {result.files} Datei(en), Kette lückenlos, {signed}.", file=out)
        if result.torn_tails:
            print(f"{result.torn_tails} Abbruch/Abbrüche beim Schreiben sind vermerkt.", file=out)
    else:
        print(f"FEHLER: {problem.describe_de()}", file=out)
    for warning in result.warnings:
        print(f"Hinweis: {warning}", file=sys.stderr)
    return 0 if result.ok else 1


def parse_day(text: str | None) -> date | None:
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise AktenlotseError(f"Unbekanntes Datum „{text}“ – bitte als JJJJ-MM-TT oder TT.MM.JJJJ angeben.")


def run_export(log: AuditReader, own: AuditWriter | None, *, start: str | None, end: str | None, fmt: str,
               output: str | None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        first, last = parse_day(start), parse_day(end)
    except AktenlotseError as error:
        print(f"Fehler: {error.user_message}", file=sys.stderr)
        return 2
    local = datetime.now().astimezone().tzinfo or UTC
    since = datetime.combine(first, time.min, local) if first else None
    until = datetime.combine(last + timedelta(days=1), time.min, local) if last else None  # --to is inclusive
    text = log.export(since, until, fmt)
    rows = len(json.loads(text)) if fmt == "json" else max(0, text.count("\n") - 1)
    if own is not None:
        own.record("audit_exported", {"format": fmt, "records": rows, "from": start or "", "to": end or ""})
    return write_output(text, output, out, f"{rows} Einträge geschrieben: {output}")
