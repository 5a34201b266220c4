"""The pytest plugin that prints the fault table at the end of a run and writes test-artifacts/faults.md.

tests/faults/conftest.py registers it, which is enough when tests/faults is on the command line (also
under xdist: the process that prints loads that conftest). A whole-suite run under xdist (`make test`)
collects tests/faults in the worker processes only: they write the file, and the process that prints
shows the table only if it loads this plugin itself (`pytest_plugins = ["tests.faults.summary"]` in
tests/conftest.py; the conftest here then does not register it twice).
"""

import os
from pathlib import Path

from . import report

PROJECT_DIR = Path(__file__).resolve().parents[2]
_collector = report.Collector()


def pytest_runtest_logreport(report):  # noqa: F811 - the hook's argument is named so
    _collector.take(report)


def pytest_terminal_summary(terminalreporter, config):
    rows = _collector.ordered()
    if not rows or hasattr(config, "workerinput"):
        return
    terminalreporter.section("faults: what broke, and what users still got")
    terminalreporter.write_line(report.text_table(rows, width=max(terminalreporter._tw.fullwidth, 160)))
    path = report.write_artifact(rows, os.cpu_count())
    terminalreporter.write_line(f"(also written to {path.relative_to(PROJECT_DIR)})")


def pytest_sessionfinish(session):
    # An xdist worker prints nothing: it writes the file, for the run whose printing process does not load
    # this plugin; when it does, it writes the same rows again after the workers are done.
    rows = _collector.ordered()
    if rows and hasattr(session.config, "workerinput"):
        report.write_artifact(rows, os.cpu_count())
