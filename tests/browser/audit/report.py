"""The audit's report: one JSON result per (role, viewport) test, merged into test-artifacts/audit/report.md.

Tests run in several xdist workers; each writes its own results/<run>--<role>--<viewport>.json, then
rewrites report.md from every result of this run (atomically, so the last test to finish
leaves the whole report). `python -m tests.browser.audit.report OUT.md` writes a report from the newest
result of each (role, viewport).
"""

import json
import os
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

from .auditor import ARTIFACTS

RESULTS = ARTIFACTS / "results"
# The same id in every xdist worker of one run; a fresh one for a run without xdist.
RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex


def save_result(role, viewport, pages, findings, seconds, minor_axe, split=None):
    """Record one test's result and rewrite report.md from every result of this run."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "run": RUN_ID,
        "role": role,
        "viewport": viewport,
        "pages": [{"slug": p.slug, "path": p.path, "name": p.name} for p in pages],
        "findings": findings,
        "seconds": round(seconds, 1),
        "minor_axe": minor_axe,
        "split": {k: round(v, 1) for k, v in (split or {}).items()},
        "at": time.time(),
    }
    # Named by run too: someone else's run in the same checkout must not overwrite this one's.
    _write(RESULTS / f"{RUN_ID}--{role}--{viewport}.json", json.dumps(result, indent=1))
    for old in RESULTS.glob("*.json"):
        if old.stat().st_mtime < time.time() - 86400:
            old.unlink(missing_ok=True)
    _write(ARTIFACTS / "report.md", render(load(RUN_ID)))


def load(run_id=None):
    """The results of run `run_id`; without one, the newest result of each role and viewport."""
    results = sorted((json.loads(path.read_text()) for path in RESULTS.glob("*.json")), key=lambda r: r["at"])
    if run_id is None:
        return list({(r["role"], r["viewport"]): r for r in results}.values())
    return [r for r in results if r["run"] == run_id]


def render(results):
    """Markdown: pages checked and findings per role/viewport, then findings by rule and template, then by page."""
    lines = ["# Page audit", ""]
    lines += [
        "| role | viewport | pages | findings | axe moderate/minor (not failed) | seconds | of which |",
        "|---|---|---|---|---|---|---|",
    ]
    order = {"anonymous": 0, "member": 1, "operator": 2}
    results = sorted(results, key=lambda r: (order.get(r["role"], 9), r["viewport"]))
    for r in results:
        split = ", ".join(f"{k} {v}" for k, v in r.get("split", {}).items())
        row = [r["role"], r["viewport"], len(r["pages"]), len(r["findings"]), r["minor_axe"], r["seconds"], split]
        lines.append("| " + " | ".join(map(str, row)) + " |")
    findings = [f | {"role": r["role"]} for r in results for f in r["findings"]]
    total = sum(len(r["pages"]) for r in results)
    lines += ["", f"{total} page views checked, {len(findings)} findings.", ""]
    if not findings:
        return "\n".join(lines) + "\n"

    lines += ["## By rule, then template", ""]
    by_rule = defaultdict(list)
    for f in findings:
        by_rule[f["rule"]].append(f)
    for rule, items in sorted(by_rule.items(), key=lambda kv: -len(kv[1])):
        lines += [f"### {rule} — {len(items)}", ""]
        by_template = defaultdict(list)
        for f in items:
            by_template[f["template"] or f["name"]].append(f)
        for template, group in sorted(by_template.items(), key=lambda kv: -len(kv[1])):
            pages = Counter(f"{f['role']}:{f['page']}" for f in group)
            where = Counter(f"{f['viewport']}" for f in group)
            lines.append(
                f"- **{template}** — {len(group)} ({', '.join(f'{v} {n}' for v, n in sorted(where.items()))}) "
                f"on {len(pages)} page(s): {', '.join(sorted(pages)[:6])}{' …' if len(pages) > 6 else ''}"
            )
            selectors = Counter((f["selector"], _short(f["detail"])) for f in group)
            for (selector, detail), n in selectors.most_common(6):
                lines.append(f"  - ×{n} `{selector}` — {detail}")
            if len(selectors) > 6:
                lines.append(f"  - … and {len(selectors) - 6} more distinct elements")
        lines.append("")

    lines += ["## By page", ""]
    by_page = defaultdict(list)
    for f in findings:
        by_page[(f["role"], f["page"], f["path"], f["viewport"])].append(f)
    for (role, slug, path, viewport), items in sorted(by_page.items()):
        lines += [f"### {role} · {viewport} · {slug} (`{path}`) — {len(items)}", ""]
        for f in items:
            snippet = f"<br>`{f['snippet']}`" if f["snippet"] else ""
            lines.append(f"- {f['rule']}: `{f['selector']}` — {f['detail']}{snippet}")
        lines.append("")
    return "\n".join(lines) + "\n"


def failure_message(role, viewport, findings):
    """One readable block per page, for pytest's failure output."""
    by_page = defaultdict(list)
    for f in findings:
        by_page[(f["page"], f["path"])].append(f)
    out = [f"{len(findings)} audit findings for {role} at {viewport} on {len(by_page)} pages:"]
    for (slug, path), items in by_page.items():
        out.append(f"\n{slug} ({path}) [{viewport}]")
        for f in items:
            out.append(f"  {f['rule']}: {f['selector']} — {f['detail']}")
            if f["snippet"]:
                out.append(f"      {f['snippet']}")
    out.append(f"\nFull report: {ARTIFACTS / 'report.md'}")
    return "\n".join(out)


def _short(detail):
    return detail if len(detail) < 160 else detail[:157] + "…"


def _write(path, text):
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    temporary.replace(path)


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(render(load()))
