"""Writes the starter repository of one assignment from the reference (this checkout).

    starter = generate(reference_root, assignment=1)   # in memory: StarterFiles
    write_repository(starter, out_dir)                   # files, then `git init` + one commit

Every file git knows of (tracked, or new and not ignored) goes through the manifest
(instructor-only, arriving later, written by students) and then through its markers.
"""

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tooling.starter import manifest as manifest_module
from tooling.starter.markers import (
    LOOKS_LIKE_MARKER,
    MarkerError,
    Region,
    comment_syntax,
    parse,
    solution_regions,
)
from tooling.starter.render import render


class RegenerateError(Exception):
    pass


@dataclass
class ReferenceFile:
    path: str
    data: bytes
    mode: int  # 0o755 for scripts, else 0o644
    symlink: str | None = None

    @property
    def text(self) -> str | None:
        if b"\0" in self.data:
            return None
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            return None


@dataclass
class StarterFiles:
    assignment: int
    files: dict[str, ReferenceFile] = field(default_factory=dict)
    # How to get the reference back (inverse.py): per changed file its edits; the paths
    # left out whole; the paths whose content the starter replaced (a stub, a schema).
    edits: dict[str, list] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    # For the leak check: the reference's solutions this starter must not show.
    removed_solutions: dict[str, list[Region]] = field(default_factory=dict)
    removed_written: list[str] = field(default_factory=list)
    todo_regions: dict[str, list[str]] = field(default_factory=dict)

    def record(self) -> dict:
        return {
            "assignment": self.assignment,
            "edits": self.edits,
            "left_out": self.left_out,
            "replaced": self.replaced,
        }


def git_paths(root: Path, *which: str) -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", *which, "-z"], cwd=root, capture_output=True, check=True
    ).stdout.decode()
    return set(filter(None, listed.split("\0")))


def reference_files(root: Path) -> list[ReferenceFile]:
    """The files git knows of: tracked, or new and not ignored (a work tree's symlinks
    to a shared .venv are neither part of the reference nor of a starter)."""
    tracked = git_paths(root, "--cached")
    untracked = git_paths(root, "--others", "--exclude-standard") - tracked
    files = []
    for path in sorted(tracked | untracked):
        full = root / path
        if path in untracked and full.is_symlink():
            continue
        if full.is_symlink():
            files.append(ReferenceFile(path, b"", 0o644, symlink=os.readlink(full)))
        elif full.is_file():  # a tracked file deleted in the work tree is left out
            mode = 0o755 if os.access(full, os.X_OK) else 0o644
            files.append(ReferenceFile(path, full.read_bytes(), mode))
    return files


def generate(
    root: Path, assignment: int, manifest: manifest_module.Manifest | None = None
) -> StarterFiles:
    manifest = manifest or manifest_module.load()
    starter = StarterFiles(assignment)
    for file in reference_files(root):
        fate, _ = manifest.fate(file.path, assignment)
        if fate == "instructor":
            starter.left_out.append(file.path)
            continue
        if fate in ("later", "absent-stub"):
            starter.left_out.append(file.path)
            if is_written(manifest, file.path):
                starter.removed_written.append(file.path)
            continue
        if fate == "stub":
            stub = (manifest_module.STUBS / file.path).read_bytes()
            starter.files[file.path] = ReferenceFile(file.path, stub, file.mode)
            starter.replaced.append(file.path)
            starter.removed_written.append(file.path)
            continue
        starter.files[file.path] = apply_markers(file, starter)
    return starter


def is_written(manifest: manifest_module.Manifest, path: str) -> bool:
    return any(
        manifest_module.matches(path, pattern)
        for entry in manifest.assignments.values()
        for pattern in entry.written
    )


