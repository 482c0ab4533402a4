"""Structure-aware chunking: chunks stay inside headings and § sections and carry heading path, pages and spans."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from app.core.documents import Chunk, ExtractedDocument

SEPARATOR = "\n\n"

# A block that opens a § section or an article, e.g. "§ 28 Anhörung Beteiligter", "§ 70", "§§ 60, 66 …", "Art. 3 …".
_SECTION_HEADING = re.compile(
    r"^(?:§§?\s*\d+[a-z]?(?:\s*(?:,|bis|und|-|–)\s*\d+[a-z]?)*|Art(?:ikel|\.)\s*\d+[a-z]?)(?=\s|$)"
)
_MAX_SECTION_HEADING_CHARS = 160
_REFERENCE_WORD = re.compile(r"(?:Abs\.|Absatz|Satz|S\.|Nr\.|Nummer|Buchst|[A-Z][A-Za-z]{1,6}G\b)")

# Words that end with a period without ending a sentence (compared lowercase, without the period).
ABBREVIATIONS = frozenset(
    ["abs", "nr", "art", "vgl", "bzw", "ggf", "usw", "etc", "ca", "gem", "inkl", "zzgl", "evtl", "bspw", "sog", "lit", "buchst", "ziff", "anh", "anl", "bd", "hs", "kap", "rn", "rdnr", "aufl", "jh", "mio", "mrd", "str", "tel", "dr", "prof", "hr", "fr", "nrn", "ff", "abschn", "allg", "amtl", "anm", "begr", "bes", "bzgl", "einschl", "entspr", "erg", "gez", "insb", "insbes", "max", "min", "mind", "resp", "u.a", "z.b", "d.h", "i.v.m", "o.ä", "u.u", "s.o", "s.u"]
)
_MONTHS = frozenset(
    ["januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "dezember"]
)
_SENTENCE_END = re.compile(r"[.!?](?=[\"'»“”)]*\s+)")


def document_text(doc: ExtractedDocument) -> str:
    """The full text chunk spans point into: block texts joined by blank lines."""
    return SEPARATOR.join(block.text for block in doc.blocks)


def section_heading(text: str) -> bool:
    """True if an unstyled text block looks like the heading of a § section or an article."""
    line = text.strip()
    if "\n" in line or len(line) > _MAX_SECTION_HEADING_CHARS or not _SECTION_HEADING.match(line):
        return False
    rest = _SECTION_HEADING.sub("", line).strip()
    if not rest:
        return True  # "§ 70"
    # A title starts with a capital and does not read like a sentence ("§ 28 gilt entsprechend.").
    if rest.endswith(".") or _REFERENCE_WORD.match(rest):
        return False
    return rest[0].isupper() or rest[0] in "(„\""


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans of `text` (shifted by `offset`); German abbreviations, initials and ordinals do not end one."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end()
        if text[m.start()] == "." and not _ends_sentence(text, m.start()):
            continue
        nxt = text[end:].lstrip()
        if nxt and nxt[0].islower():
            continue
        spans.append((offset + start, offset + end))
        start = end + (len(text[end:]) - len(text[end:].lstrip()))
    if start < len(text.rstrip()):
        spans.append((offset + start, offset + len(text.rstrip())))
    return spans


def _ends_sentence(text: str, dot: int) -> bool:
    i = dot
    while i > 0 and not text[i - 1].isspace():
        i -= 1
    word = text[i:dot].lower().lstrip("(\"'»„")
    if not word:
        return True
    if word in ABBREVIATIONS or word.rstrip(".") in ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha():  # "S.", "z. B.", "d. h.", initials
        return False
    if word.isdigit():  # "1. Januar", list numbers "1." at a line start
        following = text[dot + 1:].split(None, 1)
        if not following or following[0].lower().strip(",.") in _MONTHS:
            return False
        return i > 0 and text[i - 1] != "\n"
    return True


@dataclass(slots=True)
class _Section:
    path: tuple[str, ...]
    blocks: list[tuple[int, int, int | None]]  # (start, end, page) of each text block in the full text


def _sections(doc: ExtractedDocument) -> list[_Section]:
    stack: list[tuple[int, str, bool]] = []  # (level, heading text, is § section)
    sections: list[_Section] = []
    current: _Section | None = None
    pos = 0
    for block in doc.blocks:
        start, end = pos, pos + len(block.text)
        pos = end + len(SEPARATOR)
        text = block.text.strip()
        if block.heading_level > 0 or (block.kind == "text" and section_heading(text)):
            is_section = bool(_SECTION_HEADING.match(text))
            if block.heading_level > 0:
                level = block.heading_level
            else:  # an unstyled § heading replaces the last § heading, below any styled heading
                while stack and stack[-1][2]:
                    stack.pop()
                level = stack[-1][0] + 1 if stack else 1
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, " ".join(text.split()), is_section))
            current = None
            continue
        if not text:
            continue
        if current is None:
            current = _Section(tuple(h for _, h, _ in stack), [])
            sections.append(current)
        current.blocks.append((start, end, block.page))
    return sections


def _units(full: str, section: _Section, target: int) -> list[tuple[int, int, bool]]:
    """(start, end, starts_paragraph) pieces of a section: sentences, long sentences cut at word boundaries."""
    units: list[tuple[int, int, bool]] = []
    for start, end, _ in section.blocks:
        first = True
        for s, e in sentence_spans(full[start:end], start):
            while e - s > target:
                cut = full.rfind(" ", s + target // 2, s + target)
                cut = cut if cut > s else s + target
                units.append((s, cut, first))
                first = False
                s = cut + 1 if full[cut] == " " else cut
            units.append((s, e, first))
            first = False
    return units


def _split(full: str, section: _Section, target: int, overlap: int) -> list[tuple[int, int]]:
    first_start, last_end = section.blocks[0][0], section.blocks[-1][1]
    if last_end - first_start <= target * 1.2:
        return [(first_start, last_end)]
    units = _units(full, section, target)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        start = units[i][0]
        if units[-1][1] - start <= target * 1.2:
            spans.append((start, units[-1][1]))
            break
        j = i
        while j + 1 < len(units) and units[j + 1][1] - start <= target:
            j += 1
        # prefer to end at a paragraph boundary in the second half of the chunk
        for b in range(j, i - 1, -1):
            if units[b][1] - start < target // 2:
                break
            if b + 1 >= len(units) or units[b + 1][2]:
                j = b
                break
        spans.append((start, units[j][1]))
        nxt = j + 1
        # overlap: repeat the last sentence if it is short enough
        if overlap > 0 and j > i and units[j][1] - units[j][0] <= overlap:
            nxt = j
        i = max(nxt, i + 1)
    return spans


def chunk_document(
    doc: ExtractedDocument, doc_id: str, *, target_chars: int = 1000, overlap_chars: int = 200
) -> list[Chunk]:
    """Chunks of `doc` that never cross a heading or § section; long sections split at paragraphs, then sentences.

    Consecutive chunks of one section share the last sentence of the earlier one when it has at most
    `overlap_chars` characters. `full_text[chunk.start:chunk.end] == chunk.text` with `document_text(doc)`.
    Ids are the sha1 of doc id, ordinal and text, so re-indexing the same content gives the same ids.
    """
    full = document_text(doc)
    chunks: list[Chunk] = []
    for section in _sections(doc):
        for start, end in _split(full, section, target_chars, overlap_chars):
            pages = [p for s, e, p in section.blocks if s < end and e > start and p is not None]
            text = full[start:end]
            ordinal = len(chunks)
            chunk_id = hashlib.sha1(f"{doc_id}\x00{ordinal}\x00{text}".encode()).hexdigest()
            chunks.append(Chunk(
                id=chunk_id, doc_id=doc_id, path=doc.path, text=text, ordinal=ordinal, start=start, end=end,
                page=pages[0] if pages else None, page_end=pages[-1] if pages else None,
                heading_path=section.path,
            ))
    return chunks


