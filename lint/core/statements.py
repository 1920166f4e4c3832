"""Statements: blocks, assignment and unpacking, `if` on decidable and undecidable conditions (run
both branches speculatively, keep what they agree on), loops (unrolled when their items are known,
else havoc), `with`, `try`, local imports and definitions.  A mixin of Interpreter."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, List

import libcst as cst

from . import limits as L
from .cstwalk import code_children
from .source import dotted
from .values import CONCRETE_ERRORS, UNKNOWN, FunctionValue, ModuleValue, ObjectValue, Qual, Tensor

if TYPE_CHECKING:
    from typing import Any as _Host  # a mixin: self is the Interpreter, with all its parts
else:
    _Host = object


class StatementsMixin(_Host):
    def exec_block(self, block, frame: Frame) -> None:
        if isinstance(block, cst.SimpleStatementSuite):  # `if i == 0: nb[0] = nb[1]` on one line
            self.tick()
            for s in block.body:
                self.exec_small(s, frame)
            return
        body = block.body if isinstance(block, cst.IndentedBlock) else block
        for stmt in body:
            self.exec_stmt(stmt, frame)

    def exec_stmt(self, stmt, frame: Frame) -> None:
        self.tick()
        if isinstance(stmt, cst.SimpleStatementLine):
            for s in stmt.body:
                self.exec_small(s, frame)
            return
        m = getattr(self, "_s_" + type(stmt).__name__, None)
        if m is not None:
            m(stmt, frame)

    def exec_small(self, s, frame) -> None:
        if isinstance(s, cst.Expr):
            self.eval(s.value, frame)
        elif isinstance(s, cst.Assign):
            v = self.eval(s.value, frame)
            if v is UNKNOWN and isinstance(s.value, (cst.Comparison, cst.BooleanOperation)) and self.constructing:
                # `self.use_res_connect = stride == 1 and inp == oup` on symbolic sizes: a flag the
                # forward tests, decided here when the engine splits the run
                d = self.decided(s.value, frame)
                if d is not None:
                    v = d
            if self.quiet and len(s.targets) == 1:
                self._probe_rank(s.targets[0].target, s.value, frame)
            if len(s.targets) == 1:
                self._unpack_rank(s.targets[0].target, s.value, v, s)
            for t in s.targets:
                self.assign(t.target, v, frame)
        elif isinstance(s, cst.AnnAssign):
            if s.value is not None:
                self.assign(s.target, self.eval(s.value, frame), frame)
        elif isinstance(s, cst.AugAssign):
            cur = self.eval(s.target, frame)
            v = self.eval(s.value, frame)
            op = type(s.operator).__name__.replace("Assign", "")
            if isinstance(cur, list) and op == "Add" and cur not in self.havoc:
                items = self.items_of(v)
                if items is None or self.speculative or len(cur) + len(items) > L.MAX_ITEMS:
                    self.havoc.add(cur)
                else:
                    cur.extend(items)
                return
            if isinstance(cur, ModuleValue) and any(fw.aug_assign(self, op, cur, v) for fw in self.frameworks):
                return
            self.assign(s.target, self.binop(op, cur, v, s), frame)
        elif isinstance(s, cst.Return):
            v = self.eval(s.value, frame) if s.value is not None else None
            if frame.fork:
                frame.returns.append(v)
                raise _SpecReturn(v)
            raise _Return(v)
        elif isinstance(s, cst.Raise):
            self._certain_raise(s)
            raise _Raise()
        elif isinstance(s, cst.Assert):
            if self.test(s.test, frame) is False:
                self._certain_raise(s)
                self._failing_assert(s, frame)
        elif isinstance(s, cst.Break):
            raise _Break()
        elif isinstance(s, cst.Continue):
            raise _Continue()
        elif isinstance(s, (cst.Import, cst.ImportFrom)):
            self._local_import(s, frame)
        elif isinstance(s, cst.Del):
            pass

    def _certain_raise(self, s) -> None:
        """A deliberate ``assert``/``raise`` the model's construction certainly reaches (not under
        an undecided branch, a try, a lazily computed global): the configuration is one the code
        rejects, so there is no model to analyse. Nothing is reported (the check is the code's own)."""
        if not self.constructing or self.speculative or self.quiet or self.try_depth or self._globals_busy:
            return
        code = " ".join(self.src_stack[-1].code_for(s).split())
        raise ConstructionRaises(code if len(code) <= 100 else code[:97] + "...")

    def _failing_assert(self, s, frame) -> None:
        """An ``assert`` in forward decided false (SHP010): Python raises AssertionError here. Only
        when certain to run (not speculative, not in a try); the call ends, as in Python."""
        if self.constructing or self.speculative or self.quiet or self.try_depth or self._globals_busy:
            return
        from ..rules.shp010_assertion_fails import AssertionFails
        from .facts import Violation

        code = " ".join(self.src_stack[-1].code_for(s.test).split())
        if not _reads_sizes(code) and not self._sizes_named(s.test, frame):
            return  # a check of something else than sizes (`assert self.training`): not this rule's
        self.violation(Violation(AssertionFails(code if len(code) <= 100 else code[:97] + "...")), s)
        raise _Raise()

    def _sizes_named(self, test, frame) -> bool:
        """``assert height % wsz_h == 0`` where the function bound ``height`` from a size
        (``height, width, heads, wsz = *x.shape[-2:], self.heads, self.window_size``)."""
        fn = getattr(frame.func, "node", None)
        if fn is None:
            return False
        names = {n.value for n in _walk(test) if isinstance(n, cst.Name)}
        for n in _walk(fn):
            if isinstance(n, cst.Assign) and _reads_sizes(" ".join(self.src_stack[-1].code_for(n.value).split())):
                bound = {t.value for tgt in n.targets for t in _walk(tgt.target) if isinstance(t, cst.Name)}
                if bound & names:
                    return True
        return False

    def _local_import(self, s, frame) -> None:
        if isinstance(s, cst.Import):
            for a in s.names:
                full = dotted(a.name) or ""  # an import's name is a dotted chain: never None
                if a.asname is not None:
                    frame.locals[a.asname.name.value] = Qual(full)  # type: ignore[union-attr]  # `as` a Name
                else:
                    frame.locals[full.split(".")[0]] = Qual(full.split(".")[0])
        elif not s.relative and s.module is not None and not isinstance(s.names, cst.ImportStar):
            mod = dotted(s.module)
            for a in s.names:
                local = a.asname.name.value if a.asname is not None else dotted(a.name)
                frame.locals[local] = Qual(f"{mod}.{dotted(a.name)}")

    def _unpack_rank(self, target, value_node, value, node) -> None:
        """``B, T, C = x.size()`` (or ``x.shape``) in forward on a tensor of another known rank:
        Python raises ValueError there (SHP008), when certain to run."""
        if not isinstance(target, (cst.Tuple, cst.List)) or not isinstance(value, tuple) or \
                any(isinstance(e, cst.StarredElement) for e in target.elements) or \
                len(value) == len(target.elements):
            return
        if self.constructing or self.speculative or self.quiet or self.try_depth or self._globals_busy or \
                self.guessed_input:
            return
        form = value_node.func if isinstance(value_node, cst.Call) and not value_node.args else value_node
        if not (isinstance(form, cst.Attribute) and form.attr.value == ("size" if form is not value_node else "shape")):
            return
        from ..rules.shp008_wrong_rank import UnpackRank
        from .facts import Violation

        what = self.src_stack[-1].code_for(value_node)
        self.violation(Violation(UnpackRank(layer=f"unpacking {what}", got=len(value), shape=value,
                                            names=len(target.elements))), node)
        self.violated = True

    def _probe_rank(self, target, value, frame) -> None:
        """``b, c, t = x.shape`` (or ``x.size()``) on a model input whose shape the probe looks for
        (engine._probe): Python raises unless the input has exactly that many dims."""
        if not isinstance(target, (cst.Tuple, cst.List)) or \
                not all(isinstance(e, cst.Element) and isinstance(e.value, cst.Name) for e in target.elements):
            return
        if isinstance(value, cst.Call) and not value.args:
            value = value.func
            if not (isinstance(value, cst.Attribute) and value.attr.value == "size"):
                return
        elif not (isinstance(value, cst.Attribute) and value.attr.value == "shape"):
            return
        x = frame.locals.get(value.value.value) if isinstance(value.value, cst.Name) else None
        if isinstance(x, Tensor) and x.probe is not None and not x.probe_path and not self.speculative and \
                not self.try_depth:
            self.probe_ranks.setdefault(x.probe, len(target.elements))

    def assign(self, target, value, frame) -> None:
        if isinstance(target, cst.Name):
            frame.locals[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            els = target.elements
            items = self.items_of(value) if not isinstance(value, Tensor) else None
            if isinstance(value, Tensor) and value.shape is not None:
                items = self.items_of(value)
            star = [i for i, e in enumerate(els) if isinstance(e, cst.StarredElement)]
            if items is not None and not star and len(items) != len(els) and \
                    isinstance(value, (tuple, Tensor)):
                # `B, T, C = x.size()` on a 2-D tensor: Python raises here, this path goes no further
                raise _Raise()
            if items is None or (not star and len(items) != len(els)):
                for e in els:
                    self.assign(e.value, UNKNOWN, frame)
                return
            if star:
                i = star[0]
                after = len(els) - i - 1
                if len(items) < len(els) - 1:
                    for e in els:
                        self.assign(e.value, UNKNOWN, frame)
                    return
                vals = items[:i] + [list(items[i:len(items) - after])] + items[len(items) - after:]
            else:
                vals = items
            for e, v in zip(els, vals):
                self.assign(e.value, v, frame)
        elif isinstance(target, cst.Attribute):
            obj = self.eval(target.value, frame)
            if isinstance(obj, Tensor) and target.attr.value == "data" and isinstance(target.value, cst.Name) \
                    and frame.locals.get(target.value.value) is obj:
                # `y.data = y.data.view(-1, 1)` swaps the tensor's storage: the name holds the new shape
                frame.locals[target.value.value] = value if isinstance(value, Tensor) else Tensor(None)
                return
            self.setattr(obj, target.attr.value, value)
        elif isinstance(target, cst.Subscript):
            obj = self.eval(target.value, frame)
            if isinstance(obj, (list, dict)):
                self._assign_item(obj, target, value, frame)
            elif isinstance(obj, ModuleValue):
                obj.uncertain = True
            elif isinstance(obj, ObjectValue) and obj.mapping:  # config["k"] = v on a ConfigDict
                key = self.eval(target.slice[0].slice.value, frame) \
                    if len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index) else UNKNOWN
                if isinstance(key, str) and not self.speculative:
                    obj.attrs[key] = value
                else:
                    obj.attrs.clear()  # which item changed is unknown: none is known
            # tensor item assignment leaves the shape unchanged
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, value, frame)

    def _assign_item(self, obj, target, value, frame) -> None:
        """``obj[key] = value`` and ``obj[a:b] = items`` (timm's ``x[i:i] = [...]``, an insertion)
        on a list or dict whose content is known; anything else leaves it unknown (havoc)."""
        key: Any = UNKNOWN
        if len(target.slice) == 1:
            s = target.slice[0].slice
            if isinstance(s, cst.Index):
                key = self.eval(s.value, frame)
            elif isinstance(s, cst.Slice) and isinstance(obj, list) and isinstance(value, (list, tuple)):
                parts = [None if p is None else self.eval(p, frame) for p in (s.lower, s.upper, s.step)]
                if all(p is None or (isinstance(p, int) and not isinstance(p, bool)) for p in parts):
                    key, value = slice(*parts), list(value)
        if self.speculative or key is UNKNOWN or obj in self.havoc:
            self.havoc.add(obj)
            return
        try:
            obj[key] = value
        except CONCRETE_ERRORS:
            self.havoc.add(obj)

    def _s_If(self, stmt, frame) -> None:
        c = self.test(stmt.test, frame)
        if self.probe_choices:
            self.probe_choice_kept(stmt.test, c)
        if c is UNKNOWN:
            c = self.decided(stmt.test, frame)
        if c is None:
            self._fork(stmt.body, stmt.orelse, frame)
            return
        if c:
            self.exec_block(stmt.body, frame)
        elif stmt.orelse is not None:
            if isinstance(stmt.orelse, cst.If):
                self._s_If(stmt.orelse, frame)
            else:
                self.exec_block(stmt.orelse.body, frame)

    def _fork(self, body, orelse, frame) -> None:
        """Run both branches speculatively; keep what they agree on."""
        envs = []
        base = frame.locals
        for branch in (body, orelse):
            f = Frame(dict(base), frame.func, frame.returns, frame.fork + 1, frame.src)
            self.speculative += 1
            ended = False
            try:
                if branch is None:
                    pass
                elif isinstance(branch, cst.If):
                    self._s_If(branch, f)
                elif isinstance(branch, cst.Else):
                    self.exec_block(branch.body, f)
                else:
                    self.exec_block(branch, f)
            except (_Return, _Raise, _Break, _Continue):
                ended = True
            finally:
                self.speculative -= 1
            if not ended:
                envs.append(f.locals)
        if not envs:
            raise _Raise()  # both branches leave: the rest of this path never runs
        merged = {}
        keys = list(dict.fromkeys(k for e in envs for k in e))  # ordered: no hash order
        for k in keys:
            vals = [e.get(k, UNKNOWN) for e in envs]
            v = vals[0]
            for other in vals[1:]:
                v = merge_values(v, other)
            merged[k] = v
        base.clear()
        base.update(merged)

    def _s_For(self, stmt, frame) -> None:
        items = self.items_of(self.eval(stmt.iter, frame))
        if items is None or len(items) > MAX_UNROLL:
            self._havoc_loop(stmt, frame)
            return
        for item in items:
            self.assign(stmt.target, item, frame)
            try:
                self.exec_block(stmt.body, frame)
            except _Break:
                return
            except _Continue:
                continue
        if stmt.orelse is not None:
            self.exec_block(stmt.orelse.body, frame)

    def _s_While(self, stmt, frame) -> None:
        """Run while the condition is decidable (`while csize > 4:`, `while n - 1:` with known
        values), at most MAX_WHILE times; from the first undecidable test on, the rest of the
        loop is havocked as a loop that cannot be unrolled. A body that can leave early (break,
        continue, return, raise) is not unrolled: an exit under an unknown condition would make the
        following iterations speculative."""
        if _leaves_early(stmt.body):
            if self.test(stmt.test, frame) is not False:
                self._havoc_loop(stmt, frame)
            elif stmt.orelse is not None:
                self.exec_block(stmt.orelse.body, frame)
            return
        for _ in range(MAX_WHILE + 1):
            c = self.test(stmt.test, frame)
            if c is False:
                if stmt.orelse is not None:
                    self.exec_block(stmt.orelse.body, frame)
                return
            if c is not True:
                break
            self.exec_block(stmt.body, frame)
        self._havoc_loop(stmt, frame)

    def _havoc_loop(self, stmt, frame) -> None:
        """A loop we cannot unroll: whatever it assigns or mutates becomes unknown."""
        targets = _assigned_names(stmt)
        for n in targets:
            frame.locals[n] = UNKNOWN
        touched = False  # a list, dict or module it changes: what it builds is lost
        for recv in _mutated_receivers(stmt):
            v = self.eval(recv, frame) if not isinstance(recv, str) else frame.locals.get(recv)
            if isinstance(v, (list, dict)):
                self.havoc.add(v)
                touched = True
            elif isinstance(v, ModuleValue):
                v.uncertain = True
                touched = True
        for root in _subscript_roots(stmt):
            # `picked[int(not k.startswith(p))][k] = d[k]`, `cfg[k] = v`: the container at the root of
            # the store, and every container inside it (which one is hit may not be known)
            v = self.eval(root, frame)
            if self._havoc_deep(v, 0):
                touched = True
        for attr_target in _assigned_attrs(stmt):
            obj = self.eval(attr_target.value, frame)
            if isinstance(obj, ModuleValue):
                obj.uncertain = True
                obj.attrs[attr_target.attr.value] = UNKNOWN
                touched = True
        if touched and not self.quiet and not self.speculative:
            self.skipped.append(("a loop not unrolled", stmt, self.src_stack[-1]))

    def _havoc_deep(self, v, depth: int) -> bool:
        if isinstance(v, ModuleValue):
            v.uncertain = True
            return True
        if not isinstance(v, (list, dict)) or depth > 4:
            return False
        self.havoc.add(v)
        for x in list(v.values() if isinstance(v, dict) else v):
            self._havoc_deep(x, depth + 1)
        return True

    def _s_With(self, stmt, frame) -> None:
        known = True  # torch.no_grad() and friends never swallow an exception; others might
        for item in stmt.items:
            v = self.eval(item.item, frame)
            f = self.eval(item.item.func, frame) if isinstance(item.item, cst.Call) else v
            known = known and isinstance(f, Qual) and f.name.startswith("torch.")
            if item.asname is not None:
                self.assign(item.asname.name, UNKNOWN if not isinstance(v, Tensor) else v, frame)
        self.try_depth += 0 if known else 1
        try:
            self.exec_block(stmt.body, frame)
        finally:
            self.try_depth -= 0 if known else 1

    def _s_Try(self, stmt, frame) -> None:
        self.try_depth += 1
        try:
            self.exec_block(stmt.body, frame)
        finally:
            self.try_depth -= 1
        if stmt.orelse is not None:
            self.exec_block(stmt.orelse.body, frame)
        if stmt.finalbody is not None:
            self.exec_block(stmt.finalbody.body, frame)

    def _s_FunctionDef(self, stmt, frame) -> None:
        frame.locals[stmt.name.value] = FunctionValue(stmt, frame.src or self.src, closure=frame.locals)

    def _s_ClassDef(self, stmt, frame) -> None:
        frame.locals[stmt.name.value] = UNKNOWN


