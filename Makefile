# The two commands of the README. Each installs what it needs (idempotent, fast on a second run).
.PHONY: run test lint bench screenshot frozen msi sbom

run:  ## install everything and start the app on the default demo model
	bash scripts/setup.sh run

test:  ## install everything the tests need and run the whole suite (what .ci/run calls)
	bash scripts/setup.sh test

lint:
	.venv/bin/lint-imports

frozen:  ## PyInstaller build dist/Aktenlotse/ and its self-test offscreen (not part of `make test`; ~1-3 min)
	bash scripts/setup.sh build
	bash scripts/build_frozen.sh --selftest

msi: frozen  ## the MSI from the frozen build with wixl, checked with msiinfo (Linux payload: tests the pipeline)
	bash installer/build_msi.sh dist/Aktenlotse dist/Aktenlotse.msi

sbom:  ## CycloneDX SBOM and licence table of the run-time dependencies in dist/sbom/
	bash scripts/setup.sh build
	bash scripts/make_sbom.sh dist/sbom
