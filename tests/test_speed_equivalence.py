"""The shortcuts the lint path takes for speed (issue 14) give exactly what the slow ways give.

Each test compares a fast path with the plain one it replaced, on the fixtures and on code written
to hit the corners: libcst's own child walk and visitor (core/cstwalk.py, the planner's scans),
``inspect``'s bind (the memoised layer-call check), ``ast.literal_eval`` (integer literals),
``ast.iter_child_nodes`` (the depth guard), and the analysis of every fixture with the memos cold
and warm.
"""
from __future__ import annotations

import ast
import gc
import inspect
import weakref
from pathlib import Path
from typing import Any, List

import libcst as cst
import pytest

from shapelint import planner as P
from shapelint.core.cstwalk import TRIVIA, children, code_children
from shapelint.engine import analyze_source
from shapelint.frameworks.torch import modules as M
from shapelint.guard import tree_depth

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = sorted((ROOT / "fixtures").glob("*.py"))

CORNERS = '''
import a.b as c, d
from .. import e
from . x import (f as g, h)
@dec(1)
@dec2
async def fn(p, /, q: int = 1, *args, r, s=2, **kw) -> "T":
    global G
    nonlocal_ = [i async for i in aiter() if i if not i]
    async with ctx() as (u, *v), other():
        await thing
    async for w in z:
        break
    else:
        pass
    lam = lambda m, *n, o=3, **p: m if n else o
    y = {k: v for k, v in d.items()}; x = {*a, *b}; t = (*a, 1)
    print(f"{x!r:>{width}} {y=}", 'a' 'b', b"x", 0x_1f, 1_000, 1.5e3, 2j)
    try:
        pass
    except* (ValueError, TypeError) as exc:
        raise X from exc
    finally:
        del a[1:2, ::3], b.c
    match cmd:
        case [1, *rest] | {"k": v, **kw} if v > 0:
            pass
        case Point(x=0, y=yy) as pt:
            pass
        case _:
            pass
    while (n := n - 1) > 0: continue
    return -x ** ~y // z @ w if a and not b or c is not d else (yield from gen)
class K(Base, metaclass=M):
    x: int = 1
    def m(self): return super().m()
assert x, "msg"
with open(f) as fh: pass
t: "T"
'''


def _modules() -> List[cst.Module]:
    return [cst.parse_module(CORNERS)] + [cst.parse_module(p.read_text()) for p in FIXTURES]


def _nodes(module: cst.Module):
    stack = [module]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


def test_children_are_libcsts_children_in_order():
    kinds = set()
    for module in _modules():
        for n in _nodes(module):
            kinds.add(type(n))
            got, want = children(n), n.children
            assert len(got) == len(want) and all(a is b for a, b in zip(got, want)), type(n).__name__
            code = code_children(n)
            assert code == [c for c in want if not isinstance(c, TRIVIA)]
    assert len(kinds) > 100  # the corners above reach most of libcst's node classes


class _ReferenceScanner(cst.CSTVisitor):
    """The planner's scanner as it was: libcst's visitor."""

    def __init__(self):
        self.calls, self.assigns, self.stack = [], [], []

    def visit_ClassDef(self, node):
        return False

    def visit_FunctionDef(self, node):
        self.stack.append(node)

    def leave_FunctionDef(self, node):
        self.stack.pop()

    def visit_Call(self, node):
        self.calls.append((node, self.stack[-1] if self.stack else None))

    def visit_Assign(self, node):
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.assigns.append((node.targets[0].target.value, node.value, self.stack[-1] if self.stack else None))


def _same(a, b) -> bool:
    return len(a) == len(b) and all(all(x is y or x == y for x, y in zip(p, q)) for p, q in zip(a, b))


def test_planner_scan_matches_libcsts_visitor():
    for module in _modules():
        ref = _ReferenceScanner()
        module.visit(ref)
        got = P._Scanner().scan(module)
        assert _same(got.calls, ref.calls) and _same(got.assigns, ref.assigns)


def _reference_bound_names(fn: cst.FunctionDef) -> set:
    names = {p.name.value for p in fn.params.posonly_params + fn.params.params + fn.params.kwonly_params}
    for star in (fn.params.star_arg, fn.params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    declared: set = set()

    def targets(t):
        if isinstance(t, cst.Name):
            names.add(t.value)
        elif isinstance(t, (cst.Tuple, cst.List)):
            for e in t.elements:
                targets(e.value)
        elif isinstance(t, cst.StarredElement):
            targets(t.value)

    class V(cst.CSTVisitor):
        def visit_FunctionDef(self, node):
            names.add(node.name.value)
            return False

        def visit_ClassDef(self, node):
            names.add(node.name.value)
            return False

        def visit_Lambda(self, node):
            return False

        def visit_AssignTarget(self, node):
            targets(node.target)

        def visit_AnnAssign(self, node):
            targets(node.target)

        def visit_AugAssign(self, node):
            targets(node.target)

        def visit_For(self, node):
            targets(node.target)

        def visit_WithItem(self, node):
            if node.asname is not None:
                targets(node.asname.name)

        def visit_NamedExpr(self, node):
            targets(node.target)

        def visit_ImportAlias(self, node):
            P._alias_name(node, names)

        def visit_Global(self, node):
            declared.update(n.name.value for n in node.names)

        def visit_Nonlocal(self, node):
            declared.update(n.name.value for n in node.names)

    fn.body.visit(V())
    return names - declared


def test_bound_names_match_libcsts_visitor():
    count = 0
    for module in _modules():
        for n in _nodes(module):
            if isinstance(n, cst.FunctionDef):
                assert P._bound_names(n) == _reference_bound_names(n)
                count += 1
    assert count > 50


def _reference_depth(tree) -> int:
    best, stack = 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(node))
    return best


