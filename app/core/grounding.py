"""Grounding: split a German answer into sentences, find its facts, and check them against numbered sources.

Pure regex, deterministic, stdlib only. Used for lookup answers (`ground`) and to fact-check summaries
(`check_facts`). A fact is a date, an amount, a percentage, a § / Art. reference, a file number (Aktenzeichen)
or another number with at least two digits; two facts are the same when their normalised forms agree.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from app.core.lookup import NOTHING_FOUND, Flag, FlagKind, Grounding, Sentence

__all__ = [
    "FACT_KINDS", "Fact", "check_facts", "citation_numbers", "extract_facts", "fact_in_text", "ground",
    "split_sentences",
]

FACT_KINDS = ("date", "amount", "percent", "paragraph", "file_number", "number")
_MAX_RANGE = 50  # "[1-1000]" is not expanded beyond this many numbers (its two ends still count)


@dataclass(frozen=True, slots=True)
class Fact:
    """A checkable detail of a text: `text` is `source[start:end]`, `norm` what is compared (see module doc)."""

    kind: str
    text: str
    start: int
    end: int
    norm: str


# -- citation markers --------------------------------------------------------------------------------------------
_CITE_ITEM = r"\d{1,4}(?:\s*[-–—]\s*\d{1,4})?"
_CITATION = re.compile(r"\[\s*(?:Quellen?\s*)?(" + _CITE_ITEM + r"(?:\s*[,;]\s*" + _CITE_ITEM + r")*)\s*\]")
_RANGE = re.compile(r"(\d+)(?:\s*[-–—]\s*(\d+))?")


def _marker_numbers(inner: str) -> list[int]:
    numbers: list[int] = []
    for m in _RANGE.finditer(inner):
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        lo, hi = min(a, b), max(a, b)
        numbers += range(lo, hi + 1) if hi - lo <= _MAX_RANGE else (lo, hi)
    return numbers


def citation_numbers(text: str) -> tuple[int, ...]:
    """The sorted, unique source numbers of all markers in `text`: "[1]", "[1][2]", "[1, 2]", "[1–3]" → 1, 2, 3."""
    return tuple(sorted({n for m in _CITATION.finditer(text) for n in _marker_numbers(m.group(1))}))


# -- sentences ---------------------------------------------------------------------------------------------------
_MONTH_NAMES = {
    "januar": 1, "jänner": 1, "jan": 1, "februar": 2, "feb": 2, "febr": 2, "märz": 3, "maerz": 3, "mär": 3,
    "mrz": 3, "april": 4, "apr": 4, "mai": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11, "dezember": 12,
    "dez": 12,
}
_MONTH = (r"(?:(?:Januar|Jänner|Februar|März|Maerz|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember)"
          r"(?![^\W\d_])|(?:Jan|Febr|Feb|Mär|Mrz|Apr|Jun|Jul|Aug|Sept|Sep|Okt|Nov|Dez)\.)")

_ABBREVIATIONS = frozenset((
    "abs", "abschn", "allg", "amtl", "anh", "anl", "anm", "art", "artt", "aufl", "az", "bd", "bes", "beschl",
    "betr", "bgbl", "bl", "bsp", "bspw", "buchst", "bzgl", "bzw", "ca", "dgl", "di", "dipl", "dr", "dt", "ebd",
    "einschl", "entspr", "erg", "etc", "evtl", "ff", "fr", "gem", "gen", "geb", "gez", "ggf", "ggfs", "ggü", "hr",
    "hrsg", "hs", "ing", "inkl", "insb", "insbes", "jh", "jhd", "kap", "lfd", "lit", "max", "mi", "min", "mind",
    "mio", "mo", "mrd", "nachf", "nr", "od", "pkt", "prof", "rd", "rdnr", "rn", "rz", "sa", "sek", "sept", "sog",
    "std", "str", "tel", "tsd", "ua", "uabs", "usw", "uvm", "verh", "vgl", "vj", "vorl", "vs", "zb", "ziff", "zit",
    "zt", "zzgl", "zzt", "jan", "feb", "febr", "mär", "mrz", "apr", "jun", "jul", "aug", "sep", "okt", "nov", "dez",
))
# words after which "2." is an ordinal ("der 2. Senat", "am 3. Werktag"), not the end of a sentence
_ORDINAL_BEFORE = frozenset((
    "der", "die", "das", "dem", "den", "des", "am", "im", "vom", "zum", "zur", "bis", "ab", "seit", "ein", "eine",
    "einem", "einen", "einer", "eines", "jeder", "jede", "jedes", "jedem", "jeden", "sein", "seine", "seinem",
    "seinen", "ihr", "ihre", "ihrem", "ihren", "nach", "vor", "zu", "zwischen", "spätestens", "frühestens",
))

_LINE = re.compile(r"[^\n]*\n?")
_HEADING = re.compile(r"[ \t]{0,3}#{1,6}[ \t]+\S|[ \t]*(?:\*\*[^*\n]+\*\*|__[^_\n]+__):?[ \t]*$")
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+•–]|\d{1,3}[.)]|[a-z]\))[ \t]+(?!" + _MONTH + ")")
_BOUNDARY = re.compile(
    r"(?P<term>[.!?…]+)[\"'“”»«)*_]*(?P<cites>(?:\s*" + _CITATION.pattern + r")*)(?=\s|$)")
_WORD_BEFORE = re.compile(r"(?:(?P<prev>[^\W\d_]+)[^\w\n]{1,3})?(?P<pre>[^\w\s]?)(?P<tok>[^\W_]+)$")
_MONTH_START = re.compile(_MONTH)
_ONLY_MARKERS = re.compile(r"(?:\s*" + _CITATION.pattern + r")+\s*")


def _is_heading(line: str) -> bool:
    return bool(_HEADING.match(line))


def _segments(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, is_heading): paragraphs, list items (without their bullet) and heading lines."""
    segments: list[tuple[int, int, bool]] = []
    cur: list[int] = []  # [start, end] of the open paragraph or list item

    def close() -> None:
        if cur:
            segments.append((cur[0], cur[1], False))
            cur.clear()

    for m in _LINE.finditer(text):
        if m.start() == len(text) and not m.group():
            break
        line = m.group().rstrip("\r\n")
        start, end = m.start(), m.start() + len(line)
        if not line.strip():
            close()
        elif _is_heading(line):
            close()
            segments.append((start, end, True))
        elif item := _LIST_ITEM.match(line):
            close()
            cur[:] = [start + item.end(), end]
        elif cur:
            cur[1] = end
        else:
            cur[:] = [start, end]
    close()
    return segments


