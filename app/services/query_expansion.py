"""LLM query expansion: the local model names the statutory terms an everyday-language question is about.

The expansion is an extra query for retrieval (see `RetrievalService(expander=…)`), never shown as an answer.
Its text is untrusted model output: it is reduced to a short list of plain words (no markup, no § references, no
file numbers), capped in length, and only ever used as search terms.

With a remote model the question is pseudonymised before it is sent (policy ``remote_pseudonymise``, on by
default) and the reply restored – the same masking as every other model call (`app.services.pseudonymised_chat`).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from pathlib import Path

from app.core.llm import ChatMessage, GenerationParams, LanguageModel
from app.core.progress import CancelToken
from app.services.pseudonymised_chat import Masking

DEFAULT_PARAMS = GenerationParams(max_tokens=48, temperature=0.0, top_p=1.0, seed=0, stop=("\n\n",))
MAX_TERMS = 12
MAX_CHARS = 300
_PROMPT_FILE = Path(__file__).resolve().parents[2] / "resources" / "prompts" / "query_expansion_de.txt"
# Letters (incl. umlauts), hyphenated compounds; no digits, so no § numbers or file numbers from the model.
_TERM_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)


def load_prompt(path: Path | None = None) -> str:
    return (path or _PROMPT_FILE).read_text(encoding="utf-8").strip()


def sanitise_expansion(text: str, query: str = "", max_terms: int = MAX_TERMS) -> str:
    """Plain search terms from model output: split on commas/lines/bullets, letters only, de-duplicated,
    terms already in the query left out, at most `max_terms` terms and `MAX_CHARS` characters."""
    low_query = query.lower()
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"^\s*(antwort|begriffe|fachbegriffe)\s*:", "", text, flags=re.IGNORECASE)
    terms: list[str] = []
    seen: set[str] = set()
    for part in re.split(r"[,;\n•·|/]+", text):
        words = _TERM_WORD.findall(part)
        if not words or len(words) > 4:  # a sentence, not a term
            continue
        term = " ".join(words)
        key = term.lower()
        if len(key) < 3 or key in seen or key in ("antwort", "begriffe", "fachbegriffe"):
            continue
        seen.add(key)
        if re.search(r"(?<!\w)" + re.escape(key) + r"(?!\w)", low_query):
            continue
        terms.append(term)
        if len(terms) >= max_terms:
            break
    return ", ".join(terms)[:MAX_CHARS].rstrip(", ")


def sanitise_passage(text: str) -> str:
    """A HyDE-style passage reduced to plain words (letters only), at most `MAX_CHARS` characters."""
    words = " ".join(_TERM_WORD.findall(re.sub(r"<[^>]*>", " ", text)))
    return words if len(words) <= MAX_CHARS else words[:MAX_CHARS].rsplit(" ", 1)[0]


class QueryExpander:
    """Asks a `LanguageModel` (fixed German prompt, temperature 0) for the legal terms of a question.

    `expand` returns "" when there is nothing usable; it raises `Cancelled` when `cancel` is set and whatever the
    model raises on failure – callers (the retrieval service) fall back to the plain search. Results are kept in
    an LRU cache keyed by the normalised question.
    """

    def __init__(self, model: LanguageModel, params: GenerationParams | None = None, *, prompt: str | None = None,
                 cache_size: int = 256, passage: bool = False, pseudonymise: bool = True) -> None:
        self._model = model
        self._pseudonymise = pseudonymise  # only for a remote model: a local one sees the question as it is
        self._params = params or DEFAULT_PARAMS
        self._prompt = prompt if prompt is not None else load_prompt()
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size
        self._passage = passage  # the prompt asks for a short statute-like passage (HyDE), not a term list
        self._lock = threading.Lock()

    def expand(self, query: str, cancel: CancelToken | None = None) -> str:
        key = " ".join(query.split()).lower()
        if not key:
            return ""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        cancel = cancel or CancelToken()
        messages = [ChatMessage("system", self._prompt), ChatMessage("user", f'"{" ".join(query.split())}"')]
        pieces: list[str] = []
        if self._pseudonymise and getattr(self._model, "is_remote", False):
            masking = Masking()
            stream = masking.restore_stream(self._model.stream_chat(masking.mask_messages(messages), self._params,
                                                                    cancel))
        else:
            stream = self._model.stream_chat(messages, self._params, cancel)
        try:
            for piece in stream:
                pieces.append(piece)
                if sum(map(len, pieces)) > 4 * MAX_CHARS:  # runaway output: enough
                    break
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        cancel.raise_if_cancelled()
        text = "".join(pieces).strip()
        result = sanitise_passage(text) if self._passage else sanitise_expansion(text, query)
        with self._lock:
            self._cache[key] = result
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result
