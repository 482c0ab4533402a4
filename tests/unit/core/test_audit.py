"""The audit log's domain (app.core.audit): record form, hash chain with HMAC and `verify` on in-memory lines.

Every kind of damage must be named with its kind, file, line and record number; an untouched chain verifies signed.
"""

from __future__ import annotations

import json

import pytest

from app.core.audit import (
    GENESIS,
    TORN_ACTION,
    Damage,
    Line,
    encode,
    key_id,
    mac_of,
    make_head,
    make_record,
    record_hash,
    sha256_hex,
    verify,
)

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
FILE = "audit-2026-11-001.jsonl"


def chain(n: int = 5, key: bytes | None = KEY, *, first_seq: int = 1, prev: str = GENESIS,
          unsigned_first: int = 0) -> list[dict]:
    """n linked records; the first `unsigned_first` without key (written before a key existed)."""
    records = []
    for i in range(n):
        seq = first_seq + i
        records.append(make_record(seq=seq, at=f"2026-11-26T09:{i:02d}:00.000000+00:00", action="draft_confirmed",
                                   actor="VERWALTUNG\\j.weber",
                                   fields={"draft": f"d-{seq}", "count": seq * 3, "note": "Bescheid für Müller"},
                                   prev=prev, key=None if i < unsigned_first else key))
        prev = str(records[-1]["hash"])
    return records


def raw(record: dict) -> bytes:
    return encode(record)[:-1]


def lines_of(raws: list[bytes], file: str = FILE, *, last_complete: bool = True) -> list[Line]:
    return [Line(file, i, r, complete=last_complete or i < len(raws)) for i, r in enumerate(raws, start=1)]


def value_span(line: bytes, key: str) -> range:
    """Byte offsets of the characters inside the quotes of the string (or number) value of `key`."""
    marker = f'"{key}":'.encode()
    start = line.index(marker) + len(marker)
    if line[start:start + 1] == b'"':
        start += 1
        return range(start, line.index(b'"', start))
    end = start
    while line[end:end + 1].isdigit():
        end += 1
    return range(start, end)


def expected_kind(line: bytes, offset: int, new_byte: int) -> Damage:
    """What a single changed byte must be reported as.

    The MAC and key_id are outside the hash (the hash cannot cover the signature of itself): a changed character
    there that keeps the line valid JSON (printable ASCII other than `"` and backslash) leaves hash and chain intact,
    so only the signature check catches it -> KEY_MISMATCH. Every other change either breaks the JSON / a key name
    (not a record any more) or changes hashed content or the hash itself -> MODIFIED."""
    in_signature = offset in value_span(line, "mac") or offset in value_span(line, "key_id")
    keeps_json = 0x20 <= new_byte <= 0x7E and new_byte not in (ord('"'), ord("\\"))
    return Damage.KEY_MISMATCH if in_signature and keeps_json else Damage.MODIFIED


# -- untouched ----------------------------------------------------------------------------------------------------
def test_record_form_links_hashes_and_signs() -> None:
    records = chain(3)
    assert records[0]["prev"] == GENESIS
    assert records[1]["prev"] == records[0]["hash"] and records[2]["prev"] == records[1]["hash"]
    for r in records:
        assert r["hash"] == record_hash(r)
        assert r["mac"] == mac_of(KEY, str(r["hash"]))
        assert r["key_id"] == key_id(KEY) and len(key_id(KEY)) == 16
        assert json.loads(raw(r)) == r and encode(r).endswith(b"\n") and b"\n" not in raw(r)
    unsigned = chain(1, key=None)[0]
    assert unsigned["mac"] is None and unsigned["key_id"] == ""
    head = make_head(records[-1], FILE, KEY)
    assert head == {"seq": 3, "hash": records[-1]["hash"], "file": FILE,
                    "mac": mac_of(KEY, f"head:3:{records[-1]['hash']}"), "key_id": key_id(KEY)}


def test_untouched_chain_verifies_signed() -> None:
    records = chain(5)
    result = verify(lines_of([raw(r) for r in records]), KEY, make_head(records[-1], FILE, KEY), file_count=1)
    assert result.ok and result.problem is None
    assert result.signed is True
    assert (result.records, result.files, result.last_seq, result.torn_tails) == (5, 1, 5, 0)
    assert result.warnings == ()


def test_empty_log_without_head_verifies() -> None:
    result = verify([], KEY, None)
    assert result.ok and result.records == 0 and result.last_seq == 0


