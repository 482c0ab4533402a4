"""Pseudonymised chat with a remote model: mask what leaves the PC, restore the answer while it streams.

* ``Masking`` owns one ``Pseudonymiser`` for a whole AI run (a summary calls the model for map, merge and final
  steps – one mapping for all of them, so ``[PERSON_1]`` means the same person in every call). It masks chat
  messages and reports how many identifiers of each kind it replaced (numbers only – never the mapping).
* ``restore_stream(pieces, pseudonymiser)`` restores placeholders in a streamed answer. It yields text as it comes
  but holds back a short tail that could still become a placeholder (``"[PERS"``, ``"[PERSON_"``, ``"PERSON_1"``
  before the character after it is known), so a placeholder split across pieces is restored exactly as
  ``pseudonymiser.restore(whole_text)`` would, and no text is lost or doubled. The hold-back is bounded
  (``HOLD_BACK`` characters): text such as ``[Frist eintragen]`` or a citation ``[1]`` passes on as soon as it is
  clearly no placeholder. A placeholder the model writes with more than a few blanks inside (``"[PERSON      1]"``)
  may exceed the bound and then stays as written – the caseworker sees a placeholder, never a wrong name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from app.core.llm import ChatMessage
from app.core.pseudonymise import _PLACEHOLDER_ANY, PLACEHOLDER_KINDS, Pseudonymiser

__all__ = ["HOLD_BACK", "Masking", "restore_stream"]

# The longest tail that can still grow into a placeholder: "[ AKTENZEICHEN _ 1234 " is 22 characters.
HOLD_BACK = 24

# The exact pattern `Pseudonymiser.restore` uses, so the streamed result equals restoring the whole text.
_PLACEHOLDER = _PLACEHOLDER_ANY
_KIND_ALT = "|".join(PLACEHOLDER_KINDS)
_KIND_PREFIXES = frozenset(kind[:i] for kind in PLACEHOLDER_KINDS for i in range(len(kind) + 1))
# An unfinished bracketed placeholder: "[", "[ PER", "[PERSON", "[Person ", "[PERSON_", "[PERSON_12 "
_OPEN_BRACKET_WORD = re.compile(r"\[[ \t]*([A-Za-z]*)")
_OPEN_BRACKET_REST = re.compile(r"\[[ \t]*(?:" + _KIND_ALT + r")[ \t]*(?:[_\- \t][ \t]*\d{0,4}[ \t]*)?",
                                re.IGNORECASE)
# A bare placeholder not yet followed by its next character: "PER", "PERSON_", "PERSON_1"
_OPEN_BARE_WORD = re.compile(r"[A-Za-z]+")
_OPEN_BARE_REST = re.compile(r"(?:" + _KIND_ALT + r")_\d{0,4}", re.IGNORECASE)
_WORD_OR_BRACKET = re.compile(r"[\w\[]")
_EXACT_PERSON = re.compile(r"\[PERSON_\d+\]")


class Masking:
    """The pseudonymisation of one AI run: one mapping for every model call of the run.

    Known names (e.g. a letter's recipient) are taken until the first text is masked; names passed later are
    ignored for this run – the mapping must not change under the texts already sent.

    A person found once with given name and surname is masked whole wherever the run names her again: a later step
    often sends text the model wrote (a summary's notes, restored in between) or a passage without the salutation
    that found her first ("Sabine Korte rief an" after "Frau Sabine Korte"), where the `Pseudonymiser` alone masks
    the surname and leaves the given name ("Sabine [PERSON_1]")."""

    def __init__(self, known_names: Iterable[str] = ()) -> None:
        self._names: list[str] = [n for n in known_names if n and n.strip()]
        self._pseudonymiser: Pseudonymiser | None = None
        self._given: dict[str, str] = {}  # "[PERSON_n]" → the person's given names (private, like the mapping)
        self._given_pattern: re.Pattern[str] | None = None

    def __repr__(self) -> str:  # numbers only, never the originals
        return f"Masking(counts={self.counts()})"

    def add_known_names(self, names: Iterable[str]) -> None:
        if self._pseudonymiser is None:
            self._names.extend(n for n in names if n and n.strip() and n not in self._names)

    @property
    def pseudonymiser(self) -> Pseudonymiser:
        if self._pseudonymiser is None:
            self._pseudonymiser = Pseudonymiser(self._names)
        return self._pseudonymiser

    def mask(self, text: str) -> str:
        masked = self.pseudonymiser.mask(text)
        self._learn(masked)
        if self._given_pattern is not None:  # "Sabine [PERSON_1]" → "[PERSON_1]"
            masked = self._given_pattern.sub(lambda m: m.group()[m.group().rindex("["):], masked)
        return masked

    def _learn(self, masked: str) -> None:
        new = False
        for placeholder in set(_EXACT_PERSON.findall(masked)):
            words = self.pseudonymiser.restore(placeholder).split()
            given = " ".join(words[:-1])
            if given and self._given.get(placeholder) != given:
                self._given[placeholder] = given
                new = True
        if new:
            alternatives = "|".join(re.escape(given) + r"[ \t]+" + re.escape(ph)
                                    for ph, given in sorted(self._given.items(), key=lambda kv: -len(kv[1])))
            self._given_pattern = re.compile(r"(?<![\w\-])(?:" + alternatives + ")")

    def mask_messages(self, messages: Sequence[ChatMessage]) -> list[ChatMessage]:
        return [ChatMessage(m.role, self.mask(m.content)) for m in messages]

    def restore(self, text: str) -> str:
        return self.pseudonymiser.restore(text)

    def restore_stream(self, pieces: Iterable[str]) -> Iterator[str]:
        return restore_stream(pieces, self.pseudonymiser)

    def counts(self) -> dict[str, int]:
        """Different identifiers masked so far, per kind (for the audit log)."""
        if self._pseudonymiser is None:
            return dict.fromkeys(PLACEHOLDER_KINDS, 0)
        return self._pseudonymiser.counts()

    @property
    def total(self) -> int:
        return sum(self.counts().values())


def restore_stream(pieces: Iterable[str], pseudonymiser: Pseudonymiser) -> Iterator[str]:
    """`pieces` with placeholders restored; the concatenation equals `pseudonymiser.restore("".join(pieces))`
    (for placeholders of at most `HOLD_BACK` characters). Yields only non-empty text."""
    context = ""  # the last raw character already passed on (the placeholder pattern looks one character back)
    buffer = ""
    iterator = iter(pieces)
    try:
        for piece in iterator:
            if not piece:
                continue
            text = context + buffer + piece
            out, cut = _restore_safe(text, len(context), pseudonymiser)
            context, buffer = text[cut - 1:cut] if cut > 0 else "", text[cut:]
            if out:
                yield out
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:  # stop the model's stream when the consumer stops early
            close()
    if buffer:
        text = context + buffer
        out = _replace(text, len(context), len(text), pseudonymiser)
        if out:
            yield out


def _restore_safe(text: str, start: int, pseudonymiser: Pseudonymiser) -> tuple[str, int]:
    """Restore `text[start:]` up to the first position where a placeholder could still be forming; returns the
    restored text and that position (in `text`)."""
    out: list[str] = []
    pos = start
    while True:
        hold = _first_open(text, max(pos, len(text) - HOLD_BACK, start))
        m = _PLACEHOLDER.search(text, pos)
        if m is not None and m.start() < hold and (m.end() < len(text) or m.group().endswith("]")):
            out.append(text[pos:m.start()])
            out.append(pseudonymiser.restore(m.group()))
            pos = m.end()
            continue
        out.append(text[pos:hold])
        return "".join(out), hold


def _replace(text: str, start: int, end: int, pseudonymiser: Pseudonymiser) -> str:
    out: list[str] = []
    pos = start
    for m in _PLACEHOLDER.finditer(text, start, end):
        out.append(text[pos:m.start()])
        out.append(pseudonymiser.restore(m.group()))
        pos = m.end()
    out.append(text[pos:end])
    return "".join(out)


def _first_open(text: str, start: int) -> int:
    """The first position at or after `start` from which the rest of `text` may still become a placeholder."""
    for i in range(start, len(text)):
        if _is_open(text, i):
            return i
    return len(text)


def _is_open(text: str, i: int) -> bool:
    rest = text[i:]
    if rest[0] == "[":
        word = _OPEN_BRACKET_WORD.fullmatch(rest)
        if word is not None and word.group(1).upper() in _KIND_PREFIXES:
            return True
        return _OPEN_BRACKET_REST.fullmatch(rest) is not None
    if not rest[0].isascii() or not rest[0].isalpha():
        return False
    if i > 0 and _WORD_OR_BRACKET.match(text, i - 1):
        return False  # a bare placeholder starts a word and never follows "["
    word = _OPEN_BARE_WORD.fullmatch(rest)
    if word is not None and rest.upper() in _KIND_PREFIXES:
        return True
    return _OPEN_BARE_REST.fullmatch(rest) is not None
