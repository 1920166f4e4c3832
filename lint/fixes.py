"""``shapelint check --fix`` / ``--diff``: libcst codemods for the findings a rule knows how to fix.

How a fix is found, applied and trusted:

* A rule module may define ``fix(payload, node, ctx) -> Optional[Fix]`` next to ``message``
  (see ``shapelint.rules``). It gets the violation's typed payload, the node the finding sits on,
  and a :class:`FixContext` (the run, the layer the violation belongs to, helpers that read
  constant integers and call arguments). It returns a :class:`Fix`: one or more :class:`Edit`
  (a node of the checked file and the expression that replaces it), a title, and whether it is
  *safe* (``--fix``) or *unsafe* (``--unsafe-fixes`` too, as ruff names them).
* Edits are applied by a libcst transformer that swaps exactly the nodes named (by identity) and
  leaves every other node as parsed, so the rest of the file (formatting, comments) is
  reproduced byte for byte.
* A fix is never trusted on its own: :func:`fix_source` re-analyses the edited file and applies the
  fixes of what that reveals (fixing ``x.view(-1, 320)`` to ``2420`` makes ``nn.Linear(320, 50)``
  wrong next; its fix follows), for a few rounds. The result is kept only if every finding left
  was already there before (none introduced) and at least one was fixed; otherwise the file is
  left as it was and no finding of it is offered as fixable. A chain that cannot be made
  consistent therefore offers no fix.
* Safe fixes replace a hardcoded size by the right integer, and only for a run whose input is
  concrete (given by a flag, the config or the file's own ``model(torch.randn(...))``/``summary``).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst

SAFE, UNSAFE = "safe", "unsafe"


@dataclass(frozen=True, eq=False)
class Edit:
    """Replace ``node`` (a node of the checked file's tree) by the expression ``code``."""

    node: cst.CSTNode
    code: str


@dataclass(frozen=True, eq=False)
class Fix:
    edits: Tuple[Edit, ...]
    title: str
    safe: bool = True


class FixContext:
    """What a rule's ``fix`` may ask: the run, the violation's layer, and syntax helpers."""

    def __init__(self, src: Any, run: Any, module: Any, in_file: Set[int]):
        self.src = src
        self.run = run
        self.module = module
        self._in_file = in_file

    @property
    def concrete(self) -> bool:
        """The run's input is one concrete shape (the only case a safe size fix is made for)."""
        return self.run is not None and self.run.concrete

    def in_file(self, node: Any) -> bool:
        return node is not None and id(node) in self._in_file

    def layer_call(self) -> Optional[cst.Call]:
        """The constructor call of the violation's layer (``nn.Linear(320, 50)``), in this file."""
        m = self.module
        node = getattr(m, "node", None)
        return node if isinstance(node, cst.Call) and self.in_file(node) else None

    def text(self, node: Any) -> str:
        return self.src.code_for(node)

    @staticmethod
    def constant(expr: Any) -> Optional[int]:
        """The value of an integer expression made only of literals (``320``, ``16 * 5 * 5``)."""
        if isinstance(expr, cst.Integer):
            return int(expr.evaluated_value)
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
            v = FixContext.constant(expr.expression)
            return -v if v is not None else None
        if isinstance(expr, cst.BinaryOperation):
            a, b = FixContext.constant(expr.left), FixContext.constant(expr.right)
            if a is None or b is None:
                return None
            op = expr.operator
            if isinstance(op, cst.Multiply):
                return a * b
            if isinstance(op, cst.Add):
                return a + b
            if isinstance(op, cst.Subtract):
                return a - b
            if isinstance(op, cst.FloorDivide) and b:
                return a // b
        return None

    @staticmethod
    def argument(call: cst.Call, index: int, keyword: str) -> Optional[cst.Arg]:
        """The argument bound to parameter ``keyword`` at position ``index`` (None: not given
        plainly, e.g. through ``*args``/``**kw``)."""
        pos = 0
        for a in call.args:
            if a.star:
                return None
            if a.keyword is not None:
                if a.keyword.value == keyword:
                    return a
                continue
            if pos == index:
                return a
            pos += 1
        return None

    def param_index(self, param: str) -> int:
        """Position of ``param`` in the violation's layer constructor (-1: not a positional one)."""
        sig = getattr(getattr(self.module, "spec", None), "signature", None) or ()
        names = [p[0] for p in sig]
        return names.index(param) if param in names else -1

    @staticmethod
    def method_call(node: Any, names: Tuple[str, ...] = ("view", "reshape")) -> Optional[Tuple[cst.BaseExpression, str, List[cst.BaseExpression]]]:
        """(receiver, method, plain positional arguments) of ``recv.view(a, b)``; None otherwise."""
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in names):
            return None
        if any(a.star or a.keyword is not None for a in node.args):
            return None
        return node.func.value, node.func.attr.value, [a.value for a in node.args]

    @staticmethod
    def simple(expr: Any) -> bool:
        """A name or attribute chain (``x``, ``self.x``): safe to repeat in generated code."""
        while isinstance(expr, cst.Attribute):
            expr = expr.value
        return isinstance(expr, cst.Name)

    @staticmethod
    def code(node: cst.CSTNode) -> str:
        return cst.Module(body=[]).code_for_node(node)

    def torch_name(self) -> Optional[str]:
        """The local name of the ``torch`` module (``torch``), if the file imports it."""
        for local, qual in self.src.imports.items():
            if qual == "torch":
                return local
        return None

    def nn_name(self) -> Optional[str]:
        for local, qual in self.src.imports.items():
            if qual == "torch.nn":
                return local
        t = self.torch_name()
        return f"{t}.nn" if t else None


