"""`aktenlotse stats export --csv [--summary] [-o DATEI]` and `aktenlotse stats show`: the evaluator's data.

The rows come from `ReviewService.stats_csv`: numbers, dates, fixed words – no text, no names, no file names.
"""

from __future__ import annotations

import csv
import io
import sys
from typing import TextIO

from app.cli.common import write_output
from app.core.drafts import DraftKind
from app.services.review import ReviewService

_LABELS = {"created": "erstellt", "open": "offen", "confirmed": "bestätigt", "rejected": "abgelehnt",
           "discarded": "verworfen", "confirmed_unchanged": "unverändert bestätigt",
           "mean_edit_ratio_confirmed": "Änderungsanteil (Mittel)", "median_seconds_to_decision": "Zeit bis Entscheidung (s, Median)",
           "median_review_seconds": "Prüfzeit (s, Median)", "flags_shown": "Hinweise gezeigt",
           "flags_fixed": "Hinweise im Text erledigt", "flags_checked": "Hinweise abgehakt",
           "sources_cited": "Quellen zitiert", "sources_opened": "Quellen geöffnet"}


def run_stats(review: ReviewService, command: str, *, summary: bool = False, output: str | None = None,
              out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if review.stats_disabled:
        print("Hinweis: Die Richtlinie hat die Nutzungsstatistik ausgeschaltet; es werden keine Zahlen geführt.",
              file=sys.stderr)
    if command == "show":
        table = list(csv.reader(io.StringIO(review.stats_csv(summary=True))))
        header, rows = table[0], table[1:]
        if not rows:
            return 0
        names = {k.value: k.label_de for k in DraftKind}
        width = max(len(v) for v in _LABELS.values())
        print(" " * width + "".join(f"{names[r[0]]:>17}" for r in rows), file=out)
        for i, column in enumerate(header[1:], start=1):
            print(f"{_LABELS[column]:<{width}}" + "".join(f"{r[i] or '–':>17}" for r in rows), file=out)
        return 0
    text = review.stats_csv(summary=summary)
    return write_output(text, output, out, f"Statistik geschrieben: {output} ({text.count(chr(10)) - 1} Zeilen)")



