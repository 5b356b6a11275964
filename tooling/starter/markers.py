"""Reading the markers of one reference file into blocks.

A marker is a whole line: the file's comment syntax around the marker words.

    # BEGIN SOLUTION 1 a1-inference      the reference's answer to a task of assignment 1
    ...
    # END SOLUTION a1-inference
    # BEGIN STUB a1-inference            what starter 1 has instead (each line a comment)
    # raise NotImplementedError("TODO (assignment 1): ...")
    # END STUB a1-inference

    # BEGIN ASSIGNMENT 2                 given code that arrives with assignment 2
    ...
    # END ASSIGNMENT 2

    # BEGIN INSTRUCTOR                   in no starter (e.g. a contract about autograder/)
    ...
    # END INSTRUCTOR

    from history.api import router  # ASSIGNMENT 2
                                         one line that arrives with assignment 2, for
                                         where a marker line cannot go (an import block:
                                         ruff's isort and formatter move comment lines)
    from shared.errors import ImageRejected  # SOLUTION a1-read-upload
                                         one line that belongs to that SOLUTION region of
                                         the same file (an import only its code needs)
    "bench", "autograder",  # INSTRUCTOR one line in no starter

parse() turns a file into a list of blocks (a Line, or a Region holding blocks); any
mistake is a MarkerError that names the file and line.
"""

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath


class MarkerError(Exception):
    """A malformed marker: the message starts with path:line."""

    def __init__(self, path: str, line_number: int, message: str) -> None:
        super().__init__(f"{path}:{line_number}: {message}")


@dataclass(frozen=True)
class CommentSyntax:
    open: str
    close: str = ""

    def wrap(self, words: str) -> str:
        return f"{self.open} {words} {self.close}".rstrip()

    def unwrap(self, text: str) -> str | None:
        """The words inside one comment filling `text` (stripped), or None."""
        if not (text.startswith(self.open) and text.endswith(self.close)):
            return None
        inner = text[len(self.open) : len(text) - len(self.close)]
        return inner.strip()


HASH = CommentSyntax("#")
SYNTAX_BY_SUFFIX = {
    ".py": HASH, ".yml": HASH, ".yaml": HASH, ".sh": HASH, ".tf": HASH, ".tfvars": HASH,
    ".tftpl": HASH, ".hcl": HASH, ".conf": HASH, ".template": HASH, ".toml": HASH,
    ".ini": HASH, ".cfg": HASH, ".j2": HASH, ".txt": HASH, ".env": HASH, ".service": HASH,
    ".example": HASH, ".gitignore": HASH, ".dockerignore": HASH, ".ansible-lint": HASH,
    ".html": CommentSyntax("{#", "#}"),
    ".js": CommentSyntax("//"),
    ".css": CommentSyntax("/*", "*/"),
    ".md": CommentSyntax("<!--", "-->"),
    ".sql": CommentSyntax("--"),
}  # fmt: skip
SYNTAX_BY_NAME = {"Dockerfile": HASH, "Makefile": HASH}


def comment_syntax(path: str, first_line: str = "") -> CommentSyntax | None:
    """How comments are written in this file, or None for a type we do not know."""
    name = PurePosixPath(path).name
    if name in SYNTAX_BY_NAME or name.startswith("Dockerfile"):
        return HASH
    suffix = PurePosixPath(name).suffix or (name if name.startswith(".") else "")
    if suffix in SYNTAX_BY_SUFFIX:
        return SYNTAX_BY_SUFFIX[suffix]
    if first_line.startswith("#!"):  # a script: scripts/run, scripts/test
        return HASH
    return None


# What the marker words look like once the comment syntax is taken off.
MARKER_WORDS = re.compile(
    r"^(?P<edge>BEGIN|END) (?P<kind>SOLUTION|STUB|ASSIGNMENT|INSTRUCTOR|TODO)\b(?P<rest>.*)$"
)
# Anything that looks like an attempt at a marker, whatever the syntax around it.
LOOKS_LIKE_MARKER = re.compile(
    r"^\W*\s*(BEGIN|END)\s+(SOLUTION|STUB|ASSIGNMENT|INSTRUCTOR)\b", re.IGNORECASE
)
ASSIGNMENTS = (1, 2, 3)
REGION_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass
class Line:
    number: int  # 1-based, in the reference file
    text: str  # with its line ending
    arrives: int | None = None  # ends in the comment `ASSIGNMENT N`: that N
    code: str = ""  # for such a line: the line without that comment
    solution_of: str | None = None  # ends in the comment `SOLUTION <id>`: that id


TRAILING = re.compile(
    r"^(?P<code>.*\S)\s+(?P<comment>\S+ (ASSIGNMENT [123]|SOLUTION \S+|INSTRUCTOR).*)$"
)
NEVER = max(ASSIGNMENTS) + 1  # the assignment an INSTRUCTOR line "arrives" with


