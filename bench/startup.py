"""Start-up time: process start to main window shown (prints, does not assert).

Spawns `python -m app --quit-after-shown` (the bootstrap's hook: builds config, model selection and the
window, shows it, starts loading the model in the background, prints `window_shown_s=` with the model's
state at that moment and closes) in a fresh process,
several times, with an isolated AKTENLOTSE_HOME and an empty policy. The wall-clock figure is measured
from the spawn to that line, so it includes interpreter start and all imports.

    QT_QPA_PLATFORM=offscreen python bench/startup.py --runs 5
    python bench/startup.py --mode window   # a minimal script that builds the window like the bootstrap
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Builds the window the way the bootstrap does, over the fake model (no llama.cpp import).
WINDOW_SCRIPT = """
import sys, time
sys.path.insert(0, {repo!r})
from PySide6.QtWidgets import QApplication
from app.config import load_config
from app.services.model_service import ModelService
from app.ui.main_window import MainWindow
from app.ui.style import apply_app_style
from tests.gui.fakes import FakeLanguageModel
app = QApplication(sys.argv[:1])
apply_app_style(app)
window = MainWindow(load_config(), ModelService(FakeLanguageModel()), None)
window.show()
app.processEvents()
print("window_shown", flush=True)
"""


def run_once(mode: str, env: dict[str, str]) -> tuple[float, float | None]:
    """(wall-clock seconds from spawn to "shown", the process's own figure if it prints one)."""
    if mode == "app":
        command = [sys.executable, "-m", "app", "--quit-after-shown"]
    else:
        command = [sys.executable, "-c", WINDOW_SCRIPT.format(repo=str(REPO))]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    own: float | None = None
    shown_at: float | None = None
    for line in process.stdout:
        if line.startswith("window_shown"):
            shown_at = time.perf_counter() - started
            if "=" in line:
                own = float(line.split("=", 1)[1].split()[0])
            break
    _out, err = process.communicate(timeout=60)
    if shown_at is None:
        raise RuntimeError(f"{' '.join(command)} never showed the window (exit {process.returncode}):\n{err[-2000:]}")
    return shown_at, own


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mode", choices=("app", "window"), default="app")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as home:
        policy = Path(home) / "policy.toml"
        policy.write_text("", encoding="utf-8")
        env = {**os.environ, "AKTENLOTSE_HOME": home, "AKTENLOTSE_POLICY": str(policy)}
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        mode = args.mode
        try:
            run_once(mode, env)  # warm-up: file cache, .pyc files
        except RuntimeError as exc:
            if mode != "app":
                raise
            print(f"`python -m app --quit-after-shown` failed, measuring the window script instead:\n{exc}")
            mode = "window"
            run_once(mode, env)
        walls, owns = [], []
        for _ in range(args.runs):
            wall, own = run_once(mode, env)
            walls.append(wall)
            if own is not None:
                owns.append(own)
    what = "python -m app --quit-after-shown" if mode == "app" else "window script (fake model)"
    print(f"start-up to window shown, {what}, {args.runs} runs after one warm-up:")
    print(f"  wall clock from spawn: median {statistics.median(walls):.3f} s  min {min(walls):.3f} s  max {max(walls):.3f} s")
    if owns:
        print(f"  inside the process (from bootstrap import): median {statistics.median(owns):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
