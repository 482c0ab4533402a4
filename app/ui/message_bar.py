"""A bar at the top of the window that explains, in German, why something is off (policy, model, settings)."""

from __future__ import annotations

from collections.abc import Callable

from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout, QWidget

from app.core.errors import AktenlotseError
from app.ui.errors import show_error
from app.ui.i18n import tr


class Severity(str, Enum):
    ERROR = "error"
    INFO = "info"


class MessageBar(QWidget):
    """Keyed messages (one per source, e.g. "policy", "model"); hidden while there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self._entries: dict[str, QFrame] = {}
        self.setVisible(False)

    def set_message(
        self, key: str, text: str, severity: Severity = Severity.ERROR, error: AktenlotseError | None = None,
        action: tuple[str, Callable[[], object]] | None = None,
    ) -> None:
        """Show (or replace) the message for `key`; with an error that has a detail, offer "Details"; `action`
        (button text, callback) adds a button that does something about it (e.g. „Erneut verbinden“)."""
        self.clear_message(key)
        frame = QFrame()
        frame.setObjectName(f"message-{key}")
        frame.setProperty("role", f"message-{severity.value}")
        row = QHBoxLayout(frame)
        row.setContentsMargins(12, 8, 12, 8)
        icon = QLabel()
        standard = (
            QStyle.StandardPixmap.SP_MessageBoxWarning
            if severity is Severity.ERROR
            else QStyle.StandardPixmap.SP_MessageBoxInformation
        )
        icon.setPixmap(self.style().standardIcon(standard).pixmap(20, 20))
        icon.setAccessibleName(tr("Warnung") if severity is Severity.ERROR else tr("Hinweis"))
        label = QLabel(text)
        label.setObjectName("messageText")
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setAccessibleName(text)
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(label, 1)
        if error is not None and error.detail:
            button = QPushButton(tr("Details …"))
            button.setAccessibleName(tr("Details zur Meldung anzeigen"))
            button.setAccessibleDescription(text)
            button.clicked.connect(lambda: show_error(self.window(), error))
            row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        if action is not None:
            act = QPushButton(action[0])
            act.setObjectName(f"message-{key}-action")
            act.setAccessibleDescription(text)
            act.clicked.connect(lambda: action[1]())
            row.addWidget(act, 0, Qt.AlignmentFlag.AlignTop)
        self._layout.addWidget(frame)
        self._entries[key] = frame
        self.setVisible(True)

    def clear_message(self, key: str) -> None:
        frame = self._entries.pop(key, None)
        if frame is not None:
            frame.hide()
            frame.deleteLater()
        self.setVisible(bool(self._entries))

    def message(self, key: str) -> str | None:
        frame = self._entries.get(key)
        if frame is None:
            return None
        return frame.findChild(QLabel, "messageText").text()

    @property
    def keys(self) -> list[str]:
        return list(self._entries)
