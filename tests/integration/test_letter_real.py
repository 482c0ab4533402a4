"""Entwerfen end to end: `aktenlotse draft` with the real test model, the real library and the DOCX writer; the
DOCX is opened with python-docx: layout parts, draft line in every header and footer, custom properties,
placeholders for the facts the inputs lack."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from app.adapters.docx_writer import DocxWriter, placeholders_in
from app.bootstrap import build_container
from app.core.export import DRAFT_LINE

REPO = Path(__file__).resolve().parents[2]
CASE = REPO / "tests" / "fixtures" / "akte_sondernutzung"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, test_model_path: Path):
    tmp = tmp_path_factory.mktemp("letters")
    root = tmp / "akten"
    shutil.copytree(CASE, root / "akte")
    (tmp / "home").mkdir()
    policy = tmp / "policy.toml"
    policy.write_text(f'allowed_roots = ["{root}"]\nmodel_path = "{test_model_path}"\ncontext_length = 2048\n'
                      'authority_name = "Stadt Musterstadt – Ordnungsamt"\n'
                      'sender_line = "Stadt Musterstadt · Marktplatz 1 · 12345 Musterstadt"\n', encoding="utf-8")
    env = {"AKTENLOTSE_HOME": str(tmp / "home"), "AKTENLOTSE_POLICY": str(policy)}
    container = build_container(env)
    library = container.library()
    list(library.index([root], embed=False))
    library.close()
    return root, env, tmp


def test_cli_draft_writes_a_marked_din_letter_with_placeholders(world) -> None:
    root, env, tmp = world
    out = tmp / "anhoerung.docx"
    result = subprocess.run(
        [sys.executable, "-m", "app", "draft", "--type", "anhoerung",
         "--field", "empfaenger=Café Lindenblüte GmbH\\nFrau Sabine Korte\\nMarktplatz 7\\n12345 Musterstadt",
         "--field", "aktenzeichen=32.4-SN/0815/2025", "--field", "sachbearbeiter=Jonas Weber",
         "--from", str(root / "akte" / "04_stellungnahme_verkehr.md"),
         "--instructions", "Ablehnung der Fläche an der Hausecke, Restgehwegbreite zu gering", "-o", str(out),
         "--json"],
        cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["draft"] is True and data["type"] == "anhoerung" and "[Frist eintragen]" in data["placeholders"]

    document = docx.Document(str(out))
    texts = [p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells]
    joined = "\n".join(texts)
    for part in ("Stadt Musterstadt – Ordnungsamt", "Stadt Musterstadt · Marktplatz 1 · 12345 Musterstadt",
                 "Café Lindenblüte GmbH", "12345 Musterstadt", "32.4-SN/0815/2025",
                 "Anhörung vor Erlass eines Bescheides – Aktenzeichen 32.4-SN/0815/2025",
                 "Mit freundlichen Grüßen", "Jonas Weber"):
        assert part in joined, part
    body = "\n".join(p.text for p in document.paragraphs)  # address and info block sit in a table above
    assert body.index("Anhörung vor Erlass") < body.index("Sehr geehrte") < body.index("Mit freundlichen Grüßen")
    assert "Café Lindenblüte GmbH" in "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    for section in document.sections:  # the draft line in every section's header and footer
        assert DRAFT_LINE in "\n".join(p.text for p in section.header.paragraphs)
        assert DRAFT_LINE in "\n".join(p.text for p in section.footer.paragraphs)
    props = DocxWriter().read_properties(out)
    assert props["review_status"] == "draft" and props["ai_generated"] == "true" and props["kind"] == "brief"
    assert props["draft_id"] == data["id"] and props["model_sha256"] and props["created"]
    assert "[Frist eintragen]" in placeholders_in(out)  # the fact the inputs lack stays a placeholder


def test_a_picked_file_that_is_not_indexed_is_read_and_one_outside_the_roots_refused(world, tmp_path) -> None:
    root, env, tmp = world
    picked = root / "akte" / "nachtrag_nicht_indexiert.md"
    picked.write_text("# Nachtrag\n\nFrau Korte teilt am 02.04.2025 mit, dass die Markise entfällt.\n",
                      encoding="utf-8")
    out = tmp / "frei.docx"
    args = [sys.executable, "-m", "app", "draft", "--type", "frei", "--field", "betreff=Markise",
            "--field", "aktenzeichen=32.4-SN/0815/2025", "--from", str(picked), "-o", str(out), "--json"]
    result = subprocess.run(args, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["file"] for s in data["sources"]] == [str(picked)] and "02.04.2025" in data["sources"][0]["passage"]
    outside = tmp_path / "privat.md"
    outside.write_text("Privat.", encoding="utf-8")
    args[args.index(str(picked))] = str(outside)
    result = subprocess.run(args, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 1 and "außerhalb der freigegebenen Ordner" in result.stderr


def test_cli_lists_letter_types(world) -> None:
    _, env, _ = world
    result = subprocess.run([sys.executable, "-m", "app", "draft", "--list-types"], cwd=REPO,
                            env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0
    assert "anhoerung" in result.stdout and "§ 28 VwVfG / § 24 SGB X" in result.stdout and "frist" in result.stdout
