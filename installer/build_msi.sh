#!/usr/bin/env bash
# Build the Aktenlotse MSI with wixl (Debian msitools) from a PyInstaller onedir dist folder and check it.
#
#   installer/build_msi.sh DIST_DIR [OUT.msi] [VERSION]
#
#   DIST_DIR  the frozen app folder (dist/Aktenlotse, with aktenlotse.exe for a real Windows MSI)
#   OUT.msi   default: dist/Aktenlotse-<VERSION>-x64.msi
#   VERSION   MSI ProductVersion a.b.c; default: version from pyproject.toml
#
# On Linux the Linux dist (executable `aktenlotse`, no .exe) only stands in as payload to test this pipeline;
# the MSI for Windows is built from the Windows dist by .github/workflows/windows.yml (candle/light).
# *.gguf model files in DIST are left out unless AKTENLOTSE_MSI_INCLUDE_MODELS=1.
# Exit status: 0 built and all checks passed, 1 a check failed, 2 usage/tool error.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
WXS="$HERE/aktenlotse.wxs"
PY="${PYTHON:-python3}"

die() { echo "build_msi.sh: $*" >&2; exit 2; }

[ $# -ge 1 ] && [ $# -le 3 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
DIST="$1"
[ -d "$DIST" ] || die "dist folder '$DIST' does not exist (build it with: pyinstaller build.spec)"
DIST="$(cd "$DIST" && pwd)"
VERSION="${3:-$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$REPO/pyproject.toml" | head -n1)}"
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION '$VERSION' is not a.b.c (MSI ProductVersion)"
OUT="${2:-$REPO/dist/Aktenlotse-$VERSION-x64.msi}"
mkdir -p "$(dirname "$OUT")"
OUT="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"

# -- tools ---------------------------------------------------------------------------------------------
need_tools() { for t in wixl wixl-heat msiinfo msibuild; do command -v "$t" >/dev/null || return 1; done; }
if ! need_tools; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "==> installing wixl and msitools with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wixl msitools >/dev/null
    fi
    need_tools || die "wixl, wixl-heat, msiinfo and msibuild are needed: sudo apt-get install wixl msitools"
fi
command -v "$PY" >/dev/null || die "python3 is needed (installer/msi_tool.py, standard library only)"

echo "==> Aktenlotse MSI $VERSION"
echo "    payload: $DIST"
echo "    output:  $OUT"
echo "    $(wixl --version 2>&1 | head -n1 | sed 's/^/wixl /')"
EXPECT_EXE=""
if [ -f "$DIST/aktenlotse.exe" ]; then
    EXPECT_EXE="--expect-exe"
else
    echo "    NOTE: $DIST has no aktenlotse.exe – a Linux dist standing in as payload; this MSI tests the"
    echo "          pipeline only and is not installable in a useful way (the Windows MSI comes from CI)."
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# -- harvest the dist folder (wixl-heat) -------------------------------------------------------------------
echo "==> wixl-heat: harvesting $DIST into component group AppFiles"
PARENT="$(dirname "$DIST")"
BASE="$(basename "$DIST")"
(
    cd "$PARENT"
    # -L: symlinks (PyInstaller's Linux dists have some) are harvested as the files they point to (an MSI has no
    # symlinks); dangling ones are skipped.
    if [ "${AKTENLOTSE_MSI_INCLUDE_MODELS:-0}" = 1 ]; then
        find -L "$BASE" \( -type d -o -type f \) -not -path "$BASE/models/.stamps*"
    else
        find -L "$BASE" \( -type d -o -type f \) -not -path "$BASE/models/.stamps*" -not -name '*.gguf'
    fi | LC_ALL=C sort | wixl-heat --prefix "$BASE/" --directory-ref INSTALLDIR --component-group AppFiles \
        --var var.SourceDir --win64
) >"$WORK/files.wxs"
echo "    $(grep -c '<File ' "$WORK/files.wxs") files"

# -- build (wixl) --------------------------------------------------------------------------------------------
echo "==> wixl: building"
rm -f "$OUT"
# wixl 0.101 warns about attributes it does not know (Permanent, Secure, Schedule, ...): msi_tool.py fixup
# applies the ones that matter; the warnings are kept in $WORK/wixl.log and summarised.
# wixl resolves File/@Source relative to the working directory (absolute paths fail), hence cd + relative SourceDir.
if ! (cd "$PARENT" && wixl -a x64 -D WIXL=1 -D Win64=yes -D "Version=$VERSION" -D "SourceDir=$BASE" \
        -o "$OUT" "$WXS" "$WORK/files.wxs") 2>"$WORK/wixl.log"; then
    cat "$WORK/wixl.log" >&2
    die "wixl failed"
fi
grep -v -e '^$' -e 'has no property named' "$WORK/wixl.log" >&2 || true
ignored="$(grep -o "has no property named '[A-Za-z]*'" "$WORK/wixl.log" | sed "s/.*'\(.*\)'/\1/" | sort -u | tr '\n' ' ')"
[ -z "$ignored" ] || echo "    wixl ignored attributes: $ignored(fixed up below where they matter)"

echo "==> msi_tool.py fixup: component conditions, Permanent, SecureCustomProperties (msibuild)"
"$PY" "$HERE/msi_tool.py" fixup "$WXS" "$OUT"

# -- check (msiinfo) ------------------------------------------------------------------------------------------
echo "==> checks (msiinfo)"
status=0
"$PY" "$HERE/msi_tool.py" check "$WXS" "$OUT" "$VERSION" $EXPECT_EXE || status=1

echo "==> msiinfo export $(basename "$OUT") Registry"
msiinfo export "$OUT" Registry
echo "==> msiinfo export $(basename "$OUT") Shortcut"
msiinfo export "$OUT" Shortcut | cut -f1-5,12
echo "==> msiinfo export $(basename "$OUT") Upgrade"
msiinfo export "$OUT" Upgrade

if [ "$status" = 0 ]; then
    echo "==> OK: $OUT ($(du -h "$OUT" | cut -f1))"
else
    echo "==> FAILED: $OUT does not pass the checks" >&2
fi
exit "$status"
