#!/usr/bin/env bash
# SBOM (CycloneDX JSON) of the runtime dependencies installed in .venv, plus a licence table for the admin guide.
#   bash scripts/make_sbom.sh [OUT_DIR]      (default: dist/sbom)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-dist/sbom}"
mkdir -p "$out"
py=.venv/bin/python
if ! .venv/bin/cyclonedx-py --version >/dev/null 2>&1; then
    .venv/bin/pip install -q "cyclonedx-bom>=4,<8"
fi
# Only what the app needs at run time: the dependency closure of the aktenlotse distribution.
.venv/bin/cyclonedx-py environment --pyproject pyproject.toml --output-format JSON --output-reproducible \
    --output-file "$out/aktenlotse.cdx.json" "$py"
"$py" scripts/sbom_licences.py "$out/aktenlotse.cdx.json" > "$out/licences.md"
echo "SBOM: $out/aktenlotse.cdx.json ($(grep -c '"bom-ref"' "$out/aktenlotse.cdx.json") components), licences: $out/licences.md"
