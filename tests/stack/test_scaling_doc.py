"""docs/scaling.md's arithmetic adds up: the credit table (a t3.micro earns 12 credits an
hour and keeps at most 288) and the scale-out ratios are computed from the figures next
to them, so a figure changed on a new measurement cannot leave its conclusion behind."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "scaling.md"
EARNED_PER_HOUR, MAX_BALANCE = 12, 288
# The doc writes its minus and times signs as typographic ones (U+2212, U+00D7).


def table_rows(heading_cell: str) -> list[list[str]]:
    """The body rows of the table whose header row starts with `heading_cell`."""
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {heading_cell}"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_each_credit_row_drains_as_its_vcpus_say():
    rows = table_rows("load on one t3.micro app server")
    assert len(rows) >= 3
    for _load, vcpus, credits, lasts in rows:
        spent, earned, net = map(int, re.fullmatch(r"(\d+) \u2212 (\d+) = (\d+)", credits).groups())
        assert spent == round(float(vcpus) * 60)
        assert (earned, net) == (EARNED_PER_HOUR, spent - earned)
        if net == 0:
            assert lasts == "for ever"
        else:
            hours = float(lasts.removesuffix(" hours"))
            assert abs(hours - MAX_BALANCE / net) <= 0.05 * hours


def test_the_scale_out_ratios_are_the_throughputs_divided_by_one():
    rows = table_rows("app servers")
    throughputs = {int(row[0]): float(row[1].removesuffix(" req/s")) for row in rows}
    for count, row in zip(throughputs, rows, strict=True):
        if count > 1:
            ratio = float(row[2].removesuffix("\u00d7"))
            assert abs(ratio - throughputs[count] / throughputs[1]) < 0.01