def trailing_marker(text: str, syntax: CommentSyntax) -> tuple[str, str, str] | None:
    """("ASSIGNMENT", "2", code), ("SOLUTION", id, code) or ("INSTRUCTOR", "", code) for
    a line that ends in such a comment; code is the line without it."""
    body = text.rstrip("\r\n")
    match = TRAILING.match(body)
    words = syntax.unwrap(match["comment"]) if match else None
    if words is None or not re.fullmatch(
        r"(ASSIGNMENT [123]|SOLUTION [a-z0-9][a-z0-9-]*|INSTRUCTOR)", words
    ):
        return None
    kind, _, value = words.partition(" ")
    return kind, value, match["code"] + text[len(body) :]


@dataclass
class Region:
    kind: str  # "SOLUTION", "ASSIGNMENT" or "INSTRUCTOR"
    assignment: int | None  # None for INSTRUCTOR
    region_id: str | None  # SOLUTION only
    begin: Line
    end: Line | None = None
    blocks: list["Line | Region"] = field(default_factory=list)
    # SOLUTION only: the STUB block that follows it, markers included.
    stub_begin: Line | None = None
    stub_lines: list[Line] = field(default_factory=list)
    stub_end: Line | None = None

    def lines(self) -> list[Line]:
        """Every reference line of the region, markers and stub included, in order."""
        inner = [line for block in self.blocks for line in block_lines(block)]
        stub = [self.stub_begin, *self.stub_lines, self.stub_end] if self.stub_begin else []
        return [self.begin, *inner, *([self.end] if self.end else []), *stub]

    def solution_lines(self) -> list[Line]:
        return [line for block in self.blocks for line in block_lines(block)]


def block_lines(block: "Line | Region") -> list[Line]:
    return [block] if isinstance(block, Line) else block.lines()


@dataclass(frozen=True)
class Marker:
    edge: str  # BEGIN or END
    kind: str
    assignment: int | None
    region_id: str | None
    indent: str


def read_marker(path: str, number: int, text: str, syntax: CommentSyntax) -> Marker | None:
    """The marker on this line, None for an ordinary line; MarkerError if malformed."""
    stripped = text.strip()
    words = syntax.unwrap(stripped)
    match = MARKER_WORDS.match(words) if words is not None else None
    if match is None:
        if LOOKS_LIKE_MARKER.match(stripped):
            raise MarkerError(
                path,
                number,
                f"not a marker in this file's syntax: write {syntax.wrap('BEGIN ...')}",
            )
        return None
    edge, kind, rest = match["edge"], match["kind"], match["rest"].split()
    if kind == "TODO":
        raise MarkerError(path, number, "TODO markers belong to starters, not to the reference")
    indent = text[: len(text) - len(text.lstrip())]
    expected = {
        ("BEGIN", "SOLUTION"): "BEGIN SOLUTION <assignment> <id>",
        ("END", "SOLUTION"): "END SOLUTION <id>",
        ("BEGIN", "STUB"): "BEGIN STUB <id>",
        ("END", "STUB"): "END STUB <id>",
        ("BEGIN", "ASSIGNMENT"): "BEGIN ASSIGNMENT <assignment>",
        ("END", "ASSIGNMENT"): "END ASSIGNMENT <assignment>",
        ("BEGIN", "INSTRUCTOR"): "BEGIN INSTRUCTOR",
        ("END", "INSTRUCTOR"): "END INSTRUCTOR",
    }[(edge, kind)]
    wanted = len(expected.split()) - 2
    if len(rest) != wanted:
        raise MarkerError(path, number, f"expected `{expected}`")
    assignment = region_id = None
    if "<assignment>" in expected:
        if rest[0] not in {str(n) for n in ASSIGNMENTS}:
            raise MarkerError(path, number, f"no assignment {rest[0]!r}: 1, 2 or 3")
        assignment = int(rest[0])
    if "<id>" in expected:
        region_id = rest[-1]
        if not REGION_ID.match(region_id):
            raise MarkerError(path, number, f"{region_id!r}: an id is lowercase, digits, '-'")
    return Marker(edge, kind, assignment, region_id, indent)


