"""The audit log's domain: record form, the hash chain with HMAC, and verification. Pure – the file adapter does I/O.

A record is one JSON object per line:

    {"seq": 7, "at": "2026-11-26T00:30:00.123456+00:00", "action": "draft_confirmed", "actor": "VERWALTUNG\\\\j.weber",
     "fields": {...}, "prev": "<hash of record 6>", "hash": "<sha256 of this record without hash/mac>",
     "mac": "<HMAC-SHA256(key, hash)>" | null, "key_id": "<16 hex of the key's fingerprint>" | ""}

`seq` counts up across rotated files, `prev` links each record to the one before (the first to `GENESIS`), `hash`
covers everything but itself and the MAC, and the MAC binds the hash to the installation's secret key (kept in the OS
keyring; without one the chain still holds, unsigned). A separate head (`seq`, `hash`, MAC) written after every
record lets the verifier notice records cut off at the end. A line torn by a crash is never removed: the next start
appends a `torn_tail_recovered` record naming that line (file, number, SHA-256), and the verifier accepts exactly
the lines such a record names. Numbers the head has seen are never reused, so records cut off the end stay a gap.

This is tamper-*evident*: whoever holds the key (a local administrator can read the keyring) can rewrite the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

GENESIS = "0" * 64
TORN_ACTION = "torn_tail_recovered"
RECORD_KEYS = ("seq", "at", "action", "actor", "fields", "prev", "hash", "mac", "key_id")


class AuditTrail(Protocol):
    """Where actions are recorded. `fields` hold ids, hashes, counts and settings – content only where
    `records_content` is True (policy `audit_content`). `record` returns once the record is on disk."""

    records_content: bool

    def record(self, action: str, fields: Mapping[str, object]) -> None: ...


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key_id(key: bytes) -> str:
    return sha256_hex(b"aktenlotse-audit-key:" + key)[:16]


def record_hash(record: Mapping[str, object]) -> str:
    body = {k: record[k] for k in ("seq", "at", "action", "actor", "fields", "prev")}
    return sha256_hex(canonical(body))


def mac_of(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("ascii"), hashlib.sha256).hexdigest()


def make_record(*, seq: int, at: str, action: str, actor: str, fields: Mapping[str, object], prev: str,
                key: bytes | None) -> dict[str, object]:
    record: dict[str, object] = {"seq": seq, "at": at, "action": action, "actor": actor,
                                 "fields": json.loads(canonical(dict(fields))), "prev": prev}
    digest = record_hash(record)
    record["hash"] = digest
    record["mac"] = mac_of(key, digest) if key is not None else None
    record["key_id"] = key_id(key) if key is not None else ""
    return record


def make_head(record: Mapping[str, object], file: str, key: bytes | None) -> dict[str, object]:
    seq, digest = int(record["seq"]), str(record["hash"])
    return {"seq": seq, "hash": digest, "file": file,
            "mac": mac_of(key, f"head:{seq}:{digest}") if key is not None else None,
            "key_id": key_id(key) if key is not None else ""}


def encode(record: Mapping[str, object]) -> bytes:
    return canonical(dict(record)) + b"\n"


# -- verification --------------------------------------------------------------------------------------------------
class Damage(str, Enum):
    MODIFIED = "modified"
    DELETED = "deleted"
    REORDERED = "reordered"
    TRUNCATED = "truncated"
    KEY_MISMATCH = "key_mismatch"

    @property
    def label_de(self) -> str:
        return {Damage.MODIFIED: "verändert", Damage.DELETED: "gelöscht", Damage.REORDERED: "umgestellt",
                Damage.TRUNCATED: "am Ende gekürzt", Damage.KEY_MISMATCH: "Schlüssel passt nicht"}[self]


@dataclass(frozen=True, slots=True)
class Line:
    file: str  # file name (not path) – part of the torn-tail reference
    number: int  # 1-based within the file
    raw: bytes  # without the line break
    complete: bool = True  # False: the file ended without a line break (a torn write)


@dataclass(frozen=True, slots=True)
class Problem:
    kind: Damage
    file: str
    line: int
    seq: int | None
    detail_de: str

    def describe_de(self) -> str:
        where = f"{self.file}, Zeile {self.line}" + (f", Eintrag Nr. {self.seq}" if self.seq is not None else "")
        return f"{self.kind.label_de.capitalize()}: {where} – {self.detail_de}"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    records: int
    files: int
    problem: Problem | None = None
    warnings: tuple[str, ...] = ()
    torn_tails: int = 0
    last_seq: int = 0
    signed: bool = False  # every record's MAC was checked with the key

    @property
    def ok(self) -> bool:
        return self.problem is None


def parse(raw: bytes) -> dict | None:
    """The record on a line, or None if the line is not a complete record."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(value, dict) or any(k not in value for k in RECORD_KEYS):
        return None
    if not isinstance(value["seq"], int) or not isinstance(value["fields"], dict):
        return None
    return value


@dataclass
class _Chain:
    key: bytes | None
    expected: int = 1
    prev: str = GENESIS
    prev_line: Line | None = None
    records: int = 0
    torn: int = 0
    warnings: list[str] = field(default_factory=list)
    seen_mac: bool = False
    unsigned: int = 0
    hashes: dict[int, str] = field(default_factory=dict)