def test_head_behind_the_last_record_is_accepted() -> None:
    """A crash between writing the record and the head leaves the head one behind: not damage."""
    records = chain(5)
    result = verify(lines_of([raw(r) for r in records]), KEY, make_head(records[3], FILE, KEY))
    assert result.ok and result.last_seq == 5


# -- modification ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [0, 2, 4], ids=["first", "middle", "last"])
@pytest.mark.parametrize("mask", [0x01, 0x20, 0x80], ids=["xor01", "xor20", "xor80"])
def test_every_single_byte_modification_is_detected(index: int, mask: int) -> None:
    records = chain(5)
    raws = [raw(r) for r in records]
    head = make_head(records[-1], FILE, KEY)
    target = raws[index]
    seq = index + 1
    seq_span = value_span(target, "seq")
    kinds: dict[Damage, int] = {}
    for offset in range(len(target)):  # every byte, none excluded
        damaged = bytearray(target)
        damaged[offset] ^= mask
        result = verify(lines_of(raws[:index] + [bytes(damaged)] + raws[index + 1:]), KEY, head)
        problem = result.problem
        assert problem is not None, f"byte {offset} ({chr(target[offset])!r}) changed undetected"
        assert problem.kind == expected_kind(target, offset, damaged[offset]), (offset, problem)
        assert (problem.file, problem.line) == (FILE, seq), (offset, problem)
        if offset not in seq_span:  # a changed seq digit is reported with the number now on the line
            assert problem.seq in (None, seq), (offset, problem)
        assert not result.signed
        kinds[problem.kind] = kinds.get(problem.kind, 0) + 1
    assert kinds[Damage.MODIFIED] > 0
    if mask == 0x01:  # hex digits stay hex-ish and printable: the signature check is what catches them
        assert kinds[Damage.KEY_MISMATCH] == len(value_span(target, "mac")) + len(value_span(target, "key_id"))


def test_record_rewritten_with_a_fresh_hash_fails_the_mac() -> None:
    records = chain(5)
    forged = dict(records[2], fields={"draft": "d-3", "count": 0, "note": "anders"})
    forged["hash"] = record_hash(forged)
    raws = [raw(r) for r in records]
    raws[2] = raw(forged)
    result = verify(lines_of(raws), KEY, make_head(records[-1], FILE, KEY))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.line, result.problem.seq) == (Damage.KEY_MISMATCH, 3, 3)
    # without the key only the chain is checked: the next record's `prev` exposes the replaced record
    result = verify(lines_of(raws), None, make_head(records[-1], FILE, KEY))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.line, result.problem.seq) == (Damage.MODIFIED, 3, 3)


# -- deletion, reordering, truncation -------------------------------------------------------------------------------
@pytest.mark.parametrize(("deleted", "kind", "line", "seq"), [
    (0, Damage.DELETED, 1, 2),  # the first line now holds record 2
    (2, Damage.DELETED, 3, 4),  # line 3 now holds record 4
    (4, Damage.TRUNCATED, 4, 4),  # the log ends at record 4, the head says 5
], ids=["first", "middle", "last"])
def test_deleted_record_is_named(deleted: int, kind: Damage, line: int, seq: int) -> None:
    records = chain(5)
    raws = [raw(r) for i, r in enumerate(records) if i != deleted]
    result = verify(lines_of(raws), KEY, make_head(records[-1], FILE, KEY))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.file, result.problem.line, result.problem.seq) == (kind, FILE, line,
                                                                                                     seq)


def test_several_deleted_records_are_named_as_a_range() -> None:
    records = chain(6)
    raws = [raw(r) for i, r in enumerate(records) if i not in (1, 2, 3)]
    result = verify(lines_of(raws), KEY, make_head(records[-1], FILE, KEY))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.line, result.problem.seq) == (Damage.DELETED, 2, 5)
    assert "Nr. 2–4" in result.problem.detail_de


@pytest.mark.parametrize(("a", "b", "line", "seq"), [(1, 2, 2, 3), (0, 4, 1, 5), (3, 4, 4, 5)],
                         ids=["adjacent", "distant", "last-two"])
def test_swapped_records_are_reordered(a: int, b: int, line: int, seq: int) -> None:
    records = chain(5)
    raws = [raw(r) for r in records]
    raws[a], raws[b] = raws[b], raws[a]
    result = verify(lines_of(raws), KEY, make_head(records[-1], FILE, KEY))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.line, result.problem.seq) == (Damage.REORDERED, line, seq)