def _ends_sentence(text: str, m: re.Match[str], seg_start: int, seg_end: int) -> bool:
    """Whether the terminator matched by `m` ends a sentence (German abbreviations, ordinals, dates)."""
    rest = text[m.end():seg_end].lstrip()
    if not rest:
        return True
    first = rest[0]
    if first.islower():
        return False
    if m.group("term") != ".":  # "?", "!", "…", "..."
        return True
    before = _WORD_BEFORE.search(text, max(seg_start, m.start() - 40), m.start())
    if before is None:
        return True  # "500 €." / "(§ 28 VwVfG)."
    tok, prev, pre = before.group("tok"), before.group("prev") or "", before.group("pre")
    if tok.isdigit():
        if first.isdigit() or _MONTH_START.match(rest):
            return False  # "1. 2.", "1. Januar"
        if len(tok) >= 3 or pre in {".", "-", "/", ":", ","}:
            return True  # "… am 12.03.2024.", "… beträgt 500."
        if not prev and text[seg_start:before.start("tok")].strip() in {"", "§"}:
            return False  # "2. Teil" at the start of a paragraph
        return prev.lower() not in _ORDINAL_BEFORE
    if len(tok) == 1:
        return prev == "SGB" and tok in "IVX"  # "… SGB X." ends; "z. B.", "S. 2" do not
    return tok.lower() not in _ABBREVIATIONS


