"""Departmental knowledge (*Fachbereich*) on the Nachschlagen page over a fake lookup: the source is marked in the
list, its tooltip and accessible name; opening it shows the published passage with its origin and no "open file";
a failed shared server shows its notice on the page. The screenshot test writes lookup_fachbereich.png into
AKTENLOTSE_SCREENSHOT_DIR (docs/screenshots/ when making the docs), else into the test's temporary folder."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.config import load_config
from app.core.documents import Chunk, SearchMode
from app.core.llm import ModelState
from app.core.lookup import Source
from app.services.model_service import ModelService
from app.ui.lookup_page import LookupPage
from app.ui.main_window import MainWindow
from app.ui.passage_viewer import PassageViewer
from app.ui.task_runner import TaskRunner

from .conftest import selection_for
from .fakes import FAKE_INFO, FakeLanguageModel
from .lookup_fakes import SOURCES, FakeLookup, ground

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[2]
QUESTION = "Muss die Sondernutzung für die Außengastronomie auch beim Gewerbeamt angezeigt werden?"
SHARED_PASSAGE = ("(1) Wer den selbständigen Betrieb eines stehenden Gewerbes anfängt, muss dies der für den "
                  "betreffenden Ort zuständigen Behörde gleichzeitig anzeigen.")
SHARED_SOURCE = Source(2, Chunk(
    id="Gewerberecht:abc", doc_id="g1", path="GewO_Auszug.md", text=SHARED_PASSAGE, ordinal=3, start=120,
    end=120 + len(SHARED_PASSAGE), heading_path=("Gewerbeordnung", "§ 14 Anzeigepflicht"),
    collection="Gewerberecht"), 0.87, SearchMode.DENSE)
SOURCES_MIXED = (SOURCES[0], SHARED_SOURCE)
ANSWER = ("Die Sondernutzungserlaubnis wird von der Gemeinde erteilt [1]. Wer ein stehendes Gewerbe anfängt, "
          "muss dies zusätzlich der zuständigen Behörde anzeigen [2].")
NOTICE = ("Fachbereichswissen wurde nicht durchsucht: Der Server für Fachbereichswissen (wissen.rz.example.de:443) "
          "ist nicht erreichbar. Angezeigt werden nur Treffer aus Ihren eigenen Dokumenten.")


@dataclass
class SharedFakeLookup(FakeLookup):
    """A FakeLookup with `search_notice` (as `LookupService`) that records `document_text` calls."""

    search_notice: str = ""
    opened: list[str] = field(default_factory=list)

    def document_text(self, path: str) -> str:
        self.opened.append(path)
        return super().document_text(path)


def make_fake(notice: str = "") -> SharedFakeLookup:
    return SharedFakeLookup(answer=ANSWER, sources=SOURCES_MIXED, search_notice=notice)


@pytest.fixture
def make_window(qtbot):
    def make(lookup: SharedFakeLookup) -> tuple[MainWindow, LookupPage]:
        window = MainWindow(load_config(os.environ), ModelService(FakeLanguageModel(FAKE_INFO)),
                            selection_for(FAKE_INFO), runner=TaskRunner(), lookup=lookup)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        window.start_model_loading()
        qtbot.waitUntil(lambda: window.model_status.state is ModelState.READY)
        return window, window.lookup_page

    return make


def ask_and_wait(page: LookupPage, qtbot, question: str = QUESTION):
    page.question_edit.setPlainText(question)
    with qtbot.waitSignal(page.answer_ready, timeout=5000) as ready:
        qtbot.mouseClick(page.ask_button, Qt.MouseButton.LeftButton)
    return ready.args[0]


def test_shared_source_is_marked_in_the_list(make_window, qtbot) -> None:
    _, page = make_window(make_fake())
    answer = ask_and_wait(page, qtbot)
    assert answer.grounding == ground(ANSWER, SOURCES_MIXED)
    local, shared = page.source_item(1), page.source_item(2)
    assert shared.text().splitlines()[0] == (
        "✓ [2] Fachbereich „Gewerberecht“: GewO_Auszug.md, § 14 Anzeigepflicht – zitiert")
    assert not local.text().startswith("✓ [1] Fachbereich")
    origin = "Fachbereichswissen aus der Sammlung „Gewerberecht“ (Rechenzentrum)"
    assert origin in shared.toolTip() and origin not in local.toolTip()
    assert origin in shared.data(Qt.ItemDataRole.AccessibleTextRole)
    assert "Fachbereich" not in local.data(Qt.ItemDataRole.AccessibleTextRole)
    assert not shared.icon().isNull() and local.icon().isNull(), "a visible „Fachbereich“ tag"
    assert page.search_notice_text() == ""


def test_opening_a_shared_source_shows_the_passage_with_its_origin(make_window, qtbot) -> None:
    _, page = make_window(make_fake())
    lookup = page.lookup
    ask_and_wait(page, qtbot)
    with qtbot.waitSignal(page.viewer_opened, timeout=5000) as opened:
        page.open_source(2)
    viewer: PassageViewer = opened.args[0]
    qtbot.waitUntil(lambda: viewer.is_loaded)
    assert lookup.opened == [], "a shared passage is never loaded as a local file"
    assert viewer.text_view.toPlainText() == SHARED_PASSAGE
    assert viewer.highlighted_text() == SHARED_PASSAGE
    assert "Fachbereichswissen aus der Sammlung „Gewerberecht“ (Rechenzentrum)" in viewer.notice_text()
    assert viewer.fact_labels["Herkunft"].text().startswith("Fachbereichswissen aus der Sammlung „Gewerberecht“")
    assert "Fachbereich „Gewerberecht“" in viewer.windowTitle()
    assert not viewer.open_button.isVisible() and viewer.open_original() is False
    viewer.close()
    # a local source still loads its document and can be opened
    with qtbot.waitSignal(page.viewer_opened, timeout=5000) as opened:
        page.open_source(1)
    local_viewer: PassageViewer = opened.args[0]
    qtbot.waitUntil(lambda: local_viewer.is_loaded)
    assert lookup.opened == [SOURCES[0].path] and local_viewer.open_button.isVisible()
    assert "Herkunft" not in local_viewer.fact_labels
    local_viewer.close()


def test_failed_shared_server_notice_appears_on_the_page(make_window, qtbot) -> None:
    lookup = make_fake(NOTICE)
    lookup.sources = (SOURCES[0],)
    lookup.answer = "Die Sondernutzungserlaubnis wird von der Gemeinde erteilt [1]."
    _, page = make_window(lookup)
    ask_and_wait(page, qtbot)
    assert page.search_notice_text() == NOTICE and page.search_notice.isVisible()
    assert page.search_notice.accessibleName() == NOTICE
    assert page.sources_list.count() == 1, "the local sources are still shown"
    lookup.search_notice = ""
    ask_and_wait(page, qtbot)
    assert page.search_notice_text() == "" and not page.search_notice.isVisible()


def test_screenshot_with_a_local_and_a_fachbereich_source(make_window, qtbot, tmp_path, monkeypatch) -> None:
    policy = tmp_path / "policy.toml"  # as configured in an office: the status bar names the knowledge server
    policy.write_text('shared_knowledge_url = "https://wissen.rz.example.de:8000"\n'
                      'shared_collections = ["Gewerberecht"]\n', encoding="utf-8")
    monkeypatch.setenv("AKTENLOTSE_POLICY", str(policy))
    window, page = make_window(make_fake())
    assert "Fachbereichswissen wissen.rz.example.de:8000 (Gewerberecht)" in window.status_area.connectivity.text()
    ask_and_wait(page, qtbot)
    page.sources_list.setCurrentRow(1)
    qtbot.waitUntil(lambda: page.sources_list.currentRow() == 1)
    out = Path(os.environ.get("AKTENLOTSE_SCREENSHOT_DIR") or tmp_path) / "lookup_fachbereich.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(out))
    assert out.stat().st_size > 10_000