def parse(path: str, text: str, syntax: CommentSyntax) -> list[Line | Region]:
    """The file's blocks, top level first; MarkerError names the first mistake."""
    top: list[Line | Region] = []
    open_regions: list[Region] = []
    awaiting_stub: Region | None = None  # a SOLUTION just closed: its STUB must follow
    in_stub: Region | None = None
    for number, text_line in enumerate(text.splitlines(keepends=True), start=1):
        line = Line(number, text_line)
        marker = read_marker(path, number, text_line, syntax)
        if in_stub is not None:
            if marker is None:
                check_stub_line(path, line, syntax)
                in_stub.stub_lines.append(line)
                continue
            if marker.edge == "END" and marker.kind == "STUB":
                if marker.region_id != in_stub.region_id:
                    raise MarkerError(
                        path, number, f"END STUB {marker.region_id} closes STUB {in_stub.region_id}"
                    )
                in_stub.stub_end = line
                in_stub = None
                continue
            raise MarkerError(path, number, f"a marker inside STUB {in_stub.region_id}")
        if awaiting_stub is not None:
            if marker is None or marker.edge != "BEGIN" or marker.kind != "STUB":
                raise MarkerError(
                    path,
                    number,
                    f"SOLUTION {awaiting_stub.region_id} needs its STUB block right after "
                    f"its END (line {awaiting_stub.end.number})",
                )
            if marker.region_id != awaiting_stub.region_id:
                raise MarkerError(
                    path,
                    number,
                    f"STUB {marker.region_id} follows SOLUTION {awaiting_stub.region_id}",
                )
            awaiting_stub.stub_begin = line
            in_stub, awaiting_stub = awaiting_stub, None
            continue
        if marker is None:
            trailing = trailing_marker(text_line, syntax)
            if trailing is not None and trailing[0] == "ASSIGNMENT":
                line.arrives, line.code = int(trailing[1]), trailing[2]
            elif trailing is not None and trailing[0] == "INSTRUCTOR":
                line.arrives, line.code = NEVER, trailing[2]
            elif trailing is not None:
                line.solution_of, line.code = trailing[1], trailing[2]
            (open_regions[-1].blocks if open_regions else top).append(line)
            continue
        if marker.kind == "STUB":
            raise MarkerError(path, number, f"STUB {marker.region_id} without a SOLUTION before it")
        if marker.edge == "BEGIN":
            region = Region(marker.kind, marker.assignment, marker.region_id, line)
            (open_regions[-1].blocks if open_regions else top).append(region)
            open_regions.append(region)
            continue
        if not open_regions:
            raise MarkerError(path, number, f"END {marker.kind} with no region open")
        region = open_regions[-1]
        if (marker.kind, marker.assignment, marker.region_id) != (
            region.kind,
            region.assignment if marker.kind == "ASSIGNMENT" else None,
            region.region_id,
        ):
            raise MarkerError(
                path,
                number,
                f"this END does not close the region begun on line {region.begin.number}",
            )
        region.end = line
        open_regions.pop()
        if region.kind == "SOLUTION":
            awaiting_stub = region
    if in_stub is not None:
        raise MarkerError(
            path, in_stub.stub_begin.number, f"STUB {in_stub.region_id} is never closed"
        )
    if awaiting_stub is not None:
        raise MarkerError(
            path,
            awaiting_stub.begin.number,
            f"SOLUTION {awaiting_stub.region_id} has no STUB block",
        )
    if open_regions:
        region = open_regions[-1]
        raise MarkerError(path, region.begin.number, f"{region.kind} region is never closed")
    check_nesting(path, top, enclosing=None)
    attach_solution_lines(path, top)
    return top


def attach_solution_lines(path: str, blocks: list[Line | Region]) -> None:
    """A line ending in `SOLUTION <id>` takes that region's assignment: it is removed and
    kept with the region's code."""
    regions = {region.region_id: region for region in solution_regions(blocks)}
    for line in all_lines(blocks):
        if line.solution_of is None:
            continue
        if line.solution_of not in regions:
            raise MarkerError(path, line.number, f"no SOLUTION {line.solution_of} in this file")
        line.arrives = regions[line.solution_of].assignment + 1


def all_lines(blocks: list[Line | Region]) -> list[Line]:
    return [line for block in blocks for line in block_lines(block)]


def check_stub_line(path: str, line: Line, syntax: CommentSyntax) -> None:
    stripped = line.text.strip()
    if stripped and syntax.unwrap(stripped) is None:
        raise MarkerError(path, line.number, f"each STUB line is a comment ({syntax.wrap('...')})")


def check_nesting(path: str, blocks: list[Line | Region], enclosing: Region | None) -> None:
    """A region inside another may not arrive before it, and a SOLUTION holds no region."""
    for block in blocks:
        if not isinstance(block, Region):
            continue
        if enclosing is not None:
            if enclosing.kind == "SOLUTION":
                raise MarkerError(path, block.begin.number, "no region inside a SOLUTION")
            if (
                enclosing.assignment is not None
                and block.assignment is not None
                and block.assignment < enclosing.assignment
            ):
                raise MarkerError(
                    path,
                    block.begin.number,
                    f"assignment {block.assignment} inside a region of assignment "
                    f"{enclosing.assignment}: it could never appear",
                )
        check_nesting(path, block.blocks, block)


def solution_regions(blocks: list[Line | Region]) -> list[Region]:
    found = []
    for block in blocks:
        if isinstance(block, Region):
            if block.kind == "SOLUTION":
                found.append(block)
            found.extend(solution_regions(block.blocks))
    return found


def uncomment(text: str, syntax: CommentSyntax) -> str:
    """A STUB line as the starter shows it: its comment syntax taken off once."""
    body = text.rstrip("\r\n")
    ending = text[len(body) :]
    stripped = body.strip()
    if not stripped:
        return text
    indent = body[: len(body) - len(body.lstrip())]
    inner = stripped[len(syntax.open) : len(stripped) - len(syntax.close)]
    if inner.startswith(" "):
        inner = inner[1:]
    if syntax.close and inner.endswith(" "):
        inner = inner[:-1]
    return indent + inner + ending
