"""`aktenlotse stats export --csv [--summary] [-o DATEI]` and `aktenlotse stats show` (as `python -m app stats …`).

The store is filled in-process through `bootstrap.build_review(load_config())` – the same `<data_dir>/drafts.sqlite3`
the CLI opens – then the CLI runs as a subprocess with the per-test AKTENLOTSE_HOME / AKTENLOTSE_POLICY.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.bootstrap import build_review
from app.config import load_config
from app.core.drafts import DraftStats
from app.services.review import SUMMARY_COLUMNS, ReviewService
from tests.unit.services.test_review import (
    ANSWER,
    make_answer,
    make_letter,
    make_summary,
    resolve_all,
)

REPO = Path(__file__).resolve().parents[2]
REVIEWER = "MUSTERSTADT\\t.tester"


def stats_cli(*args: str, policy: Path | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # AKTENLOTSE_HOME / _POLICY come from the conftest fixture
    if policy is not None:
        env["AKTENLOTSE_POLICY"] = str(policy)
    return subprocess.run([sys.executable, "-m", "app", "stats", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def populate(review: ReviewService) -> None:
    """Lookup: confirmed (edited) and rejected; summary: confirmed; letter: open, in review."""
    a = review.submit(make_answer(id="cli-lookup-1"))
    review.start_review(a)
    review.edit(a, ANSWER.replace(" wohl bis zum 30. Juni 2027", ""))
    resolve_all(review, a)
    review.confirm(a)
    b = review.submit(make_answer(id="cli-lookup-2"))
    review.reject(b, "Falsche Akte")
    s = review.submit(make_summary(id="cli-summary-1"))
    review.start_review(s)
    resolve_all(review, s)
    review.confirm(s)
    review.start_review(review.submit(make_letter(id="cli-letter-1")))


@pytest.fixture
def filled(aktenlotse_home: Path) -> Path:
    config = load_config()
    assert config.policy_error is None
    review = build_review(config, reviewer=REVIEWER)
    populate(review)
    review._store.close()
    db = config.data_dir / "drafts.sqlite3"
    assert db.is_file() and aktenlotse_home in db.parents
    return db


def test_export_csv_one_row_per_draft(filled: Path) -> None:
    result = stats_cli("export", "--csv")
    assert result.returncode == 0, result.stderr
    table = parse(result.stdout)
    assert tuple(table[0]) == DraftStats.columns()
    rows = [dict(zip(table[0], r)) for r in table[1:]]
    assert len(rows) == 4
    assert sorted((r["kind"], r["state"]) for r in rows) == [
        ("letter", "in_review"), ("lookup", "confirmed"), ("lookup", "rejected"), ("summary", "confirmed")]
    assert all(len(r) == len(DraftStats.columns()) for r in table)
    edited = next(r for r in rows if r["kind"] == "lookup" and r["state"] == "confirmed")
    assert edited["versions"] == "2" and float(edited["edit_ratio"]) > 0
    assert "Quast" not in result.stdout and REVIEWER not in result.stdout and "Falsche Akte" not in result.stdout


def test_export_csv_is_the_default_format(filled: Path) -> None:
    with_flag, without = stats_cli("export", "--csv"), stats_cli("export")
    assert with_flag.returncode == without.returncode == 0
    assert with_flag.stdout == without.stdout and with_flag.stdout.count("\n") == 5


def test_export_summary_one_row_per_kind(filled: Path) -> None:
    result = stats_cli("export", "--csv", "--summary")
    assert result.returncode == 0, result.stderr
    table = parse(result.stdout)
    assert tuple(table[0]) == SUMMARY_COLUMNS
    by_kind = {r[0]: dict(zip(table[0], r)) for r in table[1:]}
    assert list(by_kind) == ["lookup", "summary", "letter"]
    counts = {k: (v["created"], v["open"], v["confirmed"], v["rejected"], v["discarded"]) for k, v in by_kind.items()}
    assert counts == {"lookup": ("2", "0", "1", "1", "0"), "summary": ("1", "0", "1", "0", "0"),
                      "letter": ("1", "1", "0", "0", "0")}
    assert by_kind["summary"]["confirmed_unchanged"] == "1"
    assert float(by_kind["lookup"]["mean_edit_ratio_confirmed"]) > 0


def test_export_to_a_file(filled: Path, tmp_path: Path) -> None:
    target = tmp_path / "auswertung" / "statistik.csv"
    target.parent.mkdir()
    result = stats_cli("export", "--csv", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "Statistik geschrieben" in result.stderr and "4 Zeilen" in result.stderr
    table = parse(target.read_text(encoding="utf-8"))
    assert tuple(table[0]) == DraftStats.columns() and len(table) == 5
    assert target.read_text(encoding="utf-8") == stats_cli("export", "--csv").stdout


def test_export_to_an_unwritable_path_fails_with_a_german_message(filled: Path, tmp_path: Path) -> None:
    result = stats_cli("export", "--csv", "-o", str(tmp_path / "fehlt" / "statistik.csv"))
    assert result.returncode == 1
    assert "Fehler: Die Datei kann nicht geschrieben werden" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_prints_a_table_per_kind(filled: Path) -> None:
    result = stats_cli("show")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Auskunft", "Zusammenfassung", "Brief"]
    assert len(lines) == 1 + len(SUMMARY_COLUMNS) - 1
    values = {line.rsplit(None, 3)[0].strip(): line.split()[-3:] for line in lines[1:]}
    assert values["erstellt"] == ["2", "1", "1"]
    assert values["bestätigt"] == ["1", "1", "0"]
    assert values["abgelehnt"] == ["1", "0", "0"]
    assert values["offen"] == ["0", "0", "1"]
    assert values["Änderungsanteil (Mittel)"][2] == "–"  # no confirmed letter: no mean


def test_stats_switched_off_by_policy_gives_only_a_header(filled: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy_ohne_statistik.toml"
    policy.write_text("review_stats = false\n", encoding="utf-8")
    result = stats_cli("export", "--csv", policy=policy)
    assert result.returncode == 0, result.stderr
    assert parse(result.stdout) == [list(DraftStats.columns())]
    assert "Richtlinie hat die Nutzungsstatistik ausgeschaltet" in result.stderr


def test_a_broken_policy_is_refused(filled: Path, tmp_path: Path) -> None:
    policy = tmp_path / "kaputt.toml"
    policy.write_text("review_stats = [unvollständig\n", encoding="utf-8")
    result = stats_cli("export", "--csv", policy=policy)
    assert result.returncode == 2
    assert result.stderr.startswith("Fehler:") and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_stats_needs_an_action(filled: Path) -> None:
    result = stats_cli()
    assert result.returncode == 2 and "usage" in result.stderr.lower()
