"""What a rule's ``fix(payload, node, ctx)`` returns and may ask (see ``shapelint.rules``): the
edits of a fix, and the syntax helpers. Applying and verifying fixes is ``shapelint.fixes``.
Imports nothing of shapelint's (rules import it; an engine import here would be a cycle)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Set, Tuple

import libcst as cst

from .cstwalk import children


@dataclass(frozen=True, eq=False)
class Edit:
    """Replace ``node`` (a node of the checked file's tree) by the expression ``code``."""

    node: cst.CSTNode
    code: str


@dataclass(frozen=True, eq=False)
class Fix:
    """``edits`` made together. A fix may instead offer ``choices``, each one edit on its own, and a
    ``claim``: (the layer, the constructor parameter, the value it must get). ``shapelint.fixes``
    keeps the one choice that gives the layer that value and changes nothing else the model is
    built of (the literal flows to exactly this use), and drops the fix when not exactly one does."""

    edits: Tuple[Edit, ...]
    title: str
    safe: bool = True
    choices: Tuple[Edit, ...] = ()
    claim: Optional[Tuple[Any, str, Any]] = None
    fallback: Optional["Fix"] = None  # tried when no choice of this one holds (its own safety)


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

    def layer_shared(self, node: Any) -> bool:
        """The violation's layer is called elsewhere too (``self.pool`` after every conv): a change
        to its constructor changes those calls as well."""
        calls = [c for c in getattr(self.run, "calls", ()) or () if c.module is self.module]
        return len(calls) > 1 or any(c.node is not node for c in calls)

    def text(self, node: Any) -> str:
        return self.src.code_for(node)

    @staticmethod
    def constant(expr: Any) -> Optional[int]:
        """The value of an integer expression made only of literals (``320``, ``16 * 5 * 5``)."""
        if isinstance(expr, cst.Integer):
            return int(expr.value, 0)
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


def _positive_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _chain(expr: Any, op: type) -> List[Tuple[int, Any]]:
    """The operands of a flat ``a op b op c`` chain with their sign (``-`` in an ``Add`` chain: -1)."""
    if isinstance(expr, cst.BinaryOperation) and (isinstance(expr.operator, op)
                                                  or op is cst.Add and isinstance(expr.operator, cst.Subtract)):
        sign = -1 if isinstance(expr.operator, cst.Subtract) else 1
        return _chain(expr.left, op) + [(sign * s, e) for s, e in _chain(expr.right, op)]
    return [(1, expr)]


def solve_literal(expr: Any, value: Any, want: Any) -> Optional[Tuple[cst.CSTNode, int]]:
    """(node, integer) such that writing the integer at ``node`` turns ``expr`` (which evaluates to
    ``value``) into ``want``: ``expr`` itself when it is made of literals only (``320``, ``16 * 5 * 5``),
    else its one integer literal when ``expr`` is a product (``2 * width``) or a sum (``n + 1``) of that
    literal and operands that are not literals; None when no such single integer exists."""
    if not (_positive_int(value) and _positive_int(want)):
        return None
    if FixContext.constant(expr) is not None:
        return (expr, want) if FixContext.constant(expr) == value else None
    for op in (cst.Multiply, cst.Add):
        terms = _chain(expr, op)
        lits = [(s, e) for s, e in terms if isinstance(e, cst.Integer)]
        if len(terms) < 2 or len(lits) != 1 or any(FixContext.constant(e) is not None
                                                   for _, e in terms if not isinstance(e, cst.Integer)):
            continue
        sign, node = lits[0]
        k = int(node.value, 0)
        if op is cst.Multiply:
            if sign != 1 or k <= 0 or value % k or want % (value // k):
                return None
            new = want // (value // k)
        else:
            new = sign * (want - (value - sign * k))
        return (node, new) if new > 0 else None
    return None


def replace_constant(ctx: FixContext, call: Optional[cst.Call], index: int, keyword: str, old: Any, new: Any,
                     title: str) -> Optional[Fix]:
    """The safe fix that turns the size ``old`` bound to ``keyword`` in ``call`` into ``new``, by
    editing the one integer literal written in that argument (:func:`solve_literal`)."""
    if call is None or not _positive_int(new):
        return None
    arg = FixContext.argument(call, index, keyword)
    if arg is None:
        return None
    solved = solve_literal(arg.value, old, new)
    if solved is not None:
        node, value = solved
        return Fix((Edit(node, str(value)),), title.format(old=old, new=new))
    return traced_constant(ctx, arg.value, keyword, old, new, title)


MAX_CHOICES = 8  # literals or indices tried for one fix (each one analysis of the file)
MAX_NAMES = 12  # parameters tried for one unsafe fix


def traced_constant(ctx: FixContext, expr: Any, param: str, old: Any, new: Any, title: str) -> Optional[Fix]:
    """A size passed through a name, a config entry or a default (``nn.Linear(hidden, 10)``,
    ``widths[2]``): the integer literals of the file that hold ``old``, and the other indices of a
    ``widths[2]``, each a choice that ``shapelint.fixes`` tries (see :class:`Fix`); the one that
    gives this parameter ``new`` and changes nothing else is edited where it is written."""
    if not _positive_int(old) or not _positive_int(new) or FixContext.constant(expr) is not None:
        return None
    if not isinstance(expr, (cst.Name, cst.Attribute, cst.Subscript)) or ctx.module is None:
        return None
    found = [n for n in _integers(ctx.src.tree) if int(n.value, 0) == old]
    choices = [Edit(n, str(new)) for n in found] if len(found) <= MAX_CHOICES else []
    choices += _other_indices(expr)
    claim = (ctx.module, param, new)
    names = _other_parameters(ctx, expr)
    fallback = Fix((), f"{FixContext.code(expr)} -> {{choice}}", safe=False,
                   choices=tuple(names), claim=claim) if names else None
    if not choices:
        return fallback
    return Fix((), title.format(old=old, new=new), choices=tuple(choices), claim=claim, fallback=fallback)


def _other_parameters(ctx: FixContext, expr: Any) -> List[Edit]:
    """``norm_layer(inplanes)`` where ``planes`` was meant: the enclosing function's other parameters
    (not ``self``, at most ``MAX_NAMES``), each a choice for the name (an unsafe fix: a variable,
    not a number, changes)."""
    if not isinstance(expr, cst.Name):
        return []
    fn = _enclosing_function(ctx.src.tree, expr)
    if fn is None:
        return []
    params = [p.name.value for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params)]
    names = [n for n in params[1:] if n != expr.value] if params[:1] == ["self"] else []
    return [Edit(expr, n) for n in names] if 0 < len(names) <= MAX_NAMES else []


def _enclosing_function(tree: cst.CSTNode, node: cst.CSTNode) -> Optional[cst.FunctionDef]:
    stack: List[Tuple[cst.CSTNode, Optional[cst.FunctionDef]]] = [(tree, None)]
    while stack:
        n, fn = stack.pop()
        if n is node:
            return fn
        inner = n if isinstance(n, cst.FunctionDef) else fn
        stack.extend((c, inner) for c in children(n))
    return None


def _other_indices(expr: Any) -> List[Edit]:
    """``widths[2]`` read where another entry was meant: the other indices below ``MAX_CHOICES``."""
    if not isinstance(expr, cst.Subscript) or len(expr.slice) != 1:
        return []
    index = expr.slice[0].slice
    if not isinstance(index, cst.Index) or not isinstance(index.value, cst.Integer):
        return []
    i = int(index.value.value, 0)
    return [Edit(index.value, str(j)) for j in range(MAX_CHOICES) if j != i]


def _integers(tree: cst.CSTNode) -> List[cst.Integer]:
    out, stack = [], [tree]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Integer):
            out.append(n)
        stack.extend(children(n))
    return out