MAX_WHILE = 1_000  # iterations of a while loop run before it is havocked


def _leaves_early(body) -> bool:
    """Does a loop body contain break/continue/return/raise (nested functions and classes aside)?"""
    stack = [body]
    while stack:
        n = stack.pop()
        if isinstance(n, (cst.Break, cst.Continue, cst.Return, cst.Raise)):
            return True
        if isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(code_children(n))
    return False


def _walk(node) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(code_children(n))


def _assigned_names(stmt) -> Any:
    names = set()
    for n in _walk(stmt):
        targets = []
        if isinstance(n, cst.Assign):
            targets = [t.target for t in n.targets]
        elif isinstance(n, (cst.AugAssign, cst.AnnAssign)):
            targets = [n.target]
        elif isinstance(n, (cst.For, cst.CompFor)):
            targets = [n.target]
        for t in targets:
            for x in _walk(t):
                if isinstance(x, cst.Name) and (t is x or isinstance(t, (cst.Tuple, cst.List, cst.StarredElement))):
                    names.add(x.value)
    return names


_MUTATORS = {"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "add_module",
             "register_module", "register_buffer", "register_parameter", "__setitem__", "popitem", "sort",
             "reverse"}


def _mutated_receivers(stmt) -> Any:
    out = []
    for n in _walk(stmt):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in _MUTATORS:
            out.append(n.func.value)
        if isinstance(n, cst.AugAssign):
            out.append(n.target)
    return out


