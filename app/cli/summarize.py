"""`aktenlotse summarize DATEI|ORDNER... [--length kurz|standard|ausfuehrlich] [--focus "…"] [--json] [--docx OUT]`.

Files must be indexed (`aktenlotse index` first); a folder stands for every indexed file below it (a case file).
Progress goes to stderr (one line per step). Text mode prints the summary between draft markers with its sources
and the points to check; `--json` prints `Summary.to_dict()` (sections, points with passage numbers and flags,
the cited passages with file, page, section and span, omissions, map/reduce steps, model, `"draft": true`);
`--docx OUT` also writes the draft-marked *Vermerk*. Exit codes: 0 done, 1 error, 2 bad usage.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from app.cli.common import ensure_loaded, follow, run_reporting
from app.core.errors import AktenlotseError
from app.core.progress import CancelToken
from app.core.summary import Summary, SummaryLength, SummaryRequest, SummaryStep
from app.services.model_service import ModelService
from app.services.summarize import SummarizeService

LENGTHS = {"kurz": SummaryLength.KURZ, "standard": SummaryLength.STANDARD,
           "ausfuehrlich": SummaryLength.AUSFUEHRLICH, "ausführlich": SummaryLength.AUSFUEHRLICH}


def expand_paths(paths: Sequence[str], indexed: Sequence[str], check) -> list[str]:
    """Real paths of the chosen files; a folder becomes every indexed file below it. `check` enforces policy."""
    out: list[str] = []
    for real in check(list(paths)):
        real = Path(real)
        if real.is_dir():
            below = sorted(p for p in indexed if Path(p).is_relative_to(real))
            if not below:
                raise AktenlotseError(f"Im Ordner {real} ist nichts indexiert. Bitte zuerst „aktenlotse index“.")
            out.extend(below)
        else:
            out.append(str(real))
    return list(dict.fromkeys(out))


def run_summarize(service: SummarizeService, models: ModelService, paths: Sequence[str], *, length: str = "standard",
                  focus: str = "", as_json: bool = False, docx: str | None = None, check=None,
                  out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if length not in LENGTHS:
        err.write("Fehler: --length muss kurz, standard oder ausfuehrlich sein.\n")
        return 2

    def job(cancel: CancelToken) -> tuple[Summary, Path | None]:
        indexed = [r.path for r in service.documents()]
        chosen = expand_paths(paths, indexed, check or (lambda ps: [os.path.realpath(p) for p in ps]))
        ensure_loaded(models, cancel, err)
        request = SummaryRequest(tuple(chosen), LENGTHS[length], focus)
        summary = follow(service.summarize(request, cancel), err, _step_line)
        return summary, service.export_memo(summary, Path(docx)) if docx else None

    done = run_reporting(job, cancelled="Abgebrochen – es wurde keine Zusammenfassung erstellt.", err=err)
    if done is None:
        return 1
    summary, written = done
    if as_json:
        data = summary.to_dict()
        if written:
            data["docx"] = str(written)
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return 0
    out.write(summary.as_text() + "\n")
    if summary.flags:
        out.write(f"\nBitte prüfen ({len(summary.flags)}):\n")
        for f in summary.flags:
            out.write(f"- {f.kind.label_de}: {f.text}" + (f" ({f.detail})" if f.detail else "") + "\n")
    out.write(f"\n{summary.map_steps} Teilschritte, {summary.reduce_steps} Zusammenführungen.\n")
    if written:
        out.write(f"Vermerk (Entwurf) gespeichert: {written}\n")
    return 0


def _step_line(item: object) -> str:
    if not isinstance(item, SummaryStep):
        return ""
    return (f"  Schritt erledigt: {'Teil' if item.kind == 'map' else 'Zusammenführung'} "
            f"{item.index}/{item.total} (Ebene {item.level})\n")
