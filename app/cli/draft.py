"""`aktenlotse draft --type anhoerung --field aktenzeichen=… [--field KEY=WERT …] [--from DATEI …]
[--style foermlich|buergernah|leicht] [--instructions "…"] -o brief.docx [--json]` – a letter draft as DOCX.

`--from` files must lie inside the allowed roots; indexed ones come from the index, others are read now. Fields: empfaenger (use "\\n" for line breaks), aktenzeichen,
ihr_zeichen, datum, sachbearbeiter, telefon, frist and the type's own (`--list-types` shows them). An empty
field stays a placeholder such as „[Frist eintragen]“; the open placeholders are printed (and in `--json`).
Exit codes: 0 written, 1 error, 2 bad usage.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from app.cli.common import ensure_loaded, follow, run_reporting
from app.core.letters import LetterDraft, LetterRequest, LetterStyle
from app.core.progress import CancelToken
from app.services.letters import LetterService
from app.services.model_service import ModelService

STYLES = {"foermlich": LetterStyle.FOERMLICH, "förmlich": LetterStyle.FOERMLICH,
          "buergernah": LetterStyle.BUERGERNAH, "bürgernah": LetterStyle.BUERGERNAH, "leicht": LetterStyle.LEICHT}


def parse_fields(items: Sequence[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(item)
        fields[key.strip().lower()] = value.replace("\\n", "\n")
    return fields


def list_types(service: LetterService, out: TextIO) -> int:
    for t in service.letter_types():
        out.write(f"{t.key:22} {t.name_de}" + (f" ({t.legal_basis})" if t.legal_basis else "") + "\n")
        out.write("    Felder: " + ", ".join(f"{f.key}{'*' if f.required else ''}" for f in t.fields) + "\n")
    for problem in service.problems:
        out.write(f"Hinweis: {problem}\n")
    return 0


def run_draft(service: LetterService, models: ModelService, *, type_key: str, fields: Sequence[str] = (),
              sources: Sequence[str] = (), style: str = "foermlich", instructions: str = "", output: str | None = None,
              as_json: bool = False, check=None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        values = parse_fields(fields)
    except ValueError as exc:
        err.write(f"Fehler: --field erwartet SCHLÜSSEL=WERT, nicht „{exc}“.\n")
        return 2
    if style not in STYLES:
        err.write("Fehler: --style muss foermlich, buergernah oder leicht sein.\n")
        return 2
    if not output:
        err.write("Fehler: Bitte mit -o DATEI.docx angeben, wohin der Entwurf geschrieben wird.\n")
        return 2

    def job(cancel: CancelToken) -> tuple[LetterDraft, Path]:
        real = [str(p) for p in (check or (lambda ps: [os.path.realpath(p) for p in ps]))(list(sources))] \
            if sources else []
        service.letter_type(type_key)
        ensure_loaded(models, cancel, err)
        request = LetterRequest(type_key, values, instructions, tuple(real), STYLES[style])
        draft = follow(service.draft(request, cancel), err)
        return draft, service.export_letter(draft, Path(output))

    done = run_reporting(job, cancelled="Abgebrochen – es wurde kein Entwurf geschrieben.", err=err)
    if done is None:
        return 1
    draft, written = done
    if as_json:
        json.dump(draft.to_dict() | {"docx": str(written)}, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return 0
    out.write(draft.as_text() + "\n\n")
    out.write(f"Entwurf gespeichert: {written}\n")
    if draft.placeholders:
        out.write(f"Offene Platzhalter ({len(draft.placeholders)}): " + ", ".join(draft.placeholders) + "\n")
    if draft.replaced_facts:
        out.write("Vom Modell geschrieben, in keiner Eingabe enthalten – durch Platzhalter ersetzt: "
                  + ", ".join(draft.replaced_facts) + "\n")
    for finding in draft.plain_findings:
        out.write(f"Verständlichkeit: {finding.message_de}\n")
    return 0
