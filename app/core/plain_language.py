"""The plain-language check (Leichte Sprache / bürgernah): code, not a model, so its findings can be trusted.

Used in the letter loop generate → check → refine: the findings go back to the model as instructions
(`instructions_de`) and are shown to the caseworker (`Finding.message_de`, `summary_de`).

Rules, after the usual guides (Netzwerk Leichte Sprache „Leichte Sprache – Ein Ratgeber“ (BMAS), DIN SPEC 33429,
and the looser limits of bürgernaher Verwaltungssprache):

* ``sentence_length`` – more words than `max_words`. A placeholder „[Frist eintragen]“, a § reference
  („§ 28 Abs. 1 SGB X“), an e-mail or web address and a number or date count as one word each.
* ``passive_voice`` – a form of „werden“ with a past participle in the same clause („wird … geprüft“, „dass …
  eingereicht wurde“, „muss … geprüft werden“). Future tense („wird … prüfen“) and „würde“ + infinitive are not
  passive. Verbs whose infinitive and participle look alike („erhalten“, „erlassen“, „vergeben“ …) count only after
  „wurde(n)“/„worden“ – after „wird“/„werden“ they are ambiguous and left alone. The Zustandspassiv („ist
  geprüft“) is not flagged: „ist/sind“ + participle is just as often the perfect tense („ist eingegangen“).
* ``long_compound`` – a word with more letters than `max_word_length`. Parts joined by a hyphen or Mediopunkt
  („Mitwirkungs-Aufforderung“, „Mitwirkungs·aufforderung“) are measured one by one. Numbers, § references,
  abbreviations in capitals and everything in placeholders are not words here.
* ``one_statement`` – more than `max_clauses` subordinate clauses (conjunctions like „weil“, „dass“, „wenn“,
  a relative pronoun after a comma, „, um … zu“) or more than `max_main_clauses` main clauses („, und“, „, aber“,
  „;“ …).
* ``foreign_word`` – a word of `foreign_words` (also inflected: „Meetings“, „analoge“) or a Latin phrase („ad
  hoc“).
* ``nominal_style`` – more than `max_nominal` nouns on -ung/-heit/-keit in one sentence (Behördendeutsch:
  „zur Prüfung der Bewilligung der Leistung“); 0 switches the rule off.

Salutation and closing lines („Sehr geehrte …,“, „Mit freundlichen Grüßen“ and the signature under it) are not
checked. Pure regex, deterministic, stdlib only; all offsets are offsets into the checked text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from app.core.grounding import split_sentences

__all__ = [
    "FOREIGN_WORDS", "FOREIGN_WORD_ALTERNATIVES", "RULES", "Finding", "PlainLanguageRules", "check",
    "instructions_de", "summary_de",
]

RULES = ("sentence_length", "passive_voice", "long_compound", "one_statement", "foreign_word", "nominal_style")

# -- foreign words -----------------------------------------------------------------------------------------------
# Source idea: the Leichte-Sprache guides (Netzwerk Leichte Sprache / BMAS-Ratgeber: „Benutzen Sie keine
# Fremdwörter“, e.g. „Workshop“ → „Arbeits-Gruppe“), DIN SPEC 33429, and the lists of Anglicisms and Amtslatein
# that style guides for bürgernahe Verwaltungssprache name as hard to understand. Deliberately NOT listed:
# established words most readers know and admin letters need – „online“, „Internet“, „E-Mail“, „Computer“,
# „Formular“, „Dokument“, „Termin“, „Information“, „Kommunikation“, „Adresse“, „Service“ in compounds
# („Bürgerservice“ is one German word) – and „Link“ („links“ = left). Keys are lowercase; a value is a German
# alternative for the message ("" = none suggested).
FOREIGN_WORD_ALTERNATIVES: dict[str, str] = {
    # Anglicisms
    "compliance": "Regel-Treue", "deadline": "Frist", "feedback": "Rückmeldung", "meeting": "Treffen",
    "workflow": "Ablauf", "tool": "Werkzeug", "service": "Hilfe", "support": "Hilfe", "ticket": "Anfrage",
    "update": "neue Fassung", "upload": "Hochladen", "download": "Herunterladen", "checken": "prüfen",
    "gecheckt": "geprüft", "downloaden": "herunterladen", "uploaden": "hochladen", "account": "Konto",
    "login": "Anmeldung", "einloggen": "anmelden", "ausloggen": "abmelden", "homepage": "Internet-Seite",
    "website": "Internet-Seite", "hotline": "Telefon-Nummer", "call": "Anruf", "team": "Gruppe",
    "briefing": "Besprechung", "controlling": "Kontrolle", "monitoring": "Beobachtung", "reporting": "Bericht",
    "performance": "Leistung", "policy": "Regel", "statement": "Aussage", "stakeholder": "Beteiligte",
    "workshop": "Arbeits-Gruppe", "job": "Arbeit", "management": "Leitung", "manager": "Leiter",
    "onboarding": "Einarbeitung", "output": "Ergebnis", "input": "Beitrag", "timing": "Zeitplan",
    "benchmark": "Vergleich", "know-how": "Wissen", "follow-up": "Nachfrage", "tracking": "Verfolgung",
    "case-management": "Fall-Begleitung", "fair": "gerecht",
    # Latinisms and other foreign words of the Amtssprache
    "prozedere": "Ablauf", "procedere": "Ablauf", "implementieren": "einführen", "implementierung": "Einführung",
    "evaluieren": "bewerten", "evaluation": "Bewertung", "evaluierung": "Bewertung", "priorisieren": "vorziehen",
    "priorität": "Vorrang", "prioritär": "vorrangig", "prämisse": "Voraussetzung", "adäquat": "passend",
    "analog": "entsprechend", "konsensual": "einvernehmlich", "kumulativ": "zusammen", "obligatorisch": "Pflicht",
    "fakultativ": "freiwillig", "optional": "freiwillig", "partiell": "teilweise", "sukzessive": "nach und nach",
    "tangieren": "betreffen", "explizit": "ausdrücklich", "implizit": "", "modalitäten": "Regeln",
    "kompensation": "Ausgleich", "kompensieren": "ausgleichen", "konsultation": "Beratung", "intention": "Absicht",
    "relevanz": "Bedeutung", "relevant": "wichtig", "irrelevant": "unwichtig", "effizienz": "Wirksamkeit",
    "effizient": "wirksam", "kapazität": "Platz", "kapazitäten": "Plätze", "option": "Möglichkeit",
    "qua": "durch", "via": "über", "dato": "heute", "dokumentation": "Unterlagen", "dokumentieren": "festhalten",
    "legitimation": "Nachweis", "verifizieren": "prüfen", "verifizierung": "Prüfung", "validieren": "prüfen",
    "restriktiv": "streng", "diskrepanz": "Unterschied", "konsequenz": "Folge", "ressourcen": "Mittel",
    "transparenz": "Offenheit", "transparent": "offen", "subsidiär": "nachrangig", "subsidiarität": "Nachrang",
    "kausal": "ursächlich", "intervention": "Eingreifen", "sanktionieren": "bestrafen",
    # Latin phrases (matched as phrases)
    "ad hoc": "sofort", "de facto": "tatsächlich", "de jure": "rechtlich", "per se": "an sich",
    "vice versa": "umgekehrt", "in puncto": "bei", "ex officio": "von Amts wegen", "a priori": "von vornherein",
    "pro forma": "zum Schein", "status quo": "jetziger Stand", "ultima ratio": "letzter Ausweg",
    "in summa": "insgesamt", "sui generis": "eigener Art",
}
FOREIGN_WORDS: frozenset[str] = frozenset(FOREIGN_WORD_ALTERNATIVES)
_INFLECTIONS = ("s", "e", "n", "en", "es", "er", "em", "ern", "st", "t", "te", "ten")


@dataclass(frozen=True, slots=True)
class Finding:
    """One place in the text that breaks a rule: `text` is `checked_text[start:end]`."""

    rule: str  # one of RULES
    message_de: str  # for the caseworker
    text: str
    start: int
    end: int
    sentence_index: int  # index into grounding.split_sentences of the checked text


@dataclass(frozen=True, slots=True)
class PlainLanguageRules:
    """Limits of the check; `leicht()` (the defaults) and `buergernah()` are the two presets."""

    max_words: int = 15
    max_word_length: int = 20  # letters of one word or one hyphen part
    max_clauses: int = 1  # subordinate clauses per sentence
    max_main_clauses: int = 1  # main clauses per sentence („…, und …“, „…; …“)
    max_nominal: int = 2  # nouns on -ung/-heit/-keit per sentence; 0 = rule off
    foreign_words: frozenset[str] = field(default=FOREIGN_WORDS)  # lowercase; an entry with a space is a phrase
    level: Literal["leicht", "buergernah"] = "leicht"

    @classmethod
    def leicht(cls) -> PlainLanguageRules:
        return cls()

    @classmethod
    def buergernah(cls) -> PlainLanguageRules:
        return cls(max_words=20, max_word_length=25, max_clauses=2, max_main_clauses=2, max_nominal=3,
                   level="buergernah")


# -- masking: parts that are not checked -------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"\[[^\[\]\n]{1,120}\]")
_PARAGRAPH_REF = re.compile(
    r"(?:§§?|(?<!\w)Art\.)[ \t\u00a0]*\d+[a-z]?"
    r"(?:[ \t\u00a0]*(?:Abs\.|Absatz|Satz|S\.|Nr\.|Nummer|Buchst\.|lit\.)[ \t\u00a0]*\d+[a-z]?)*"
    r"(?:[ \t\u00a0]+(?:[A-ZÄÖÜ][A-Za-zÄÖÜäöü]*[A-ZÄÖÜ]|[A-ZÄÖÜ]{2,})(?:[ \t\u00a0]+[IVX]{1,4}\b)?)?")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?:https?://|www\.)[^\s]*[^\s.,;:!?)\]]")
_SALUTATION = re.compile(
    r"^[ \t]*(?:Sehr geehrte|Liebe[rs]?[ \t]|Guten Tag|Hallo)[^\n,]*(?:,|$)", re.IGNORECASE | re.MULTILINE)
_CLOSING = re.compile(
    r"(?:^|(?<=[.!?]\s))[ \t]*(?:Mit freundlichen Grüßen|Freundliche Grüße|Mit freundlichem Gruß|Viele Grüße|Hochachtungsvoll)"
    r"[^\n]*(?:\n[ \t]*\S[^\n]*)*", re.IGNORECASE | re.MULTILINE)  # the closing formula and the signature below


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        for i in range(a, b):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


# -- words --------------------------------------------------------------------------------------------------------
_LETTERS = r"[^\W\d_]"
_TOKEN = re.compile(rf"(?P<word>{_LETTERS}+(?:[-‐·•'’]{_LETTERS}+)*)|(?P<num>\d+(?:[.,:/]\d+)*)")
_PART_SPLIT = re.compile(r"[-‐·•]")


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int  # offset in the sentence
    end: int
    kind: str  # "word" | "other" (number, placeholder, § reference, address)

    @property
    def lower(self) -> str:
        return self.text.lower()


def _tokens(sentence: str) -> list[_Token]:
    """Words, numbers and the masked units (placeholder, § reference, address – one token each) in order."""
    units = [m.span() for pat in (_PLACEHOLDER, _ADDRESS, _PARAGRAPH_REF) for m in pat.finditer(sentence)]
    units.sort()
    merged: list[tuple[int, int]] = []
    for a, b in units:
        if merged and a < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    masked = _blank(sentence, merged)
    tokens = [_Token(sentence[a:b], a, b, "other") for a, b in merged]
    tokens += [_Token(m.group(), m.start(), m.end(), "word" if m.group("word") else "other")
               for m in _TOKEN.finditer(masked)]
    return sorted(tokens, key=lambda t: t.start)


# -- passive voice -------------------------------------------------------------------------------------------------
def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_WERDEN = frozenset(("wird", "werden", "wurde", "wurden", "worden", "werde", "wirst", "werdet", "würde", "würden",
                     "würdest", "wurdest"))
_PAST_WERDEN = frozenset(("wurde", "wurden", "worden", "wurdest"))
_SEPARABLE = ("zusammen", "zurück", "weiter", "wieder", "bekannt", "heraus", "herein", "hinein", "voraus",
              "vorbei", "durch", "nach", "fest", "frei", "statt", "wahr", "fort", "hin", "her", "dar", "ein", "aus",
              "auf", "vor", "mit", "bei", "weg", "los", "ab", "an", "zu", "um")
_INSEPARABLE = ("hinter", "wider", "unter", "über", "miss", "emp", "ent", "ver", "zer", "be", "er")
# infinitives that start with ge- themselves: "wird … gewähren" is future tense, not a participle
_GE_VERBS = _set("""gehen geben gelten gewähren genehmigen gestatten gehören gewinnen genießen gebrauchen
gefallen gelingen geschehen gestehen gestalten gewöhnen gewährleisten gedenken gefährden genügen gebieten geleiten
geraten gelangen""")
_GE_TEN = _set("""gebeten gehalten geraten getreten gestritten geschnitten gegolten gescholten gespalten
gebraten geritten gelitten geglitten""")
# strong participles with an inseparable prefix (the infinitive differs: "entschieden" ≠ "entscheiden")
_STRONG = _set("""beschieden entschieden beschrieben unterschrieben verschrieben verboten entzogen bezogen
erhoben verschoben überwiesen verwiesen bewiesen erwiesen entnommen übernommen unternommen vernommen empfohlen
befohlen verloren begonnen beschlossen erschlossen verschlossen betroffen übertroffen verliehen entliehen erlitten
vermieden verstanden entstanden bestanden überstanden beworben erworben verstorben verzogen besprochen versprochen
widersprochen unterbrochen verglichen beglichen erschienen verblieben vertrieben betrieben übertrieben
bestritten unterzogen überzogen""")
# infinitive = participle: a participle only after "wurde(n)"/"worden"
_AMBIGUOUS = _set("""erhalten behalten enthalten unterhalten erlassen entlassen verlassen überlassen
unterlassen vergeben ergeben übergeben vergessen verfallen entfallen erfahren empfangen vertreten betreten
beraten verraten übertragen ertragen vertragen""")
_NOT_PARTICIPLES = _set("""erneut bereit bekannt bestimmt gesamt gerecht geeignet berechtigt verpflichtet
befugt behindert beliebt erst selbst jetzt gegen gewesen geworden überhaupt""")
_CLAUSE_BREAK = re.compile(r"[,;:()–—]|\s-\s")
_COORD = frozenset(("und", "oder", "sowie", "aber", "sondern"))


def _split_separable(word: str) -> tuple[str, str]:
    for prefix in _SEPARABLE:
        rest = word[len(prefix):]
        if word.startswith(prefix) and rest.startswith("ge") and len(rest) >= 5:
            return prefix, rest
    return "", word


@lru_cache(maxsize=4096)
def _participle(word: str, after_past: bool) -> bool:
    """Whether the lowercase word `word` is (most likely) a past participle."""
    if word in _NOT_PARTICIPLES or len(word) < 5:
        return False
    if word.endswith("iert"):
        return True
    _, rest = _split_separable(word)
    if rest.startswith("ge") and rest not in _GE_VERBS:
        if rest.endswith("t") and not rest.endswith("st"):
            return True
        if rest.endswith("en") and not rest.endswith(("ene", "enen")):
            return not rest.endswith("ten") or rest in _GE_TEN
    if word in _STRONG or (after_past and word in _AMBIGUOUS):
        return True
    for prefix in _INSEPARABLE:
        if word.startswith(prefix) and len(word) > len(prefix) + 3:
            return word.endswith("t") and not word.endswith(("st", "heit", "keit", "schaft"))
    return False


_MIXED = _set("bracht dacht nannt kannt sandt wandt brannt rannt wusst mocht konnt musst durft")


def _active_question(participle: str) -> str:
    """„Wer prüft?“ for „geprüft“, „Wer reicht … ein?“ for „eingereicht“; „Wer tut das?“ when unsure."""
    word = participle.lower()
    if word.endswith("iert") or (word.startswith(_INSEPARABLE) and word.endswith("t") and not word.startswith("ge")):
        return f"Wer {word}?"
    prefix, rest = _split_separable(word)
    if not rest.startswith("ge") or not rest.endswith("t") or rest[2:] in _MIXED:
        return "Wer tut das?"
    if rest[:-1] + "en" in _GE_VERBS or rest[:-2] + "en" in _GE_VERBS:
        verb = rest  # "gewährt", "gestattet"
    else:
        verb = rest[2:]
    return f"Wer {verb} … {prefix}?" if prefix else f"Wer {verb}?"


def _clause_ids(sentence: str, tokens: Sequence[_Token]) -> list[int]:
    """A clause number per token: a comma, semicolon, colon, bracket or dash and „und“/„oder“ … start a new one."""
    ids: list[int] = []
    current = 0
    for i, tok in enumerate(tokens):
        if i and (_CLAUSE_BREAK.search(sentence, tokens[i - 1].end, tok.start)
                  or tok.lower in _COORD or tokens[i - 1].lower in _COORD):
            current += 1
        ids.append(current)
    return ids


def _passive(sentence: str, tokens: Sequence[_Token]) -> list[tuple[int, int, _Token, _Token]]:
    """(start, end, aux, participle) of each passive in the sentence (offsets in the sentence)."""
    found: list[tuple[int, int, _Token, _Token]] = []
    used: set[int] = set()
    ids = _clause_ids(sentence, tokens)
    clause: dict[int, list[int]] = {}
    for i, c in enumerate(ids):
        clause.setdefault(c, []).append(i)
    for i, tok in enumerate(tokens):
        if tok.kind != "word" or tok.lower not in _WERDEN:
            continue
        after_past = tok.lower in _PAST_WERDEN
        candidates = [j for j in clause[ids[i]] if j != i and j not in used and tokens[j].kind == "word"
                      and tokens[j].text[:1].islower() and tokens[j].lower not in _WERDEN
                      and _participle(tokens[j].lower, after_past)]
        after = [j for j in candidates if j > i]
        before = [j for j in candidates if j < i]
        if after:
            j = after[-1]
        elif before:
            j = before[-1]
        else:
            continue
        used.update((i, j))
        a, b = min(tok.start, tokens[j].start), max(tok.end, tokens[j].end)
        found.append((a, b, tok, tokens[j]))
    return found


# -- several statements ------------------------------------------------------------------------------------------
_SUBORDINATORS = _set("""weil dass daß wenn ob obwohl obgleich nachdem sobald soweit sofern falls bevor indem
sodass solange seitdem wohingegen""")
_AFTER_COMMA = frozenset(("damit", "während", "wobei", "wodurch", "wo", "seit", "da", "um"))  # adverb elsewhere
_RELATIVE = re.compile(
    r",\s+(?:(?:in|an|auf|aus|bei|mit|nach|von|vor|zu|für|über|unter|gegen|durch|ohne|um)\s+)?"
    r"(?P<pron>der|die|das|dem|den|deren|dessen|denen|welche[rsmn]?)\s+(?!heißt\b)(?P<next>[^\W\d_]+)")
_FORMAL = frozenset(("Sie", "Ihr", "Ihre", "Ihren", "Ihrem", "Ihrer", "Ihres", "Ihnen"))
_MAIN_JOIN = re.compile(r",\s+(?P<c>und|oder|aber|denn|sondern|doch)\s+(?!zwar\b)|(?P<semi>;)\s")


def _clauses(sentence: str, tokens: Sequence[_Token]) -> tuple[list[str], list[str]]:
    """(subordinate clause markers, main clause joins) of one sentence."""
    subs: list[str] = []
    for tok in tokens:
        if tok.kind != "word":
            continue
        before = sentence[max(0, tok.start - 8):tok.start].rstrip()
        is_sub = tok.lower in _SUBORDINATORS or (tok.lower in _AFTER_COMMA and before.endswith(","))
        if is_sub and (tok.lower != "um" or re.search(r"\bzu\s+\w+|\w+zu\w+en\b", sentence[tok.end:])):
            subs.append(tok.lower)
    for m in _RELATIVE.finditer(sentence):
        nxt = m.group("next")
        if nxt[:1].islower() or nxt in _FORMAL:  # ", die Lohnabrechnung und …" is a list, not a clause
            subs.append(m.group("pron"))
    joins = [m.group("c") or ";" for m in _MAIN_JOIN.finditer(sentence)]
    return subs, joins


# -- nominal style ----------------------------------------------------------------------------------------------
_NOMINAL = re.compile(r"(?:ung|ungen|heit|heiten|keit|keiten)$")


# -- long words ----------------------------------------------------------------------------------------------------
_JOINT = re.compile(r"(?:ungs|heits|keits|schafts|tions|täts|lings|ions)(?=[^\W\d_]{4})")
_HEADS = ("bescheinigung", "aufforderung", "erklärung", "versicherung", "verordnung", "abrechnung", "unterlagen",
          "leistung", "leistungen", "bescheid", "nachweis", "verfahren", "pflicht", "behörde", "gesetz", "vertrag",
          "zahlung", "betrag", "antrag", "stelle", "steuer", "zuschuss", "grenze", "recht", "frist", "amt",
          "geld", "kosten", "hilfe")


def _split_suggestion(word: str) -> str:
    """„Mitwirkungs-Aufforderung“ for „Mitwirkungsaufforderung“, or "" when no good split is known."""
    lower = word.lower()
    cuts = [m.end() for m in _JOINT.finditer(lower) if m.end() >= 4]
    if not cuts:
        cuts = [len(lower) - len(h) for h in _HEADS if lower.endswith(h) and len(lower) - len(h) >= 4]
    if not cuts:
        return ""
    cut = min(cuts, key=lambda c: abs(len(word) / 2 - c))
    return word[:cut] + "-" + word[cut].upper() + word[cut + 1:]


def _letters(part: str) -> int:
    return sum(ch.isalpha() for ch in part)


# -- foreign words ------------------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _phrase_pattern(words: frozenset[str]) -> re.Pattern[str] | None:
    phrases = sorted((w for w in words if " " in w), key=len, reverse=True)
    if not phrases:
        return None
    alts = "|".join(r"\s+".join(map(re.escape, p.split())) for p in phrases)
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)", re.IGNORECASE)


def _foreign(word: str, words: frozenset[str]) -> str | None:
    """The list entry that `word` (lowercase) is a form of, or None."""
    if word in words:
        return word
    for ending in _INFLECTIONS:
        stem = word[: -len(ending)]
        if word.endswith(ending) and len(stem) >= 3 and stem in words:
            return stem
    return None


def _foreign_message(word: str, entry: str) -> str:
    alt = FOREIGN_WORD_ALTERNATIVES.get(entry, "")
    tail = f", z. B. „{alt}“." if alt else "."
    return f"Fremdwort „{word}“ – besser ein deutsches Wort{tail}"


# -- check ---------------------------------------------------------------------------------------------------------
def check(text: str, rules: PlainLanguageRules | None = None) -> list[Finding]:
    """All findings of `text`, sorted by position (a sentence-wide finding before the word findings inside it)."""
    rules = rules or PlainLanguageRules.leicht()
    skipped = [m.span() for pat in (_SALUTATION, _CLOSING) for m in pat.finditer(text)]
    # placeholders are masked for splitting too, so "[Datum. Bitte eintragen]" does not end a sentence
    hidden = [(m.start() + 1, m.end() - 1) for m in _PLACEHOLDER.finditer(text)]
    masked = _blank(text, skipped)
    chars = list(masked)
    for a, b in hidden:
        chars[a:b] = ["x" if not ch.isspace() else ch for ch in chars[a:b]]
    split_text = "".join(chars)
    findings: list[Finding] = []
    for sent in split_sentences(split_text):
        base, idx = sent.start, sent.index
        s = text[sent.start:sent.end]
        tokens = _tokens(s)
        if not any(t.kind == "word" for t in tokens):
            continue

        def add(rule: str, message: str, a: int, b: int) -> None:
            findings.append(Finding(rule, message, s[a:b], base + a, base + b, idx))  # noqa: B023

        if len(tokens) > rules.max_words:
            add("sentence_length", f"Satz mit {len(tokens)} Wörtern – höchstens {rules.max_words} Wörter pro Satz.",
                0, len(s))
        subs, joins = _clauses(s, tokens)
        if len(subs) > rules.max_clauses or len(joins) + 1 > rules.max_main_clauses:
            what: list[str] = []
            if len(subs) > rules.max_clauses:
                what.append("Nebensätze mit " + ", ".join(f"„{w}“" for w in dict.fromkeys(subs)))
            if len(joins) + 1 > rules.max_main_clauses:
                what.append("Hauptsätze verbunden mit " + ", ".join(f"„{w}“" for w in dict.fromkeys(joins)))
            add("one_statement", f"Mehrere Aussagen in einem Satz ({'; '.join(what)}) – besser ein Satz pro Aussage.",
                0, len(s))
        if rules.max_nominal > 0:
            nominal = [t for t in tokens if t.kind == "word" and t.text[:1].isupper() and len(t.text) > 5
                       and _NOMINAL.search(t.lower)]
            if len(nominal) > rules.max_nominal:
                names = ", ".join(f"„{t.text}“" for t in nominal[:4])
                add("nominal_style", f"Viele Hauptwörter auf -ung/-heit/-keit ({names}) – besser mit Verben "
                                     "schreiben: „Wir prüfen …“ statt „die Prüfung erfolgt …“.", 0, len(s))
        for a, b, aux, part in _passive(s, tokens):
            first, second = sorted((aux, part), key=lambda t: t.start)
            gap = " … " if s[first.end:second.start].strip() else " "
            add("passive_voice", f"Passiv: „{first.text}{gap}{second.text}“ – besser aktiv: "
                                 f"{_active_question(part.text)}", a, b)
        phrase = _phrase_pattern(rules.foreign_words)
        phrase_spans = [m.span() for m in phrase.finditer(s)] if phrase else []
        for a, b in phrase_spans:
            entry = " ".join(s[a:b].lower().split())
            add("foreign_word", _foreign_message(s[a:b], entry), a, b)
        for tok in tokens:
            if tok.kind != "word" or any(a <= tok.start < b for a, b in phrase_spans):
                continue
            whole = _foreign(tok.lower, rules.foreign_words) if "-" in tok.text else None
            if whole:
                add("foreign_word", _foreign_message(tok.text, whole), tok.start, tok.end)
                continue
            pos = tok.start
            for part in _PART_SPLIT.split(tok.text):
                p_start, pos = pos, pos + len(part) + 1
                if not part or part.isupper():
                    continue
                entry = _foreign(part.lower(), rules.foreign_words)
                if entry:
                    add("foreign_word", _foreign_message(part, entry), p_start, p_start + len(part))
            parts = [p for p in _PART_SPLIT.split(tok.text) if not p.isupper()]
            if parts and max(_letters(p) for p in parts) > rules.max_word_length:
                long_part = max(parts, key=_letters)
                split = _split_suggestion(long_part) if long_part == tok.text else ""
                how = f"besser trennen: {split} oder umschreiben" if split else \
                    "besser mit Bindestrich trennen oder umschreiben"
                add("long_compound", f"Langes Wort „{tok.text}“ ({_letters(long_part)} Buchstaben) – {how}.",
                    tok.start, tok.end)
    order = {rule: i for i, rule in enumerate(RULES)}
    findings.sort(key=lambda f: (f.start, -f.end, order.get(f.rule, len(order))))
    return findings


# -- texts for the caseworker and the refine step ----------------------------------------------------------------
_RULE_DE = {"sentence_length": ("zu langer Satz", "zu lange Sätze"), "passive_voice": ("Passiv", "Passiv"),
            "long_compound": ("langes Wort", "lange Wörter"), "one_statement": ("mehrere Aussagen", "mehrere Aussagen"),
            "foreign_word": ("Fremdwort", "Fremdwörter"), "nominal_style": ("Nominalstil", "Nominalstil")}


def summary_de(findings: Sequence[Finding]) -> str:
    """„3 Hinweise: 1 × zu langer Satz, 1 × Passiv, 1 × langes Wort“ (rules in a fixed order)."""
    if not findings:
        return "Keine Hinweise – der Text erfüllt die Regeln."
    counts = Counter(f.rule for f in findings)
    ordered = sorted(counts, key=lambda r: RULES.index(r) if r in RULES else len(RULES))
    parts = ", ".join(f"{counts[r]} × {_RULE_DE.get(r, (r, r))[0 if counts[r] == 1 else 1]}" for r in ordered)
    return f"{len(findings)} {'Hinweis' if len(findings) == 1 else 'Hinweise'}: {parts}"


def _quote(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + " …"


def _instruction(f: Finding) -> str:
    q = _quote(f.text)
    if f.rule in ("sentence_length", "one_statement"):
        return f"Teile den Satz „{q}“ in kurze Sätze. Jeder Satz sagt nur eine Sache."
    if f.rule == "passive_voice":
        participle = f.text.split()[-1] if f.text.split()[0].lower() in _WERDEN else f.text.split()[0]
        return f"Schreibe „{q}“ aktiv. Sage, wer es tut: {_active_question(participle)}"
    if f.rule == "long_compound":
        split = _split_suggestion(f.text) if "-" not in f.text else ""
        how = f"Schreibe „{split}“" if split else "Trenne es mit Bindestrich"
        return f"Das Wort „{q}“ ist zu lang. {how} oder sage es mit anderen Wörtern."
    if f.rule == "foreign_word":
        entry = _foreign(f.text.lower(), FOREIGN_WORDS) or " ".join(f.text.lower().split())
        alt = FOREIGN_WORD_ALTERNATIVES.get(entry, "")
        return f"Ersetze das Fremdwort „{q}“ durch ein deutsches Wort" + (f", z. B. „{alt}“." if alt else ".")
    if f.rule == "nominal_style":
        return f"Schreibe den Satz „{q}“ mit Verben statt mit Wörtern auf -ung, -heit, -keit."
    return f.message_de


def instructions_de(findings: Sequence[Finding], limit: int = 8) -> str:
    """Short German instructions for the model's refine step, one line („- …“) per place to fix.

    A sentence that is both too long and has several statements gets one line; at most `limit` lines, then a
    line with how many places are left."""
    lines: list[str] = []
    seen: set[tuple[str, int, int]] = set()
    for f in findings:
        kind = "split" if f.rule in ("sentence_length", "one_statement") else f.rule
        key = (kind, f.start, f.end)
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"- {_instruction(f)}")
    if len(lines) > limit:
        rest = len(lines) - limit
        lines = lines[:limit] + [f"- … und {rest} weitere {'Stelle' if rest == 1 else 'Stellen'} nach denselben Regeln."]
    return "\n".join(lines)