def entry_fix(ctx: FixContext, entries: Sequence[Any], total: Any, title: str = "{old} -> {new}",
              safe: bool = True) -> Optional[Fix]:
    """A hardcoded shape (``(16, 7, 7)``, ``(320,)``) that must hold ``total`` elements: the one
    entry whose change makes the product right, when exactly one entry can (every entry a positive
    literal; else no fix)."""
    consts = [FixContext.constant(e) for e in entries]
    values = [v for v in consts if v is not None and v > 0]
    if not _positive_int(total) or not values or len(values) != len(entries):
        return None
    found = []
    for i, v in enumerate(values):
        others = 1
        for j, w in enumerate(values):
            others *= w if j != i else 1
        if total % others == 0 and total // others != v:
            found.append((i, total // others))
    if len(found) != 1:
        return None
    i, new = found[0]
    return Fix((Edit(entries[i], str(new)),), title.format(old=values[i], new=new), safe=safe)


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


def set_argument(ctx: FixContext, call: Optional[cst.Call], keyword: str, code: str, title: str,
                 safe: bool = False) -> Optional[Fix]:
    """``call`` with ``keyword=code``: the argument's value replaced where it is given (by name or
    position), else ``keyword=code`` appended (only to a call without ``*args``/``**kw``)."""
    if call is None or any(a.star for a in call.args):
        return None
    arg = FixContext.argument(call, ctx.param_index(keyword), keyword)
    if arg is not None:
        return Fix((Edit(arg.value, code),), title, safe=safe)
    args = list(call.args)
    if args:
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    args.append(cst.Arg(cst.parse_expression(code), keyword=cst.Name(keyword),
                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
    return Fix((Edit(call, FixContext.code(call.with_changes(args=args))),), title, safe=safe)


def rename_fix(call: Optional[cst.Call], name: str, title: str, safe: bool = False) -> Optional[Fix]:
    """``nn.BatchNorm2d(64)`` -> ``nn.BatchNorm1d(64)``: the called class renamed, arguments kept."""
    if call is None:
        return None
    func = call.func
    if isinstance(func, cst.Attribute):
        new = func.with_changes(attr=cst.Name(name))
    elif isinstance(func, cst.Name):
        return None  # a bare imported name: the new one may not be imported
    else:
        return None
    return Fix((Edit(func, FixContext.code(new)),), title, safe=safe)
