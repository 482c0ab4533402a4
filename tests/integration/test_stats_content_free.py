"""Acceptance: "A test scans the stats export for any text, name or file name from the fixture documents and finds
none."

Real drafts are built from the real fixture documents (tests/fixtures/akte_sondernutzung/, tests/fixtures/lookup/):
the sources are the chunks the library's own reader and chunker make of those files, and the answer, summary and
letter texts quote them (names, addresses, Aktenzeichen, amounts, dates). They go through the real ReviewService
over the real SqliteDrafts (`bootstrap.build_review`) – submitted, reviewed, edited, confirmed, one rejected with a
reason naming a person, one discarded, one left open – and the statistics are exported through the real CLI
(`python -m app stats export --csv`, `--summary`, `stats show`) and through `ReviewService.stats_csv()`. Every output
is scanned case-insensitively for every file name and stem, the reviewer account and its parts, the reject reason,
every word of ≥ 5 letters, every Aktenzeichen-like token and every number of ≥ 4 digits from the documents and
drafts.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.adapters.docx_writer import DocxWriter
from app.adapters.extract.reader import extract_in_process
from app.bootstrap import build_review
from app.cli.stats import _LABELS
from app.config import load_config
from app.core.chunking import chunk_document
from app.core.documents import Chunk
from app.core.drafts import DraftKind, DraftState, DraftStats
from app.core.grounding import ground
from app.core.letters import LetterDraft, LetterRequest, LetterType
from app.core.lookup import LookupAnswer, Scope, Source
from app.core.summary import (
    Passage,
    Summary,
    SummaryLength,
    SummaryPoint,
    SummaryRequest,
    SummarySection,
)
from app.services.indexing import doc_id_for
from app.services.review import SUMMARY_COLUMNS, ReviewService

REPO = Path(__file__).resolve().parents[2]
AKTE = REPO / "tests" / "fixtures" / "akte_sondernutzung"
LOOKUP = REPO / "tests" / "fixtures" / "lookup"
FIXTURES = sorted(AKTE.glob("*.md")) + sorted(LOOKUP.glob("*.md"))
REVIEWER = "MUSTERSTADT\\e.beispiel"
REASON = ("Herr Herbert Sommer (Marktplatz 9) hat keine Akteneinsicht beantragt – die Auskunft gehört nicht in die "
          "Akte 32.4-SN/0815/2025 von Frau Sabine Korte.")
EXPORT_NAME = "Anhoerung_Sommer_Lindenbluete_0815.docx"
WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{5,}")
AZ_LIKE = re.compile(r"[A-Za-z0-9]+(?:[./-][A-Za-z0-9]+)+")  # 32.4-SN/0815/2025, BB-32.1/2024, 04.03.2025, 1.000.000
LONG_NUMBER = re.compile(r"\d{4,}")


def chunks_of(path: Path) -> list[Chunk]:
    """What the library stores for the file: the real reader and chunker, the real doc id (a hash of the path)."""
    return chunk_document(extract_in_process(path), doc_id_for(str(path)))


def chunk_with(path: Path, needle: str) -> Chunk:
    found = [c for c in chunks_of(path) if needle in c.text]
    assert found, (path.name, needle)
    return found[0]


def akte(name: str) -> Path:
    return AKTE / name


# -- the drafts -----------------------------------------------------------------------------------------------
def lookup_frist() -> LookupAnswer:
    sources = [Source(1, chunk_with(akte("03_nachforderung.md"), "Betriebshaftpflichtversicherung")),
               Source(2, chunk_with(akte("05_telefonvermerk.md"), "11.04.2025")),
               Source(3, chunk_with(akte("02_eingangsbestaetigung.md"), "Jonas Weber"))]
    text = ("Die Stadt Musterstadt hat Frau Sabine Korte mit Schreiben vom 12.03.2025 (Aktenzeichen 32.4-SN/0815/2025) "
            "aufgefordert, den Nachweis über eine Betriebshaftpflichtversicherung mit einer Deckungssumme von "
            "mindestens 1.000.000 Euro bis zum 31.03.2025 einzureichen [1]. "
            "Im Telefonat am 25.03.2025 wurde die Frist bis zum 11.04.2025 verlängert [2]. "
            "Zuständig ist Herr Jonas Weber, Telefon 0123 456-3241, die Erlaubnis folgt am 02.05.2025.")
    return LookupAnswer("Bis wann muss Frau Korte den Nachweis über die Betriebshaftpflicht einreichen?",
                        Scope.folder(str(AKTE)), sources, text=text,
                        grounding=ground(text, {s.number: s.chunk.citable_text() for s in sources}),
                        model_name="Qwen2.5-7B-Instruct Q4_K_M", model_sha256="12" * 32, backend="llama.cpp")


def lookup_akteneinsicht() -> LookupAnswer:
    merkblatt = LOOKUP / "merkblatt_akteneinsicht.md"
    sources = [Source(1, chunk_with(merkblatt, "0,50 Euro")), Source(2, chunk_with(merkblatt, "14 Tagen"))]
    text = ("Für Kopien aus der Akte wird im Bürgerbüro eine Gebühr von 0,50 Euro je Seite erhoben [1]. "
            "Anträge auf Akteneinsicht sind innerhalb von 14 Tagen zu bearbeiten; zuständig ist das Sachgebiet 32.1 "
            "(Aktenzeichen BB-32.1/2024) [2].")
    return LookupAnswer("Was kostet die Akteneinsicht für Herrn Sommer?", Scope.folder(str(LOOKUP)), sources,
                        text=text, grounding=ground(text, {s.number: s.chunk.citable_text() for s in sources}),
                        model_name="Qwen2.5-7B-Instruct Q4_K_M", model_sha256="12" * 32, backend="llama.cpp")


def lookup_gehweg() -> LookupAnswer:
    sources = [Source(1, chunk_with(akte("01_antrag.md"), "4,50 m breit"))]
    text = "Nach dem Umbau des Marktplatzes ist der Gehweg vor dem Haus Marktplatz 7 4,50 m breit [1]."
    return LookupAnswer("Wie breit ist der Gehweg vor dem Café Lindenblüte?", Scope.folder(str(AKTE)), sources,
                        text=text, grounding=ground(text, {1: sources[0].chunk.citable_text()}),
                        model_name="Qwen2.5-7B-Instruct Q4_K_M", model_sha256="12" * 32, backend="llama.cpp")


def akte_summary(paths: tuple[Path, ...], focus: str = "Einwände des Nachbarn") -> Summary:
    first = {p: chunks_of(p) for p in paths}
    passages = [Passage(i, first[p][1] if len(first[p]) > 1 else first[p][0]) for i, p in enumerate(paths, start=1)]
    number = {p.name: i for i, p in enumerate(paths, start=1)}

    def refs(*names: str) -> tuple[int, ...]:
        return tuple(number[n] for n in names if n in number)

    sections = [
        SummarySection("Sachverhalt", (
            SummaryPoint("Die Café Lindenblüte GmbH, vertreten durch Frau Sabine Korte, beantragt 24 m² "
                         "Außengastronomie vor dem Haus Marktplatz 7, 12345 Musterstadt.", refs("01_antrag.md")),)),
        SummarySection("Beteiligte", (
            SummaryPoint("Frau Dr. Anna Petersen (Straßenverkehrsbehörde) verlangt eine Restgehwegbreite von "
                         "2,00 m.", refs("04_stellungnahme_verkehr.md")),
            SummaryPoint("Der Nachbar Herbert Sommer, Marktplatz 9, bittet um Begrenzung auf 21:00 Uhr.",
                         refs("06_email_nachbar.md")))),
        SummarySection("Fristen und Termine", (
            SummaryPoint("Unterlagen bis 11.04.2025, Erlaubnis frühestens ab 15.04.2025.",
                         refs("05_telefonvermerk.md")),)),
        SummarySection("Kosten", (
            SummaryPoint("Gebühr voraussichtlich 400,00 Euro zuzüglich 60,00 Euro Verwaltungsgebühr.",
                         refs("07_vermerk_pruefung.md")),)),
    ]
    return Summary(SummaryRequest(tuple(str(p) for p in paths), SummaryLength.STANDARD, focus), sections, passages,
                   model_name="Qwen2.5-7B-Instruct Q4_K_M", model_sha256="12" * 32, backend="llama.cpp")


LETTER_BODY = ("die Café Lindenblüte GmbH hat am 04.03.2025 beantragt, vor dem Haus Marktplatz 7 eine Außengastronomie "
               "zu betreiben (Aktenzeichen 32.4-SN/0815/2025).\n\n"
               "Sie haben mit E-Mail vom 27.03.2025 gebeten, die Nutzung auf 21:00 Uhr zu begrenzen. Wir beabsichtigen, "
               "die Betriebszeit im Außenbereich bis 21:30 Uhr zu erlauben. Sie können sich bis zum [Frist eintragen] "
               "äußern.")


def letter_sommer() -> LetterDraft:
    passages = [Passage(1, chunks_of(akte("06_email_nachbar.md"))[0]),
                Passage(2, chunks_of(akte("07_vermerk_pruefung.md"))[0])]
    return LetterDraft(
        request=LetterRequest("anhoerung", {"aktenzeichen": "32.4-SN/0815/2025", "empfaenger": "Herbert Sommer"},
                              paths=tuple(str(p.chunk.path) for p in passages)),
        letter_type=LetterType("anhoerung", "Anhörung vor Erlass eines Verwaltungsakts"),
        subject="Anhörung – Sondernutzung Marktplatz 7, Aktenzeichen 32.4-SN/0815/2025", body=LETTER_BODY,
        recipient_lines=("Herrn", "Herbert Sommer", "Marktplatz 9", "12345 Musterstadt"),
        info=(("Aktenzeichen", "32.4-SN/0815/2025"), ("Ansprechpartner", "Jonas Weber"),
              ("Telefon", "0123 456-3241")),
        signature=("Im Auftrag", "Jonas Weber"), salutation="Sehr geehrter Herr Sommer,",
        sender_line="Stadt Musterstadt · Ordnungsamt · 12345 Musterstadt", authority="Stadt Musterstadt – Ordnungsamt",
        passages=passages, model_name="Qwen2.5-7B-Instruct Q4_K_M", model_sha256="12" * 32)


def resolve_all(review: ReviewService, draft_id: str) -> None:
    for item in review.get(draft_id).checklist(review.policy):
        if item.resolved:
            continue
        if item.key.startswith("source:"):
            review.open_source(draft_id, int(item.key.split(":")[1]))
        else:
            review.tick(draft_id, item.key)


def run_workflow(review: ReviewService, out_dir: Path) -> list[str]:
    """Six drafts: three confirmed (two edited), one rejected with a reason, one discarded, one left in review."""
    ids: list[str] = []
    # lookup, edited and confirmed
    frist = review.submit(lookup_frist())
    review.start_review(frist)
    text = review.get(frist).text
    review.edit(frist, text.replace(", die Erlaubnis folgt am 02.05.2025.", " (Sachgebiet Sondernutzungen)."))
    resolve_all(review, frist)
    review.confirm(frist)
    review.copy_text(frist, final=True)
    ids.append(frist)
    # lookup rejected with a reason naming people
    einsicht = review.submit(lookup_akteneinsicht())
    review.start_review(einsicht)
    review.reject(einsicht, REASON)
    ids.append(einsicht)
    # lookup left open in review
    gehweg = review.submit(lookup_gehweg())
    review.start_review(gehweg)
    review.open_source(gehweg, 1)
    ids.append(gehweg)
    # summary of the whole file, edited and confirmed
    summary = review.submit(akte_summary(tuple(sorted(AKTE.glob("*.md")))))
    review.start_review(summary)
    review.edit(summary, review.get(summary).text + "\nHinweis von Frau Korte: Die Markise braucht die Zustimmung "
                "der Eigentümergemeinschaft Marktplatz 7.")
    resolve_all(review, summary)
    review.confirm(summary)
    review.export(summary, out_dir / "Vermerk_Lindenbluete_Korte.docx", final=True)
    ids.append(summary)
    # summary of the leaflet, discarded
    discarded = review.submit(akte_summary((LOOKUP / "merkblatt_akteneinsicht.md",), focus="Gebühren"))
    review.discard(discarded)
    ids.append(discarded)
    # letter, changed in "Entwerfen", placeholder filled under review, confirmed and exported
    letter = letter_sommer()
    body = LETTER_BODY.replace("zu erlauben.", "zu erlauben; die Lieferzufahrt zum Hof bleibt frei.")
    draft_id = review.submit(letter, edited_body=body)
    review.start_review(draft_id)
    review.edit(draft_id, review.get(draft_id).text.replace("[Frist eintragen]", "14.04.2025"))
    resolve_all(review, draft_id)
    review.confirm(draft_id)
    written = review.export(draft_id, out_dir / EXPORT_NAME, final=True)
    assert DocxWriter().read_properties(written)["reviewer"] == REVIEWER
    ids.append(draft_id)
    return ids


# -- what must not show up ---------------------------------------------------------------------------------------
def draft_texts(review: ReviewService, ids: list[str]) -> list[str]:
    texts: list[str] = []
    for draft_id in ids:
        d = review.get(draft_id)
        texts += [d.title, d.reject_reason, *(v.text for v in d.versions), *(f.text for f in d.flags),
                  *(s.chunk.text for s in d.sources), *(s.chunk.path for s in d.sources)]
        for value in d.payload.values():
            texts += [value] if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else []
    # Absolute paths: the part up to the repository is where this checkout happens to live (a CI folder such as
    # /tmp/ci-check/…), not a word of the documents; the path inside the repository stays and is searched.
    return [t.replace(str(REPO), "") for t in texts if t]


def needles(review: ReviewService, ids: list[str]) -> tuple[set[str], set[str]]:
    """(text needles, number needles), all lower case."""
    documents = [p.read_text(encoding="utf-8") for p in FIXTURES]
    corpus = documents + draft_texts(review, ids) + [REASON]
    text: set[str] = set()
    for p in FIXTURES:
        text |= {p.name, p.stem}
    # the folder "akte_sondernutzung" is a name of the fixtures too; the folder "lookup" is not searched for: it is
    # the fixed word the `kind` column must contain (DraftKind.LOOKUP) and carries nothing about the documents.
    text.add(AKTE.name)
    text |= {EXPORT_NAME, Path(EXPORT_NAME).stem, "Vermerk_Lindenbluete_Korte"}
    text |= {REVIEWER, "MUSTERSTADT", "e.beispiel", "beispiel"}  # the account and its parts ("e" alone is no name)
    text.add(REASON)
    text |= {w for t in corpus for w in WORD.findall(t)}
    numbers: set[str] = set()
    for t in corpus:
        for token in AZ_LIKE.findall(t):
            if any(ch.isdigit() for ch in token) and len(token) >= 5:
                (text if any(ch.isalpha() for ch in token) else numbers).add(token)
                if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", token):
                    numbers.add(token.replace(".", ""))  # 1.000.000 also as 1000000
        numbers |= set(LONG_NUMBER.findall(t))
    text = {n.lower() for n in text}
    # The only exclusions: needles that are exactly one of the fixed words the statistics consist of (the `kind`
    # and `state` values). "lookup" gets in as a word of the fixture path …/tests/fixtures/lookup/merkblatt…; it is
    # the value of the `kind` column for every Auskunft and says nothing about a document. Excluding only exact
    # fixed words keeps every real name, place and file name in the scan (checked in the test).
    fixed = {k.value for k in DraftKind} | {s.value for s in DraftState}
    return text - fixed, {n.lower() for n in numbers}


def excluded_needles(review: ReviewService, ids: list[str]) -> set[str]:
    corpus = [p.read_text(encoding="utf-8") for p in FIXTURES] + draft_texts(review, ids) + [REASON]
    words = {w.lower() for t in corpus for w in WORD.findall(t)}
    return words & ({k.value for k in DraftKind} | {s.value for s in DraftState})


# -- the outputs ---------------------------------------------------------------------------------------------
def cli(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # AKTENLOTSE_HOME / AKTENLOTSE_POLICY: the conftest fixture
    result = subprocess.run([sys.executable, "-m", "app", "stats", *args], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # statistics are on: no hint
    return result.stdout


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


INTS = ("versions", "generated_chars", "final_chars", "flags_shown", "flags_fixed", "flags_checked",
        "placeholders_open", "sources_cited", "sources_opened")


def check_row_types(row: dict[str, str], created_days: set[str]) -> None:
    """Every cell is a fixed word, a date, a number or a flag: nothing else can pass."""
    assert row["kind"] in {k.value for k in DraftKind}
    assert row["state"] in {s.value for s in DraftState}
    assert row["created_day"] in created_days
    for column in INTS:
        assert re.fullmatch(r"\d+", row[column]), (column, row[column])
    assert re.fullmatch(r"0(\.\d{1,4})?|1(\.0+)?", row["edit_ratio"]), row["edit_ratio"]
    for column in ("seconds_to_decision", "review_seconds"):
        assert re.fullmatch(r"(\d+\.\d)?", row[column]), (column, row[column])
    assert row["reject_reason_given"] in ("0", "1")


def without_created_day(text: str) -> str:
    """The CSV with the `created_day` cells blanked, for the number scan only.

    created_day is the one date the statistics hold by design (e.g. "2025-11-26"): its year would match the year
    numbers of the documents ("2025") when the test runs in such a year. Only cells of that column that are exactly
    a creation day of our drafts are blanked (checked in `check_row_types`); everything else is scanned as is."""
    table = parse(text)
    if "created_day" not in table[0]:
        return text
    i = table[0].index("created_day")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table[0])
    for row in table[1:]:
        writer.writerow([*row[:i], "", *row[i + 1:]])
    return out.getvalue()


def scan(output: str, text_needles: set[str], number_needles: set[str]) -> list[str]:
    lowered = output.lower()
    numbers_part = without_created_day(output).lower()
    hits = [n for n in text_needles if n in lowered]
    hits += [n for n in number_needles if n in numbers_part]
    return sorted(hits)


@pytest.fixture
def workflow(aktenlotse_home: Path, tmp_path: Path) -> tuple[ReviewService, list[str]]:
    config = load_config()
    assert config.policy_error is None and config.settings.review_stats
    review = build_review(config, reviewer=REVIEWER)
    out = tmp_path / "ausgang"
    out.mkdir()
    ids = run_workflow(review, out)
    return review, ids


def test_the_stats_export_contains_no_text_name_or_file_name_of_the_documents(
        workflow: tuple[ReviewService, list[str]]) -> None:
    review, ids = workflow
    states = sorted(review.get(i).state.value for i in ids)
    assert states == ["confirmed", "confirmed", "confirmed", "discarded", "in_review", "rejected"]
    text_needles, number_needles = needles(review, ids)

    # the needles are real: names, places, Aktenzeichen, numbers and file names are among them
    for expected in ("korte", "sabine", "petersen", "sommer", "weber", "lindenblüte", "marktplatz",
                     "32.4-sn/0815/2025", "bb-32.1/2024", "01_antrag.md", "merkblatt_akteneinsicht",
                     "beispiel", REASON.lower(), "vermerk_lindenbluete_korte"):
        assert expected in text_needles, expected
    for expected in ("12345", "0815", "3241", "1000000", "04.03.2025", "2019"):
        assert expected in number_needles, expected
    assert excluded_needles(review, ids) == {"lookup"}  # the single exclusion, see `needles`
    searched = len(text_needles) + len(number_needles)
    assert searched > 200, searched

    created_days = {review.get(i).created.astimezone(UTC).date().isoformat() for i in ids}
    today = datetime.now(UTC).date()
    assert created_days <= {today.isoformat(), (today - timedelta(days=1)).isoformat()}  # real clock: made just now

    outputs = {
        "cli export --csv": cli("export", "--csv"),
        "cli export --csv --summary": cli("export", "--csv", "--summary"),
        "service stats_csv()": review.stats_csv(),
        "service stats_csv(summary=True)": review.stats_csv(summary=True),
    }

    # the exports are not empty: one row per draft, one row per kind, with the counts of the workflow above
    for name in ("cli export --csv", "service stats_csv()"):
        table = parse(outputs[name])
        assert tuple(table[0]) == DraftStats.columns(), name
        assert len(table) == 1 + len(ids), name
        for row in table[1:]:
            check_row_types(dict(zip(table[0], row)), created_days)
        assert sorted(r[table[0].index("state")] for r in table[1:]) == states
    assert outputs["cli export --csv"] == outputs["service stats_csv()"]
    for name in ("cli export --csv --summary", "service stats_csv(summary=True)"):
        table = parse(outputs[name])
        assert tuple(table[0]) == SUMMARY_COLUMNS
        by_kind = {r[0]: dict(zip(table[0], r)) for r in table[1:]}
        assert [(k, v["created"], v["confirmed"], v["rejected"], v["discarded"], v["open"])
                for k, v in by_kind.items()] == [("lookup", "3", "1", "1", "0", "1"),
                                                 ("summary", "2", "1", "0", "1", "0"),
                                                 ("letter", "1", "1", "0", "0", "0")]

    # `stats show`: the fixed German labels are removed (they are the program's words, not the documents'); what
    # remains must be numbers and dashes only, and is scanned like the rest
    show = cli("show")
    labels = sorted([*_LABELS.values(), *(k.label_de for k in DraftKind)], key=len, reverse=True)
    remainder = show
    for label in labels:
        remainder = remainder.replace(label, "")
    assert re.fullmatch(r"[\d.\s–]*", remainder), remainder
    outputs["cli stats show (labels removed)"] = remainder

    # the raw statistics table in the SQLite file, as an evaluator with the file would see it
    db = load_config().data_dir / "drafts.sqlite3"
    conn = sqlite3.connect(db)
    try:
        raw_rows = [json.loads(r) for (r,) in conn.execute("SELECT row FROM draft_stats")]
    finally:
        conn.close()
    assert len(raw_rows) == len(ids)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DraftStats.columns())
    for r in raw_rows:
        assert set(r) == set(DraftStats.columns())
        writer.writerow([r[c] for c in DraftStats.columns()])
    outputs["sqlite draft_stats rows"] = buffer.getvalue()

    found = {name: scan(text, text_needles, number_needles) for name, text in outputs.items()}
    assert found == {name: [] for name in outputs}, found

    # the scan can find something: the same scan over the drafts' own record finds the names
    conn = sqlite3.connect(db)
    try:
        (one,) = conn.execute("SELECT record FROM drafts WHERE id = ?", (ids[1],)).fetchone()
    finally:
        conn.close()
    assert {"sommer", "korte", REASON.lower()} <= set(scan(one, text_needles, number_needles))


def test_a_leak_would_be_found(workflow: tuple[ReviewService, list[str]]) -> None:
    """The scan is not blind: an export with a name, a file name or an Aktenzeichen in a cell is caught."""
    review, ids = workflow
    text_needles, number_needles = needles(review, ids)
    clean = review.stats_csv()
    assert scan(clean, text_needles, number_needles) == []
    for leak, needle in (("Korte", "korte"), ("03_nachforderung.md", "03_nachforderung.md"),
                         ("32.4-SN/0815/2025", "32.4-sn/0815/2025"), ("0123 456-3241", "3241"),
                         ("e.beispiel", "e.beispiel"), ("Außengastronomie", "außengastronomie")):
        leaky = clean.replace("confirmed", f"confirmed {leak}", 1)
        assert needle in scan(leaky, text_needles, number_needles), leak
