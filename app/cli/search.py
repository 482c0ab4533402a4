"""`aktenlotse search "…"`: ranked hits with file, page, section, character span, score and the mode that answered."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from app.core.documents import Hit
from app.core.errors import AktenlotseError
from app.services.library import LibraryService


def hit_dict(rank: int, hit: Hit) -> dict[str, Any]:
    c = hit.chunk
    return {
        "rank": rank, "file": c.path, "page": c.page, "page_end": c.page_end, "heading": c.heading,
        "heading_path": list(c.heading_path), "start": c.start, "end": c.end, "score": round(hit.score, 6),
        "mode": hit.mode.value, "chunk_id": c.id, "text": c.text, "details": hit.details,
        # "" = the caseworker's own index; else the departmental collection on the data centre's server
        "collection": c.collection, "location": c.location_de(),
    }


def run_search(library: LibraryService, query: str, *, k: int = 10, as_json: bool = False,
               out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if not query.strip():
        err.write("Fehler: Bitte geben Sie einen Suchbegriff ein.\n")
        return 2
    try:
        hits = library.search(query, k=max(1, k))
    except AktenlotseError as exc:
        err.write(f"Fehler: {exc.user_message}\n")
        return 1
    rows = [hit_dict(i, h) for i, h in enumerate(hits, 1)]
    if as_json:
        json.dump({"query": query, "hits": rows}, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return 0
    if not rows:
        out.write("Keine Treffer.\n")
        return 0
    for r in rows:
        page = f", S. {r['page']}" + (f"–{r['page_end']}" if r["page_end"] and r["page_end"] != r["page"] else "") \
            if r["page"] else ""
        out.write(f"{r['rank']:>2}. {r['file']}{page}\n")
        if r["heading"]:
            out.write(f"    Abschnitt: {r['heading']}\n")
        snippet = " ".join(r["text"].split())[:160]
        out.write(f"    Zeichen {r['start']}–{r['end']} · Score {r['score']:.4f} · {hits[r['rank'] - 1].mode.label_de}\n")
        out.write(f"    {snippet}\n")
    return 0
