"""The status bar: model name, model state, connectivity (offline or named endpoints) and the demo notice."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from app.core.llm import ModelState
from app.ui.i18n import tr
from app.ui.model_status import ModelStatus


def _keep_whole(label: QLabel) -> None:
    """Notices must never be clipped in the status bar; the model name gives way first."""
    label.setMinimumWidth(label.fontMetrics().horizontalAdvance(label.text()) + 16)


class ElidedLabel(QLabel):
    """A label that ends in "…" when space is short instead of being cut off mid-letter."""

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(self.alignment()), text)


class ConnectivityIndicator(QLabel):
    """Says where data may go: offline, or exactly the remote endpoints the policy configures and which is in use."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("connectivity")
        self.set_endpoints([])

    def set_endpoints(self, endpoints: Sequence[str], details: str = "") -> None:
        if endpoints:
            text = tr("Verbindung zu: {endpoints}").format(endpoints=" · ".join(endpoints))
            tip = details or tr("Anfragen werden an diese Gegenstellen gesendet.")
        else:
            text = tr("Offline – keine Verbindung nach außen")
            tip = tr("Das Sprachmodell läuft auf diesem Rechner. Ihre Eingaben und Dokumente verlassen ihn nicht.")
        self.setText(text)
        _keep_whole(self)
        self.setToolTip(tip)
        self.setAccessibleName(text)
        self.setAccessibleDescription(tip)


class StatusArea:
    """Fills a QStatusBar with permanent labels and keeps them in step with the ModelStatus view model."""

    def __init__(self, bar: QStatusBar, status: ModelStatus) -> None:
        self._status = status
        self.model_label = ElidedLabel()
        self.model_label.setObjectName("modelName")
        self.state_label = QLabel()
        self.state_label.setObjectName("modelState")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName(tr("Sprachmodell wird geladen"))
        self.connectivity = ConnectivityIndicator()
        self.demo_label = QLabel(tr("Demo-Modell – für den Produktivbetrieb stellt Ihre IT ein Modell bereit"))
        self.demo_label.setObjectName("demoNotice")
        self.demo_label.setAccessibleName(self.demo_label.text())
        _keep_whole(self.demo_label)

        self.model_label.setText(tr("Modell: {name}").format(name=status.display_name))
        self.model_label.setAccessibleName(self.model_label.text())
        bar.addWidget(self.model_label)
        bar.addWidget(self.state_label)
        bar.addWidget(self.busy)
        bar.addPermanentWidget(self.demo_label)
        bar.addPermanentWidget(self.connectivity)
        self.demo_label.setVisible(status.is_demo)
        self.model_label.setToolTip(status.display_name)
        self.model_label.setMinimumWidth(80)  # the name may be clipped on a narrow window, the notices not
        self._show_endpoints()
        status.backend_changed.connect(self._show_endpoints)
        status.state_changed.connect(self._show_endpoints)
        status.state_changed.connect(self._on_state_changed)
        self._on_state_changed(status.state)

    def _show_endpoints(self, *_: object) -> None:
        status = self._status
        self.connectivity.set_endpoints(status.remote_endpoints, status.remote_details)
        # the answering model may change (data centre ↔ local fallback): name and demo notice follow it
        self.model_label.setText(tr("Modell: {name}").format(name=status.display_name))
        self.model_label.setAccessibleName(self.model_label.text())
        self.model_label.setToolTip(status.display_name)
        self.demo_label.setVisible(status.is_demo)

    def _on_state_changed(self, state: ModelState) -> None:
        text = tr("Status: {state}").format(state=state.label_de)
        self.state_label.setText(text)
        self.state_label.setAccessibleName(text)
        self.state_label.setToolTip(self._status.block_reason() or tr("Das Sprachmodell ist bereit."))
        self.busy.setVisible(state is ModelState.LOADING)
