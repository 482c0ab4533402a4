"""Small text helpers shared by the readers: control-character cleanup, paragraph splitting, decoding."""

from __future__ import annotations

import re

_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\ufffe\uffff]")
_BLANK = re.compile(r"\n[ \t\u00a0]*\n+")
_SPACES = re.compile(r"[ \t\u00a0]+")


def clean(text: str) -> str:
    """Drop control characters (keep tab and newline), normalise line ends."""
    return _CTRL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def paragraphs(text: str) -> list[str]:
    """Split on blank lines; collapse runs of spaces; drop empty parts."""
    out = []
    for part in _BLANK.split(text):
        lines = [_SPACES.sub(" ", line).strip() for line in part.split("\n")]
        joined = "\n".join(line for line in lines if line)
        if joined:
            out.append(joined)
    return out


def one_line(text: str) -> str:
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()


def decode_text(data: bytes) -> str | None:
    """Decode bytes that are text (BOMs, UTF-8, else charset-normalizer); None for binary data."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    sample = data[:65536]
    if b"\x00" in sample:
        zeros_even = sample[0::2].count(0)
        zeros_odd = sample[1::2].count(0)
        half = len(sample) / 2
        if zeros_odd > 0.3 * half and zeros_even < 0.05 * half:
            return data.decode("utf-16-le", errors="replace")
        if zeros_even > 0.3 * half and zeros_odd < 0.05 * half:
            return data.decode("utf-16-be", errors="replace")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # lazy

    best = from_bytes(data[: 4 * 1024 * 1024]).best()
    if best is None:
        return None
    enc = best.encoding
    # German text in a single-byte code page: cp1252 is the norm on Windows desktops; prefer it when it decodes.
    if enc and enc.replace("_", "").lower() not in ("cp1252", "windows1252", "utf8", "ascii"):
        try:
            alt = data.decode("cp1252")
            if _umlaut_score(alt) >= _umlaut_score(data.decode(enc, errors="replace")):
                enc = "cp1252"
        except UnicodeDecodeError:
            pass
    text = data.decode(enc, errors="replace")
    bad = sum(1 for ch in text[:20000] if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\n\r\t\f"))
    if bad > 0.05 * max(1, min(len(text), 20000)):
        return None
    return text


def _umlaut_score(text: str) -> int:
    return sum(text.count(c) for c in "äöüÄÖÜß§€„“")
