"""Format detection by content (magic bytes, zip member names, headers), never by the file extension alone."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from app.adapters.extract.limits import Limits, fail
from app.adapters.extract.safezip import has, is_encrypted, open_zip, read_member
from app.core.documents import FileStatus

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODT_MIME = b"application/vnd.oasis.opendocument.text"

_IMAGES = {
    b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF87a": "GIF", b"GIF89a": "GIF",
    b"II*\x00": "TIFF", b"MM\x00*": "TIFF", b"BM": "BMP",
}
_OTHER_BINARY = {b"7z\xbc\xaf\x27\x1c": "7-Zip-Archiv", b"Rar!": "RAR-Archiv", b"\x1f\x8b": "GZIP-Archiv",
                 b"{\\rtf": "RTF-Dokument", b"MZ": "Programmdatei"}
_BINARY_EXT = {".pdf": "PDF", ".docx": "DOCX", ".docm": "DOCX", ".odt": "ODT", ".doc": "Word-Dokument",
               ".xlsx": "Excel-Dokument", ".xls": "Excel-Dokument", ".pptx": "PowerPoint-Dokument",
               ".zip": "ZIP-Archiv"}
_HEADER_RE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]{1,40}:[ \t]")
_MAIL_HEADERS = {b"from", b"to", b"subject", b"received", b"date", b"message-id", b"mime-version",
                 b"return-path", b"delivered-to", b"reply-to", b"cc", b"x-mailer", b"content-type"}


def _utf16(u: str) -> bytes:
    return u.encode("utf-16-le")


def detect(path: Path, head: bytes, limits: Limits) -> tuple[str, zipfile.ZipFile | None]:
    """Return (format, open zip or None). Formats: pdf, docx, odt, eml, html, md, txt. Fails for the rest."""
    if b"%PDF" in head[:1024]:
        return "pdf", None
    if head.startswith(CFB_MAGIC):
        _cfb(path)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return _zip(path, limits)
    for magic, name in _IMAGES.items():
        if head.startswith(magic):
            fail(FileStatus.UNSUPPORTED, f"Bilddatei ({name}) – Bilder werden nicht gelesen; Text darin bräuchte OCR")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        fail(FileStatus.UNSUPPORTED, "Bilddatei (WebP) – Bilder werden nicht gelesen; Text darin bräuchte OCR")
    for magic, name in _OTHER_BINARY.items():
        if head.startswith(magic):
            fail(FileStatus.UNSUPPORTED, f"Format nicht unterstützt ({name})")
    if head.startswith(b"%!PS"):
        fail(FileStatus.UNSUPPORTED, "Format nicht unterstützt (PostScript)")
    probe = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if _looks_like_mail(probe):
        return "eml", None
    low = probe[:1024].lower()
    if low.startswith((b"<!doctype html", b"<html")) or (low.startswith((b"<!--", b"<?xml", b"<!doctype"))
                                                         and b"<html" in low):
        return "html", None
    if path.suffix.lower() in (".md", ".markdown"):
        return "md", None
    if path.suffix.lower() in (".htm", ".html", ".xhtml") and b"<" in low:
        return "html", None
    ext = path.suffix.lower()
    if ext in _BINARY_EXT:
        # named like a binary document but no known signature: a damaged file, not a text file to index
        fail(FileStatus.ERROR, f"Die Datei ist beschädigt oder kein gültiges {_BINARY_EXT[ext]} (Inhalt nicht erkannt)")
    return "txt", None


def _looks_like_mail(probe: bytes) -> bool:
    lines = probe[:4096].replace(b"\r\n", b"\n").split(b"\n")
    names = []
    for line in lines[:40]:
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t"):
            continue  # folded header
        if line.startswith(b"From ") and not names:
            continue  # mbox separator
        if not _HEADER_RE.match(line):
            return False
        names.append(line.split(b":", 1)[0].lower())
    known = [n for n in names if n in _MAIL_HEADERS]
    return len(known) >= 2 or (len(known) == 1 and known[0] in (b"received", b"message-id", b"return-path"))


def _cfb(path: Path) -> None:
    with path.open("rb") as fh:
        data = fh.read(4 * 1024 * 1024)
    if _utf16("EncryptedPackage") in data or _utf16("EncryptionInfo") in data:
        fail(FileStatus.ENCRYPTED, "verschlüsselt (Kennwortschutz)", "OLE-Container mit EncryptedPackage")
    if _utf16("WordDocument") in data:
        fail(FileStatus.UNSUPPORTED, "Altes Word-Format (.doc) wird nicht unterstützt – bitte als DOCX speichern")
    if _utf16("Workbook") in data or _utf16("Book") in data:
        fail(FileStatus.UNSUPPORTED, "Altes Excel-Format (.xls) wird nicht unterstützt")
    if _utf16("PowerPoint Document") in data:
        fail(FileStatus.UNSUPPORTED, "Altes PowerPoint-Format (.ppt) wird nicht unterstützt")
    if _utf16("__substg1.0_") in data:
        fail(FileStatus.UNSUPPORTED, "Outlook-Nachricht (.msg) wird nicht unterstützt – bitte als EML speichern")
    fail(FileStatus.UNSUPPORTED, "Altes Office-Format (OLE) wird nicht unterstützt")


def _zip(path: Path, limits: Limits) -> tuple[str, zipfile.ZipFile]:
    zf = open_zip(path, limits)
    try:
        if has(zf, "word/document.xml") or has(zf, "word/document2.xml"):
            return "docx", zf
        if has(zf, "mimetype") or has(zf, "content.xml"):
            mime = read_member(zf, "mimetype", limits).strip() if has(zf, "mimetype") else b""
            if mime == ODT_MIME or (not mime and has(zf, "content.xml")):
                return "odt", zf
            if mime.startswith(b"application/vnd.oasis.opendocument"):
                kind = mime.rsplit(b".", 1)[-1].decode("ascii", "replace")
                fail(FileStatus.UNSUPPORTED, f"OpenDocument-Typ „{kind}“ wird nicht unterstützt (nur Textdokumente)")
        names = [n.lower() for n in zf.namelist()]
        if any(n.startswith("xl/") for n in names):
            fail(FileStatus.UNSUPPORTED, "Excel-Tabellen (.xlsx) werden nicht unterstützt")
        if any(n.startswith("ppt/") for n in names):
            fail(FileStatus.UNSUPPORTED, "PowerPoint-Präsentationen (.pptx) werden nicht unterstützt")
        if is_encrypted(zf):
            fail(FileStatus.ENCRYPTED, "verschlüsselt (kennwortgeschütztes ZIP-Archiv)")
        fail(FileStatus.UNSUPPORTED, "ZIP-Archive werden nicht entpackt – bitte die Dateien einzeln ablegen")
    except BaseException:
        zf.close()
        raise
