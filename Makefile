# The two commands of the README. Each installs what it needs (idempotent, fast on a second run).
.PHONY: run test lint bench screenshot

run:  ## install everything and start the app on the default demo model
	bash scripts/setup.sh run

test:  ## install everything the tests need and run the whole suite (what .ci/run calls)
	bash scripts/setup.sh test

lint:
	.venv/bin/lint-imports
