"""The generator's inverse: a starter plus the reference's removed regions and files
gives the reference back, byte for byte.

reinsert() replays each changed file's edits (render.py): "=" lines come from the
starter, "-" lines from the reference, "+" lines (TODO markers, stubs) are dropped.
Files left out whole, or replaced (a stub file, a regenerated schema), come from the
reference. compare() names every file that differs.
"""

from pathlib import Path

from tooling.starter.generate import ReferenceFile


def reinsert(
    starter_files: dict[str, bytes], record: dict, reference: dict[str, ReferenceFile]
) -> dict[str, bytes]:
    rebuilt = {}
    for path, data in starter_files.items():
        if path in record["replaced"]:
            rebuilt[path] = reference[path].data
        elif path in record["edits"]:
            rebuilt[path] = replay(data, record["edits"][path], reference[path].data)
        else:
            rebuilt[path] = data
    for path in record["left_out"]:
        rebuilt[path] = reference[path].data
    return rebuilt


def replay(starter: bytes, edits: list, reference: bytes) -> bytes:
    starter_lines = starter.decode("utf-8").splitlines(keepends=True)
    reference_lines = reference.decode("utf-8").splitlines(keepends=True)
    out, position = [], 0
    for edit in edits:
        if edit[0] == "=":
            out.extend(starter_lines[position : position + edit[1]])
            position += edit[1]
        elif edit[0] == "+":
            position += edit[1]
        else:
            out.extend(reference_lines[edit[1] : edit[2]])
    if position != len(starter_lines):
        raise ValueError(f"{len(starter_lines) - position} starter lines the edits do not cover")
    return "".join(out).encode("utf-8")


def read_tree(root: Path, paths) -> dict[str, bytes]:
    return {
        path: (b"" if (root / path).is_symlink() else (root / path).read_bytes()) for path in paths
    }


def compare(rebuilt: dict[str, bytes], reference: dict[str, ReferenceFile]) -> list[str]:
    """What differs, one sentence per file; empty when the two are the same."""
    problems = []
    for path in sorted(set(rebuilt) | set(reference)):
        if path not in rebuilt:
            problems.append(f"{path}: in the reference, missing from starter + removed parts")
        elif path not in reference:
            problems.append(f"{path}: in the starter only")
        elif rebuilt[path] != reference[path].data:
            problems.append(f"{path}: starter + removed parts differ from the reference")
    return problems