def apply_markers(file: ReferenceFile, starter: StarterFiles) -> ReferenceFile:
    text = file.text
    if text is None or file.symlink is not None:
        return file
    syntax = comment_syntax(file.path, text.split("\n", 1)[0])
    if syntax is None:
        for number, line in enumerate(text.splitlines(), start=1):
            if LOOKS_LIKE_MARKER.match(line.strip()):
                raise MarkerError(
                    file.path,
                    number,
                    "a marker in a file type the generator does not know the comments of "
                    "(tooling/starter/markers.py: SYNTAX_BY_SUFFIX); use the manifest instead",
                )
        return file
    rendered = render(parse(file.path, text, syntax), starter.assignment, syntax)
    if rendered.edits == [("=", len(rendered.lines))] or not rendered.edits:
        return file
    starter.edits[file.path] = [list(edit) for edit in rendered.edits]
    if rendered.removed_solutions:
        starter.removed_solutions[file.path] = rendered.removed_solutions
    if rendered.todo_regions:
        starter.todo_regions[file.path] = rendered.todo_regions
    return ReferenceFile(file.path, rendered.text.encode("utf-8"), file.mode)


def check_unique_ids(root: Path, manifest: manifest_module.Manifest | None = None) -> None:
    """Every SOLUTION id once in the whole reference: MarkerError at the second one."""
    manifest = manifest or manifest_module.load()
    seen: dict[str, str] = {}
    for file in reference_files(root):
        text = file.text
        if text is None or manifest.fate(file.path, 3)[0] == "instructor":
            continue
        syntax = comment_syntax(file.path, text.split("\n", 1)[0])
        if syntax is None:
            continue
        for region in solution_regions(parse(file.path, text, syntax)):
            where = f"{file.path}:{region.begin.number}"
            if region.region_id in seen:
                raise MarkerError(
                    file.path,
                    region.begin.number,
                    f"the id {region.region_id} is already used at {seen[region.region_id]}",
                )
            seen[region.region_id] = where


def write_files(starter: StarterFiles, out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: give a new directory")
    out.mkdir(parents=True, exist_ok=True)
    for file in starter.files.values():
        target = out / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if file.symlink is not None:
            target.symlink_to(file.symlink)
            continue
        target.write_bytes(file.data)
        target.chmod(file.mode)


def regenerate(starter: StarterFiles, out: Path, python: str, manifest=None) -> None:
    """Files the markers cannot reach (docs/openapi.json: JSON has no comments), written
    again by a command run in the written starter; `python` replaces "{python}"."""
    manifest = manifest or manifest_module.load()
    for entry in manifest.assignments[starter.assignment].regenerate:
        command = [part.replace("{python}", python) for part in entry["command"]]
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        path = entry["path"]
        result = subprocess.run(command, cwd=out, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RegenerateError(
                f"writing {path} in starter {starter.assignment} failed ({' '.join(command)}):\n"
                + "\n".join(result.stderr.splitlines()[-15:])
            )
        starter.files[path] = ReferenceFile(path, (out / path).read_bytes(), 0o644)
        if path not in starter.replaced:
            starter.replaced.append(path)
            starter.edits.pop(path, None)


def commit(starter: StarterFiles, out: Path, *, commit_date: str) -> None:
    """One commit holding every file: no history of the reference."""
    git = ["git", "-c", "user.name=bird.ai starter", "-c", "user.email=starter@bird.ai.invalid"]
    subprocess.run([*git, "init", "--quiet", "--initial-branch=main"], cwd=out, check=True)
    # --force: every file written belongs in the repository, ignored or not.
    subprocess.run([*git, "add", "--all", "--force", "--", *starter.files], cwd=out, check=True)
    # The reference's commit date: the same reference gives the same commit id.
    dated = {**os.environ, "GIT_AUTHOR_DATE": commit_date, "GIT_COMMITTER_DATE": commit_date}
    subprocess.run(
        [*git, "commit", "--quiet", "--no-verify", "-m",
         f"Starter code for assignment {starter.assignment} of bird.ai"],
        cwd=out, check=True, env=dated,
    )  # fmt: skip