def _subscript_roots(stmt) -> List[cst.CSTNode]:
    """The expressions at the base of each subscript a statement stores into or deletes
    (``picked[i][key] = ...`` -> ``picked``)."""
    out: List[cst.CSTNode] = []
    targets: List[cst.CSTNode] = []
    for n in _walk(stmt):
        if isinstance(n, cst.Assign):
            targets.extend(t.target for t in n.targets)
        elif isinstance(n, (cst.AugAssign, cst.AnnAssign)):
            targets.append(n.target)
        elif isinstance(n, cst.Del):
            targets.append(n.target)
    for t in targets:
        for e in _walk(t):
            if isinstance(e, cst.Subscript):
                base = e.value
                while isinstance(base, cst.Subscript):
                    base = base.value
                out.append(base)
    return out


def _assigned_attrs(stmt) -> Any:
    out: List[cst.CSTNode] = []
    for n in _walk(stmt):
        if isinstance(n, cst.Assign):
            out.extend(t.target for t in n.targets if isinstance(t.target, cst.Attribute))
    return out


from .expressions import merge_values  # noqa: E402
from .frames import MAX_UNROLL, ConstructionRaises, Frame, _Break, _Continue, _Raise, _Return


class _SpecReturn(_Return):
    """A return under unknown control flow: recorded in Frame.returns, ends only that branch."""


def _reads_sizes(code: str) -> bool:
    return any(w in code for w in (".size(", ".shape", ".dim(", ".ndim", "len(", ".numel("))