def split_sentences(text: str) -> list[Sentence]:
    """Split a German answer into sentences; markers after the full stop ("… Jahre. [1]") stay with it.

    A blank line, a list item and a heading line (its own sentence) end a sentence too. `start`/`end` are offsets
    into `text` (the span is stripped; a list bullet is not part of it); `citations` are the sentence's [n] numbers.
    """
    spans: list[list[int]] = []
    for seg_start, seg_end, heading in _segments(text):
        pieces: list[tuple[int, int]] = []
        if heading:
            pieces.append((seg_start, seg_end))
        else:
            pos = seg_start
            for m in _BOUNDARY.finditer(text, seg_start, seg_end):
                if m.start() < pos or not _ends_sentence(text, m, seg_start, seg_end):
                    continue
                pieces.append((pos, m.end()))
                pos = m.end()
            pieces.append((pos, seg_end))
        for a, b in pieces:
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if a == b:
                continue
            if spans and _ONLY_MARKERS.fullmatch(text, a, b):
                spans[-1][1] = b  # "Er gilt zehn Jahre.\n\n[1]" – the marker belongs to the sentence before
            else:
                spans.append([a, b])
    return [Sentence(index=i, text=text[a:b], start=a, end=b, citations=citation_numbers(text[a:b]))
            for i, (a, b) in enumerate(spans)]


# -- facts -------------------------------------------------------------------------------------------------------
_AZ = re.compile(
    r"(?<!\w)(?:Aktenzeichen|Geschäftszeichen|Az|AZ|Gz|GZ)\.?[ \t]*:?[ \t]*"
    r"(?P<id>\d{1,3}[ \t][A-Z][A-Za-z]{0,3}[ \t]\d+/\d{2,4}"
    r"|(?:[A-Z]{1,5}[ \t](?=\d))?[A-Za-z0-9ÄÖÜäöü](?:[A-Za-z0-9ÄÖÜäöü]|[./\-](?=[A-Za-z0-9]))*)")
_AZ_BARE = re.compile(
    r"(?<![\w./-])(?:(?P<pre>[A-Z]{1,5}-|[IVX]{1,5}[ \t])?\d+(?:[.\-]\d+)*/\d{2,4}"
    r"|\d{1,3}[ \t][A-Z][A-Za-z]{0,3}[ \t]\d+/\d{2,4})(?![\w/])")
_DATE_NUMERIC = re.compile(r"(?<![\d.,])(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?![\d]|[.,]\d)")
_DATE_ISO = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")
_DATE_TEXT = re.compile(r"(?<![\d.,])(\d{1,2})\.[ \t]*(" + _MONTH + r")(?:[ \t]*(\d{4})(?!\d))?")
_DATE_MONTH = re.compile(r"(?<![\w.])(" + _MONTH + r")[ \t]*(\d{4})(?!\d)")
_AMOUNT_NUM = r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?(?!\d)|\d+(?:,\d{1,2})?(?!\d)"
_SCALE = r"(?:[ \t]*(?P<scale>Mio\.|Millionen|Million|Mrd\.|Milliarden|Milliarde|Tsd\.|Tausend))?"
_AMOUNT = re.compile(
    r"(?<![\w.,])(?P<n>" + _AMOUNT_NUM + r")(?:,-{1,2}|,—)?" + _SCALE + r"[ \t]*(?:€|EUR(?!\w)|Euro(?!\w))"
    r"|(?:€|EUR(?!\w))[ \t]*(?P<n2>" + _AMOUNT_NUM + r")(?:,-{1,2}|,—)?"
    r"|(?<![\w.,])(?P<ct>\d+)[ \t]*(?:Cent|ct)(?!\w)")