def test_duplicated_record_is_reordered() -> None:
    records = chain(5)
    raws = [raw(r) for r in records]
    raws.insert(3, raws[1])
    result = verify(lines_of(raws), KEY, make_head(records[-1], FILE, KEY))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.line, result.problem.seq) == (Damage.REORDERED, 4, 2)


def test_truncated_log_is_named_at_its_new_end() -> None:
    records = chain(5)
    result = verify(lines_of([raw(r) for r in records[:3]]), KEY, make_head(records[-1], FILE, KEY))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.file, result.problem.line, result.problem.seq) == (
        Damage.TRUNCATED, FILE, 3, 3)
    assert "bis Nr. 5" in result.problem.detail_de


def test_missing_head_is_truncated() -> None:
    records = chain(5)
    result = verify(lines_of([raw(r) for r in records]), KEY, None)
    assert result.problem is not None
    assert (result.problem.kind, result.problem.line, result.problem.seq) == (Damage.TRUNCATED, 5, 5)


# -- head and key ---------------------------------------------------------------------------------------------------
def test_head_with_bad_mac_is_key_mismatch() -> None:
    records = chain(5)
    head = make_head(records[-1], FILE, KEY)
    head["mac"] = mac_of(KEY, "head:4:" + str(records[-1]["hash"]))
    result = verify(lines_of([raw(r) for r in records]), KEY, head)
    assert result.problem is not None
    assert (result.problem.kind, result.problem.file, result.problem.line, result.problem.seq) == (
        Damage.KEY_MISMATCH, "audit.head.json", 1, 5)


def test_unsigned_head_for_a_signed_chain_is_key_mismatch() -> None:
    records = chain(5)
    result = verify(lines_of([raw(r) for r in records]), KEY, make_head(records[-1], FILE, None))
    assert result.problem is not None and result.problem.kind == Damage.KEY_MISMATCH
    assert result.problem.file == "audit.head.json"


def test_head_pointing_at_another_record_is_modified() -> None:
    records = chain(5)
    other = chain(5, prev="1" * 64)[-1]  # same seq, other hash
    result = verify(lines_of([raw(r) for r in records]), KEY, make_head(other, FILE, KEY))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.seq) == (Damage.MODIFIED, 5)


def test_unreadable_head_is_modified() -> None:
    records = chain(2)
    result = verify(lines_of([raw(r) for r in records]), KEY, {"seq": "unlesbar"})
    assert result.problem is not None
    assert (result.problem.kind, result.problem.file) == (Damage.MODIFIED, "audit.head.json")


def test_wrong_key_is_key_mismatch_at_the_first_record() -> None:
    records = chain(5)
    result = verify(lines_of([raw(r) for r in records]), OTHER_KEY, make_head(records[-1], FILE, KEY))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.line, result.problem.seq) == (Damage.KEY_MISMATCH, 1, 1)
    assert not result.signed


def test_mac_stripped_from_a_later_record_is_key_mismatch() -> None:
    records = chain(5)
    stripped = dict(records[3], mac=None, key_id="")  # hash still matches: mac and key_id are outside it
    raws = [raw(r) for r in records]
    raws[3] = raw(stripped)
    for key in (KEY, None):  # even without the key: a gap in the signatures is suspicious
        result = verify(lines_of(raws), key, make_head(records[-1], FILE, KEY))
        assert result.problem is not None
        assert (result.problem.kind, result.problem.line, result.problem.seq) == (Damage.KEY_MISMATCH, 4, 4)


def test_unsigned_old_records_before_signed_ones_verify_with_a_warning() -> None:
    records = chain(5, unsigned_first=2)
    result = verify(lines_of([raw(r) for r in records]), KEY, make_head(records[-1], FILE, KEY))
    assert result.ok and result.records == 5
    assert not result.signed
    assert any("2 Einträge ohne Signatur" in w for w in result.warnings)


def test_verifying_without_a_key_checks_the_chain_with_a_warning() -> None:
    records = chain(5)
    result = verify(lines_of([raw(r) for r in records]), None, make_head(records[-1], FILE, KEY))
    assert result.ok and result.records == 5
    assert not result.signed
    assert any("Ohne Schlüssel" in w for w in result.warnings)


