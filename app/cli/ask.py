"""`aktenlotse ask "…" [--scope PFAD …] [--json]`: a lookup from the command line, with citations and flags.

Text mode streams the answer as it is generated, then prints the sources and the points to check. `--json` prints
one object (`LookupAnswer.to_dict()`): answer, citations (file, page, section, span, passage), all sources, flags,
model and parameters, and `"draft": true` / `"review_status": "draft"`. Exit codes: 0 answered (also "nothing
found"), 1 error (model, library, policy), 2 bad usage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from app.core.errors import AktenlotseError, Cancelled
from app.core.llm import ModelState
from app.core.lookup import DRAFT_MARKER, LookupAnswer, Scope
from app.core.progress import CancelToken
from app.services.lookup import LookupService
from app.services.model_service import ModelService


def scope_for(paths: Sequence[str], check) -> Scope:
    """One folder → that folder; files (or several paths) → these documents. `check` raises PolicyViolation."""
    if not paths:
        return Scope.everything()
    real = [str(p) for p in check(list(paths))]
    if len(real) == 1 and Path(real[0]).is_dir():
        return Scope.folder(real[0])
    if any(Path(p).is_dir() for p in real):
        raise AktenlotseError("Bitte entweder einen Ordner oder einzelne Dateien als Bereich angeben.")
    return Scope.documents(real)


def run_ask(lookup: LookupService, models: ModelService, question: str, *, scope_paths: Sequence[str] = (),
            check=None, as_json: bool = False, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if not question.strip():
        err.write("Fehler: Bitte geben Sie eine Frage ein.\n")
        return 2
    cancel = CancelToken()
    try:
        scope = scope_for(scope_paths, check) if scope_paths else Scope.everything()
        answer = _run(lookup, models, question, scope, cancel, out if not as_json else None, err)
    except Cancelled:
        err.write("Abgebrochen.\n")
        return 1
    except AktenlotseError as exc:
        err.write(f"Fehler: {exc.user_message}\n")
        if exc.detail:
            err.write(f"  ({exc.detail})\n")
        return 1
    except KeyboardInterrupt:
        cancel.cancel()
        err.write("Abgebrochen.\n")
        return 1
    if as_json:
        json.dump(answer.to_dict(), out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        _print_tail(answer, out)
    return 0


def _run(lookup: LookupService, models: ModelService, question: str, scope: Scope, cancel: CancelToken,
         stream: TextIO | None, err: TextIO) -> LookupAnswer:
    gen = lookup.ask(question, scope, cancel)
    header_done = False
    try:
        item = next(gen)
        while True:
            if hasattr(item, "sources"):  # SourcesFound: load the model only when there is something to answer
                if item.sources and models.state is not ModelState.READY:
                    err.write("Sprachmodell wird geladen …\n")
                    for _ in models.load(cancel):
                        pass
            elif isinstance(item, str) and stream is not None:
                if not header_done:
                    stream.write(f"[{DRAFT_MARKER}]\n\n")
                    header_done = True
                stream.write(item)
                stream.flush()
            item = gen.send(None)
    except StopIteration as stop:
        answer: LookupAnswer = stop.value
    if stream is not None and not header_done:
        stream.write(f"[{DRAFT_MARKER}]\n\n{answer.text}")
    return answer


def _print_tail(answer: LookupAnswer, out: TextIO) -> None:
    out.write("\n\n")
    if answer.sources and not answer.nothing_found:
        out.write("Quellen:\n")
        cited = {s.number for s in answer.cited_sources()}
        for s in answer.sources:
            mark = "" if s.number in cited else "  (gefunden, nicht zitiert)"
            out.write(f"[{s.number}] {s.location_de()}{mark}\n")
            out.write(f"    Zeichen {s.chunk.start}–{s.chunk.end}: {' '.join(s.passage.split())[:160]}\n")
    if answer.flags:
        out.write(f"\nBitte prüfen ({len(answer.flags)}):\n")
        out.writelines(f"- {f.kind.label_de}: {f.text}" + (f" ({f.detail})" if f.detail else "") + "\n" for f in answer.flags)
    elif not answer.nothing_found:
        out.write("\nKeine Auffälligkeiten gefunden – bitte trotzdem an den Quellen prüfen.\n")
    out.write(f"\n[{DRAFT_MARKER} – nicht geprüft]\n")
