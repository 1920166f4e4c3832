"""What a rule's ``fix(payload, node, ctx)`` returns and may ask (see ``shapelint.rules``): the
edits of a fix, and the syntax helpers. Applying and verifying fixes is ``shapelint.fixes``.
Imports nothing of shapelint's (rules import it; an engine import here would be a cycle)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Set, Tuple

import libcst as cst


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
