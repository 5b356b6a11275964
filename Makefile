# Shortcuts; the scripts under scripts/ do the work and can be run directly.
.PHONY: run test bench lint container-test

run:
	scripts/run

test:
	scripts/test

# Builds the image and runs the whole docker compose stack (needs root; see the script).
container-test:
	scripts/container-test

bench:
	scripts/setup --test
	.venv/bin/python -m bench

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
