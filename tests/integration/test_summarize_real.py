"""Zusammenfassen with the real object graph and the small test model (SmolLM2-135M, context set to 2048 tokens by
policy): a case file longer than that context is summarised hierarchically; cancelling half-way leaves nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.adapters.docx_writer import DocxWriter
from app.bootstrap import build_container
from app.core.errors import Cancelled
from app.core.export import DRAFT_LINE
from app.core.progress import CancelToken, Progress
from app.core.summary import CASE_SECTIONS, SummaryLength, SummaryRequest, SummaryStep
from app.services.summarize import SummarizeService, SummarySettings

REPO = Path(__file__).resolve().parents[2]
CASE = REPO / "tests" / "fixtures" / "akte_sondernutzung"
CONTEXT = 2048
# Short outputs keep the test quick; the hierarchy does not depend on them.
FAST = SummarySettings(map_tokens=64, final_tokens={length: 160 for length in SummaryLength})


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, test_model_path: Path):
    tmp = tmp_path_factory.mktemp("summary")
    root = tmp / "akten"
    shutil.copytree(CASE, root / "akte_sondernutzung")
    (tmp / "home").mkdir()
    policy = tmp / "policy.toml"
    policy.write_text(f'allowed_roots = ["{root}"]\nmodel_path = "{test_model_path}"\ncontext_length = {CONTEXT}\n',
                      encoding="utf-8")
    env = {"AKTENLOTSE_HOME": str(tmp / "home"), "AKTENLOTSE_POLICY": str(policy)}
    container = build_container(env)
    library = container.library()
    list(library.index([root], embed=False))
    list(container.model_service.load())
    yield container, root, env, tmp
    container.model_service.close()
    library.close()


def test_case_file_longer_than_the_context_is_summarised_in_several_map_steps(world, test_model_path) -> None:
    container, root, _, _ = world
    from llama_cpp import Llama

    service = SummarizeService(container.library(), container.model_service, settings=FAST)
    paths = [r.path for r in service.documents()]
    assert len(paths) == 7
    vocab = Llama(str(test_model_path), vocab_only=True, verbose=False)
    case_text = "\n\n".join(Path(p).read_text(encoding="utf-8") for p in paths)
    assert len(vocab.tokenize(case_text.encode("utf-8"))) > container.model_service.context_length == CONTEXT

    events: list[object] = []
    gen = service.summarize(SummaryRequest(tuple(paths)))
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            summary = stop.value
            break
    steps = [e for e in events if isinstance(e, SummaryStep)]
    maps = [s for s in steps if s.kind == "map"]
    assert len(maps) >= 3 and summary.map_steps == len(maps) and steps[-1].kind == "reduce"
    progress = [e for e in events if isinstance(e, Progress)]
    assert len({p.done for p in progress}) >= len(maps) + 1 and progress[-1].done == progress[-1].total
    assert [s.title for s in summary.sections] == list(CASE_SECTIONS)
    assert summary.draft and summary.to_dict()["review_status"] == "draft"
    assert not summary.omitted
    library = container.library()
    for passage in summary.passages:  # every numbered passage is a real span of a real file
        c = passage.chunk
        assert library.document_text(c.path)[c.start:c.end] == c.text
    for point in summary.points:  # every flag points at text of its point
        for flag in point.flags:
            assert point.text[flag.start:flag.end] == flag.text


def test_cancelling_half_way_leaves_no_half_written_state(world) -> None:
    container, root, _, tmp = world
    service = SummarizeService(container.library(), container.model_service, DocxWriter(),
                               settings=FAST)
    before = {p: p.stat().st_mtime_ns for p in tmp.rglob("*") if p.is_file() and "log" not in p.name}
    cancel = CancelToken()
    seen = []
    with pytest.raises(Cancelled):
        for item in service.summarize(SummaryRequest(tuple(r.path for r in service.documents())), cancel):
            seen.append(item)
            if sum(isinstance(s, SummaryStep) for s in seen) == 2:
                cancel.cancel()
    assert sum(isinstance(s, SummaryStep) for s in seen) == 2
    after = {p: p.stat().st_mtime_ns for p in tmp.rglob("*") if p.is_file() and "log" not in p.name}
    assert after == before  # no file written or changed: no summary, no memo, no index change
    assert not list(tmp.rglob("*.docx"))


def test_cli_summarize_json_and_draft_memo(world) -> None:
    _, root, env, tmp = world
    out = tmp / "vermerk.docx"
    result = subprocess.run(
        [sys.executable, "-m", "app", "summarize", str(root / "akte_sondernutzung" / "03_nachforderung.md"),
         str(root / "akte_sondernutzung" / "05_telefonvermerk.md"), "--length", "kurz", "--json", "--docx",
         str(out)],
        cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["draft"] is True and data["review_status"] == "draft"
    assert [s["title"] for s in data["sections"]] == ["Kernpunkte"]
    assert data["request"]["length"] == "kurz" and len(data["request"]["paths"]) == 2
    assert "Schritt erledigt" in result.stderr  # progress per step on stderr
    props = DocxWriter().read_properties(out)
    assert props["review_status"] == "draft" and props["draft_id"] == data["id"] and props["ai_generated"] == "true"
    import docx

    document = docx.Document(str(out))
    assert DRAFT_LINE in "\n".join(p.text for s in document.sections for p in s.header.paragraphs)


def test_cli_summarize_refuses_a_path_outside_the_allowed_roots(world, tmp_path: Path) -> None:
    _, _, env, _ = world
    outside = tmp_path / "privat.md"
    outside.write_text("# Privat\n\nNicht freigegeben.\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "app", "summarize", str(outside)], cwd=REPO,
                            env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1 and "außerhalb der freigegebenen Ordner" in result.stderr
