#!/usr/bin/env bash
# Build the frozen (PyInstaller onedir) app: dist/Aktenlotse/. See docs/deployment-build.md.
#
#   scripts/build_frozen.sh [--with-test-model] [--selftest] [--skip-build]
#
#   --with-test-model  copy the test model (manifest role "test") into dist/Aktenlotse/models/
#   --selftest         run `dist/Aktenlotse/aktenlotse --selftest` offscreen and exit with its code
#                      (implies --with-test-model)
#   --skip-build       reuse an existing dist/Aktenlotse/ (e.g. to re-run the self-test)
#
# Environment: PYTHON (default: .venv/bin/python of the checkout, else python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

WITH_MODEL=0
SELFTEST=0
BUILD=1
for arg in "$@"; do
    case "$arg" in
        --with-test-model) WITH_MODEL=1 ;;
        --selftest) SELFTEST=1; WITH_MODEL=1 ;;
        --skip-build) BUILD=0 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown option: $arg" >&2; exit 2 ;;
    esac
done

if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi

DIST="$ROOT/dist/Aktenlotse"
if [[ "$BUILD" == 1 ]]; then
    start=$(date +%s)
    "$PYTHON" -m PyInstaller --noconfirm --clean build.spec
    echo "Build time: $(( $(date +%s) - start )) s"
fi
[[ -d "$DIST" ]] || { echo "missing $DIST (build first)" >&2; exit 1; }

# models/ lives beside the executable, outside the bundle. build.spec already copies the manifest; do it again so
# --skip-build also repairs a dist folder.
mkdir -p "$DIST/models"
cp "$ROOT/models/manifest.toml" "$DIST/models/manifest.toml"
if [[ "$WITH_MODEL" == 1 ]]; then
    test_model="$("$PYTHON" - <<'EOF'
import tomllib
with open("models/manifest.toml", "rb") as f:
    print(next(m["file"] for m in tomllib.load(f)["model"] if m.get("role") == "test"))
EOF
)"
    if [[ ! -f "$ROOT/models/$test_model" ]]; then
        echo "test model models/$test_model missing: python scripts/fetch_models.py --role test" >&2
        exit 1
    fi
    cp "$ROOT/models/$test_model" "$DIST/models/"
fi

echo "dist size: $(du -sh "$DIST" | cut -f1) (without models/: $(du -sh --exclude=models "$DIST" | cut -f1))"

if [[ "$SELFTEST" == 1 ]]; then
    start=$(date +%s)
    set +e
    QT_QPA_PLATFORM=offscreen "$DIST/aktenlotse" --selftest
    rc=$?
    set -e
    echo "Frozen self-test exit code $rc after $(( $(date +%s) - start )) s"
    exit "$rc"
fi