def replace_constant(ctx: FixContext, call: Optional[cst.Call], index: int, keyword: str, old: Any, new: Any,
                     title: str) -> Optional[Fix]:
    """The safe fix that turns the hardcoded ``old`` bound to ``keyword`` in ``call`` into ``new``."""
    if call is None or not isinstance(new, int) or isinstance(new, bool) or new <= 0:
        return None
    arg = FixContext.argument(call, index, keyword)
    if arg is None or FixContext.constant(arg.value) is None or FixContext.constant(arg.value) != old:
        return None
    return Fix((Edit(arg.value, str(new)),), title.format(old=old, new=new))


# ------------------------------------------------------------------------------------------------
# Applying edits
# ------------------------------------------------------------------------------------------------


class _Swap(cst.CSTTransformer):
    def __init__(self, edits: Dict[int, cst.BaseExpression]):
        super().__init__()
        self.edits = edits

    def on_leave(self, original, updated):  # type: ignore[override]
        new = self.edits.get(id(original))
        if new is None:
            return updated
        if isinstance(original, cst.BaseExpression) and (original.lpar or original.rpar):
            new = new.with_changes(lpar=original.lpar, rpar=original.rpar)
        return new


def apply_fixes(tree: cst.Module, fixes: Sequence[Fix]) -> str:
    """The module's code with the fixes' edits made (one edit per node: the first wins)."""
    edits: Dict[int, cst.BaseExpression] = {}
    for f in fixes:
        if any(id(e.node) in edits for e in f.edits):
            continue
        for e in f.edits:
            edits[id(e.node)] = cst.parse_expression(e.code)
    return tree.visit(_Swap(edits)).code


# ------------------------------------------------------------------------------------------------
# Fixes of one analysis, and the verified chain
# ------------------------------------------------------------------------------------------------


def fixes_of(analysis: Any, unsafe: bool, lines: Optional[List[str]] = None) -> List[Tuple[Any, Fix]]:
    """(finding, fix) for each finding of ``analysis`` whose rule offers one (safe ones only unless
    ``unsafe``); findings silenced by ``# noqa`` are left alone."""
    from .options import suppressed
    from .rules_registry import rule_for_payload

    src = analysis.source
    in_file = {id(n) for n in _walk(src.tree)}
    lines = lines if lines is not None else src.code.splitlines()
    out: List[Tuple[Any, Fix]] = []
    for f in analysis.findings:
        fact = getattr(f, "fact", None)
        if fact is None or fact.payload is None:
            continue
        if 0 < f.line <= len(lines) and suppressed(lines[f.line - 1], f.code):
            continue
        fixer = getattr(rule_for_payload(fact.payload), "fix", None)
        if fixer is None or not in_file.__contains__(id(fact.node)):
            continue
        fx = fixer(fact.payload, fact.node, FixContext(src, f.run, fact.module, in_file))
        if fx is None or (not fx.safe and not unsafe):
            continue
        out.append((f, fx))
    return out


def _walk(tree: cst.CSTNode):
    stack = [tree]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


@dataclass
class FixOutcome:
    path: str
    before: str
    after: str  # == before when nothing was fixed
    fixed: List[Tuple[int, int, str, str]] = field(default_factory=list)  # (line, col, code, title), first round
    rounds: int = 0
    remaining: int = 0

    @property
    def changed(self) -> bool:
        return self.after != self.before

    def diff(self) -> str:
        name = self.path.lstrip("/")
        return "".join(difflib.unified_diff(self.before.splitlines(True), self.after.splitlines(True),
                                            f"a/{name}", f"b/{name}"))


