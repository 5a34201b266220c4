"""Which way the imports point (STYLE.md, "Layers: which way the imports point"), checked on every CI run.

The rules, each its own test below:
- a lower layer never imports a higher one (LAYERS, lowest first) -- not inside a function, not under
  `if TYPE_CHECKING:`, not in a `try:`: every import statement in the file counts;
- apps that share a layer (the producers, power and backups) do not import each other;
- nothing imports the project package `switchboard` (Django finds it by name; a management command
  that needs the Celery app uses `celery.current_app`);
- no import circle among the project's modules;
- pure judgement (PURE_JUDGEMENT) imports no model, not even through another project module, so it is
  tested without a database; `django.db.models` (for TextChoices) and `django.utils` are fine;
- no models module imports a tasks module (a view queues the task on commit; a model never does);
- every top-level package has a place in LAYERS (or is wiring or outside), so a new app cannot slip past.
tests/, bench/ and migrations are outside the layers and are not read.

Why a checker of our own over `ast` and not import-linter (import-linter 2.16 is on PyPI here): its
layers/independence/forbidden contracts would cover the first three rules, but not the rest as stated.
It has no "no circle anywhere among the modules" contract (acyclic_siblings looks only at the children
of one package), and it sees an external package only as a whole (grimp keeps `django`, not
`django.contrib.auth.models` apart from `django.db.models`), so "pure judgement imports no Django model
but may use TextChoices" cannot be said in it. We would end up with contracts in pyproject.toml, this
test for what they cannot say, a test that shells out to `lint-imports`, and a new pinned dependency --
two tools for a newcomer to learn. Here it is one file of plain standard-library Python: the graph is
every import statement of every module (file, line, statement, the module it lands in), each rule is
a short loop over it, and each failure names the file, the line, the import and the rule. The tests at
the bottom run the same checks over tiny fake projects in tmp_path to show each rule fails when broken.
"""

import ast
import graphlib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The layers, lowest first: a module may import its own app and apps in lower layers, never a higher one.
LAYERS = [
    ["core"],  # plumbing: access/roles, fields, page cache, page helpers, template tags, beat installer
    ["coop"],  # the directory: sites, organisations, people, invitations, login adapters
    ["hosts"],  # the inventory: machines, guests, addresses, monitors, runbooks
    ["incidents"],  # incidents, timeline, and the one open/join/resolve policy (incidents/policy.py)
    # The producers that act on the world, the alerts that call people and the notices that tell owners;
    # siblings: none imports another.
    ["power", "backups", "monitors", "alerts", "notices"],
    # What listens to the producers: outgoing webhooks; what the hosts' agents report (siblings).
    ["webhooks", "hostreports"],
    ["front"],  # the cross-app pages: dashboard, search, status, machine/guest/site/person/org pages
    # Demo data, simulators and their commands; export/import of the whole co-op (portability); the
    # break-glass bundle, which reads every app (breakglass); the REST API (api). Siblings.
    ["demo", "portability", "breakglass", "api"],
]
# The project's wiring (settings, root URLs, Celery app, WSGI; manage.py): may import everything, nothing imports it.
PROJECT = ["switchboard", "manage"]
# Outside the layers: may import anything, and nothing is checked in them.
OUTSIDE = ["tests", "bench"]
# Never read, wherever they are: generated migrations.
SKIP_DIRS = {"migrations", "__pycache__"}

# Pure judgement: functions of values that import no model.
PURE_JUDGEMENT = ["backups.verdicts", "monitors.verdicts", "monitors.probes"]
# What pure judgement may import from Django although the name says "models": the field/choices toolkit.
NOT_A_MODEL_MODULE = "django.db.models"


@dataclass(frozen=True)
class Import:
    path: str  # the importing file, relative to the checkout: "coop/models.py"
    line: int
    statement: str  # the import as written: "from front.views import overview"
    name: str  # a dotted name the statement imports: "front.views.overview"
    target: str | None  # the project module that name lands in ("front.views"), None if not the project's

    def __str__(self):
        return f"{self.path}:{self.line}: `{self.statement}`"


