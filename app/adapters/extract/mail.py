"""EML reader (stdlib email, policy.default): header block, body (plain or HTML), text and office attachments."""

from __future__ import annotations

import email
import tempfile
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path

from app.adapters.extract.limits import Limits, fail
from app.adapters.extract.plain import html_to_blocks
from app.adapters.extract.textutil import clean, decode_text, one_line, paragraphs
from app.core.documents import Block, ExtractedDocument, FileStatus

ReadFile = Callable[[Path, Limits, int], ExtractedDocument]


def read_eml(path: Path, data: bytes, limits: Limits, read_file: ReadFile, depth: int) -> ExtractedDocument:
    try:
        msg = email.message_from_bytes(data, policy=policy.default)
    except Exception as exc:  # noqa: BLE001
        fail(FileStatus.ERROR, "Die E-Mail ist beschädigt und lässt sich nicht lesen", repr(exc))
    assert isinstance(msg, EmailMessage)
    subject = one_line(_header(msg, "Subject"))
    head = [f"{label}: {value}" for label, name in (("Von", "From"), ("An", "To"), ("Cc", "Cc"), ("Datum", "Date"),
                                                      ("Betreff", "Subject")) if (value := one_line(_header(msg, name)))]
    blocks: list[Block] = [Block("\n".join(head), kind="header")] if head else []
    warnings: list[str] = []
    body = _body_blocks(msg)
    blocks.extend(body)
    for part in _attachments(msg):
        name = part.get_filename() or "Anhang"
        try:
            blocks.extend(_attachment_blocks(part, name, limits, read_file, depth))
        except Exception as exc:  # noqa: BLE001 - an unreadable attachment is a warning, not a failure
            warnings.append(f"Anhang „{name}“: {getattr(exc, 'reason', None) or type(exc).__name__}")
    if not blocks:
        fail(FileStatus.EMPTY, "enthält keinen Text")
    return ExtractedDocument(path=str(path), format="eml", blocks=tuple(blocks), title=subject,
                             warnings=tuple(warnings))


def _header(msg: EmailMessage, name: str) -> str:
    try:
        return str(msg.get(name, "") or "")
    except Exception:  # noqa: BLE001 - malformed header
        raw = msg.get_all(name, failobj=[]) if hasattr(msg, "get_all") else []
        return " ".join(str(v) for v in raw)


def _content(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except Exception:  # noqa: BLE001 - unknown charset etc.
        content = part.get_payload(decode=True) or b""
    if isinstance(content, bytes):
        content = decode_text(content) or ""
    return clean(content) if isinstance(content, str) else ""


def _body_blocks(msg: EmailMessage) -> list[Block]:
    try:
        body = msg.get_body(preferencelist=("plain", "html"))
    except Exception:  # noqa: BLE001
        body = None
    if body is None:
        return []
    text = _content(body)
    if body.get_content_subtype() == "html":
        blocks, _ = html_to_blocks(text)
        return blocks
    return [Block(p) for p in paragraphs(text)]


def _attachments(msg: EmailMessage) -> list[EmailMessage]:
    try:
        return list(msg.iter_attachments())
    except Exception:  # noqa: BLE001
        return []


def _attachment_blocks(part: EmailMessage, name: str, limits: Limits, read_file: ReadFile,
                       depth: int) -> list[Block]:
    ctype = part.get_content_type()
    label = f"Anhang „{name}“"
    if part.get_content_maintype() == "text":
        text = _content(part)
        if ctype == "text/html":
            blocks, _ = html_to_blocks(text)
            text = "\n\n".join(b.text for b in blocks)
        return [Block(f"{label}:\n{p}", kind="attachment") for p in paragraphs(text)]
    if depth >= limits.max_attachment_depth:
        return []
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload or len(payload) > limits.max_bytes:
        return []
    if not (payload[:1024].find(b"%PDF") >= 0 or payload[:2] == b"PK" or ctype == "message/rfc822"):
        return []
    suffix = Path(name).suffix[:10] if Path(name).suffix else ".bin"
    with tempfile.TemporaryDirectory(prefix="aktenlotse-att-") as tmp:
        target = Path(tmp) / f"anhang{suffix}"
        target.write_bytes(payload)
        doc = read_file(target, limits, depth + 1)
    return [Block(f"{label}:\n{b.text}", page=b.page, kind="attachment") for b in doc.blocks]