_SCALES = {"mio.": 10**6, "million": 10**6, "millionen": 10**6, "mrd.": 10**9, "milliarde": 10**9,
           "milliarden": 10**9, "tsd.": 10**3, "tausend": 10**3}
_PERCENT = re.compile(r"(?<![\w.,])(\d+(?:,\d+)?)[ \t]*(?:%|Prozent(?:punkte?)?(?!\w)|v\.[ \t]?H\.)")
_PARA_HEAD = re.compile(r"(?P<head>§§?|(?<!\w)Artt?\.|(?<!\w)(?:Artikel|Paragra(?:ph|f)(?:en)?)(?!\w))[ \t]*(?=\d)")
_PARA_SEC = re.compile(r"\d+[a-z]?(?![^\W\d_])")
_PARA_QUAL = re.compile(
    r"(?:[ \t]*(?:Abs\.|Absatz|Abschn\.|S\.|Satz|Nr\.|Nummer|Hs\.|Halbs\.|Halbsatz|Buchst\.|Buchstabe|lit\.|"
    r"Ziff\.|Ziffer|Alt\.|Alternative|UAbs\.|Unterabs\.|Var\.)[ \t]*(?:\d+[a-z]?|[a-z](?!\w)|[IVX]+(?!\w))"
    r"(?:[ \t]*(?:,|und|bis|oder)[ \t]*\d+[a-z]?(?![^\W\d_])(?![ \t]*(?:§|Art)))*"
    r"|[ \t]*ff?\.)*")
_PARA_SEP = re.compile(r"[ \t]*(?:,|;|und|bis|sowie|oder|u\.|–|-)[ \t]*(?=\d)")
_NUMBER = re.compile(r"(?<!\w)\d+(?:[.,:]\d+)*")
_LIST_MARKER = re.compile(r"^[ \t]*\d{1,3}[.)][ \t]+(?!" + _MONTH + ")", re.MULTILINE)


def _norm_decimal(number: str) -> str:
    """"1.234,50" or "5,50" (German) → "1234.5" / "5.5"; "007" → "7"."""
    whole, _, frac = number.replace(".", "").partition(",")
    frac = frac.rstrip("0")
    return str(int(whole)) + (f".{frac}" if frac else "")


def _year(y: str) -> int:
    return 2000 + int(y) if len(y) == 2 else int(y)


def _date_norm(day: int | None, month: int, year: int | None) -> str | None:
    if not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        _dt.date(year if year is not None else 2000, month, day)  # 2000: a leap year, so 29.2. stays valid
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year is not None else f"--{month:02d}-{day:02d}"


def _month(name: str) -> int:
    return _MONTH_NAMES[name.rstrip(".").lower()]


