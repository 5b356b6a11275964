"""Dangling names: no file of a starter names a path that starter does not have.

A path the reference has and starter N does not is instructor-only (the manifest's
[instructor]) or arrives with a later assignment (its `arrives`, its `written`). A
student who reads `see docs/autograder.md` or `tests/history/test_submissions.py` in
their starter looks for a file that is not there; a later assignment's path also tells
them what is coming before it is given. So every text file of the starter (prose, docs,
comments, code) is read for path tokens, and a token names a missing path when it is

- a missing file's path (`docs/autograder.md`, `Dockerfile`, `scripts/stack`);
- a missing folder's path with a slash in it (`deploy/terraform`, `history/`,
  `tests/history`): a folder at the top without its slash (`history`, `bench`) is a
  word of the prose, not a path;
- a path inside a missing folder (`deploy/terraform/*.tf`, `history/anything.py`);
- a dotted Python module of a missing file or package (`autograder.photos`,
  `tooling.servers.redis`);
- any of these relative to the folder of the file it is in, when it has a slash or a
  dot (`../deploy/ansible/README.md` in a doc's link, `redis_cache.py` in a package's
  docstring), never a word alone (`stack` in scripts/ is prose, not scripts/stack).

A token is a run of letters, digits, `_ . - * /` that does not follow a letter, a dot
or a slash (so `/history/` in a URL, or `example.com/autograder/`, is no token of
its own); a sentence's full stop or a trailing colon is not part of it. Names that
are fine where they are go in the manifest's [dangling_names] allowed list, as
`file: name`, each with its reason.
"""

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tooling.starter.generate import StarterFiles, reference_files
from tooling.starter.manifest import Manifest
from tooling.starter.markers import MarkerError

TOKEN = re.compile(r"(?<![\w./*-])[\w.*-]+(?:/[\w.*-]+)*/?")
MODULE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")


@dataclass(frozen=True)
class DanglingName:
    found_in: str  # the starter's file:line
    name: str  # the token as written
    why: str  # "instructor-only", "arrives with assignment 2", ...
    line: str  # the line, stripped

    def __str__(self) -> str:
        return f"{self.found_in}: names {self.name} ({self.why}): {self.line[:120]}"


class DanglingNames(MarkerError):
    """The reference's markers leave names of missing paths in a starter: mark those
    lines (ASSIGNMENT N, INSTRUCTOR) or reword them."""

    def __init__(self, assignment: int, found: list[DanglingName]) -> None:
        Exception.__init__(
            self,
            f"starter {assignment} names paths it does not have (mark or reword them in "
            "the reference):\n  " + "\n  ".join(str(name) for name in found),
        )


def missing_paths(
    reference_paths: list[str], starter: StarterFiles, manifest: Manifest
) -> tuple[dict[str, str], dict[str, str]]:
    """({missing file: why}, {missing folder: why}): the reference's paths this starter
    does not have, and the folders none of its files is in."""
    assignment = starter.assignment
    files = {}
    for path in reference_paths:
        if path not in starter.files:
            files[path] = why_missing(manifest, path, assignment)
    present_folders = {
        str(parent) for path in starter.files for parent in PurePosixPath(path).parents
    }
    folders: dict[str, str] = {}
    for path, why in sorted(files.items()):
        for parent in PurePosixPath(path).parents:
            folder = str(parent)
            if folder == "." or folder in present_folders:
                continue
            # A folder's reason: its first file's (instructor-only, or its assignment).
            folders.setdefault(folder, why)
    return files, folders


def why_missing(manifest: Manifest, path: str, assignment: int) -> str:
    fate, number = manifest.fate(path, assignment)
    if fate == "instructor":
        return "instructor-only"
    if fate == "later":
        return f"arrives with assignment {number}"
    if fate == "absent-stub":
        return f"written by students in assignment {number}"
    return "not in this starter"


def named_path(
    token: str, files: dict[str, str], folders: dict[str, str], here: str = ""
) -> str | None:
    """The reason the missing path this token names is missing, or None. `here` is the
    folder of the file the token is in: a name may be relative to it, as a Markdown
    link (`../deploy/ansible/README.md`) or a package's docstring (`redis_cache.py`)."""
    path = token.rstrip(".:,")
    if here and ("/" in path or "." in path):  # a word alone ("stack") is prose
        relative = posixpath.normpath(posixpath.join(here, path))
        if not relative.startswith("..") and (relative in files or relative in folders):
            return files.get(relative) or folders[relative]
    if path in files:
        return files[path]
    if "/" in path and path.rstrip("/") in folders:
        return folders[path.rstrip("/")]
    parts = path.split("/")
    for end in range(1, len(parts)):
        inside = "/".join(parts[:end])
        if inside in folders:
            return folders[inside]
    if MODULE.match(path):
        module = path.replace(".", "/")
        return files.get(f"{module}.py") or folders.get(module)
    return None


def find_dangling(
    starter: StarterFiles, reference_paths: list[str], manifest: Manifest, allowed: list[str]
) -> list[DanglingName]:
    files, folders = missing_paths(reference_paths, starter, manifest)
    allowed_set = {entry.strip() for entry in allowed}
    found = []
    for path, file in sorted(starter.files.items()):
        text = file.text
        if text is None or file.symlink is not None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for token in TOKEN.findall(line):
                why = named_path(token, files, folders, posixpath.dirname(path))
                name = token.rstrip(".:,")
                if why is not None and f"{path}: {name}" not in allowed_set:
                    found.append(DanglingName(f"{path}:{number}", name, why, line.strip()))
    return found


def check_dangling(root: Path, starter: StarterFiles, manifest: Manifest) -> None:
    """Raise DanglingNames (a MarkerError: the reference's markers are incomplete)."""
    paths = [file.path for file in reference_files(root)]
    found = find_dangling(starter, paths, manifest, manifest.dangling_allowed)
    if found:
        raise DanglingNames(starter.assignment, found)