def test_tree_depth_matches_a_plain_walk():
    for code in [CORNERS, "x = " + "+".join(["1"] * 500), "f(" * 90 + ")" * 90] + [p.read_text() for p in FIXTURES]:
        tree = ast.parse(code)
        assert tree_depth(tree) == _reference_depth(tree)


@pytest.mark.parametrize("text", ["0", "00", "0_0", "7", "1_000", "0x1F", "0X_1f", "0o17", "0O7", "0b101", "0B_1",
                                  "9" * 4301, "0x" + "f" * 5000, "0777"])
def test_integer_literals_read_as_literal_eval_reads_them(text):
    def read(f):
        try:
            return f(text)
        except (ValueError, SyntaxError):
            return "error"

    assert read(lambda t: int(t, 0)) == read(ast.literal_eval)


def _f1(args, x, y=1, *, z, **kw): ...
def _f2(args, x, /, y, *rest): ...
def _f3(args, kit, x): ...


@pytest.mark.parametrize("fn", [_f1, _f2, _f3])
@pytest.mark.parametrize("nargs", range(0, 6))
@pytest.mark.parametrize("kwargs", [{}, {"z": 1}, {"y": 1}, {"x": 1}, {"y": 1, "z": 2}, {"q": 1}, {"rest": 1}])
def test_layer_call_fits_as_inspect_binds(fn, nargs, kwargs):
    try:
        inspect.signature(fn).bind(*range(nargs), **kwargs)
        want = True
    except TypeError:
        want = False
    M._FITS.clear()
    assert M.fits(fn, nargs, kwargs) is want
    assert M.fits(fn, nargs, kwargs) is want  # memoised


def _summary(analysis) -> Any:
    return ([(f.line, f.col, f.code, f.message) for f in analysis.findings],
            [(r.ctor_text, repr(r.inputs), r.error) for r in analysis.runs], analysis.coverage)


def test_every_fixture_analyses_the_same_with_memos_cold_and_warm():
    for p in FIXTURES:
        if p.name.startswith("keras_"):
            continue
        M._FITS.clear()
        cold = _summary(analyze_source(p.read_text(), str(p), {}))
        warm = _summary(analyze_source(p.read_text(), str(p), {}))
        assert warm == cold, p.name


def test_the_syntax_tree_is_freed_without_the_cyclic_collector():
    """ClassInfo holds its module weakly: dropping an analysis frees its tree at once."""
    code = (ROOT / "fixtures" / "resnet_blocks.py").read_text()
    collecting = gc.isenabled()
    gc.disable()
    try:
        analysis = analyze_source(code, "resnet_blocks.py", {})
        module = weakref.ref(analysis.source)  # it holds the tree
        assert analysis.source.classes["ResNet"].source is analysis.source
        del analysis
        assert module() is None
    finally:
        if collecting:
            gc.enable()


def test_the_time_budget_reads_the_thread_clock_only_when_it_could_be_spent(monkeypatch):
    import time

    from shapelint.core import limits

    reads = []
    real = time.thread_time
    monkeypatch.setattr(limits.time, "thread_time", lambda: reads.append(1) or real())
    d = limits.Deadline(100.0)
    assert reads == [1]
    assert not any(d.passed() for _ in range(1000)) and reads == [1]
    short = limits.Deadline(0.001)
    end = real() + 0.05
    while real() < end:  # spend CPU time: more than the budget
        pass
    assert short.passed()
    assert not limits.Deadline(None).passed()


def test_a_node_class_visited_some_other_way_is_read_through_libcst():
    """A libcst release whose visit order cannot be read from the code falls back to libcst."""
    from dataclasses import dataclass

    from libcst._nodes.internal import visit_sequence

    from shapelint.core import cstwalk

    @dataclass(frozen=True)
    class Odd(cst.Name):
        def _visit_and_replace_children(self, visitor):
            names = ("lpar", "rpar")  # no field name is a constant of its own: the order is unknown
            rpar = visit_sequence(self, names[1], self.rpar, visitor)
            lpar = visit_sequence(self, names[0], self.lpar, visitor)
            return Odd(value=self.value, lpar=lpar, rpar=rpar)

    node = Odd(value="x", lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    assert [type(c) for c in node.children] == [cst.RightParen, cst.LeftParen]
    assert children(node) == node.children and cstwalk._ORDER[Odd] is None
    assert code_children(node) == []