def _amount_cents(m: re.Match[str]) -> str | None:
    if m.group("ct"):
        return str(int(m.group("ct")))
    number = m.group("n") or m.group("n2")
    try:
        euros = Decimal(number.replace(".", "").replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        return None
    if m.group("scale"):
        euros *= _SCALES[m.group("scale").lower()]
    return str(int((euros * 100).to_integral_value(rounding=ROUND_HALF_UP)))


def _number_norm(token: str) -> str | None:
    """A plain number's norm, or None if it is too small to be a fact (a single digit, "05")."""
    if sum(c.isdigit() for c in token) < 2:
        return None
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?", token):
        norm = _norm_decimal(token)
        return None if "." not in norm and int(norm) < 10 else norm
    return token  # "14:30", "1.2.3": compared as written


class _Collector:
    """Facts in priority order; a later, less specific match overlapping an earlier one is dropped."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.taken: list[tuple[int, int]] = [m.span() for m in _CITATION.finditer(text)]
        self.taken += [m.span() for m in _LIST_MARKER.finditer(text)]
        self.facts: list[Fact] = []

    def free(self, start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in self.taken)

    def add(self, kind: str, start: int, end: int, norm: str | None, cover: tuple[int, int] | None = None) -> None:
        if norm is None:
            return
        self.facts.append(Fact(kind, self.text[start:end], start, end, norm))
        self.taken.append(cover or (start, end))


def _paragraph_facts(c: _Collector) -> None:
    text = c.text
    for head in _PARA_HEAD.finditer(text):
        if not c.free(*head.span()):
            continue
        prefix = "art" if head.group("head").startswith("Art") else "§"
        plural = head.group("head") in {"§§", "Artt."} or head.group("head").endswith("en")
        pos, found = head.end(), []
        while sec := _PARA_SEC.match(text, pos):
            found.append(sec)
            pos = _PARA_QUAL.match(text, sec.end()).end()
            sep = _PARA_SEP.match(text, pos) if plural else None
            if sep is None or not _PARA_SEC.match(text, sep.end()):
                break
            pos = sep.end()
        if not found or not c.free(head.start(), pos):
            continue
        for i, sec in enumerate(found):
            start = head.start() if i == 0 else sec.start()
            c.add("paragraph", start, sec.end(), f"{prefix}{sec.group().lower()}")
        c.taken.append((head.start(), pos))  # "Abs. 12" is part of the reference, not a number of its own


def extract_facts(text: str) -> list[Fact]:
    """All facts of `text`, in text order (see the module doc; citation markers are never facts)."""
    c = _Collector(text)
    for m in _AZ.finditer(text):
        ident = m.group("id")
        if any(ch.isdigit() for ch in ident) and c.free(*m.span()):
            c.add("file_number", m.start(), m.end(), re.sub(r"\s+", "", ident).lower())
    for m in _AZ_BARE.finditer(text):
        token = m.group()
        court_style = m.group("pre") is None and re.search(r"\s", token) is not None  # "1 BvR 123/20"
        if (m.group("pre") or court_style or re.search(r"\d[.\-]\d", token)) and c.free(*m.span()):
            c.add("file_number", m.start(), m.end(), re.sub(r"\s+", "", token).lower())
    for m in _DATE_NUMERIC.finditer(text):
        if c.free(*m.span()):
            c.add("date", m.start(), m.end(), _date_norm(int(m.group(1)), int(m.group(2)), _year(m.group(3))))
    for m in _DATE_ISO.finditer(text):
        if c.free(*m.span()):
            c.add("date", m.start(), m.end(), _date_norm(int(m.group(3)), int(m.group(2)), int(m.group(1))))
    for m in _DATE_TEXT.finditer(text):
        if c.free(*m.span()):
            year = int(m.group(3)) if m.group(3) else None
            c.add("date", m.start(), m.end(), _date_norm(int(m.group(1)), _month(m.group(2)), year))
    for m in _DATE_MONTH.finditer(text):
        if c.free(*m.span()):
            c.add("date", m.start(), m.end(), _date_norm(None, _month(m.group(1)), int(m.group(2))))
    for m in _AMOUNT.finditer(text):
        if c.free(*m.span()):
            c.add("amount", m.start(), m.end(), _amount_cents(m))
    for m in _PERCENT.finditer(text):
        if c.free(*m.span()):
            c.add("percent", m.start(), m.end(), _norm_decimal(m.group(1)))
    _paragraph_facts(c)
    for m in _NUMBER.finditer(text):
        if c.free(*m.span()):
            c.add("number", m.start(), m.end(), _number_norm(m.group()))
    return sorted(c.facts, key=lambda f: (f.start, f.end))


@dataclass(frozen=True, slots=True)
class _Index:
    """What a source text offers for comparison: fact norms by kind, all number tokens, the compact text."""

    norms: dict[str, frozenset[str]]
    numbers: frozenset[str]
    compact: str


@lru_cache(maxsize=512)
def _index(text: str) -> _Index:
    facts = extract_facts(text)
    norms = {kind: frozenset(f.norm for f in facts if f.kind == kind) for kind in FACT_KINDS}
    numbers = frozenset(n for m in _NUMBER.finditer(text) if (n := _number_norm(m.group())) is not None)
    return _Index(norms, numbers, re.sub(r"\s+", "", text).lower())


def fact_in_text(fact: Fact, text: str) -> bool:
    """Whether `text` states the same fact (same kind, same norm), with some tolerance.

    Dates compare by value whatever the notation; "März 2024" is found in any date in March 2024 and "1. Januar"
    (no year) in any 1 January. "§ 28" is found in "§§ 28, 29" and "§ 28 Abs. 1" (never in "§ 280"). A number is
    found only as a whole token ("30" not in "300"); a year also in a date of that year. A file number is also
    found written with other spacing or without its "Az." prefix.
    """
    idx = _index(text)
    own = idx.norms.get(fact.kind, frozenset())
    if fact.norm in own:
        return True
    if fact.kind == "date":
        if fact.norm.startswith("--"):
            return any(n.endswith(fact.norm[1:]) for n in own if len(n) == 10)
        if len(fact.norm) == 7:
            return any(n.startswith(fact.norm + "-") for n in own)
        return False
    if fact.kind == "number":
        if fact.norm in idx.numbers:
            return True
        if fact.norm.isdigit() and len(fact.norm) == 4 and 1900 <= int(fact.norm) <= 2099:
            return any(n.startswith(fact.norm + "-") for n in idx.norms["date"])
        return False
    if fact.kind == "file_number":
        return re.search(r"(?<![a-z0-9])" + re.escape(fact.norm) + r"(?![a-z0-9])", idx.compact) is not None
    return False


def check_facts(text: str, sources: Sequence[str]) -> list[Fact]:
    """The facts of `text` (e.g. a summary) that none of `sources` states."""
    return [f for f in extract_facts(text) if not any(fact_in_text(f, s) for s in sources)]


# -- grounding an answer -----------------------------------------------------------------------------------------
_WORD = re.compile(r"[^\W_]+")


def _carries_no_statement(sentence: Sentence, has_facts: bool, answer_cites: bool) -> bool:
    """Headings, list introductions, bare punctuation, the fixed "nothing found" sentence – and, in an answer
    that cites something elsewhere, short fillers without a fact ("Kurz: ja."). An answer that cites nothing at
    all ("OK") is never let off: it gets at least one flag."""
    bare = _CITATION.sub("", sentence.text).strip().strip("*_ \t\n")
    if not _WORD.search(bare) or bare == NOTHING_FOUND or _is_heading(sentence.text):
        return True
    if bare.endswith(":"):
        return True  # "Folgende Unterlagen sind beizufügen:" introduces a list
    return answer_cites and len(_WORD.findall(bare)) < 3 and not has_facts


# Function words that say nothing about content (beyond the ones shorter than 4 letters, which are ignored).
_FILLER = frozenset("""aber alle allem allen aller alles also auch dass dabei damit dann daran darauf darf darin
davon dazu denn deren dessen diese diesem diesen dieser dieses doch durch eine einem einen einer eines etwa
gegen hier ihre ihrem ihren ihrer ihres immer jede jedem jeden jeder jedes kann kein keine keinem keinen keiner
können könnte mehr muss müssen nach nicht noch nur oder ohne sein seine seinem seinen seiner sich sind soll
sollen sowie über unter viel vom von werden wird wurde wurden zum zur zwischen wenn weil welche welcher welches
haben hatte hätte gibt gilt sowie bzw ggf""".split())
_ENDINGS = ("ungen", "ung", "ern", "em", "en", "er", "es", "e", "n", "s")
SUPPORT_THRESHOLD = 1 / 3


_MONTH_WORDS = frozenset("""januar februar märz maerz april juni juli august september oktober november
dezember""".split())


def _fold(word: str) -> str:
    return word.replace("ä", "a").replace("ö", "o").replace("ü", "u").replace("ß", "ss")


def _content_keys(text: str) -> set[str]:
    """Crude German word keys of the content words: lowercase, umlauts folded, a common ending cut, at most 6
    letters. Dates and numbers are left to the fact check."""
    keys = set()
    for word in _WORD.findall(_CITATION.sub(" ", text).lower()):
        if len(word) < 4 or not word.isalpha() or word in _FILLER or word in _MONTH_WORDS:
            continue
        word = _fold(word)
        for ending in _ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 4:
                word = word[: -len(ending)]
                break
        keys.add(word[:6])
    return keys


def support(statement: str, passages: Sequence[str]) -> float | None:
    """Share of the statement's content words found in the passages (1.0 = all); None without content words.

    A word counts as found when it occurs inside a passage word, so "setzt … fest" finds "festgesetzt" and
    "Anhörung" finds "anzuhören" only if spelled alike – a check that the cited passage is about what the
    statement says. It catches a model that copies an example or cites the wrong passage, not a subtle misreading."""
    keys = _content_keys(statement)
    if not keys:
        return None
    words = {_fold(w) for p in passages for w in _WORD.findall(p.lower()) if len(w) >= 4}
    found = sum(1 for k in keys if any(k in w for w in words))
    return found / len(keys)


def _numbers_de(numbers: Sequence[int]) -> str:
    return ", ".join(f"[{n}]" for n in numbers)


def _sentence_at(sentences: Sequence[Sentence], offset: int) -> int:
    for s in sentences:
        if s.start <= offset < s.end:
            return s.index
    return -1


def ground(answer: str, sources: Mapping[int, str]) -> Grounding:
    """Check `answer` against the numbered passages `sources` ({1: passage, …}); see `FlagKind` for the flags."""
    sentences = split_sentences(answer)
    flags: list[Flag] = []
    for m in _CITATION.finditer(answer):
        unknown = sorted({n for n in _marker_numbers(m.group(1)) if n not in sources})
        if unknown:
            known = _numbers_de(sorted(sources)) if sources else "keine"
            flags.append(Flag(FlagKind.UNKNOWN_CITATION, _sentence_at(sentences, m.start()), _numbers_de(unknown),
                              m.start(), m.end(), f"vorhandene Quellen: {known}"))
    answer_cites = any(n in sources for s in sentences for n in s.citations)
    for s in sentences:
        cited = [n for n in s.citations if n in sources]
        facts = extract_facts(s.text)
        if not cited and not _carries_no_statement(s, bool(facts), answer_cites):
            detail = f"nur Verweis auf nicht vorhandene Quelle {_numbers_de(s.citations)}" if s.citations else ""
            flags.append(Flag(FlagKind.UNCITED_SENTENCE, s.index, s.text, s.start, s.end, detail))
        passages = [sources[n] for n in cited] if cited else list(sources.values())
        share = support(s.text, passages) if cited else None
        if share is not None and share < SUPPORT_THRESHOLD and len(_content_keys(s.text)) >= 3:
            flags.append(Flag(FlagKind.NOT_SUPPORTED, s.index, s.text, s.start, s.end,
                              f"nur {round(share * 100)} % der Begriffe stehen in {_numbers_de(cited)}"))
        for f in facts:
            if any(fact_in_text(f, p) for p in passages):
                continue
            if not cited:
                detail = "in keiner Quelle"
            elif len(cited) == 1:
                detail = f"nicht in Quelle [{cited[0]}]"
            else:
                detail = f"nicht in den Quellen {_numbers_de(cited)}"
            flags.append(Flag(FlagKind.FACT_NOT_IN_SOURCES, s.index, f.text, s.start + f.start, s.start + f.end,
                              detail))
    flags.sort(key=lambda f: (f.start, -f.end))
    return Grounding(sentences=tuple(sentences), flags=tuple(flags))