def fix_source(code: str, path: str, shapes: Optional[Dict[str, Any]] = None, select=None, ignore=None,
               unsafe: bool = False, rounds: int = 6, strict: Optional[bool] = None,
               first: Any = None) -> FixOutcome:
    """Fix ``code`` and verify the result by analysing it again (see the module docstring).
    ``first``: the analysis of ``code`` when the caller has it already."""
    from .engine import analyze_source

    from .findings import _selected

    # the chain is analysed under every rule: --select/--ignore choose what is fixed first, but a
    # fix must not introduce a finding of any rule
    if first is None or select or ignore:
        first = analyze_source(code, path, shapes, strict=strict)
    before = {(f.line, f.code) for f in first.findings}
    out = FixOutcome(path, code, code)
    current, analysis, fixed = code, first, []
    for i in range(rounds):
        fxs = fixes_of(analysis, unsafe)
        if i == 0:
            fxs = [(f, fx) for f, fx in fxs if _selected(f.code, select, ignore)]
            fixed = [(f.line, f.col + 1, f.code, fx.title) for f, fx in fxs]
        if not fxs:
            break
        new = apply_fixes(analysis.source.tree, [fx for _, fx in fxs])
        if new == current:
            break
        current = new
        try:
            analysis = analyze_source(current, path, shapes, strict=strict)
        except cst.ParserSyntaxError:  # pragma: no cover - an edit is always one expression
            return out
        out.rounds = i + 1
        if not analysis.findings:
            break
    if current == code or not fixed:
        return out
    left = {(f.line, f.code) for f in analysis.findings}
    if not left <= before or len(current.splitlines()) != len(code.splitlines()) and left:
        return out  # a fix would introduce (or move) a finding: offer none
    if left & {(line, c) for line, _, c, _ in fixed}:
        return out  # a finding said to be fixed is still there
    out.after, out.fixed, out.remaining = current, fixed, len(analysis.findings)
    return out


def fixable(analysis: Any, code: str, path: str, shapes=None, select=None, ignore=None,
            unsafe: bool = False) -> Set[Tuple[int, str]]:
    """(line, code) of the findings of ``analysis`` that ``--fix`` (``unsafe``: with
    ``--unsafe-fixes``) would fix, after verification: what ``[*]`` marks in the output."""
    if not analysis.findings or not fixes_of(analysis, unsafe):
        return set()
    out = fix_source(code, path, shapes, select, ignore, unsafe=unsafe, first=analysis)
    return {(line, c) for line, _, c, _ in out.fixed} if out.changed else set()


# ------------------------------------------------------------------------------------------------
# Fixes shared by rules
# ------------------------------------------------------------------------------------------------


def reshape_fix(ctx: FixContext, node: Any, per_sample: Any, k: Any, unsafe_style: str) -> Optional[Fix]:
    """``x.view(-1, K)`` whose samples hold ``per_sample`` elements: safe, K -> per_sample (concrete
    input); unsafe, ``torch.flatten(x, 1)`` (``unsafe_style='flatten'``) or ``x.view(x.size(0), -1)``
    (``'keep_batch'``)."""
    mc = FixContext.method_call(node)
    if mc is None or len(mc[2]) != 2:
        return None
    recv, meth, (first, last) = mc
    if isinstance(per_sample, int) and isinstance(k, int) and FixContext.constant(last) == k:
        return Fix((Edit(last, str(per_sample)),), f"{k} -> {per_sample}")
    if FixContext.constant(first) != -1 or not FixContext.simple(recv) or not ctx.in_file(node):
        return None
    r = FixContext.code(recv)
    if unsafe_style == "flatten":
        t = ctx.torch_name()
        if t is None:
            return None
        return Fix((Edit(node, f"{t}.flatten({r}, 1)"),), f"{FixContext.code(node)} -> {t}.flatten({r}, 1)", safe=False)
    return Fix((Edit(node, f"{r}.{meth}({r}.size(0), -1)"),), f"-> {r}.{meth}({r}.size(0), -1)", safe=False)


def view_size_fix(ctx: FixContext, node: Any, total: Any, target: Sequence[Any]) -> Optional[Fix]:
    """``x.view(n, 512)`` that cannot hold ``total`` elements: the one hardcoded entry set to what
    the others leave (concrete input only)."""
    mc = FixContext.method_call(node)
    if mc is None or not isinstance(total, int) or len(mc[2]) != len(target):
        return None
    if any(not isinstance(t, int) or t < 0 for t in target):
        return None
    args = mc[2]
    consts = [i for i, a in enumerate(args) if FixContext.constant(a) is not None]
    if len(consts) != 1:
        return None
    i = consts[0]
    others = 1
    for j, t in enumerate(target):
        if j != i:
            others *= t
    if others <= 0 or total % others:
        return None
    return Fix((Edit(args[i], str(total // others)),), f"{target[i]} -> {total // others}")


def lazy_linear_fix(ctx: FixContext) -> Optional[Fix]:
    """``nn.Linear(K, out)`` fed a size that depends on the input: ``nn.LazyLinear(out)`` (unsafe)."""
    call = ctx.layer_call()
    if call is None or not isinstance(call.func, cst.Attribute) or call.func.attr.value != "Linear":
        return None
    arg = FixContext.argument(call, 0, "in_features")
    if arg is None:
        return None
    args = [a for a in call.args if a is not arg]
    if args:
        last = args[-1]
        args[-1] = last.with_changes(comma=cst.MaybeSentinel.DEFAULT) if arg is call.args[-1] else last
    new = call.with_changes(func=call.func.with_changes(attr=cst.Name("LazyLinear")), args=args)
    return Fix((Edit(call, FixContext.code(new)),), f"-> {FixContext.code(new.func)}(...)", safe=False)
