"""The plain-language check (Leichte Sprache / bürgernah): code, not a model, so its findings can be trusted.

Rules (after the usual Leichte-Sprache guides: Netzwerk Leichte Sprache, BMAS-Ratgeber; and the shorter limits of
"bürgernahe Verwaltungssprache"): sentence length, passive voice, long compounds, one statement per sentence,
foreign words. Placeholders („[Frist eintragen]“) count as one word and are never findings; § references and
numbers are not long words; salutation and closing lines are skipped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from app.core.grounding import split_sentences

_PLACEHOLDER = re.compile(r"\[[^\[\]\n]{1,80}\]")
_WORD = re.compile(r"[A-Za-zÄÖÜäöüß]+(?:-[A-Za-zÄÖÜäöüß]+)*")
_WERDEN = {"wird", "werden", "wurde", "wurden", "worden", "werde", "wirst", "werdet", "würde", "würden"}
_INSEPARABLE = ("be", "er", "ver", "zer", "ent", "emp", "miss", "ge")
_SUBORDINATORS = {"weil", "dass", "wenn", "ob", "obwohl", "damit", "nachdem", "sobald", "soweit", "sofern", "falls",
                  "während", "bevor", "indem", "sodass", "solange", "seitdem", "wobei"}
_RELATIVE = re.compile(r",\s+(?:der|die|das|dem|den|deren|dessen|denen|welche[rsmn]?)\s", re.IGNORECASE)
_SKIP_LINE = re.compile(r"^\s*(sehr geehrte|mit freundlichen grüßen|im auftrag|hallo|guten tag)", re.IGNORECASE)
# Words Leichte-Sprache guides and "Fremdwörter in der Verwaltung" lists name as hard for many readers.
FOREIGN_WORDS = frozenset(w.lower() for w in """
Compliance Deadline Feedback Meeting Workflow Tool Tools Service Support Ticket Update Updates checken gecheckt
downloaden uploaden Download Upload Account Login einloggen Homepage Website Link Call Team Teams Task Tasks
Benchmark Briefing Controlling Monitoring Reporting Performance Policy Statement Stakeholder Status-Quo Timing
Workshop fair Job Jobcenter-Portal Management Manager Onboarding Output Input Prozedere Procedere
implementieren Implementierung evaluieren Evaluation Evaluierung prioritär priorisieren Prämisse
adäquat analog konsensual kumulativ obligatorisch fakultativ partiell sukzessive tangieren explizit implizit
Modalitäten Kompensation Konsultation Intention Relevanz relevant irrelevant Effizienz effizient Kapazitäten
Option Optionen qua via vice versa per se ad hoc de facto in puncto quasi
""".split())


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str  # sentence_length | passive_voice | long_compound | one_statement | foreign_word
    message_de: str
    text: str
    start: int
    end: int
    sentence_index: int


@dataclass(frozen=True, slots=True)
class PlainLanguageRules:
    max_words: int = 15
    max_word_length: int = 20
    max_clauses: int = 0  # subordinate clauses allowed per sentence
    foreign_words: frozenset[str] = field(default=FOREIGN_WORDS)
    level: str = "leicht"

    @classmethod
    def leicht(cls) -> PlainLanguageRules:
        return cls()

    @classmethod
    def buergernah(cls) -> PlainLanguageRules:
        return cls(max_words=20, max_word_length=25, max_clauses=1, level="buergernah")


def _words(text: str) -> list[re.Match[str]]:
    masked = _PLACEHOLDER.sub(lambda m: "X" * len(m.group(0)), text)
    return [m for m in _WORD.finditer(masked)]


def _is_participle(word: str) -> bool:
    w = word.lower()
    if w.endswith("iert") or w.endswith("ieren"):
        return w.endswith("iert")
    if w.startswith("ge") and (w.endswith("t") or w.endswith("en")) and len(w) > 4:
        return True
    for prefix in ("ab", "an", "auf", "aus", "bei", "ein", "fest", "nach", "vor", "zu", "zurück", "weiter", "mit"):
        if w.startswith(prefix + "ge") and len(w) > len(prefix) + 4:
            return True
    return w.startswith(_INSEPARABLE[:-1]) and w.endswith("t") and not w.endswith("st") and len(w) > 5


def check(text: str, rules: PlainLanguageRules | None = None) -> list[Finding]:
    rules = rules or PlainLanguageRules.leicht()
    findings: list[Finding] = []
    for sentence in split_sentences(text):
        s_text, base, idx = sentence.text, sentence.start, sentence.index
        if _SKIP_LINE.match(s_text):
            continue
        words = _words(s_text)
        if len(words) > rules.max_words:
            findings.append(Finding("sentence_length", f"Satz mit {len(words)} Wörtern – höchstens "
                                    f"{rules.max_words} Wörter pro Satz.", s_text, base, base + len(s_text), idx))
        lower = [m.group(0).lower() for m in words]
        for i, w in enumerate(lower):
            if w in _WERDEN and w not in ("würde", "würden"):
                clause_end = next((j for j in range(i + 1, len(words))
                                   if "," in s_text[words[j - 1].end():words[j].start()]), len(words))
                part = next((words[j] for j in range(i + 1, clause_end) if _is_participle(lower[j])), None)
                if part is not None:
                    a, b = words[i].start(), part.end()
                    findings.append(Finding("passive_voice", f"Passiv: „{words[i].group(0)} … {part.group(0)}“ – "
                                            "besser aktiv: Wer tut es?", s_text[a:b], base + a, base + b, idx))
                    break
        for m in words:
            word = m.group(0)
            parts = word.split("-")
            if max(len(p) for p in parts) > rules.max_word_length:
                findings.append(Finding("long_compound", f"Langes Wort „{word}“ – besser trennen "
                                        "(mit Bindestrich) oder umschreiben.", word, base + m.start(),
                                        base + m.end(), idx))
            elif word.lower() in rules.foreign_words:
                findings.append(Finding("foreign_word", f"Fremdwort „{word}“ – besser ein deutsches Wort.", word,
                                        base + m.start(), base + m.end(), idx))
        clauses = sum(1 for w in lower if w in _SUBORDINATORS) + len(_RELATIVE.findall(s_text))
        if clauses > rules.max_clauses:
            findings.append(Finding("one_statement", "Mehrere Aussagen in einem Satz (Nebensätze) – besser ein Satz "
                                    "pro Aussage.", s_text, base, base + len(s_text), idx))
    return sorted(findings, key=lambda f: (f.start, f.rule))


_RULE_DE = {"sentence_length": "zu langer Satz", "passive_voice": "Passiv", "long_compound": "langes Wort",
            "one_statement": "mehrere Aussagen", "foreign_word": "Fremdwort"}


def summary_de(findings: list[Finding]) -> str:
    if not findings:
        return "Keine Hinweise – der Text erfüllt die Regeln."
    counts = Counter(f.rule for f in findings)
    parts = ", ".join(f"{n} × {_RULE_DE.get(rule, rule)}" for rule, n in counts.items())
    return f"{len(findings)} Hinweis{'e' if len(findings) != 1 else ''}: {parts}"


def instructions_de(findings: list[Finding], limit: int = 8) -> str:
    out: list[str] = []
    for f in findings[:limit]:
        short = f.text if len(f.text) <= 120 else f.text[:117] + "…"
        out.append({
            "sentence_length": f"- Teile den Satz „{short}“ in kurze Sätze.",
            "passive_voice": f"- Schreibe „{short}“ aktiv: Sage, wer es tut.",
            "long_compound": f"- Trenne das Wort „{short}“ mit Bindestrich oder umschreibe es.",
            "one_statement": f"- Schreibe für jede Aussage in „{short}“ einen eigenen Satz.",
            "foreign_word": f"- Ersetze das Fremdwort „{short}“ durch ein deutsches Wort.",
        }.get(f.rule, f"- {f.message_de}"))
    return "\n".join(out)
