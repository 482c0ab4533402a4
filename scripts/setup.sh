#!/usr/bin/env bash
# Installs everything Aktenlotse needs on Debian, idempotently, then runs the app or the tests.
#   scripts/setup.sh run    system libraries, .venv, Python packages, default demo model; starts the app
#   scripts/setup.sh test   system libraries, .venv, Python packages + test extra, test model; runs lint-imports and pytest
#   scripts/setup.sh build  system libraries, .venv, Python packages + dev extra (PyInstaller, SBOM), test model; no run
# A second run is fast: apt and pip steps are skipped when nothing changed; pip's wheel cache keeps the
# compiled llama-cpp-python, so it is built once per machine.
set -euo pipefail

mode="${1:-}"
case "$mode" in run|test|build) ;; *) echo "usage: $0 run|test|build" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
unset PIP_NO_CACHE_DIR  # keep pip's cache: llama-cpp-python compiles for minutes and is cached as a wheel

# Portable CPU flags: a -march=native binary crashes on older office CPUs (docs/models.md).
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF}"

say() { printf '\033[1m[aktenlotse]\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "Bitte als root ausführen oder sudo installieren, um Systempakete zu installieren: $*" >&2; exit 1; fi
}

# --- 1. Debian packages: Qt runtime libraries, fonts, a compiler for llama-cpp-python, venv ---
APT_PKGS=(libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 fonts-dejavu-core
          build-essential python3-venv)
missing=()
for p in "${APT_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "$mode" = run ]; then
  # Qt's xcb platform plugin (X11 desktops); a desktop install has most of these already.
  for p in libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 \
           libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libx11-xcb1; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    for p in xvfb xauth; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "Systempakete: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- 2. Virtual environment and Python packages (skipped while pyproject.toml is unchanged) ---
if [ ! -x "$VENV/bin/python" ]; then
  say "Virtuelle Umgebung: $VENV"
  "$PY" -m venv "$VENV"
fi
extra=$(case "$mode" in test) echo "[test]" ;; build) echo "[dev]" ;; *) echo "" ;; esac)
stamp="$VENV/.aktenlotse-installed${extra}"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $CMAKE_ARGS"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "Python-Pakete (llama-cpp-python wird beim ersten Mal kompiliert, einige Minuten) …"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".${extra}"
  echo "$want" > "$stamp"
fi

# --- 3. Models: the test model for tests, the default demo model for the app ---
if [ "$mode" = test ] || [ "$mode" = build ]; then
  "$VENV/bin/python" scripts/fetch_models.py --role test
else
  "$VENV/bin/python" scripts/fetch_models.py --role default
fi

# --- 4. Go ---
if [ "$mode" = build ]; then
  exit 0  # scripts/build_frozen.sh, installer/build_msi.sh and scripts/make_sbom.sh take it from here
fi
if [ "$mode" = test ]; then
  export QT_QPA_PLATFORM=offscreen
  say "Architekturregeln (import-linter) …"
  "$VENV/bin/lint-imports"
  say "Tests …"
  exec "$VENV/bin/python" -m pytest "${@:2}"
fi
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  say "Keine grafische Sitzung gefunden: Aktenlotse startet auf einem virtuellen Bildschirm (Xvfb)."
  exec xvfb-run -a -s "-screen 0 1400x900x24" "$VENV/bin/aktenlotse" "${@:2}"
fi
exec "$VENV/bin/aktenlotse" "${@:2}"
