"""Guards against a Qt binding that corrupts reference counts when Python code emits signals.

PySide6 6.12.0 on CPython 3.11 drops a reference to `True` on every `Signal.emit()`; after a few
hundred emits the interpreter aborts ("bool_dealloc: deallocating True or False"). CPython 3.12+ hides
it (immortal objects). The streaming GUI emits many signals, so this must never reach users.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, Signal

pytestmark = pytest.mark.gui


class _Emitter(QObject):
    fired = Signal(object)


def test_signal_emit_keeps_reference_counts(qtbot):
    emitter = _Emitter()
    received = [0]

    def count(_value: object) -> None:
        received[0] += 1

    emitter.fired.connect(count)
    emitter.fired.emit(None)  # warm up lazy initialisation
    before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(50):
        emitter.fired.emit(None)
    after = sys.getrefcount(True), sys.getrefcount(None)
    assert received[0] == 51
    assert after == before, (
        f"Signal.emit() changes reference counts (True/None before {before}, after {after}): "
        "this PySide6 build crashes the app under streaming. Use a PySide6 version without the bug."
    )
