"""The benchmark's rows and how they are printed: a plain-text table and JSON."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Target:
    limit: float  # in the row's unit
    label: str  # as printed, e.g. "≤ 60 ms" or "≤ 2x floor"
    higher_is_better: bool = False

    def met_by(self, value: float) -> bool:
        return value >= self.limit if self.higher_is_better else value <= self.limit


@dataclass(frozen=True)
class Row:
    name: str
    value: float
    unit: str
    how: str = ""  # how it was measured, in a few words
    # The ratio column shows value / baseline: the compute floor for a time, the
    # target or an ideal for anything else.
    baseline: float | None = None
    baseline_name: str = ""
    target: Target | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    @property
    def result(self) -> str:
        if self.target is None:
            return ""
        return "PASS" if self.target.met_by(self.value) else "MISS"


def time_row(
    name: str, ms: float, *, floor_ms: float, how: str, target: Target | None = None
) -> Row:
    """A time per image or per request, compared with the compute floor."""
    return Row(name, ms, "ms", how, baseline=floor_ms, baseline_name="floor", target=target)


HEADINGS = ("measurement", "value", "unit", "ratio", "target", "result", "how measured")
# Numbers line up on the right, words on the left.
RIGHT_ALIGNED = {"value", "ratio"}


def render(rows: list[Row]) -> str:
    cells = [HEADINGS, *(_cells(row) for row in rows)]
    widths = [max(len(line[column]) for line in cells) for column in range(len(HEADINGS))]

    def line(values: tuple[str, ...]) -> str:
        padded = (
            value.rjust(width) if heading in RIGHT_ALIGNED else value.ljust(width)
            for heading, value, width in zip(HEADINGS, values, widths, strict=True)
        )
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(cells[0]), rule, *(line(values) for values in cells[1:])])


def _cells(row: Row) -> tuple[str, ...]:
    ratio = f"{format_number(row.ratio)}x {row.baseline_name}" if row.ratio is not None else ""
    target = row.target.label if row.target else ""
    return (row.name, format_number(row.value), row.unit, ratio, target, row.result, row.how)


def format_number(value: float) -> str:
    """About three significant digits: 1234, 123, 12.3, 1.23."""
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def write_json(path: Path, rows: list[Row], machine: dict[str, str], failures: list[str]) -> None:
    """The same figures for scripts: every row with its ratio and result spelled out."""
    records = [{**asdict(row), "ratio": row.ratio, "result": row.result} for row in rows]
    document = {"machine": machine, "rows": records, "failures": failures}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
