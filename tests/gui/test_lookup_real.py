"""Nachschlagen in the real window with real components: policy → build_container (sandboxed extractor, BM25,
chromadb, e5, llama.cpp with the small test model). Ask, see the answer stream, open a source, the viewer shows
the highlighted passage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl

from app.bootstrap import build_container
from app.core.llm import ModelState
from app.core.lookup import DRAFT_MARKER
from app.ui.main_window import MainWindow
from app.ui.task_runner import TaskRunner

pytestmark = [pytest.mark.gui, pytest.mark.model]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def real_lookup_window(qtbot, tmp_path: Path, test_model_path: Path):
    root = tmp_path / "akten"
    (root / "gesetze").mkdir(parents=True)
    shutil.copy(FIXTURES / "laws" / "vwvfg_auszug.md", root / "gesetze" / "vwvfg_auszug.md")
    shutil.copy(FIXTURES / "extract" / "bescheid.pdf", root / "bescheid.pdf")
    policy = tmp_path / "policy.toml"
    policy.write_text(f'allowed_roots = ["{root}"]\nmodel_path = "{test_model_path}"\ncontext_length = 2048\n',
                      encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    container = build_container({"AKTENLOTSE_HOME": str(home), "AKTENLOTSE_POLICY": str(policy)})
    library = container.library()
    list(library.index([root]))
    runner = TaskRunner()
    window = MainWindow(container.config, container.model_service, container.selection, runner=runner,
                        library=library, lookup=container.lookup(), review=container.review())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.test_container = container
    yield window, library
    window.close()
    runner.shutdown()
    container.model_service.close()
    library.close()


def test_ask_stream_open_source_and_see_the_highlighted_passage(real_lookup_window, qtbot) -> None:
    window, library = real_lookup_window
    page = window.lookup_page
    assert page is not None and window.current_workspace == "nachschlagen"
    window.start_model_loading()
    qtbot.waitUntil(lambda: window.model_status.state is ModelState.READY, timeout=120_000)

    page.question_edit.setPlainText("Wann muss ein Beteiligter vor Erlass eines Verwaltungsakts angehört werden?")
    pieces: list[str] = []
    page.asking_started.connect(lambda task: task.partial_result.connect(pieces.append))
    with qtbot.waitSignal(page.asking_finished, timeout=180_000) as finished:
        qtbot.mouseClick(page.ask_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["result"]
    answer = page.current_answer
    assert answer is not None and not answer.nothing_found and answer.sources
    assert pieces and "".join(pieces).strip() == answer.text  # it streamed, and the final text is what streamed
    assert page.banner.isVisible() and page.banner.text() == DRAFT_MARKER
    assert page.sources_list.count() == len(answer.sources)

    # A citation link (or, if the small model wrote none, the first source) opens the viewer on its passage.
    number = (answer.grounding.cited_numbers() or (answer.sources[0].number,))[0]
    page._on_anchor_clicked(QUrl(f"cite:{number}"))
    viewer = page.viewer
    assert viewer is not None
    qtbot.waitUntil(lambda: bool(viewer.highlighted_text()), timeout=60_000)
    source = answer.source(number)
    assert viewer.highlighted_text() == source.passage
    start, end = viewer.highlight_range()
    assert library.document_text(source.path)[start:end] == source.passage
    assert viewer.passage_is_visible()
    viewer.close()


def test_hand_over_review_confirm_and_export_final_with_real_components(real_lookup_window, qtbot, tmp_path) -> None:
    """The whole way of a real answer: Nachschlagen → Entwürfe (SQLite store) → check list → confirm → final DOCX."""
    from app.adapters.docx_writer import DocxWriter
    from app.core.drafts import DraftState

    window, library = real_lookup_window
    page = window.lookup_page
    window.start_model_loading()
    qtbot.waitUntil(lambda: window.model_status.state is ModelState.READY, timeout=120_000)
    page.question_edit.setPlainText("Wann muss ein Beteiligter vor Erlass eines Verwaltungsakts angehört werden?")
    with qtbot.waitSignal(page.asking_finished, timeout=180_000):
        qtbot.mouseClick(page.ask_button, Qt.MouseButton.LeftButton)
    answer = page.current_answer
    assert answer is not None and not answer.nothing_found
    qtbot.mouseClick(page.review_button, Qt.MouseButton.LeftButton)

    drafts = window.drafts_page
    assert drafts is not None and drafts.list.topLevelItemCount() == 1
    window.show_workspace("entwuerfe")
    drafts.list.setCurrentItem(drafts.list.topLevelItem(0))
    assert drafts.current is not None and drafts.current.id == answer.id
    assert drafts.current.state is DraftState.IN_REVIEW
    assert drafts.editor.toPlainText() == answer.text.strip()
    assert drafts.checklist.count() >= 1
    # Work through the list: open every cited source, tick the rest.
    for number in [s.number for s in drafts.current.sources_to_check()]:
        viewer = drafts.open_source(number)
        qtbot.waitUntil(lambda v=viewer: v.is_loaded, timeout=60_000)
        viewer.close()
    for i in range(drafts.checklist.count()):
        row = drafts.checklist.item(i)
        if row.flags() & Qt.ItemFlag.ItemIsUserCheckable and row.checkState() != Qt.CheckState.Checked:
            row.setCheckState(Qt.CheckState.Checked)
            qtbot.waitUntil(lambda: drafts.checklist.count() > 0)
    qtbot.waitUntil(drafts.confirm_button.isEnabled, timeout=5000)
    qtbot.mouseClick(drafts.confirm_button, Qt.MouseButton.LeftButton)
    drafts.confirm_dialog.acknowledge.setChecked(True)
    with qtbot.waitSignal(drafts.draft_decided):
        qtbot.mouseClick(drafts.confirm_dialog.confirm_button, Qt.MouseButton.LeftButton)

    review = window.test_container.review()
    stored = review.get(answer.id)  # read back from <data_dir>/drafts.sqlite3
    assert stored.state is DraftState.CONFIRMED and stored.reviewer
    target = tmp_path / "auskunft_final.docx"
    drafts.choose_export_path = lambda: str(target)
    with qtbot.waitSignal(drafts.export_finished, timeout=30_000) as outcome:
        qtbot.mouseClick(drafts.export_button, Qt.MouseButton.LeftButton)
    assert outcome.args == ["result"]
    props = DocxWriter().read_properties(target)
    assert props["review_status"] == "confirmed" and props["draft_id"] == answer.id
    assert props["reviewer"] == stored.reviewer
    rows = review.stats_rows()
    assert [(r.kind, r.state) for r in rows] == [("lookup", "confirmed")]
    assert rows[0].sources_opened == len(stored.sources_to_check())
