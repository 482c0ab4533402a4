"""German BM25 analysis: lowercase, § references, Snowball stemming (umlauts and ß folded), compound splitting."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping

_PARAGRAPHS = re.compile(r"§§\s*(\d+\s*[a-z]?(?:\s*(?:,|und|bis|-|–)\s*\d+\s*[a-z]?\b)+)")
_TOKEN = re.compile(r"§+\s*\d+[a-z]?\b|art\.\s*\d+[a-z]?\b|\d+[a-z]?\b|[^\W\d_]+(?:-[^\W\d_]+)*")
_NUMBER = re.compile(r"\d+[a-z]?")
_LINKS = ("s", "es", "n", "en", "e", "er", "")

STOPWORDS = frozenset(
    ["aber", "alle", "allem", "allen", "aller", "alles", "als", "also", "am", "an", "ander", "andere", "anderem", "anderen", "anderer", "anderes", "anderm", "andern", "anderr", "anders", "auch", "auf", "aus", "bei", "bin", "bis", "bist", "da", "damit", "dann", "das", "dass", "dasselbe", "dazu", "daß", "dein", "deine", "deinem", "deinen", "deiner", "deines", "dem", "demselben", "den", "denn", "denselben", "der", "derer", "derselbe", "derselben", "des", "desselben", "dessen", "dich", "die", "dies", "diese", "dieselbe", "dieselben", "diesem", "diesen", "dieser", "dieses", "dir", "doch", "dort", "du", "durch", "ein", "eine", "einem", "einen", "einer", "eines", "einig", "einige", "einigem", "einigen", "einiger", "einiges", "einmal", "er", "es", "etwas", "euch", "euer", "eure", "eurem", "euren", "eurer", "eures", "für", "gegen", "gewesen", "hab", "habe", "haben", "hat", "hatte", "hatten", "hier", "hin", "hinter", "ich", "ihm", "ihn", "ihnen", "ihr", "ihre", "ihrem", "ihren", "ihrer", "ihres", "im", "in", "indem", "ins", "ist", "jede", "jedem", "jeden", "jeder", "jedes", "jene", "jenem", "jenen", "jener", "jenes", "jetzt", "kann", "kein", "keine", "keinem", "keinen", "keiner", "keines", "können", "könnte", "machen", "man", "manche", "manchem", "manchen", "mancher", "manches", "mein", "meine", "meinem", "meinen", "meiner", "meines", "mich", "mir", "mit", "muss", "musste", "nach", "nicht", "nichts", "noch", "nun", "nur", "ob", "oder", "ohne", "sehr", "sein", "seine", "seinem", "seinen", "seiner", "seines", "selbst", "sich", "sie", "sind", "so", "solche", "solchem", "solchen", "solcher", "solches", "soll", "sollte", "sondern", "sonst", "um", "und", "uns", "unsere", "unserem", "unseren", "unser", "unseres", "unter", "viel", "vom", "von", "vor", "während", "war", "waren", "warst", "was", "weg", "weil", "weiter", "welche", "welchem", "welchen", "welcher", "welches", "wenn", "werde", "werden", "wie", "wieder", "will", "wir", "wird", "wirst", "wo", "wollen", "wollte", "würde", "würden", "zu", "zum", "zur", "zwar", "zwischen"]
)


def surface_tokens(text: str, *, keep_case: bool = False) -> list[str]:
    """Word, number and § tokens: "§ 28" → "§28" and "28"; "§§ 60, 66" → "§60", "§66", "60", "66".

    Lowercase unless `keep_case` (the analyser uses capitals to recognise nouns for compound splitting).
    """
    low = text.lower()
    if len(low) != len(text):  # a rare character changes length when lowercased: give up the capitals
        keep_case, text = False, low
    out: list[str] = []
    for m in _PARAGRAPHS.finditer(low):
        out.extend("§" + n.replace(" ", "") for n in _NUMBER.findall(m.group(1)))
    for m in _TOKEN.finditer(low):
        tok = m.group(0) if not keep_case else text[m.start():m.end()]
        if tok[0] == "§" or tok.lower().startswith("art."):
            num = re.sub(r"\D*?(\d+[a-z]?)$", r"\1", tok.replace(" ", ""))
            out.append(("§" if tok[0] == "§" else "art") + num)
            out.append(num)
        elif "-" in tok:  # "Gewerbe-Anmeldung": the whole and its parts
            out.append(tok.replace("-", ""))
            out.extend(p for p in tok.split("-") if p)
        else:
            out.append(tok)
    return out


class GermanAnalyzer:
    """Turns surface tokens into index terms: Snowball German stems plus the stems of compound parts.

    Compounds are split against the corpus vocabulary (Koehn & Knight 2003): a capitalised word (a noun) of at
    least 8 letters is split into two nouns of at least 4 letters that occur in the corpus in some inflected form (same stem),
    allowing the linking elements -s-, -es-, -n-, -en-, -e-, -er-, when the geometric mean of their frequencies
    beats the word's own frequency; parts are split recursively. The whole word's stem is always kept too.
    """

    def __init__(self, vocabulary: Mapping[str, int] | None = None, *, split_compounds: bool = True) -> None:
        import Stemmer  # PyStemmer

        self._stemmer = Stemmer.Stemmer("german")
        self._vocab: Mapping[str, int] = vocabulary or {}
        self._split = split_compounds
        self._memo: dict[str, tuple[str, ...]] = {}
        self._stems: dict[str, str] = {}
        self._stem_freq: Counter[str] = Counter()
        for word, count in self._vocab.items():
            self._stem_freq[self._stem(word)] += count

    @staticmethod
    def vocabulary(token_lists: Iterable[Iterable[str]], min_count: int = 1) -> dict[str, int]:
        """Lowercase nouns (words mostly written with a capital) seen at least `min_count` times, with counts."""
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(t for t in tokens if t.isalpha())
        nouns: Counter[str] = Counter()
        lower: Counter[str] = Counter()
        for word, count in counts.items():
            (nouns if word[0].isupper() else lower)[word.lower()] += count
        return {w: c for w, c in nouns.items() if c >= min_count and c >= lower.get(w, 0)}

    def terms(self, tokens: Iterable[str], *, drop_stopwords: bool = True, split: bool = True) -> list[str]:
        out: list[str] = []
        for tok in tokens:
            if drop_stopwords and tok.lower() in STOPWORDS:
                continue
            if not split:
                out.append(self._stem(tok.lower()) if tok.isalpha() else tok.lower())
                continue
            analysed = self._memo.get(tok)
            if analysed is None:
                analysed = self._memo[tok] = self._analyse(tok)
            out.extend(analysed)
        return out

    def _stem(self, word: str) -> str:
        stem = self._stems.get(word)
        if stem is None:
            stem = self._stems[word] = self._stemmer.stemWord(word)
        return stem

    def _freq(self, part: str) -> int:
        """How often `part` occurs in the corpus as a noun in any inflected form (same stem); rarer than twice: 0."""
        freq = self._stem_freq.get(self._stem(part), 0)
        return freq if freq >= 2 else 0

    def _analyse(self, tok: str) -> tuple[str, ...]:
        low = tok.lower()
        if not low.isalpha():
            return (low,)
        stem = self._stem(low)
        if not self._split or not tok[0].isupper():  # only nouns are split
            return (stem,)
        parts = self.split(low)
        if len(parts) < 2:
            return (stem,)
        return (stem, *dict.fromkeys(self._stem(p) for p in parts))

    def split(self, word: str, depth: int = 0) -> list[str]:
        """Compound parts of `word` known to the vocabulary, or [word]."""
        if len(word) < 8 or depth > 3 or not self._vocab:
            return [word]
        best: tuple[float, str, str] | None = None
        own = self._freq(word)
        for i in range(4, len(word) - 3):
            head, tail = word[:i], word[i:]
            tail_freq = self._freq(tail)
            if not tail_freq:
                continue
            for link in _LINKS:
                if link and not head.endswith(link):
                    continue
                stem = head[: len(head) - len(link)] if link else head
                freq = self._freq(stem) if len(stem) >= 4 else 0
                if len(stem) >= 4 and freq:
                    score = math.sqrt(freq * tail_freq)
                    if score > own and (best is None or score > best[0]):
                        best = (score, stem, tail)
        if best is None:
            return [word]
        return self.split(best[1], depth + 1) + self.split(best[2], depth + 1)
