"""python -m tooling.starter generate|reinsert|check (see __init__.py)."""

import argparse
import json
import sys
from pathlib import Path

from tooling.starter import manifest as manifest_module
from tooling.starter.check import build, main_check
from tooling.starter.generate import RegenerateError, reference_files
from tooling.starter.inverse import compare, read_tree, reinsert
from tooling.starter.manifest import ManifestError
from tooling.starter.markers import MarkerError

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.starter")
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="write one assignment's starter repository")
    generate.add_argument("--assignment", type=int, choices=(1, 2, 3), required=True)
    generate.add_argument("--out", type=Path, required=True, help="a new directory")
    generate.add_argument("--record", type=Path, help="write the removed parts' map here "
                          "(JSON; it locates solutions: keep it out of the starter)")  # fmt: skip
    back = commands.add_parser("reinsert", help="starter + removed parts -> the reference")
    back.add_argument("--starter", type=Path, required=True)
    back.add_argument("--record", type=Path, required=True)
    back.add_argument("--out", type=Path, required=True, help="a new directory")
    check = commands.add_parser("check", help="generate, inverse, leak check, starter tests")
    check.add_argument("--assignment", type=int, choices=(1, 2, 3), action="append")
    check.add_argument("--tests", choices=("full", "quick", "none"), default="full")
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            starter = build(ROOT, args.assignment, args.out)
            if args.record:
                args.record.write_text(json.dumps(starter.record(), indent=1))
            todos = [region for ids in starter.todo_regions.values() for region in ids]
            print(
                f"{args.out}: starter {args.assignment}, {len(starter.files)} files, TODOs: {todos}"
            )
            return 0
        if args.command == "reinsert":
            record = json.loads(args.record.read_text())
            reference = {file.path: file for file in reference_files(ROOT)}
            starter_paths = [p for p in reference if p not in record["left_out"]]
            rebuilt = reinsert(read_tree(args.starter, starter_paths), record, reference)
            for path, data in rebuilt.items():
                (args.out / path).parent.mkdir(parents=True, exist_ok=True)
                (args.out / path).write_bytes(data)
            problems = compare(rebuilt, reference)
            print("\n".join(problems) or f"{args.out}: the reference, byte for byte")
            return 1 if problems else 0
        return main_check(ROOT, args.assignment or [1, 2, 3], args.tests)
    except (MarkerError, ManifestError, FileExistsError, RegenerateError) as error:
        print(f"starter: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

_ = manifest_module  # the manifest's location is documented in manifest.py
