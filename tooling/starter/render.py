"""One reference file's text -> the starter's text for one assignment, and the edits.

For starter N:
  SOLUTION n  n > N: removed with its stub (a later assignment's answer)
              n = N: the stub, uncommented, between `BEGIN TODO <id>` / `END TODO <id>`
              n < N: the reference's code, its markers and stub removed
  ASSIGNMENT n  removed when n > N, else kept without its markers
  INSTRUCTOR    always removed

The edits record how to go back: ("=", k) k lines kept as they are, ("-", a, b) the
reference's lines a..b-1 (0-based) left out here, ("+", k) k lines the starter has
instead (TODO markers and stubs). tooling/starter/inverse.py replays them.
"""

from dataclasses import dataclass, field

from tooling.starter.markers import CommentSyntax, Line, Region, uncomment


@dataclass
class Rendered:
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

    def add(self, text: str) -> None:
        self.lines.append(text)
        if self.edits and self.edits[-1][0] == "+":
            self.edits[-1] = ("+", self.edits[-1][1] + 1)
        else:
            self.edits.append(("+", 1))


def render(blocks: list[Line | Region], assignment: int, syntax: CommentSyntax) -> Rendered:
    rendered = Rendered()
    render_blocks(blocks, assignment, syntax, rendered)
    return rendered


def render_blocks(
    blocks: list[Line | Region], assignment: int, syntax: CommentSyntax, out: Rendered
) -> None:
    for block in blocks:
        if isinstance(block, Line):
            out.keep(block)
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


def show_todo(region: Region, syntax: CommentSyntax, out: Rendered) -> None:
    indent = region.begin.text[: len(region.begin.text) - len(region.begin.text.lstrip())]
    ending = region.begin.text[len(region.begin.text.rstrip("\r\n")) :] or "\n"
    out.add(f"{indent}{syntax.wrap(f'BEGIN TODO {region.region_id}')}{ending}")
    for line in region.stub_lines:
        out.add(uncomment(line.text, syntax))
    out.add(f"{indent}{syntax.wrap(f'END TODO {region.region_id}')}{ending}")
    out.todo_regions.append(region.region_id)
