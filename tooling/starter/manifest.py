"""The manifest (tooling/starter/manifest.toml): what happens to whole files.

A pattern is a path ("Dockerfile"), a folder ending in "/" ("geo/"), or a glob whose
"*" also crosses folders ("deploy/terraform/*.tf").
"""

import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tooling.starter.markers import ASSIGNMENTS

MANIFEST = Path(__file__).with_name("manifest.toml")
STUBS = Path(__file__).with_name("stubs")  # stubs/<path>: a written file's stub


class ManifestError(Exception):
    pass


def matches(path: str, pattern: str) -> bool:
    if pattern.endswith("/"):
        return path.startswith(pattern)
    return path == pattern or fnmatch.fnmatchcase(path, pattern)


@dataclass
class Assignment:
    number: int
    arrives: list[str] = field(default_factory=list)  # given: absent from earlier starters
    written: list[str] = field(default_factory=list)  # students write: a stub, or absent
    # Run in the generated starter, each writing one file the markers cannot reach (a
    # JSON schema): {"path": ..., "command": [...]}.
    regenerate: list[dict] = field(default_factory=list)
    ready: bool = False  # starter-check runs this starter's tests
    expected_failing: list[str] = field(default_factory=list)  # pytest node ids
    # What `starter-check --tests quick` runs of them, for a quick check while marking:
    # at least one failure per TODO region (starter-check proves it). Empty: all of
    # expected_failing. CI runs the whole suite.
    quick_expected_failing: list[str] = field(default_factory=list)
    quick_passing_subset: list[str] = field(default_factory=list)  # run beside them


@dataclass
class Manifest:
    instructor: list[str]
    assignments: dict[int, Assignment]
    leak_allowed: list[str]
    dangling_allowed: list[str] = field(default_factory=list)  # "file: name"

    def fate(self, path: str, assignment: int) -> tuple[str, int | None]:
        """("instructor" | "later" | "stub" | "absent-stub" | "marked", its assignment)."""
        if any(matches(path, pattern) for pattern in self.instructor):
            return "instructor", None
        for number, entry in self.assignments.items():
            if any(matches(path, pattern) for pattern in entry.written):
                if number > assignment:
                    return "later", number
                if number == assignment:
                    stub = STUBS / path
                    return ("stub" if stub.is_file() else "absent-stub"), number
        for number, entry in self.assignments.items():
            if number > assignment and any(matches(path, p) for p in entry.arrives):
                return "later", number
        return "marked", None


def load(path: Path = MANIFEST) -> Manifest:
    data = tomllib.loads(path.read_text())
    assignments = {}
    for key, entry in data.get("assignment", {}).items():
        if not key.isdigit() or int(key) not in ASSIGNMENTS:
            raise ManifestError(f"{path}: [assignment.{key}]: 1, 2 or 3")
        unknown = set(entry) - set(Assignment.__dataclass_fields__)
        if unknown:
            raise ManifestError(f"{path}: [assignment.{key}]: unknown keys {sorted(unknown)}")
        assignments[int(key)] = Assignment(number=int(key), **entry)
    for number in ASSIGNMENTS:
        assignments.setdefault(number, Assignment(number=number))
    return Manifest(
        instructor=data.get("instructor", {}).get("paths", []),
        assignments=dict(sorted(assignments.items())),
        leak_allowed=data.get("leak_check", {}).get("allowed", []),
        dangling_allowed=data.get("dangling_names", {}).get("allowed", []),
    )
