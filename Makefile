# Shortcuts; the scripts under scripts/ do the work and can be run directly.
.PHONY: run test bench lint

run:
	scripts/run

test:
	scripts/test

bench:
	scripts/setup --test
	.venv/bin/python -m bench

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