@dataclass
class Module:
    name: str  # dotted: "front.views.overview"
    path: str
    imports: list[Import]


def find_modules(root):
    """Every .py file of the project's top-level packages, and its top-level scripts, by dotted name."""
    found = {}
    for entry in sorted(root.iterdir()):
        if entry.name in OUTSIDE or entry.name.startswith("."):
            continue
        if entry.suffix == ".py":
            found[entry.stem] = entry.relative_to(root)  # manage.py
        elif (entry / "__init__.py").exists():  # a package, not docs/ or static/
            for path in sorted(entry.rglob("*.py")):
                rel = path.relative_to(root)
                if SKIP_DIRS.isdisjoint(rel.parts[:-1]):
                    parts = list(rel.with_suffix("").parts)
                    if parts[-1] == "__init__":
                        parts.pop()
                    found[".".join(parts)] = rel
    return found


def imported_names(node, module_name, is_package):
    """The dotted names one import statement imports; relative imports made absolute."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module_name.split(".") if is_package else module_name.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    # `from a import b`: b is a submodule a.b or a name defined in a; both are imports of a.
    return [base] + [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]


def build_graph(root):
    """Module name -> Module with every import statement in it, at any depth of the file."""
    root = Path(root)
    files = find_modules(root)

    def landing(name):  # the longest prefix of `name` that is one of our modules
        parts = name.split(".")
        while parts and ".".join(parts) not in files:
            parts.pop()
        return ".".join(parts) or None

    graph = {}
    for name, rel in files.items():
        tree = ast.parse((root / rel).read_text(encoding="utf-8"), filename=str(rel))
        imports = []
        for node in ast.walk(tree):  # walks into functions, classes, `if TYPE_CHECKING:`, `try:`
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = imported_names(node, name, rel.name == "__init__.py")
            if isinstance(node, ast.ImportFrom) and len(names) > 1 and landing(names[0]) is not None:
                names = names[1:]  # `from a import b, c`: a.b and a.c say more than a
            for imported in names:
                imports.append(Import(rel.as_posix(), node.lineno, ast.unparse(node), imported, landing(imported)))
        graph[name] = Module(name, rel.as_posix(), sorted(set(imports), key=lambda i: (i.line, i.name)))
    return graph


def project_edges(graph):
    """(importer, import) for every import of one of our own modules, once per statement and target."""
    for module in graph.values():
        seen = set()
        for imp in module.imports:
            if imp.target and imp.target != module.name and (imp.line, imp.target) not in seen:
                seen.add((imp.line, imp.target))
                yield module.name, imp


def top(name):
    return name.split(".")[0]


LAYER_OF = {app: number for number, apps in enumerate(LAYERS) for app in apps}


def layer_label(app):
    return f"{app} (layer {LAYER_OF[app] + 1} of {len(LAYERS)})"


# --- the checks: each returns one message per broken import, [] when the rule holds ----------------


def upward_imports(graph):
    return [
        f"{imp}: {layer_label(top(importer))} imports {imp.target}, in {layer_label(top(imp.target))}"
        " -- rule: a lower layer never imports a higher one"
        for importer, imp in project_edges(graph)
        if top(importer) in LAYER_OF and top(imp.target) in LAYER_OF
        if LAYER_OF[top(importer)] < LAYER_OF[top(imp.target)]
    ]


def sibling_imports(graph):
    return [
        f"{imp}: {top(importer)} imports {imp.target}; {top(importer)} and {top(imp.target)} share"
        f" layer {LAYER_OF[top(importer)] + 1} -- rule: sibling apps in one layer never import each other"
        for importer, imp in project_edges(graph)
        if top(importer) in LAYER_OF and top(imp.target) != top(importer)
        if LAYER_OF.get(top(imp.target)) == LAYER_OF[top(importer)]
    ]


def project_package_imports(graph):
    return [
        f"{imp}: {importer} imports {imp.target} -- rule: nothing imports the project package"
        " (switchboard/, manage.py): Django finds it by name; for the Celery app use celery.current_app"
        for importer, imp in project_edges(graph)
        if top(imp.target) in PROJECT and top(importer) not in PROJECT
    ]


def import_circles(graph):
    """The first circle found, hop by hop, or []: fix it and the next one shows."""
    first_import = {}
    for importer, imp in project_edges(graph):
        first_import.setdefault((importer, imp.target), imp)
    needs = {name: set() for name in graph}
    for importer, target in first_import:
        needs[importer].add(target)
    try:
        graphlib.TopologicalSorter(needs).prepare()
    except graphlib.CycleError as error:
        circle = error.args[1]  # [a, ..., a], each needing the one before it
        hops = [first_import[(circle[i], circle[i - 1])] for i in range(len(circle) - 1, 0, -1)]
        return [
            f"import circle {' -> '.join(reversed(circle))} -- rule: no import circle among the project's"
            " modules:\n" + "\n".join(f"  {hop} (imports {hop.target})" for hop in hops)
        ]
    return []


def is_model_module(name):
    parts = name.split(".")
    if name == NOT_A_MODEL_MODULE or name.startswith(NOT_A_MODEL_MODULE + "."):
        return False
    return "models" in parts[1:]  # coop.models, hosts.models.Machine, django.contrib.auth.models ...


def model_imports_of_pure_judgement(graph, pure=PURE_JUDGEMENT):
    """Models imported by a pure module, directly or through the project modules it imports."""
    found = []
    for start in pure:
        if start not in graph:
            found.append(f"{start}: no such module -- rule: PURE_JUDGEMENT lists modules that exist")
            continue
        seen, queue = {start}, [(start, [])]
        while queue:
            name, chain = queue.pop(0)
            flagged = set()
            for imp in graph[name].imports:
                if is_model_module(imp.name) and imp.line not in flagged:
                    flagged.add(imp.line)
                    via = "".join(f"{hop}, then " for hop in chain)
                    found.append(
                        f"{via}{imp}: {start} imports the model module {imp.target or imp.name} -- rule: pure judgement"
                        " imports no model (values in, a verdict out; tested without a database)"
                    )
                elif imp.target and imp.target not in seen:
                    seen.add(imp.target)
                    queue.append((imp.target, [*chain, imp]))
    return found


def is_models_module(name):
    return name.split(".")[-1] == "models" or ".models." in name


def is_tasks_module(name):
    return name.split(".")[-1] == "tasks" or ".tasks." in name


def tasks_imported_by_models(graph):
    return [
        f"{imp}: {importer} imports {imp.target} -- rule: models do not import tasks"
        " (the caller above queues the task, on commit)"
        for importer, imp in project_edges(graph)
        if is_models_module(importer) and is_tasks_module(imp.target)
    ]


def unplaced_packages(graph):
    return sorted(
        f"{top(name)}: a top-level package or script with no place -- rule: every app is in LAYERS"
        " (or in PROJECT/OUTSIDE) in tests/test_architecture.py"
        for name in {top(name) for name in graph}
        if name not in LAYER_OF and name not in PROJECT
    )


# --- the rules, on the real checkout ------------------------------------------------------------

CHECKS = [
    upward_imports,
    sibling_imports,
    project_package_imports,
    import_circles,
    model_imports_of_pure_judgement,
    tasks_imported_by_models,
    unplaced_packages,
]


@pytest.fixture(scope="module")
def real_graph():
    return build_graph(ROOT)


def test_the_graph_sees_the_project(real_graph):
    # A builder that found nothing would pass every rule; make sure it read the apps and their imports.
    assert {top(name) for name in real_graph} >= set(LAYER_OF) | {"switchboard"}
    assert "backups.verdicts" in real_graph and "coop.models" in real_graph
    assert "tests.conftest" not in real_graph and not any(".migrations." in name for name in real_graph)
    assert any(top(importer) == "front" and top(imp.target) == "hosts" for importer, imp in project_edges(real_graph))


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_rule_holds(real_graph, check):
    broken = check(real_graph)
    assert not broken, f"{len(broken)} import(s) break the import rules:\n" + "\n".join(broken)


# --- the checker itself: each rule fails on a tiny fake project in tmp_path ---------------------


def fake_project(tmp_path, files):
    """Every LAYERS app and switchboard as an empty package, plus the given files."""
    for app in [*LAYER_OF, "switchboard"]:
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
    for module in PURE_JUDGEMENT:  # present and pure, unless a test says otherwise
        (tmp_path / (module.replace(".", "/") + ".py")).write_text(
            "from django.db import models\nfrom django.utils import timezone\n"
        )
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return build_graph(tmp_path)


UPWARD_IN_A_FUNCTION = "import os\n\n\ndef welcome():\n    from front import views\n"
UPWARD_FOR_TYPES = "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from hosts.models import Machine\n"


@pytest.mark.parametrize(
    ("files", "check", "expected"),
    [
        (
            {"coop/models.py": UPWARD_IN_A_FUNCTION, "front/views.py": ""},
            upward_imports,
            ["coop/models.py:5: `from front import views`", "coop (layer 2 of 8) imports front.views", "lower layer"],
        ),
        (
            {"coop/adapters.py": UPWARD_FOR_TYPES, "hosts/models.py": ""},
            upward_imports,
            ["coop/adapters.py:4: `from hosts.models import Machine`", "imports hosts.models", "lower layer"],
        ),
        (
            {"power/tasks.py": "import backups.models\n", "backups/models.py": ""},
            sibling_imports,
            ["power/tasks.py:1: `import backups.models`", "power and backups share layer 5", "sibling"],
        ),
        (
            {"core/management/commands/worker.py": "from switchboard.celery import app\n", "switchboard/celery.py": ""},
            project_package_imports,
            ["core/management/commands/worker.py:1: `from switchboard.celery import app`", "project package"],
        ),
        (
            {"hosts/models.py": "from hosts import views\n", "hosts/views.py": "def f():\n    from .models import X\n"},
            import_circles,
            [
                "import circle",
                "hosts/models.py:1: `from hosts import views`",
                "hosts/views.py:2: `from .models import X`",
            ],
        ),
        (
            {"backups/verdicts.py": "from django.contrib.auth.models import User\n"},
            model_imports_of_pure_judgement,
            ["backups/verdicts.py:1: `from django.contrib.auth.models import User`", "pure judgement"],
        ),
        (
            {"backups/verdicts.py": "from backups import s3\n", "backups/s3.py": "from .models import Target\n"},
            model_imports_of_pure_judgement,
            ["backups/verdicts.py:1: `from backups import s3`, then backups/s3.py:1: `from .models import Target`"],
        ),
        (
            {"power/models.py": "def go(self):\n    from . import tasks\n", "power/tasks.py": ""},
            tasks_imported_by_models,
            ["power/models.py:2: `from . import tasks`", "power.models imports power.tasks", "models do not import"],
        ),
        (
            {"billing/__init__.py": "", "billing/models.py": ""},
            unplaced_packages,
            ["billing: a top-level package", "every app is in LAYERS"],
        ),
    ],
    ids=[
        "upward-in-function",
        "upward-type-checking",
        "siblings",
        "project-package",
        "circle",
        "pure-model",
        "pure-model-via-module",
        "models-tasks",
        "unplaced-app",
    ],
)
def test_the_checker_catches(tmp_path, files, check, expected):
    broken = check(fake_project(tmp_path, files))
    assert len(broken) == 1, broken
    for part in expected:
        assert part in broken[0]


def test_the_checker_allows_what_the_rules_allow(tmp_path):
    graph = fake_project(
        tmp_path,
        {
            "front/views.py": "from coop.models import Person\nfrom hosts import models\nfrom backups import verdicts",
            "coop/models.py": "from core import fields\n",
            "core/fields.py": "",
            "hosts/models.py": "from .monitoring import down_after\n",
            "hosts/monitoring.py": "",
            "switchboard/urls.py": "from front import views\nfrom demo import urls\n",
            "demo/urls.py": "",
            "tests/__init__.py": "",
            "tests/test_x.py": "import switchboard\n",  # tests/ is outside the layers
            "coop/migrations/0001_initial.py": "import front\n",  # migrations are not read
        },
    )
    assert "tests.test_x" not in graph and "coop.migrations.0001_initial" not in graph
    for check in CHECKS:
        assert check(graph) == [], check.__name__
