"""The four workspaces. Their features come in later releases; each page says honestly what it will do."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.ui.i18n import tr


@dataclass(frozen=True)
class Workspace:
    key: str
    title: str
    purpose: str


def workspaces() -> list[Workspace]:
    """In navigation order; Strg+1 … Strg+4 select them."""
    return [
        Workspace(
            "nachschlagen",
            tr("Nachschlagen"),
            tr(
                "Hier werden Sie in Ihren freigegebenen Ordnern und in Gesetzestexten nachschlagen können. "
                "Zu jeder Antwort nennt Aktenlotse die Fundstelle – Datei und Seite oder Paragraf –, "
                "die Sie mit einem Klick prüfen können."
            ),
        ),
        Workspace(
            "zusammenfassen",
            tr("Zusammenfassen"),
            tr(
                "Hier werden Sie Dokumente aus Ihren freigegebenen Ordnern in der gewünschten Länge "
                "zusammenfassen lassen können, auch lange Akten, mit einer Quellenangabe zu jeder Aussage."
            ),
        ),
        Workspace(
            "entwerfen",
            tr("Entwerfen"),
            tr(
                "Hier werden Sie Schreiben in der Form Ihrer Behörde entwerfen lassen können, etwa "
                "Eingangsbestätigung, Anhörung oder Nachforderung, in Ihrer eigenen Vorlage. Angaben, die "
                "Aktenlotse nicht kennt, bleiben als sichtbare Platzhalter stehen und werden nicht erfunden."
            ),
        ),
        Workspace(
            "entwuerfe",
            tr("Entwürfe"),
            tr(
                "Hier werden Sie Ihre bisherigen Entwürfe wiederfinden. Jeder Entwurf bleibt als KI-Vorschlag "
                "gekennzeichnet, bis Sie ihn geprüft und bestätigt haben; Ihre Entscheidung wird protokolliert."
            ),
        ),
    ]


class PlaceholderPage(QWidget):
    """A workspace that is not available yet: its purpose and a plain "not yet" notice, no fake controls."""

    def __init__(self, workspace: Workspace, model_test_hint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"page-{workspace.key}")
        self.workspace = workspace
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 28)
        layout.setSpacing(14)

        heading = QLabel(workspace.title)
        heading.setProperty("role", "heading")
        heading.setAccessibleName(workspace.title)
        purpose = QLabel(workspace.purpose)
        purpose.setWordWrap(True)
        purpose.setMaximumWidth(760)
        notice = QLabel(
            tr("<b>Noch nicht verfügbar.</b> Diese Funktion folgt in einer späteren Version.")
            + "<br>"
            + model_test_hint
        )
        notice.setObjectName("notAvailable")
        notice.setProperty("role", "notice")
        notice.setTextFormat(Qt.TextFormat.RichText)
        notice.setWordWrap(True)
        notice.setMaximumWidth(760)
        notice.setAccessibleName(tr("Noch nicht verfügbar"))
        notice.setAccessibleDescription(notice.text())

        layout.addWidget(heading)
        layout.addWidget(purpose)
        layout.addWidget(notice)
        layout.addStretch(1)
