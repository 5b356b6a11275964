"""One reference file's text -> the starter's text for one assignment, and the edits.

For starter N:
  SOLUTION n  n > N: removed with its stub (a later assignment's answer)
              n = N: the stub, uncommented, between `BEGIN TODO <id>` / `END TODO <id>`
              n < N: the reference's code, its markers and stub removed
  ASSIGNMENT n  removed when n > N, else kept without its markers
  INSTRUCTOR    always removed
  a line ending in the comment `ASSIGNMENT n`: removed when n > N, else kept without it
  a line ending in `SOLUTION <id>`: removed with that region's code (where N <= its n)
  (a paragraph of such lines, all removed, takes the blank line before it along: an
  import paragraph removed leaves one gap, not two, as ruff's isort wants)

The edits record how to go back: ("=", k) k lines kept as they are, ("-", a, b) the
reference's lines a..b-1 (0-based) left out here, ("+", k) k lines the starter has
instead (TODO markers and stubs). tooling/starter/inverse.py replays them.
"""

from dataclasses import dataclass, field

from tooling.starter.markers import CommentSyntax, Line, Region, uncomment


@dataclass
class Rendered:
    assignment: int
    lines: list[str] = field(default_factory=list)
    edits: list[tuple] = field(default_factory=list)
    todo_regions: list[str] = field(default_factory=list)  # ids of the stubs shown
    removed_solutions: list[Region] = field(default_factory=list)  # n >= N

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def keep(self, line: Line) -> None:
        self.lines.append(line.text)
        if self.edits and self.edits[-1][0] == "=":
            self.edits[-1] = ("=", self.edits[-1][1] + 1)
        else:
            self.edits.append(("=", 1))

    def leave_out(self, line: Line) -> None:
        index = line.number - 1
        if self.edits and self.edits[-1][0] == "-" and self.edits[-1][2] == index:
            self.edits[-1] = ("-", self.edits[-1][1], index + 1)
        else:
            self.edits.append(("-", index, index + 1))

    def take_back_blank_line(self, line: Line) -> None:
        """Leaves out the reference line before `line`, which was kept and is blank."""
        self.lines.pop()
        count = self.edits[-1][1] - 1
        self.edits[-1:] = [("=", count)] if count else []
        self.leave_out(Line(line.number - 1, "\n"))

    def add(self, text: str) -> None:
        self.lines.append(text)
        if self.edits and self.edits[-1][0] == "+":
            self.edits[-1] = ("+", self.edits[-1][1] + 1)
        else:
            self.edits.append(("+", 1))


def render(blocks: list[Line | Region], assignment: int, syntax: CommentSyntax) -> Rendered:
    rendered = Rendered(assignment)
    render_blocks(blocks, assignment, syntax, rendered)
    return rendered


def render_blocks(
    blocks: list[Line | Region], assignment: int, syntax: CommentSyntax, out: Rendered
) -> None:
    for index, block in enumerate(blocks):
        if isinstance(block, Line) and block.arrives is None:
            out.keep(block)
        elif isinstance(block, Line):
            if block.arrives > assignment and alone_in_paragraph(blocks, index, out):
                out.take_back_blank_line(block)
            out.leave_out(block)
            if block.arrives <= assignment:
                out.add(block.code)
        elif block.kind == "INSTRUCTOR" or block.assignment > assignment:
            if block.kind == "SOLUTION":
                out.removed_solutions.append(block)
            for line in block.lines():
                out.leave_out(line)
        elif block.kind == "SOLUTION" and block.assignment == assignment:
            out.removed_solutions.append(block)
            for line in block.lines():
                out.leave_out(line)
            show_todo(block, syntax, out)
        else:  # an earlier SOLUTION, or a given ASSIGNMENT region: kept, markers removed
            out.leave_out(block.begin)
            render_blocks(block.blocks, assignment, syntax, out)
            for line in block.lines()[len(block.solution_lines()) + 1 :]:
                out.leave_out(line)  # END marker, and a SOLUTION's stub block


def alone_in_paragraph(blocks: list[Line | Region], index: int, out: Rendered) -> bool:
    """Whether blocks[index] opens a paragraph (after a kept blank line) whose every line
    is removed in this starter, up to the next blank line."""
    if not (out.lines and not out.lines[-1].strip() and out.edits and out.edits[-1][0] == "="):
        return False
    for block in blocks[index:]:
        if isinstance(block, Region):
            return False
        if not block.text.strip():
            return True
        if block.arrives is None or block.arrives <= out.assignment:
            return False
    return False


def show_todo(region: Region, syntax: CommentSyntax, out: Rendered) -> None:
    indent = region.begin.text[: len(region.begin.text) - len(region.begin.text.lstrip())]
    ending = region.begin.text[len(region.begin.text.rstrip("\r\n")) :] or "\n"
    out.add(f"{indent}{syntax.wrap(f'BEGIN TODO {region.region_id}')}{ending}")
    for line in region.stub_lines:
        out.add(uncomment(line.text, syntax))
    out.add(f"{indent}{syntax.wrap(f'END TODO {region.region_id}')}{ending}")
    out.todo_regions.append(region.region_id)
