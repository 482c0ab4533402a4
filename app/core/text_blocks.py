"""Markdown (and plain) text → Blocks: ATX headings with their level, paragraphs split on blank lines."""

from __future__ import annotations

import re

from app.core.documents import Block

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")


def markdown_blocks(text: str) -> list[Block]:
    """Split Markdown text into blocks in reading order.

    An ATX heading line (`#` … `######`) becomes a heading block with its level; other text is split into
    paragraphs on blank lines (a list stays with its paragraph; list items separated by blank lines become
    blocks of their own). Lines inside a paragraph keep their line breaks; `page` is None.
    """
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            joined = "\n".join(para).strip()
            if joined:
                blocks.append(Block(text=joined))
            para.clear()

    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        m = _ATX.match(line)
        if m:
            flush()
            title = (m.group(2) or "").strip()
            if title:
                blocks.append(Block(text=title, heading_level=len(m.group(1)), kind="heading"))
            continue
        if not line.strip():
            flush()
            continue
        para.append(line)
    flush()
    return blocks
