"""Structure of the package: no import cycle among the project's modules, no library module
importing the command line.

Static analysis of every ``import`` / ``from ... import`` statement (with ``ast``) of every module
under ``model/``, ``calibration/`` and ``experiments/``, at module level *and* inside functions
and classes (an import inside a function still ties the two modules together; it only defers
the tie). Relative imports are resolved against the module's package; ``from package import
name`` counts as an import of ``package.name`` when that is a module, else of ``package``.
``import`` statements under ``if TYPE_CHECKING:`` are left out (they never run). Dynamic imports
(``importlib.import_module`` with a string) are not seen, except the command table of
``experiments/cli.py``, whose modules count as imports of ``mixsim.experiments.cli``.

A package's ``__init__`` importing its own submodules is not a cycle by itself; a cycle is a
strongly connected set of two or more modules (Tarjan's algorithm).

Two checks: no cycle at all among module-level imports (what Python executes on import), and no
cycle among all imports, function-level ones included, except the pairs of :data:`KNOWN_CYCLES`
(each with its reason; the test fails when one disappears, so that the list stays true).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Repository folder → package name (the package-dir mapping of pyproject.toml).
PACKAGES = {"model": "mixsim.model", "calibration": "mixsim.calibration",
            "experiments": "mixsim.experiments"}
#: The command line: the entry point and the command modules (anything under commands/).
CLI_MODULES = ("mixsim.experiments.cli", "mixsim.experiments.commands")
#: Cycles through function-level imports that are known (sorted module names) → why.
KNOWN_CYCLES: dict[tuple[str, ...], str] = {}


def _modules() -> dict[str, Path]:
    mods = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            mods[".".join([package, *parts])] = path
    return mods


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path, modules: dict[str, Path], top_level: bool = False
             ) -> set[str]:
    """Project modules imported by module ``name`` (anywhere in its code, or at module level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
        if top_level and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            skip.update(id(n) for n in ast.walk(node) if n is not node)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod
                       for a in node.names]
        else:
            continue
        for t in targets:
            # `import a.b.c` imports a, a.b and a.b.c; the deepest project module counts
            while t and t not in modules:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def _graph(top_level: bool = False) -> dict[str, set[str]]:
    from mixsim.experiments.cli import COMMANDS
    modules = _modules()
    graph = {name: _imports(name, path, modules, top_level) for name, path in modules.items()}
    graph["mixsim.experiments.cli"] |= {module for _, module in COMMANDS}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of two or more modules (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
                continue
            if child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out


def _without_package_inits(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop a package's imports of its own submodules (its ``__init__`` re-exporting them)."""
    modules = _modules()
    return {name: {t for t in deps if not (modules[name].name == "__init__.py"
                                           and t.startswith(name + "."))}
            for name, deps in graph.items()}


def test_the_cycle_finder_sees_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_finder_sees_imports_inside_functions():
    graph = _graph()
    # experiments/runner.py imports mixsim.model.api inside run_experiment only
    assert "mixsim.model.api" in graph["mixsim.experiments.runner"]
    assert "mixsim.experiments.common" in graph["mixsim.experiments.runner"]


def test_the_import_finder_tells_module_level_from_function_level_imports():
    top = _graph(top_level=True)
    assert "mixsim.model.api" not in top["mixsim.experiments.runner"]  # inside a function
    assert "mixsim.experiments.common" in top["mixsim.experiments.runner"]


def test_no_import_cycle_among_module_level_imports():
    cycles = _cycles(_without_package_inits(_graph(top_level=True)))
    assert not cycles, "import cycles: " + "; ".join(" ↔ ".join(c) for c in cycles)


def test_no_import_cycle_among_all_imports_but_the_known_ones():
    cycles = {tuple(c) for c in _cycles(_without_package_inits(_graph()))}
    new = cycles - set(KNOWN_CYCLES)
    assert not new, "import cycles: " + "; ".join(" ↔ ".join(c) for c in sorted(new))
    gone = set(KNOWN_CYCLES) - cycles
    assert not gone, f"no longer cycles, remove them from KNOWN_CYCLES: {sorted(gone)}"


def _is_cli(name: str) -> bool:
    return any(name == c or name.startswith(c + ".") for c in CLI_MODULES)


def test_no_library_module_imports_the_command_line():
    offenders = {name: sorted(t for t in deps if _is_cli(t))
                 for name, deps in _graph().items() if not _is_cli(name)}
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"library modules importing the command line: {offenders}"


@pytest.mark.parametrize("command,module", __import__(
    "mixsim.experiments.cli", fromlist=["COMMANDS"]).COMMANDS)
def test_every_command_of_the_table_has_its_own_module(command, module):
    import importlib
    assert module.startswith("mixsim.experiments.commands.")
    mod = importlib.import_module(module)
    assert callable(mod.add_parser)
