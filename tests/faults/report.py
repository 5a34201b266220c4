"""The fault suite's table: each test records what it measured; the end of the run prints it and writes
test-artifacts/faults.md (for the README's Reliability section).

A test's row travels in its report's user_properties, so under xdist it reaches the process that
prints the summary; that process is the one without `workerinput`.
"""

import json
import textwrap
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PROPERTY = "switchboard_fault"
ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "faults.md"
COLUMNS = {
    "pages": "pages answered within bound",
    "kept": "nothing accepted lost",
    "duplicates": "duplicate side effects",
    "recovered": "recovered by itself",
}


@dataclass
class Column:
    items: list = field(default_factory=list)
    ok: bool = True
    verdict: str = ""  # said instead of yes/no (e.g. "n/a")

    def add(self, text, ok=True, verdict=""):
        self.items.append(text)
        self.ok = self.ok and bool(ok)
        self.verdict = verdict or self.verdict


@dataclass
class FaultRow:
    """What one fault test saw, column by column; a column nothing was said about reads "—"."""

    fault: str
    order: int = 99
    pages: Column = field(default_factory=Column)
    kept: Column = field(default_factory=Column)
    duplicates: Column = field(default_factory=Column)
    recovered: Column = field(default_factory=Column)

    def page(self, name, seconds, status, bound):
        """A page (or request) answered with `status` after `seconds`; within bound if under `bound`."""
        self.pages.add(f"{name} {status} in {seconds:.2f} s", seconds < bound)

    def to_json(self):
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text):
        data = json.loads(text)
        return cls(
            fault=data["fault"],
            order=data["order"],
            **{name: Column(**data[name]) for name in COLUMNS},
        )


def cell(column, *, duplicates=False):
    if not column.items:
        return "—"
    if column.verdict and column.ok:
        verdict = column.verdict
    elif duplicates:
        verdict = "none" if column.ok else "YES"
    else:
        verdict = "yes" if column.ok else "NO"
    return f"{verdict}: " + "; ".join(column.items)


def cells(row, outcome):
    return [
        f"{row.fault}{'' if outcome == 'passed' else f' ({outcome.upper()})'}",
        cell(row.pages),
        cell(row.kept),
        cell(row.duplicates, duplicates=True),
        cell(row.recovered),
    ]


def markdown(rows):
    """The table as Markdown, one line per fault, rows in the suite's order."""
    header = ["fault", *COLUMNS.values()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row, outcome in rows:
        lines.append("| " + " | ".join(text.replace("|", "\\|") for text in cells(row, outcome)) + " |")
    return "\n".join(lines)


def text_table(rows, width=120):
    """The table for a terminal: columns wrapped to fit `width`."""
    header = ["fault", *COLUMNS.values()]
    widths = [18] + [(width - 18 - 3 * len(COLUMNS)) // len(COLUMNS)] * len(COLUMNS)
    out = []

    def emit(values):
        wrapped = [textwrap.wrap(value, w) or [""] for value, w in zip(values, widths, strict=True)]
        for i in range(max(len(lines) for lines in wrapped)):
            out.append(
                " | ".join(
                    (lines[i] if i < len(lines) else "").ljust(w) for lines, w in zip(wrapped, widths, strict=True)
                )
            )

    emit(header)
    out.append("-+-".join("-" * w for w in widths))
    for row, outcome in rows:
        emit(cells(row, outcome))
        out.append("-+-".join("-" * w for w in widths))
    return "\n".join(out)


def write_artifact(rows, cores):
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    ARTIFACT.write_text(
        "# Fault tests\n\n"
        f"`pytest tests/faults`, {when}, {cores} cores. Each row breaks one real part while a real flow runs "
        "(tests/faults/test_*.py); the numbers are what that run measured.\n\n" + markdown(rows) + "\n"
    )
    return ARTIFACT


class Collector:
    """Rows by test id, and each test's outcome (failed or skipped if any phase was)."""

    def __init__(self):
        self.rows = {}
        self.outcomes = {}

    def take(self, report):
        for name, value in report.user_properties:
            if name == PROPERTY:
                self.rows[report.nodeid] = FaultRow.from_json(value)
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped and self.outcomes.get(report.nodeid) != "failed":
            self.outcomes[report.nodeid] = "skipped"
        else:
            self.outcomes.setdefault(report.nodeid, "passed")

    def ordered(self):
        rows = sorted(self.rows.items(), key=lambda item: (item[1].order, item[0]))
        return [(row, self.outcomes.get(nodeid, "passed")) for nodeid, row in rows]
