"""The leak check: no distinctive line of a removed solution appears in the starter.

A solution removed from starter N is a SOLUTION region of assignment N or later, or a
file students write in assignment N or later. Its distinctive lines are the ones that
would give an answer away if a student found them:

- the line stripped of indentation is at least MIN_LENGTH characters long,
- it holds a word of three letters or more (not only brackets and punctuation),
- it is not an import (`import x`, `from x import y`): naming a module gives nothing
  away, and a starter keeps the imports its given code needs,
- it is not also a whole line of the starter's code in the same language (a file with
  the same suffix): `elapsed_ms=elapsed_ms,` or `raise ImageRejected(` are how the
  given code is written too, and give nothing away;
- it is not one of the manifest's [leak_check] allowed lines: a line that also belongs,
  in the same words, to what the starter gives (each entry says why).

Each such line is searched as a substring of every text file of the starter, so a doc
or a README that quotes a solution, even inside a sentence, is found. What this does not
find: a solution line copied, whole, into another module of the same language; the
inverse (inverse.py) still proves the generator itself removed every region.
"""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from tooling.starter.generate import StarterFiles
from tooling.starter.markers import LOOKS_LIKE_MARKER

MIN_LENGTH = 16
WORD = re.compile(r"[A-Za-z_]{3,}")
IMPORT = re.compile(r"^(import\s+\S|from\s+\S+\s+import\s)")


@dataclass(frozen=True)
class Leak:
    solution: str  # where the line is in the reference: path:line
    found_in: str  # the starter's file
    line: str


def distinctive(line: str, allowed: set[str]) -> bool:
    stripped = line.strip()
    return (
        len(stripped) >= MIN_LENGTH
        and WORD.search(stripped) is not None
        and IMPORT.match(stripped) is None
        and LOOKS_LIKE_MARKER.match(stripped) is None
        and stripped not in allowed
    )


def solution_lines(starter: StarterFiles, reference_text) -> list[tuple[str, str]]:
    """(path:line, stripped text) of every line of the solutions this starter removed."""
    lines = []
    for path, regions in starter.removed_solutions.items():
        for region in regions:
            for line in region.solution_lines():
                lines.append((f"{path}:{line.number}", line.text.strip()))
    for path in starter.removed_written:
        text = reference_text(path)
        for number, line in enumerate((text or "").splitlines(), start=1):
            lines.append((f"{path}:{number}", line.strip()))
    return lines


def find_leaks(starter: StarterFiles, reference_text, allowed: list[str]) -> list[Leak]:
    allowed_set = {line.strip() for line in allowed}
    searched = {path: file.text for path, file in starter.files.items() if file.text is not None}
    code_lines: dict[str, set[str]] = {}  # suffix -> the starter's lines in that language
    for path, text in searched.items():
        suffix = PurePosixPath(path).suffix
        code_lines.setdefault(suffix, set()).update(line.strip() for line in text.splitlines())
    leaks = []
    for where, line in solution_lines(starter, reference_text):
        suffix = PurePosixPath(where.rsplit(":", 1)[0]).suffix
        if not distinctive(line, allowed_set) or line in code_lines.get(suffix, set()):
            continue
        for path, text in searched.items():
            if line in text:
                leaks.append(Leak(where, path, line))
    return leaks
