"""`make autograder-zip`: the zip an instructor uploads to Gradescope.

Gradescope wants setup.sh and run_autograder at the zip's root, and unpacks the rest
beside them in /autograder/source. Besides those two, the zip holds:

- the grader's code: the autograder package and tooling/loadtest/ (the Locust workload
  the load test uses as a library), and every module of the repository those import,
  found by reading their imports, so a new import cannot be forgotten;
- requirements-autograder.txt, the pinned packages setup.sh installs;
- the photos the checks send (PHOTOS), with their sources and licences;
- with --alert-url, autograder.env: the staff's webhook for grader errors.

The zip is the same bytes for the same files (sorted, one fixed date), so two builds
can be compared.
"""

import argparse
import ast
import re
import sys
import zipfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
GRADESCOPE = Path(__file__).resolve().parent
ROOT_FILES = {  # name in the zip: file in the repository (executable?)
    "setup.sh": (GRADESCOPE / "setup.sh", True),
    "run_autograder": (GRADESCOPE / "run_autograder", True),
    "requirements-autograder.txt": (REPOSITORY / "requirements-autograder.txt", False),
}
CODE_ROOTS = ["autograder", "tooling/loadtest"]  # every module below these, and their imports
DATA_FILES = [
    "autograder/results.schema.json",
    "autograder/assignment.json",  # the instance types per tier (aws_checks.py)
    "autograder/prices.json",  # the cost guard's dated price table
    "autograder/reference_answers.json",  # the reference model's labels (http_checks.py)
    "docs/aws/grader-read-only-policy.json",  # the calls the AWS checks may make
    "docker/nginx/proxy.env",  # tooling/servers/nginx.py reads it when imported
]
PHOTOS = [  # the photos tooling/loadtest/photos.py and the HTTP checks send
    "tests/testdata/README.md",
    "tests/testdata/birds/*",
    "tests/testdata/exif/gps/*",
    "tests/testdata/exif/orientation/*",
]
FIXED_DATE = (2026, 1, 1, 0, 0, 0)


def python_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def module_file(module: str) -> Path | None:
    """The repository's file for `module` (a package's __init__.py), or None if the
    module is not the repository's (the standard library, an installed package)."""
    base = REPOSITORY.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, by absolute name, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def with_parent_packages(path: Path) -> set[Path]:
    """A module's file and the __init__.py of every package above it."""
    files = {path}
    folder = path.parent
    while folder != REPOSITORY:
        files.add(folder / "__init__.py")
        folder = folder.parent
    return {file for file in files if file.is_file()}


def code_files() -> tuple[set[Path], set[str]]:
    """The repository's Python files the grader needs, and the top-level names of the
    other modules they import (the standard library's and installed packages')."""
    todo = [path for root in CODE_ROOTS for path in python_files(REPOSITORY / root)]
    found: set[Path] = set()
    outside: set[str] = set()
    while todo:
        path = todo.pop()
        if path in found:
            continue
        found.add(path)
        for module in imported_modules(path):
            file = module_file(module)
            if file is None:
                if module_file(module.partition(".")[0]) is None:
                    outside.add(module.partition(".")[0])
                continue
            todo.extend(with_parent_packages(file) - found)
    return found, outside - set(sys.stdlib_module_names)


def zip_contents() -> dict[str, tuple[Path, bool]]:
    """Every file of the zip: its name in the zip, its file, whether it is executable."""
    contents = dict(ROOT_FILES)
    python, _ = code_files()
    data = [REPOSITORY / name for name in DATA_FILES]
    photos = [path for pattern in PHOTOS for path in sorted(REPOSITORY.glob(pattern))]
    for path in [*python, *data, *photos]:
        if path.is_file():
            contents[path.relative_to(REPOSITORY).as_posix()] = (path, False)
    return contents


def build(out: Path, alert_url: str = "") -> Path:
    """Writes the zip; with `alert_url`, an autograder.env that run_autograder reads, so
    the staff's webhook stays out of the repository."""
    files = {name: (path.read_bytes(), executable) for name, (path, executable) in
             zip_contents().items()}  # fmt: skip
    if alert_url:
        if not re.fullmatch(r"https?://[^\s'\"\\]+", alert_url):
            raise ValueError(f"{alert_url!r} is not an http(s) URL without quotes or spaces")
        files["autograder.env"] = (f"AUTOGRADER_ALERT_URL='{alert_url}'\n".encode(), False)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        for name, (data, executable) in sorted(files.items()):
            entry = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = (0o100755 if executable else 0o100644) << 16
            archive.writestr(entry, data)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope.build_zip")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "var" / "autograder.zip")
    parser.add_argument("--alert-url", default="", help="the staff's webhook for grader errors")
    args = parser.parse_args(argv)
    out = build(args.out, args.alert_url)
    _, packages = code_files()
    print(f"{out}: {len(zip_contents())} files; imports from installed packages: "
          f"{', '.join(sorted(packages))}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