def test_fully_unsigned_rewrite_is_not_reported_as_signed() -> None:
    """A log rewritten without any MAC (what someone without the key can produce) is a consistent unsigned chain:
    by design it verifies, but never as `signed` and always with the warning."""
    records = chain(5, key=None)
    result = verify(lines_of([raw(r) for r in records]), KEY, make_head(records[-1], FILE, None))
    assert result.ok
    assert result.signed is False
    assert any("5 Einträge ohne Signatur" in w for w in result.warnings)


# -- torn lines -----------------------------------------------------------------------------------------------------
def torn_chain(*, sha_of_torn: bytes | None = None) -> tuple[list[bytes], dict]:
    """Records 1-3, the torn beginning of a record on line 4, then the recovery record (seq 4) and record 5."""
    records = chain(3)
    torn = raw(chain(4)[3])[:57]
    recovery = make_record(seq=4, at="2026-11-26T10:00:00.000000+00:00", action=TORN_ACTION, actor="x",
                           fields={"lines": [{"file": FILE, "line": 4, "sha256": sha256_hex(sha_of_torn or torn),
                                              "bytes": len(torn)}]}, prev=str(records[-1]["hash"]), key=KEY)
    last = chain(1, first_seq=5, prev=str(recovery["hash"]))[0]
    return [raw(r) for r in records] + [torn, raw(recovery), raw(last)], make_head(last, FILE, KEY)


def test_recorded_torn_line_is_accepted() -> None:
    raws, head = torn_chain()
    result = verify(lines_of(raws), KEY, head)
    assert result.ok, result.problem
    assert (result.torn_tails, result.records, result.last_seq) == (1, 5, 5)
    assert result.signed


def test_torn_line_recorded_with_another_checksum_is_modified() -> None:
    raws, head = torn_chain(sha_of_torn=b"something else")
    result = verify(lines_of(raws), KEY, head)
    assert result.problem is not None
    assert (result.problem.kind, result.problem.line, result.problem.seq) == (Damage.MODIFIED, 4, None)


def test_unrecorded_torn_middle_line_is_modified() -> None:
    records = chain(5)
    raws = [raw(r) for r in records]
    raws.insert(2, raws[2][:40])
    result = verify(lines_of(raws), KEY, make_head(records[-1], FILE, KEY))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.file, result.problem.line, result.problem.seq) == (
        Damage.MODIFIED, FILE, 3, None)


def test_unrecorded_torn_last_line_is_a_warning() -> None:
    records = chain(5)
    raws = [raw(r) for r in records[:4]] + [raw(records[4])[:100]]
    head = make_head(records[3], FILE, KEY)  # the head is written after the record: it still names record 4
    result = verify(lines_of(raws, last_complete=False), KEY, head)
    assert result.ok, result.problem
    assert result.last_seq == 4 and result.torn_tails == 0
    assert any("Zeile 5: unvollständige letzte Zeile" in w for w in result.warnings)
    # the same bytes ending in a line break are not a torn write but a damaged line
    result = verify(lines_of(raws, last_complete=True), KEY, head)
    assert result.problem is not None
    assert (result.problem.kind, result.problem.line) == (Damage.MODIFIED, 5)


# -- across files and wording -------------------------------------------------------------------------------------
def test_chain_runs_across_files() -> None:
    records = chain(6)
    a, b = "audit-2026-10-001.jsonl", "audit-2026-11-001.jsonl"
    lines = lines_of([raw(r) for r in records[:4]], a) + lines_of([raw(r) for r in records[4:]], b)
    assert verify(lines, KEY, make_head(records[-1], b, KEY), file_count=2).ok
    result = verify(lines_of([raw(r) for r in records[4:]], b), KEY, make_head(records[-1], b, KEY))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.file, result.problem.line, result.problem.seq) == (
        Damage.DELETED, b, 1, 5)


def test_problem_describes_itself_in_german() -> None:
    records = chain(5)
    raws = [raw(r) for r in records]
    raws[1], raws[2] = raws[2], raws[1]
    problem = verify(lines_of(raws), KEY, make_head(records[-1], FILE, KEY)).problem
    assert problem is not None
    assert problem.describe_de().startswith(f"Umgestellt: {FILE}, Zeile 2, Eintrag Nr. 3 – ")
    assert {d.label_de for d in Damage} == {"verändert", "gelöscht", "umgestellt", "am Ende gekürzt",
                                           "Schlüssel passt nicht"}
