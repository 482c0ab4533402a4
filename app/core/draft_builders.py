"""Turning lookup answers, summaries and letters into `Draft`s, and confirmed drafts back into documents.

Each kind keeps one editable text: the answer (lookup), the sections as "Title / - point [n]" lines (summary), the
letter body (letter). What a document needs around that text (question, subject, address, …) goes in `payload`.
`to_record`/`from_record` give the JSON form the draft store keeps.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePath

from app.core.documents import Chunk
from app.core.drafts import (
    Author,
    Draft,
    DraftFlag,
    DraftKind,
    DraftSource,
    DraftState,
    TextVersion,
    Transition,
)
from app.core.errors import AktenlotseError
from app.core.export import LetterDocument, MemoDocument, MemoSection
from app.core.letters import LetterDraft
from app.core.llm import GenerationParams
from app.core.lookup import LookupAnswer
from app.core.summary import Summary

RECORD_VERSION = 1


def _params(p: GenerationParams | None) -> dict[str, object]:
    if p is None:
        return {}
    return {"max_tokens": p.max_tokens, "temperature": p.temperature, "top_p": p.top_p, "seed": p.seed,
            "repeat_penalty": p.repeat_penalty}


def from_lookup(answer: LookupAnswer) -> Draft:
    if answer.nothing_found or not answer.text.strip():
        raise AktenlotseError("Eine Antwort ohne Inhalt kann nicht zur Prüfung übergeben werden.")
    cited = set(answer.grounding.cited_numbers())
    return Draft(
        kind=DraftKind.LOOKUP, title=answer.question,
        versions=[TextVersion(1, answer.text.strip(), Author.MODEL, answer.created)],
        sources=tuple(DraftSource(s.number, s.chunk, s.number in cited) for s in answer.sources),
        flags=tuple(DraftFlag(f.kind.value, f.kind.label_de, f.text, f.detail) for f in answer.flags),
        model_name=answer.model_name, model_sha256=answer.model_sha256, backend=answer.backend,
        params=_params(answer.params), id=answer.id, created=answer.created,
        payload={"question": answer.question, "scope": answer.scope.kind.value, "complete": answer.complete},
    )


def summary_text(summary: Summary) -> str:
    blocks = []
    for section in summary.sections:
        lines = [section.title]
        lines += [f"- {p.text}" + ("" if not p.refs else " " + "".join(f"[{n}]" for n in p.refs))
                  for p in section.points]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def from_summary(summary: Summary) -> Draft:
    text = summary_text(summary)
    if not text.strip():
        raise AktenlotseError("Eine leere Zusammenfassung kann nicht zur Prüfung übergeben werden.")
    cited = summary.cited_numbers()
    files = list(dict.fromkeys(PurePath(p).name for p in summary.request.paths))
    subject = "Zusammenfassung: " + (files[0] if len(files) == 1 else f"{len(files)} Dokumente")
    return Draft(
        kind=DraftKind.SUMMARY, title=subject,
        versions=[TextVersion(1, text, Author.MODEL, summary.created)],
        sources=tuple(DraftSource(p.number, p.chunk, p.number in cited) for p in summary.passages if p.number in cited),
        flags=tuple(DraftFlag(f.kind.value, f.kind.label_de, f.text, f.detail) for f in summary.flags),
        model_name=summary.model_name, model_sha256=summary.model_sha256, backend=summary.backend,
        params=_params(summary.params), id=summary.id, created=summary.created,
        payload={"subject": subject, "files": files, "length": summary.request.length.label_de,
                 "focus": summary.request.focus, "omitted": [o.describe_de() for o in summary.omitted]},
    )


def from_letter(letter: LetterDraft, edited_body: str | None = None, *, now: datetime | None = None) -> Draft:
    """The generated body is version 1; what the caseworker changed in "Entwerfen" before handing over, version 2."""
    versions = [TextVersion(1, letter.body.strip(), Author.MODEL, letter.created)]
    if edited_body is not None and edited_body.strip() != letter.body.strip():
        versions.append(TextVersion(2, edited_body.strip(), Author.PERSON, now or letter.created))
    # One source per case document (its first passage): the reviewer checks the letter against the file.
    first: dict[str, DraftSource] = {}
    for p in letter.passages:
        first.setdefault(p.chunk.path, DraftSource(p.number, p.chunk, True))
    frame = "\n".join([letter.subject, *letter.recipient_lines, *(v for _, v in letter.info), *letter.signature])
    return Draft(
        kind=DraftKind.LETTER, title=letter.subject, versions=versions, sources=tuple(first.values()),
        model_name=letter.model_name, model_sha256=letter.model_sha256, params=_params(letter.params),
        id=letter.id, created=letter.created,
        payload={"subject": letter.subject, "recipient_lines": list(letter.recipient_lines),
                 "info": [list(i) for i in letter.info], "salutation": letter.salutation, "closing": letter.closing,
                 "signature": list(letter.signature), "enclosures": list(letter.enclosures),
                 "sender_line": letter.sender_line, "authority": letter.authority,
                 "type": letter.letter_type.key, "type_name": letter.letter_type.name_de,
                 "style": letter.request.style.value, "frame_text": frame},
    )


# -- back to documents --------------------------------------------------------------------------------------------
def _source_lines(draft: Draft) -> tuple[str, ...]:
    return tuple(f"[{s.number}] {s.location_de()}" for s in draft.sources_to_check())


def _date_text(draft: Draft) -> str:
    when = draft.decided_at or draft.created
    return when.astimezone().strftime("%d.%m.%Y")


def _made_with(draft: Draft) -> tuple[str, str]:
    return ("Erstellt mit", f"Aktenlotse, Modell {draft.model_name}".strip())


def _reviewed(draft: Draft) -> list[tuple[str, str]]:
    if not draft.is_final or draft.decided_at is None:
        return [("Prüfstatus", "Entwurf – nicht geprüft")]
    return [("Geprüft von", draft.reviewer), ("Geprüft am", draft.decided_at.astimezone().strftime("%d.%m.%Y %H:%M"))]


def _is_bullet(line: str) -> bool:
    return line.startswith(("- ", "• ", "* "))


def _looks_like_title(line: str) -> bool:
    return len(line) <= 80 and not line.endswith((".", ",", ";", ":", "]", "!", "?"))


def _is_heading(line: str, next_line: str | None) -> bool:
    """A short line without closing punctuation, followed by a bullet, another title or nothing ("Sachverhalt")."""
    return _looks_like_title(line) and (next_line is None or _is_bullet(next_line) or _looks_like_title(next_line))


def parse_sections(text: str) -> tuple[MemoSection, ...]:
    """"Title" lines open a section, "- point" lines are its bullets; any other line joins the section as a bullet
    (a reviewer's added sentence, a wrapped line, prose)."""
    lines = [raw.strip() for raw in text.splitlines() if raw.strip()]
    sections: list[MemoSection] = []
    title, bullets = "", []
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else None
        if _is_bullet(line):
            bullets.append(line[2:].strip())
        elif _is_heading(line, following) and (bullets or title or not sections):
            if title or bullets:
                sections.append(MemoSection(title or "Zusammenfassung", tuple(bullets)))
            title, bullets = line, []
        else:
            bullets.append(line)
    if title or bullets:
        sections.append(MemoSection(title or "Zusammenfassung", tuple(bullets)))
    return tuple(sections)


def memo_for(draft: Draft) -> MemoDocument:
    """A lookup answer or a summary as a *Vermerk* (title "Auskunft" or "Vermerk")."""
    if draft.kind is DraftKind.LETTER:
        raise AktenlotseError("Ein Brief wird als Brief exportiert, nicht als Vermerk.")
    p = draft.payload
    if draft.kind is DraftKind.LOOKUP:
        paragraphs = tuple(x.strip() for x in draft.text.split("\n\n") if x.strip())
        return MemoDocument(
            title="Auskunft", subject=str(p.get("question", draft.title)),
            sections=(MemoSection("Antwort", paragraphs),), date_text=_date_text(draft),
            info=tuple([_made_with(draft), *_reviewed(draft)]), sources=_source_lines(draft))
    info = [("Grundlage", ", ".join(str(f) for f in p.get("files", []))), ("Länge", str(p.get("length", "")))]
    if p.get("focus"):
        info.append(("Schwerpunkt", str(p["focus"])))
    notes = tuple(f"Nicht berücksichtigt – {o}" for o in p.get("omitted", []))
    return MemoDocument(subject=str(p.get("subject", draft.title)), sections=parse_sections(draft.text),
                        date_text=_date_text(draft), info=tuple([*info, _made_with(draft), *_reviewed(draft)]),
                        sources=_source_lines(draft), notes=notes)


def letter_for(draft: Draft) -> LetterDocument:
    if draft.kind is not DraftKind.LETTER:
        raise AktenlotseError("Nur ein Brief-Entwurf wird als Brief exportiert.")
    p = draft.payload
    body = tuple(x.strip() for x in re.split(r"\n\s*\n", draft.text.strip()) if x.strip())
    return LetterDocument(
        recipient_lines=tuple(p.get("recipient_lines", [])), subject=str(p.get("subject", draft.title)), body=body,
        salutation=str(p.get("salutation", "Sehr geehrte Damen und Herren,")),
        closing=str(p.get("closing", "Mit freundlichen Grüßen")), signature=tuple(p.get("signature", [])),
        sender_line=str(p.get("sender_line", "")), info=tuple(tuple(i) for i in p.get("info", [])),
        enclosures=tuple(p.get("enclosures", [])), authority=str(p.get("authority", "")))


# -- JSON records for the store -----------------------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _dt(value: object) -> datetime | None:
    return None if not value else datetime.fromisoformat(str(value))


def _chunk_record(c: Chunk) -> dict[str, object]:
    return {"id": c.id, "doc_id": c.doc_id, "path": c.path, "text": c.text, "ordinal": c.ordinal, "start": c.start,
            "end": c.end, "page": c.page, "page_end": c.page_end, "heading_path": list(c.heading_path),
            **({"collection": c.collection} if c.collection else {})}  # only shared chunks: old readers stay fine


def to_record(draft: Draft) -> dict[str, object]:
    return {
        "record_version": RECORD_VERSION, "id": draft.id, "kind": draft.kind.value, "title": draft.title,
        "state": draft.state.value, "created": _iso(draft.created),
        "versions": [{"number": v.number, "text": v.text, "author": v.author.value, "created": _iso(v.created)}
                     for v in draft.versions],
        "sources": [{"number": s.number, "cited": s.cited, "chunk": _chunk_record(s.chunk)} for s in draft.sources],
        "flags": [{"kind": f.kind, "label": f.label_de, "text": f.text, "detail": f.detail} for f in draft.flags],
        "model": {"name": draft.model_name, "sha256": draft.model_sha256, "backend": draft.backend},
        "params": draft.params, "payload": draft.payload,
        "history": [{"from": t.source.value, "to": t.target.value, "at": _iso(t.at), "actor": t.actor}
                    for t in draft.history],
        "review_started": _iso(draft.review_started), "opened_sources": sorted(draft.opened_sources),
        "ticked": sorted(draft.ticked), "reviewer": draft.reviewer, "decided_at": _iso(draft.decided_at),
        "reject_reason": draft.reject_reason,
    }


def from_record(r: dict) -> Draft:
    if not isinstance(r, dict):
        raise AktenlotseError("Der gespeicherte Entwurf ist beschädigt.", f"kein Objekt: {type(r).__name__}")
    if r.get("record_version") != RECORD_VERSION:
        raise AktenlotseError("Dieser Entwurf wurde mit einer anderen Version gespeichert.", str(r.get("id")))
    if not r.get("versions"):
        raise AktenlotseError("Der gespeicherte Entwurf ist beschädigt.", f"{r.get('id')}: keine Textfassung")
    model = r.get("model") or {}
    return Draft(
        id=r["id"], kind=DraftKind(r["kind"]), title=r["title"], state=DraftState(r["state"]),
        created=_dt(r["created"]),
        versions=[TextVersion(v["number"], v["text"], Author(v["author"]), _dt(v["created"])) for v in r["versions"]],
        sources=tuple(DraftSource(s["number"], Chunk(**{**s["chunk"], "heading_path": tuple(s["chunk"]["heading_path"])}),
                                  s["cited"]) for s in r["sources"]),
        flags=tuple(DraftFlag(f["kind"], f["label"], f["text"], f["detail"]) for f in r["flags"]),
        model_name=model.get("name", ""), model_sha256=model.get("sha256", ""), backend=model.get("backend", ""),
        params=dict(r.get("params") or {}), payload=dict(r.get("payload") or {}),
        history=[Transition(DraftState(t["from"]), DraftState(t["to"]), _dt(t["at"]), t.get("actor", ""))
                 for t in r.get("history", [])],
        review_started=_dt(r.get("review_started")), opened_sources=set(r.get("opened_sources", [])),
        ticked=set(r.get("ticked", [])), reviewer=r.get("reviewer", ""), decided_at=_dt(r.get("decided_at")),
        reject_reason=r.get("reject_reason", ""),
    )
