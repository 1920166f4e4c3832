"""Every module of the package imports on its own, and the package has no import cycle.

The cycle check is static: it reads every ``from . import`` / ``from .x import`` / ``import
shapelint.x`` statement of ``lint/`` and ``rules/`` (module level and inside functions alike, so
a lazy import that only hides a cycle counts too; imports under ``if TYPE_CHECKING:`` do not, since
they never run) and looks for a cycle in that graph."""
from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import shapelint

ROOT = Path(__file__).resolve().parent.parent
TREES = {"shapelint": ROOT / "lint", "shapelint.rules": ROOT / "rules"}


def _modules():
    """module name -> file, for every module under lint/ and rules/."""
    out = {}
    for pkg, folder in TREES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            if pkg == "shapelint" and parts and parts[0] == "rules":
                continue
            out[".".join([pkg, *parts])] = path
    return out


MODULES = _modules()


def _is_package(name):
    return MODULES[name].name == "__init__.py"


def _type_checking_lines(tree):
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in ast.walk(node):
                if hasattr(sub, "lineno"):
                    lines.add(sub.lineno)
    return lines


def _resolve(name, base):
    """The longest prefix of ``base`` that is one of our modules."""
    while base and base not in MODULES:
        base = base.rpartition(".")[0]
    return base or None


def imports_of(name):
    path = MODULES[name]
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_lines(tree)
    package = name if _is_package(name) else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                base = f"{base}.{node.module}" if node.module else base
            elif node.module and node.module.startswith("shapelint"):
                base = node.module
            else:
                continue
            for alias in node.names:  # `from . import dims` imports the module dims
                target = _resolve(f"{base}.{alias.name}", f"{base}.{alias.name}") \
                    if f"{base}.{alias.name}" in MODULES else _resolve(base, base)
                if target and target != name:
                    out.add(target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("shapelint"):
                    target = _resolve(alias.name, alias.name)
                    if target and target != name:
                        out.add(target)
    # importing a package runs its __init__, which the graph already holds as the package's edges;
    # a submodule importing its own package's __init__ is not a cycle Python minds
    return {t for t in out if not (_is_package(t) and name.startswith(t + "."))}


def find_cycle(graph):
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None
    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_the_graph_sees_known_edges():
    """The checker itself: it finds the imports it must (so that 'no cycle' means something)."""
    assert "shapelint.results" in imports_of("shapelint.findings")
    assert "shapelint.errors" in imports_of("shapelint.cli")
    assert "shapelint.commands.summary" in imports_of("shapelint.cli")
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle():
    graph = {name: imports_of(name) for name in MODULES}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_errors_module_depends_on_nothing():
    assert imports_of("shapelint.errors") == set()


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.endswith("_confirm_runner")))
def test_every_module_imports(name):
    importlib.import_module(name)


def test_every_module_is_listed():
    """pkgutil sees the same modules (the package layout installed as pyproject says)."""
    seen = {m.name for m in pkgutil.walk_packages(shapelint.__path__, "shapelint.")}
    assert seen >= {n for n in MODULES if n != "shapelint" and not n.startswith("shapelint.rules")}
