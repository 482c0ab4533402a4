"""The German main window: workspaces, the "Modell testen" page, message bar, status bar, menus and dialogs."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.config import EffectiveConfig
from app.core.errors import AktenlotseError
from app.core.llm import ModelState
from app.core.models import ModelSelection
from app.services.model_service import BACKEND_FALLBACK, FALLBACK_NOTICE_DE, ModelService
from app.ui.audit_page import AuditFacade, AuditPage
from app.ui.drafts_page import DraftsPage
from app.ui.i18n import tr
from app.ui.letter_facade import LetterFacade
from app.ui.letter_page import LetterPage
from app.ui.library_facade import LibraryFacade
from app.ui.library_page import LibraryPage
from app.ui.lookup_facade import LookupFacade
from app.ui.lookup_page import LookupPage
from app.ui.message_bar import MessageBar, Severity
from app.ui.model_info_dialog import ModelInfoDialog
from app.ui.model_status import ModelStatus
from app.ui.model_test_box import ModelTestBox
from app.ui.review_hub import ReviewFacade, ReviewHub
from app.ui.settings_dialog import SaveSettings, SettingsDialog
from app.ui.status import StatusArea
from app.ui.style import STYLE_SHEET
from app.ui.summary_facade import SummaryFacade
from app.ui.summary_page import SummaryPage
from app.ui.task_runner import Task, TaskRunner
from app.ui.workspaces import PlaceholderPage, Workspace, workspaces

MODEL_PAGE = "modell"
LIBRARY_PAGE = "bibliothek"
LOOKUP_PAGE = "nachschlagen"
SUMMARY_PAGE = "zusammenfassen"
LETTER_PAGE = "entwerfen"
DRAFTS_PAGE = "entwuerfe"
AUDIT_PAGE = "pruefprotokoll"
SHUTDOWN_WAIT_MS = 1500


class MainWindow(QMainWindow):
    """Built by the bootstrap; `show()` it, then call `start_model_loading()` so the window is up before the model."""

    settings_saved = Signal(object)  # the new EffectiveConfig after the user saved settings
    model_load_finished = Signal(str)  # "result" | "failed" | "cancelled"

    def __init__(
        self,
        config: EffectiveConfig,
        model_service: ModelService,
        selection: ModelSelection | None,
        runner: TaskRunner | None = None,
        save_settings: SaveSettings | None = None,
        library: LibraryFacade | None = None,
        lookup: LookupFacade | None = None,
        review: ReviewFacade | None = None,
        summarizer: SummaryFacade | None = None,
        drafter: LetterFacade | None = None,
        *,
        audit_view: AuditFacade | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle(tr("Aktenlotse"))
        self.setAccessibleName(tr("Aktenlotse – Hauptfenster"))
        self.setStyleSheet(STYLE_SHEET)
        self.resize(1180, 740)
        self.config = config
        self.model_service = model_service
        self.selection = selection
        self.runner = runner if runner is not None else TaskRunner(self)
        self._save_settings = save_settings
        self._load_task: Task | None = None

        self.model_status = ModelStatus(config, model_service, selection, self)
        self.message_bar = MessageBar()
        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setAccessibleName(tr("Arbeitsbereiche"))
        self.navigation.setAccessibleDescription(tr("Strg+1 bis Strg+6 wechseln direkt"))
        self.navigation.setFixedWidth(220)
        self.pages = QStackedWidget()
        self._page_keys: list[str] = []

        hint = tr("Bis dahin können Sie unter „Modell testen“ (Strg+5) prüfen, ob das Sprachmodell auf diesem Rechner arbeitet.")
        self.lookup_page: LookupPage | None = None
        self.summary_page: SummaryPage | None = None
        self.letter_page: LetterPage | None = None
        self.drafts_page: DraftsPage | None = None
        # The workspaces hand their drafts to Entwürfe through the hub (the DraftReview port).
        self.review_hub = ReviewHub(review, self) if review is not None else None
        texts = lookup if lookup is not None else summarizer
        for number, workspace in enumerate(workspaces(), start=1):
            page: QWidget
            if workspace.key == LOOKUP_PAGE and lookup is not None:
                self.lookup_page = LookupPage(lookup, self.model_status, self.runner, self.review_hub)
                page = self.lookup_page
            elif workspace.key == SUMMARY_PAGE and summarizer is not None:
                self.summary_page = SummaryPage(summarizer, self.model_status, self.runner, review=self.review_hub)
                page = self.summary_page
            elif workspace.key == LETTER_PAGE and drafter is not None:
                self.letter_page = LetterPage(drafter, self.model_status, self.runner, review=self.review_hub)
                page = self.letter_page
            elif workspace.key == DRAFTS_PAGE and review is not None:
                self.drafts_page = DraftsPage(review, texts, self.runner, self.review_hub)
                self.drafts_page.open_count_changed.connect(self._on_open_drafts_changed)
                page = self.drafts_page
            else:
                page = PlaceholderPage(workspace, hint)
            self._add_page(workspace.key, workspace.title, page, number)
        self.model_test_box = ModelTestBox(model_service, self.model_status, self.runner)
        self._add_page(MODEL_PAGE, tr("Modell testen"), self.model_test_box, len(self._page_keys) + 1)
        # After "Modell testen", so Strg+1 … Strg+5 keep their meaning; the library is Strg+6.
        self.library_page: LibraryPage | None = None
        if library is not None:
            self.library_page = LibraryPage(library, config, self.runner)
            library_widget: QWidget = self.library_page
        else:
            library_widget = PlaceholderPage(
                Workspace(LIBRARY_PAGE, tr("Bibliothek"), tr(
                    "Hier werden Sie sehen, welche Ordner indexiert sind, wie weit die Indexierung ist und welche "
                    "Dateien übersprungen wurden – und im Index suchen können."
                )),
                hint,
            )
        self._add_page(LIBRARY_PAGE, tr("Bibliothek"), library_widget, len(self._page_keys) + 1)
        # Only for the security officers the policy names (the bootstrap passes the log only then): Strg+7.
        self.audit_page: AuditPage | None = None
        if audit_view is not None:
            self.audit_page = AuditPage(audit_view, self.runner)
            self._add_page(AUDIT_PAGE, tr("Prüfprotokoll"), self.audit_page, len(self._page_keys) + 1)
            self.navigation.setAccessibleDescription(tr("Strg+1 bis Strg+7 wechseln direkt"))
        self.navigation.currentRowChanged.connect(self.pages.setCurrentIndex)

        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.navigation)
        body.addWidget(self.pages, 1)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.message_bar)
        column.addLayout(body, 1)
        self.setCentralWidget(central)

        self.status_area = StatusArea(self.statusBar(), self.model_status)
        self._build_menus()
        if self.drafts_page is not None:  # after the menus, which take the plain titles
            self.drafts_page.refresh()
        self.model_status.state_changed.connect(self._on_model_state_changed)
        self.model_status.backend_changed.connect(self._on_backend_changed)
        self._reconnect_task: Task | None = None
        self._show_config_messages()
        self._on_model_state_changed(self.model_status.state)
        # Open on the main feature: "Nachschlagen" when it is wired up, else the one working page.
        if self.lookup_page is not None:
            self.show_workspace(LOOKUP_PAGE)
            self.setTabOrder(self.navigation, self.lookup_page.question_edit)
        elif self.summary_page is not None:
            self.show_workspace(SUMMARY_PAGE)
            self.setTabOrder(self.navigation, self.summary_page.filter_edit)
        elif self.letter_page is not None:
            self.show_workspace(LETTER_PAGE)
            self.setTabOrder(self.navigation, self.letter_page.type_combo)
        else:
            self.show_workspace(MODEL_PAGE)
            self.setTabOrder(self.navigation, self.model_test_box.prompt_edit)

    # -- public API for the bootstrap -----------------------------------------------------
    def start_model_loading(self) -> Task | None:
        """Load the model in the background; the status bar and the message bar follow. None if not started."""
        if self.config.policy_error is not None or self.model_service.model is None:
            return None  # fails closed; the message bar already says why
        if self._load_task is not None or self.model_service.state is ModelState.READY:
            return self._load_task
        task = self.runner.start(self.model_service.load, name="Sprachmodell laden")
        self._load_task = task
        task.failed.connect(self._on_load_failed)
        task.result.connect(lambda _value: self.model_load_finished.emit("result"))
        task.cancelled.connect(lambda: self.model_load_finished.emit("cancelled"))
        task.finished.connect(self._on_load_finished)
        return task

    def reconnect_remote(self) -> Task | None:
        """„Erneut verbinden“: ask the data centre again while the local fallback answers."""
        if self._reconnect_task is not None or self.model_service.active_backend != BACKEND_FALLBACK:
            return self._reconnect_task
        task = self.runner.start(self.model_service.reconnect, name="Rechenzentrum erneut verbinden")
        self._reconnect_task = task
        task.failed.connect(lambda error: self._on_backend_changed(BACKEND_FALLBACK, error))
        task.finished.connect(self._on_reconnect_finished)
        return task

    def _on_reconnect_finished(self) -> None:
        self._reconnect_task = None

    def _on_backend_changed(self, backend: str, error: AktenlotseError | None = None) -> None:
        """While the local model stands in for the unreachable data centre, say so and offer to reconnect."""
        if backend != BACKEND_FALLBACK:
            self.message_bar.clear_message("fallback")
            return
        text = tr(FALLBACK_NOTICE_DE) + ". " + (
            tr("Erneuter Versuch fehlgeschlagen: {message}").format(message=error.user_message) if error is not None
            else tr("Ihre Eingaben bleiben auf diesem Rechner."))
        self.message_bar.set_message("fallback", text, Severity.INFO, error,
                                     action=(tr("&Erneut verbinden"), self.reconnect_remote))

    def show_workspace(self, key: str) -> None:
        self.navigation.setCurrentRow(self._page_keys.index(key))

    @property
    def current_workspace(self) -> str:
        return self._page_keys[self.navigation.currentRow()]

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.config, self._save_settings, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.settings_saved.connect(self._on_settings_saved)
        dialog.open()
        return dialog

    def show_model_info(self) -> ModelInfoDialog:
        dialog = ModelInfoDialog(
            self.selection, self.model_service.info, self.model_service.model, self,
            verified_sha256=self.model_service.verified_sha256,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # -- building -------------------------------------------------------------------------
    def _add_page(self, key: str, title: str, page: QWidget, number: int) -> None:
        item = QListWidgetItem(title)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, title)
        item.setToolTip(tr("Strg+{n}").format(n=number))
        self.navigation.addItem(item)
        self.pages.addWidget(page)
        self._page_keys.append(key)

    def _build_menus(self) -> None:
        menu_file = self.menuBar().addMenu(tr("&Datei"))
        settings = QAction(tr("&Einstellungen …"), self)
        settings.setShortcut(QKeySequence("Ctrl+,"))
        settings.triggered.connect(self.open_settings)
        quit_action = QAction(tr("&Beenden"), self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        menu_file.addAction(settings)
        menu_file.addSeparator()
        menu_file.addAction(quit_action)

        menu_view = self.menuBar().addMenu(tr("&Ansicht"))
        for row, key in enumerate(self._page_keys):
            action = QAction(self.navigation.item(row).text(), self)
            action.setShortcut(QKeySequence(f"Ctrl+{row + 1}"))
            action.triggered.connect(lambda _checked=False, k=key: self._go_to(k))
            menu_view.addAction(action)

        menu_help = self.menuBar().addMenu(tr("&Hilfe"))
        info = QAction(tr("&Modellinformationen …"), self)
        info.setShortcut(QKeySequence("Ctrl+I"))
        info.triggered.connect(self.show_model_info)
        menu_help.addAction(info)
        self.actions_by_name = {"settings": settings, "quit": quit_action, "model_info": info}

    def _go_to(self, key: str) -> None:
        self.show_workspace(key)
        if key == MODEL_PAGE:
            self.model_test_box.prompt_edit.setFocus()
        elif key == LOOKUP_PAGE and self.lookup_page is not None:
            self.lookup_page.question_edit.setFocus()
        elif key == SUMMARY_PAGE and self.summary_page is not None:
            page_s = self.summary_page
            (page_s.documents_list if page_s.documents_list.count() else page_s.refresh_button).setFocus()
        elif key == LETTER_PAGE and self.letter_page is not None:
            self.letter_page.type_combo.setFocus()
        elif key == DRAFTS_PAGE and self.drafts_page is not None:
            self.drafts_page.list.setFocus()
        elif key == LIBRARY_PAGE and self.library_page is not None:
            page = self.library_page
            (page.index_button if page.index_button.isEnabled() else page.cancel_button).setFocus()
        elif key == AUDIT_PAGE and self.audit_page is not None:
            self.audit_page.table.setFocus()
        else:
            self.navigation.setFocus()

    def _on_open_drafts_changed(self, count: int) -> None:
        row = self._page_keys.index(DRAFTS_PAGE)
        title = tr("Entwürfe") + (f" ({count})" if count else "")
        item = self.navigation.item(row)
        item.setText(title)
        item.setData(Qt.ItemDataRole.AccessibleTextRole,
                     tr("Entwürfe, {n} offen").format(n=count) if count else tr("Entwürfe"))

    # -- messages -------------------------------------------------------------------------
    def _show_config_messages(self) -> None:
        if self.config.policy_error is not None:
            error = self.config.policy_error
            self.message_bar.set_message(
                "policy",
                error.user_message + " " + tr("Die KI-Funktionen bleiben ausgeschaltet, bis die Richtlinie korrigiert ist."),
                Severity.ERROR,
                error,
            )
        if self.config.user_settings_error is not None:
            error = self.config.user_settings_error
            self.message_bar.set_message("settings", error.user_message, Severity.INFO, error)

    def _on_model_state_changed(self, state: ModelState) -> None:
        error = self.model_status.error
        if state is ModelState.ERROR and error is not None:
            self._show_model_error(error)
        elif state is not ModelState.ERROR:
            self.message_bar.clear_message("model")

    def _show_model_error(self, error: AktenlotseError) -> None:
        if self.config.policy_error is not None:
            return  # the policy message already says why AI is off; a second bar would repeat it
        self.message_bar.set_message(
            "model",
            tr("Das Sprachmodell kann nicht verwendet werden: {message}").format(message=error.user_message),
            Severity.ERROR,
            error,
        )

    def _on_load_failed(self, error: AktenlotseError) -> None:
        self._show_model_error(error)  # the task's error carries the detail even if the state arrives later
        self.model_load_finished.emit("failed")

    def _on_load_finished(self) -> None:
        self._load_task = None

    def _on_settings_saved(self, config: EffectiveConfig) -> None:
        self.config = config
        self.model_status.config = config
        if self.library_page is not None:
            self.library_page.set_config(config)
        self.message_bar.clear_message("settings")
        self.settings_saved.emit(config)

    # -- closing --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Cancel running work and wait briefly, so no worker reports into a window that is gone."""
        self.runner.shutdown(SHUTDOWN_WAIT_MS)  # also cancels a running indexing (it stops between files)
        super().closeEvent(event)