def verify(lines: Iterable[Line], key: bytes | None, head: Mapping[str, object] | None,
           file_count: int = 0) -> VerifyResult:
    """Walk the chain; return at the first problem with its kind, file, line and record number."""
    items = list(lines)
    chain = _Chain(key)

    def result(problem: Problem | None = None) -> VerifyResult:
        warnings = list(chain.warnings)
        if key is None:
            warnings.append("Ohne Schlüssel geprüft: nur die Hash-Kette, nicht die Signaturen (HMAC).")
        elif chain.unsigned:
            warnings.append(f"{chain.unsigned} Einträge ohne Signatur (geschrieben, bevor ein Schlüssel bestand).")
        return VerifyResult(chain.records, file_count, problem, tuple(warnings), chain.torn, chain.expected - 1,
                            signed=key is not None and chain.unsigned == 0 and problem is None)

    skip_torn: set[int] = set()
    for index, line in enumerate(items):
        if index in skip_torn:
            continue
        record = parse(line.raw)
        if record is None:
            if _recorded_as_torn(line, items[index + 1:]):
                chain.torn += 1
                continue
            if index == len(items) - 1 and not line.complete:
                chain.warnings.append(f"{line.file}, Zeile {line.number}: unvollständige letzte Zeile (Abbruch beim "
                                      "Schreiben); sie wird beim nächsten Start vermerkt.")
                continue
            return result(Problem(Damage.MODIFIED, line.file, line.number, None,
                                  "die Zeile ist kein vollständiger Eintrag mehr"))
        seq = record["seq"]
        if record_hash(record) != record["hash"]:
            return result(Problem(Damage.MODIFIED, line.file, line.number, seq,
                                  "der Inhalt passt nicht mehr zu seinem Hash"))
        if seq != chain.expected:
            later = {r["seq"] for it in items[index + 1:] if (r := parse(it.raw)) is not None}
            if seq < chain.expected or chain.expected in later:
                return result(Problem(Damage.REORDERED, line.file, line.number, seq,
                                      f"erwartet war Eintrag Nr. {chain.expected}, gefunden Nr. {seq}"))
            missing = f"Nr. {chain.expected}" if seq == chain.expected + 1 else f"Nr. {chain.expected}–{seq - 1}"
            return result(Problem(Damage.DELETED, line.file, line.number, seq, f"Eintrag {missing} fehlt"))
        if record["prev"] != chain.prev:
            where = chain.prev_line or line
            return result(Problem(Damage.MODIFIED, where.file, where.number, seq - 1,
                                  "der Eintrag wurde ersetzt: der nächste Eintrag verweist auf einen anderen Hash"))
        problem = _check_mac(record, line, chain)
        if problem is not None:
            return result(problem)
        chain.records += 1
        chain.prev, chain.prev_line, chain.expected = record["hash"], line, seq + 1
        chain.hashes[seq] = record["hash"]
    return result(_check_head(head, chain, items))


def _recorded_as_torn(line: Line, rest: list[Line]) -> bool:
    """True if the next record is a `torn_tail_recovered` that names this line (file, number, SHA-256)."""
    following = next((r for item in rest if (r := parse(item.raw)) is not None), None)
    if following is None or following["action"] != TORN_ACTION:
        return False
    named = following["fields"].get("lines", [])
    mine = {"file": line.file, "line": line.number, "sha256": sha256_hex(line.raw)}
    return any(isinstance(n, dict) and all(n.get(k) == v for k, v in mine.items()) for n in named)


def _check_mac(record: dict, line: Line, chain: _Chain) -> Problem | None:
    key, seq = chain.key, record["seq"]
    if record["mac"] is None:
        if chain.seen_mac:
            return Problem(Damage.KEY_MISMATCH, line.file, line.number, seq,
                           "die Signatur fehlt, obwohl frühere Einträge signiert sind")
        chain.unsigned += 1
        return None
    chain.seen_mac = True
    if key is None:
        return None
    if record["key_id"] != key_id(key):
        return Problem(Damage.KEY_MISMATCH, line.file, line.number, seq,
                       "mit einem anderen Schlüssel signiert als dem dieser Installation")
    if not hmac.compare_digest(str(record["mac"]), mac_of(key, record["hash"])):
        return Problem(Damage.KEY_MISMATCH, line.file, line.number, seq, "die Signatur (HMAC) stimmt nicht")
    return None


def _check_head(head: Mapping[str, object] | None, chain: _Chain, items: list[Line]) -> Problem | None:
    last_file = items[-1].file if items else ""
    last_line = items[-1].number if items else 0
    if head is None:
        if chain.records:
            return Problem(Damage.TRUNCATED, last_file, last_line, chain.expected - 1,
                           "die Kopfdatei fehlt; ob am Ende Einträge entfernt wurden, ist nicht prüfbar")
        return None
    try:
        seq, digest = int(head["seq"]), str(head["hash"])
    except (KeyError, TypeError, ValueError):
        return Problem(Damage.MODIFIED, "audit.head.json", 1, None, "die Kopfdatei ist nicht lesbar")
    if chain.key is not None and head.get("mac") is not None:
        if head.get("key_id") != key_id(chain.key) or not hmac.compare_digest(
                str(head["mac"]), mac_of(chain.key, f"head:{seq}:{digest}")):
            return Problem(Damage.KEY_MISMATCH, "audit.head.json", 1, seq, "die Signatur der Kopfdatei stimmt nicht")
    elif chain.key is not None and chain.seen_mac:
        return Problem(Damage.KEY_MISMATCH, "audit.head.json", 1, seq, "die Kopfdatei ist nicht signiert")
    last = chain.expected - 1
    if seq > last:
        return Problem(Damage.TRUNCATED, last_file, last_line, last,
                       f"das Protokoll endet bei Eintrag Nr. {last}, geschrieben wurde bis Nr. {seq}")
    if seq == 0 and digest == GENESIS:
        return None  # the initial head of a new log
    if chain.hashes.get(seq) != digest:
        return Problem(Damage.MODIFIED, last_file, last_line, seq, "die Kopfdatei verweist auf einen anderen Eintrag")
    return None
