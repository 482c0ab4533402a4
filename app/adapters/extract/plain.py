"""Readers for text formats: plain text (encoding detection), Markdown and HTML (stdlib parser)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from app.adapters.extract.limits import fail
from app.adapters.extract.textutil import clean, decode_text, one_line, paragraphs
from app.core.documents import Block, ExtractedDocument, FileStatus

_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")


def decode_or_fail(data: bytes) -> str:
    text = decode_text(data)
    if text is None:
        fail(FileStatus.UNSUPPORTED, "Format nicht erkannt (Binärdaten, kein Text)")
    return clean(text)


def read_txt(path: Path, data: bytes) -> ExtractedDocument:
    text = decode_or_fail(data)
    blocks = tuple(Block(p) for p in paragraphs(text))
    if not blocks:
        fail(FileStatus.EMPTY, "enthält keinen Text")
    return ExtractedDocument(path=str(path), format="txt", blocks=blocks)


def read_md(path: Path, data: bytes) -> ExtractedDocument:
    text = decode_or_fail(data)
    blocks = markdown_to_blocks(text)
    if not blocks:
        fail(FileStatus.EMPTY, "enthält keinen Text")
    title = next((b.text for b in blocks if b.heading_level == 1), "")
    return ExtractedDocument(path=str(path), format="md", blocks=tuple(blocks), title=title)


def markdown_to_blocks(text: str) -> list[Block]:
    try:
        from app.core.text_blocks import (
            markdown_blocks,  # the shared splitter, once it exists
        )
    except ImportError:
        return _markdown_fallback(text)
    return list(markdown_blocks(text))


def _markdown_fallback(text: str) -> list[Block]:
    blocks: list[Block] = []
    buf: list[str] = []
    fenced = False

    def flush() -> None:
        blocks.extend(Block(p) for p in paragraphs("\n".join(buf)))
        buf.clear()

    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        m = None if fenced else _MD_HEADING.match(line)
        if m:
            flush()
            blocks.append(Block(m.group(2).strip(), heading_level=len(m.group(1)), kind="heading"))
        else:
            buf.append(line)
    flush()
    return blocks


class _HtmlText(HTMLParser):
    BLOCK: ClassVar[frozenset[str]] = frozenset({"p", "div", "section", "article", "main", "aside", "header", "footer", "nav", "ul", "ol", "li",
             "table", "thead", "tbody", "blockquote", "pre", "dl", "dt", "dd", "form", "fieldset", "address",
             "figure", "figcaption", "hr", "body"})
    SKIP: ClassVar[frozenset[str]] = frozenset({"script", "style", "noscript", "template", "svg", "object",
                                                "iframe", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title = ""
        self._buf: list[str] = []
        self._skip = 0
        self._in_title = False
        self._heading = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            if tag != "head":
                self._skip += 1
            return
        if tag == "title":
            self._in_title = True
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._flush()
            self._heading = int(tag[1])
        elif tag == "tr":
            self._flush()
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br":
            self._data("\n")
        elif tag in self.BLOCK:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._data("\n")
        elif tag in self.BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            if tag != "head":
                self._skip = max(0, self._skip - 1)
            return
        if tag == "title":
            self._in_title = False
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            text = one_line("".join(self._buf))
            if text:
                self.blocks.append(Block(text, heading_level=self._heading or 1, kind="heading"))
            self._buf.clear()
            self._heading = 0
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(one_line("".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            text = " | ".join(c for c in self._row if c)
            if text:
                self.blocks.append(Block(text, kind="table"))
            self._row = None
        elif tag in self.BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._data(data)

    def _data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif self._row is None:
            self._buf.append(data)

    def _flush(self) -> None:
        if self._heading:
            return
        text = "".join(self._buf)
        self._buf.clear()
        lines = [one_line(line) for line in text.split("\n")]
        joined = "\n".join(line for line in lines if line)
        if joined:
            self.blocks.append(Block(joined))

    def close(self) -> None:
        super().close()
        self._flush()


def html_to_blocks(html: str) -> tuple[list[Block], str]:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return parser.blocks, one_line(parser.title)


def read_html(path: Path, data: bytes) -> ExtractedDocument:
    text = decode_or_fail(data)
    m = re.search(r"<meta[^>]+charset=[\"']?([A-Za-z0-9_-]+)", text[:4096], re.IGNORECASE)
    if m and not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        try:
            text = clean(data.decode(m.group(1), errors="replace"))
        except LookupError:
            pass
    blocks, title = html_to_blocks(text)
    if not blocks:
        fail(FileStatus.EMPTY, "enthält keinen Text")
    title = title or next((b.text for b in blocks if b.heading_level), "")
    return ExtractedDocument(path=str(path), format="html", blocks=tuple(blocks), title=title)
