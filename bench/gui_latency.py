"""GUI event-loop latency while an answer streams into the "Modell testen" box (prints, does not assert).

A precise 10 ms QTimer runs in the GUI thread; every tick records how late it came. Meanwhile the real
MainWindow streams answers through the task runner: from the fake model (default, 500 pieces/s, faster
than any CPU model) or from a real GGUF model with --model. Target: p99 lateness < 50 ms.

    QT_QPA_PLATFORM=offscreen python bench/gui_latency.py
    QT_QPA_PLATFORM=offscreen python bench/gui_latency.py --model models/SmolLM2-135M-Instruct.Q4_1.gguf
    QT_QPA_PLATFORM=offscreen python bench/gui_latency.py --batch-ms 0     # without batching, for comparison
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.config import load_config  # noqa: E402
from app.core.llm import ModelState  # noqa: E402
from app.core.models import CheckStatus, ModelSelection  # noqa: E402
from app.services.model_service import ModelService  # noqa: E402
from app.ui import task_runner  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.style import apply_app_style  # noqa: E402

TICK_MS = 10
PROMPT = "Erkläre ausführlich, wie ein Widerspruchsverfahren in der Verwaltung abläuft."


class LatencyProbe:
    """Records how late each tick of a precise timer fires."""

    def __init__(self) -> None:
        self.lateness_ms: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_tick)
        self._last = 0.0

    def start(self) -> None:
        self.lateness_ms.clear()
        self._clock.start()
        self._last = 0.0
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _on_tick(self) -> None:
        now = self._clock.nsecsElapsed() / 1e6
        self.lateness_ms.append(max(0.0, now - self._last - TICK_MS))
        self._last = now


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(name: str, values: list[float]) -> None:
    if not values:
        print(f"{name:<28} no samples")
        return
    print(
        f"{name:<28} ticks={len(values):5d}  p50={percentile(values, 50):6.2f} ms  "
        f"p99={percentile(values, 99):6.2f} ms  max={max(values):6.2f} ms  mean={statistics.fmean(values):5.2f} ms"
    )


def build_window(model_path: Path | None, piece_delay: float) -> MainWindow:
    if model_path is not None:
        from app.adapters.llama_cpp_model import LlamaCppModel
        from app.adapters.model_files import GgufModelFiles

        info = GgufModelFiles().inspect(model_path)
        model = LlamaCppModel(info)
    else:
        from tests.gui.fakes import FakeLanguageModel

        model = FakeLanguageModel(endless=True, piece_delay=piece_delay)
        info = model.info
    selection = ModelSelection(Path(info.path), CheckStatus.UNVERIFIED, info, None, None, None, "Benchmark")
    return MainWindow(load_config(os.environ), ModelService(model), selection)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="real GGUF model (default: fake model)")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to stream (default 5)")
    parser.add_argument("--piece-delay", type=float, default=0.002, help="fake model: seconds per piece")
    parser.add_argument("--batch-ms", type=int, default=task_runner.BATCH_INTERVAL_MS, help="batch interval")
    args = parser.parse_args(argv)
    task_runner.BATCH_INTERVAL_MS = args.batch_ms

    with tempfile.TemporaryDirectory() as home:
        os.environ["AKTENLOTSE_HOME"] = home
        empty_policy = Path(home) / "policy.toml"
        empty_policy.write_text("", encoding="utf-8")
        os.environ["AKTENLOTSE_POLICY"] = str(empty_policy)
        app = QApplication.instance() or QApplication(sys.argv[:1])
        apply_app_style(app)
        window = build_window(args.model, args.piece_delay)
        window.show()
        probe = LatencyProbe()
        box = window.model_test_box
        results: dict[str, list[float]] = {}
        stats = {"pieces": 0, "batches": 0, "chars": 0, "generations": 0}
        deadline = [0.0]
        loaded_after: list[float] = []

        def measure_idle_then_stream() -> None:
            results["idle (model ready)"] = list(probe.lateness_ms)
            probe.start()
            deadline[0] = time.monotonic() + args.seconds
            QTimer.singleShot(int(args.seconds * 1000), box.cancel)
            start_generation()

        def start_generation() -> None:
            box.prompt_edit.setPlainText(PROMPT)
            task = box.send()
            if task is None:
                raise SystemExit("could not start a generation: " + box.reason_label.text())
            task.partial_result.connect(on_text)

        def on_text(text: str) -> None:
            stats["batches"] += 1
            stats["chars"] += len(text)

        def on_generation_finished(_outcome: str) -> None:
            stats["generations"] += 1
            if time.monotonic() < deadline[0]:
                start_generation()  # a real model stops at max_tokens; keep streaming until the deadline
                return
            probe.stop()
            results["streaming"] = list(probe.lateness_ms)
            app.quit()

        def on_state(state: ModelState) -> None:
            if state is ModelState.READY:
                loaded_after.append(time.monotonic() - load_clock)
                probe.start()
                QTimer.singleShot(1000, measure_idle_then_stream)
            elif state is ModelState.ERROR:
                print("model error:", window.model_status.block_reason())
                app.quit()

        box.generation_finished.connect(on_generation_finished)
        window.model_status.state_changed.connect(on_state)
        load_clock = time.monotonic()
        window.start_model_loading()
        app.exec()
        if args.model:
            print(f"model: {args.model} (loaded in {loaded_after[0]:.1f} s)")
        else:
            print(f"model: fake, {args.piece_delay * 1000:.1f} ms per piece")
        print(f"batch interval: {args.batch_ms} ms, tick: {TICK_MS} ms, streamed {args.seconds:.0f} s")
        for name, values in results.items():
            report(name, values)
        secs = max(args.seconds, 1e-9)
        print(
            f"streamed: {stats['chars']} chars in {stats['batches']} GUI updates "
            f"({stats['batches'] / secs:.1f} updates/s) over {stats['generations']} generation(s)"
        )
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
