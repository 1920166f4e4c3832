"""Expressions: literals, names, operators, comprehensions, subscripts, and the value helpers
(truth, items, merging the values of two branches, comparisons).  A mixin of Interpreter."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

import re
import libcst as cst

from . import dims as D
from . import limits as L
from . import ndarray as ND
from .facts import LINEAGE, record_lineage
from .cstwalk import code_children
from .framework_api import NOT_MINE
from .project import ModuleRef
from .values import (CONCRETE_ERRORS, INPLACE_RESHAPES, UNKNOWN, BoundMethod, ClassValue, Expanded, FunctionValue,
                     ModuleValue, NDArray, ObjectValue, Param, Partial, Qual, Tensor)

if TYPE_CHECKING:
    from typing import Any as _Host  # a mixin: self is the Interpreter, with all its parts
else:
    _Host = object

_FRAMEWORK_VALUES = (ModuleValue, Tensor, Param)  # values whose meaning the frameworks give


class ExpressionsMixin(_Host):
    # ------------------------------------------------------------------ expressions
    def eval(self, node, frame: Frame) -> Any:
        self.tick()
        m = getattr(self, "_e_" + type(node).__name__, None)
        if m is None:
            return UNKNOWN
        return m(node, frame)

    def _e_Integer(self, node, frame) -> Any:
        # int(text, 0) reads exactly Python's integer literals (prefixes, underscores), as libcst's
        # evaluated_value (ast.literal_eval) does, at a fraction of the cost and garbage
        try:
            return L.bounded(int(node.value, 0))
        except ValueError:  # over Python's int-from-text digit limit (4300)
            return UNKNOWN

    def _e_Float(self, node, frame) -> Any:
        return node.evaluated_value

    def _e_Imaginary(self, node, frame) -> Any:
        return UNKNOWN

    def _e_SimpleString(self, node, frame) -> Any:
        try:
            return L.bounded(node.evaluated_value)
        except (ValueError, SyntaxError):  # literal_eval of a string libcst parsed but Python rejects
            return UNKNOWN

    def _e_ConcatenatedString(self, node, frame) -> Any:
        try:
            v = node.evaluated_value
            return L.bounded(v) if v is not None else UNKNOWN
        except (ValueError, SyntaxError, TypeError):  # also b"x" "y": bytes and str concatenated
            return UNKNOWN

    def _e_FormattedString(self, node, frame) -> Any:
        out = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                out.append(part.value)
                continue
            v = self.eval(part.expression, frame)
            if not (v is None or isinstance(v, (int, float, str, bool))):
                return UNKNOWN
            spec = ""
            if part.format_spec:
                if not all(isinstance(p, cst.FormattedStringText) for p in part.format_spec):
                    return UNKNOWN
                spec = "".join(p.value for p in part.format_spec)
                if not L.format_ok(spec):
                    return UNKNOWN
            convs: Dict[str, Callable[[Any], str]] = {"r": repr, "s": str, "a": ascii}
            conv = convs.get(part.conversion or "", None)
            try:
                out.append(format(conv(v) if conv else v, spec))
            except (ValueError, TypeError):
                return UNKNOWN
            if sum(map(len, out)) > L.MAX_STR:
                return UNKNOWN
        return "".join(out)

    def _e_Name(self, node, frame) -> Any:
        return self.lookup(node.value, frame)

    def _e_Attribute(self, node, frame) -> Any:
        obj = self.eval(node.value, frame)
        return self.getattr(obj, node.attr.value, node)

    def _e_Tuple(self, node, frame) -> Any:
        items = self._elements(node.elements, frame)
        return UNKNOWN if items is UNKNOWN else tuple(items)

    def _e_List(self, node, frame) -> Any:
        items = self._elements(node.elements, frame)
        return items if items is not UNKNOWN else UNKNOWN

    def _e_Set(self, node, frame) -> Any:
        return UNKNOWN

    def _elements(self, elements, frame) -> Any:
        out = []
        for el in elements:
            if isinstance(el, cst.StarredElement):
                v = self.items_of(self.eval(el.value, frame))
                if v is None:
                    return UNKNOWN
                out.extend(v)
            else:
                out.append(self.eval(el.value, frame))
        return out

    def _e_Dict(self, node, frame) -> Any:
        out = {}
        for el in node.elements:
            if isinstance(el, cst.StarredDictElement):
                v = self.eval(el.value, frame)
                if not isinstance(v, dict) or v in self.havoc:
                    return UNKNOWN
                out.update(v)
                continue
            k = self.eval(el.key, frame)
            if not _hashable(k):
                return UNKNOWN
            out[k] = self.eval(el.value, frame)
        return out

    def _e_IfExp(self, node, frame) -> Any:
        c = self.test(node.test, frame)
        if self.probe_choices:
            self.probe_choice_kept(node.test, c)
        if c is UNKNOWN:
            c = self.decided(node.test, frame)
        if c is None:
            self.speculative += 1
            try:
                a = self.eval(node.body, frame)
                b = self.eval(node.orelse, frame)
            finally:
                self.speculative -= 1
            return merge_values(a, b)
        return self.eval(node.body if c else node.orelse, frame)

    def _e_UnaryOperation(self, node, frame) -> Any:
        v = self.eval(node.expression, frame)
        op = type(node.operator).__name__
        if op == "Not":
            t = self.truth(v)
            return UNKNOWN if t is UNKNOWN else (not t)
        if v is UNKNOWN:
            return UNKNOWN
        if op == "Minus":
            if D.is_dim(v):
                return D.mul(v, -1)
            if isinstance(v, float):
                return -v
            if isinstance(v, Tensor):
                return v
        if op == "Plus" and (D.is_dim(v) or isinstance(v, (float, Tensor))):
            return v
        if isinstance(v, int) and L.too_big(v):
            return UNKNOWN
        if op == "BitInvert" and isinstance(v, (int, Tensor)):
            return ~v if isinstance(v, int) else v
        return UNKNOWN

    def _e_BooleanOperation(self, node, frame) -> Any:
        left = self.eval(node.left, frame)
        t = self.truth(left)
        if t is UNKNOWN:
            return UNKNOWN
        if isinstance(node.operator, cst.And):
            return self.eval(node.right, frame) if t else left
        return left if t else self.eval(node.right, frame)

    def test(self, node, frame) -> Any:
        """The truth of a condition (True, False or UNKNOWN), short-circuiting as Python does and
        also past an undecided operand: `unknown and False` is false whichever way the first goes
        (`isinstance(input.data, torch.cuda.FloatTensor) and self.ngpu > 1` with ngpu 1)."""
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            t = self.test(node.expression, frame)
            return UNKNOWN if t is UNKNOWN else not t
        if not isinstance(node, cst.BooleanOperation):
            return self.truth(self.eval(node, frame))
        is_and = isinstance(node.operator, cst.And)
        left = self.test(node.left, frame)
        if left is not UNKNOWN:
            return self.test(node.right, frame) if left == is_and else left
        self.speculative += 1  # Python may never evaluate it: nothing it meets is reported
        try:
            right = self.test(node.right, frame)
        finally:
            self.speculative -= 1
        return right if right is (not is_and) else UNKNOWN

    def _e_Comparison(self, node, frame) -> Any:
        left = self.eval(node.left, frame)
        if len(node.comparisons) == 1 and type(node.comparisons[0].operator).__name__ in _ELEMENTWISE_COMPARE:
            # `fm_s <= fm_t` on tensors: element-wise, broadcast (the framework's binop)
            c = node.comparisons[0]
            right = self.eval(c.comparator, frame)
            if isinstance(left, (Tensor, Param)) or isinstance(right, (Tensor, Param)):
                return self.binop(type(c.operator).__name__, left, right, node)
            r = compare(type(c.operator).__name__, left, right)
            return UNKNOWN if r is UNKNOWN else bool(r)
        result = True
        for c in node.comparisons:
            right = self.eval(c.comparator, frame)
            r = compare(type(c.operator).__name__, left, right)
            if r is UNKNOWN:
                return UNKNOWN
            if not r:
                result = False
            left = right
        return result

    def _e_BinaryOperation(self, node, frame) -> Any:
        a = self.eval(node.left, frame)
        b = self.eval(node.right, frame)
        return self.binop(type(node.operator).__name__, a, b, node)

    def _e_Subscript(self, node, frame) -> Any:
        obj = self.eval(node.value, frame)
        keys = []
        for el in node.slice:
            s = el.slice
            if isinstance(s, cst.Index):
                keys.append(self.eval(s.value, frame))
            else:
                parts = [None if p is None else self.eval(p, frame) for p in (s.lower, s.upper, s.step)]
                if any(p is UNKNOWN for p in parts):
                    keys.append(UNKNOWN)
                else:
                    keys.append(slice(*parts))
        key = keys[0] if len(keys) == 1 else tuple(keys)
        return self.getitem(obj, key, node)

    def _e_Ellipsis(self, node, frame) -> Any:
        return Ellipsis

    def _e_Lambda(self, node, frame) -> Any:
        return FunctionValue(node, frame.src or self.src, closure=dict(frame.locals))

    def _e_ListComp(self, node, frame) -> Any:
        return self._comprehension(node, frame, list)

    def _e_GeneratorExp(self, node, frame) -> Any:
        return self._comprehension(node, frame, list)

    def _e_DictComp(self, node, frame) -> Any:
        """``{2**i: 2**i in res for i in range(3, 6)}`` (BigGAN's attention table): keys must be
        plain constants (a symbol could equal another key at run time), else unknown."""
        pairs: List[Any] = []
        local = Frame(dict(frame.locals), frame.func, src=frame.src)
        pair = _Pair(node.key, node.value)
        if not self._comp_loop(node.for_in, pair, local, pairs):
            return UNKNOWN
        out = {}
        for k, v in pairs:
            if not _plain_key(k):
                return UNKNOWN
            out[k] = v
        return out

    def _e_SetComp(self, node, frame) -> Any:
        return UNKNOWN

    def _comprehension(self, node, frame, kind) -> Any:
        out: List[Any] = []
        local = Frame(dict(frame.locals), frame.func, src=frame.src)
        ok = self._comp_loop(node.for_in, node.elt, local, out)
        return out if ok else UNKNOWN

    def _comp_loop(self, for_in, elt, frame, out) -> bool:
        items = self.items_of(self.eval(for_in.iter, frame))
        if items is None:
            return False
        if len(items) > BULK and for_in.inner_for_in is None and not for_in.ifs and not isinstance(elt, _Pair) \
                and not out and not _has_effects(elt):
            bulk = self._bulk(for_in, elt, frame, items)
            if bulk is not None:
                out.extend(bulk)
                return True
        for item in items:
            self.assign(for_in.target, item, frame)
            ok = True
            for cond in for_in.ifs:
                t = self.test(cond.test, frame)
                if t is UNKNOWN:
                    return False
                ok = ok and t
            if not ok:
                continue
            if for_in.inner_for_in is not None:
                if not self._comp_loop(for_in.inner_for_in, elt, frame, out):
                    return False
            else:
                if isinstance(elt, _Pair):
                    out.append((self.eval(elt.key, frame), self.eval(elt.value, frame)))
                else:
                    out.append(self.eval(elt, frame))
                if len(out) > L.MAX_ITEMS:
                    return False
        return True

    def _bulk(self, for_in, elt, frame, items) -> Optional[list]:
        """A long comprehension that makes numbers (a position table's row, ``[pos / np.power(10000,
        2 * (j // 2) / d) for j in range(d)]``), summarised instead of run item by item: its first
        item as it is, the others as what the item is with the loop variable unknown (lists keep
        their lengths, numbers become unknown). Both are evaluated speculatively; None (run it item
        by item) unless both are plain data: an item that is a module, a tensor or None (``append``
        in a comprehension) is not summarised."""
        self.speculative += 1
        try:
            self.assign(for_in.target, UNKNOWN, frame)
            general = self.eval(elt, frame)
            self.assign(for_in.target, items[0], frame)
            first = self.eval(elt, frame)
        finally:
            self.speculative -= 1
        if not _plain_data(first) or not _plain_data(general):
            return None
        self.allocated += (len(items) - 1) * _weight(general)  # what Python would build (core/limits.py)
        if self.allocated > L.MAX_ALLOC:
            raise AnalysisAbort("size budget exhausted")
        return [first] + [_blank(general) for _ in range(len(items) - 1)]

    def _e_Call(self, node, frame) -> Any:
        func = self.eval(node.func, frame)
        if isinstance(func, Qual) and func.name == "builtins.super":
            return self._super(frame, node)
        if isinstance(func, Qual) and func.name == "builtins.locals" and not node.args and frame.func is not None:
            # `kwargs = dict(locals())` in an __init__ (vit-pytorch's TwinsSVT): the names bound so
            # far, and `__class__` in a method that names super() (CPython's cell; its value unread)
            out = dict(frame.locals)
            fn = getattr(frame.func, "node", None)
            if fn is not None and _names_super(fn):
                out.setdefault("__class__", UNKNOWN)
            return out
        if isinstance(func, Qual) and func.name == "torch._assert":
            self._assert_equal(node, frame)
        args, kwargs = [], {}
        for a in node.args:
            v = self.eval(a.value, frame)
            if a.star == "*":
                items = self.items_of(v)
                if items is None:
                    return self._unknown_call(func)
                args.extend(items)
            elif a.star == "**":
                if not isinstance(v, dict) or v in self.havoc:
                    return self._unknown_call(func)
                kwargs.update(v)
                kwargs = Expanded(kwargs)  # keys of another dict, which may not be all it holds
            elif a.keyword is not None:
                kwargs[a.keyword.value] = v
            else:
                args.append(v)
        out = self.call(func, args, kwargs, node, frame)
        if isinstance(func, BoundMethod) and func.name in INPLACE_RESHAPES:
            # `y.unsqueeze_(-1)`, `y.squeeze_(0).unsqueeze_(-1)`: the name now holds the reshaped tensor
            root = _inplace_root(node.func)
            if root is not None and isinstance(frame.locals.get(root), (Tensor, Param)):
                frame.locals[root] = out if isinstance(out, Tensor) else Tensor(None)
        if LINEAGE.get() is not None:  # only `shapelint summary`'s graph asks
            record_lineage(out, [getattr(func, "obj", None), *args, *kwargs.values()])
        return out

    def _assert_equal(self, node, frame) -> None:
        """``torch._assert(h == self.image_size, ...)`` on a size the analysis cannot decide: the
        input sizes must satisfy it (an assumption, as ``view(-1, 320)`` makes one; the admissible
        input solver and --confirm's witness read it)."""
        cond = node.args[0].value if node.args and node.args[0].keyword is None else None
        if not (isinstance(cond, cst.Comparison) and len(cond.comparisons) == 1
                and isinstance(cond.comparisons[0].operator, cst.Equal)):
            return
        a, b = self.eval(cond.left, frame), self.eval(cond.comparisons[0].comparator, frame)
        if D.is_dim(a) and D.is_dim(b) and D.equal(a, b) == D.DEPENDS:
            self.assume(a, b, node, "torch._assert")

    def _unknown_call(self, func) -> Any:
        return UNKNOWN

    # ------------------------------------------------------------------ helpers on values
    def truth(self, v) -> Any:
        if v is UNKNOWN or isinstance(v, Tensor):
            return UNKNOWN
        if isinstance(v, FunctionValue):
            return True  # a function object is always true (`rd_round_fn or round`)
        if isinstance(v, D.Lin):
            return True if D.at_least(v, 1) == D.ALWAYS else UNKNOWN
        if isinstance(v, (ModuleValue, Param, ClassValue, Qual, BoundMethod, Partial, ObjectValue, ModuleRef)):
            return True
        if isinstance(v, (list, dict)) and v in self.havoc:
            return UNKNOWN
        if isinstance(v, (list, tuple)) and any(e is UNKNOWN for e in v) and not v:
            return UNKNOWN
        try:
            return bool(v)
        except TypeError:
            return UNKNOWN

    def items_of(self, v) -> Optional[list]:
        """The items of an iterable we know exactly, else None."""
        if v is UNKNOWN:
            return None
        if isinstance(v, (list, tuple)):
            if v in self.havoc:
                return None
            return list(v)
        if isinstance(v, range):
            try:
                return list(v) if len(v) <= MAX_UNROLL else None
            except OverflowError:  # len() of a range over sys.maxsize
                return None
        if isinstance(v, dict):
            return None if v in self.havoc else list(v.keys())
        if isinstance(v, str):
            return list(v)
        if isinstance(v, ObjectValue) and "__items__" in v.attrs:
            return list(v.attrs["__items__"])
        if isinstance(v, _Iter):
            return v.items
        if isinstance(v, _FRAMEWORK_VALUES):
            for fw in self.frameworks:
                r = fw.items_of(self, v)
                if r is not NOT_MINE:
                    return r
        return None

    def binop(self, op, a, b, node) -> Any:
        out = self._binop(op, a, b, node)
        if LINEAGE.get() is not None:  # only `shapelint summary`'s graph asks
            record_lineage(out, [a, b])
        return out

    def _binop(self, op, a, b, node) -> Any:
        if a is UNKNOWN or b is UNKNOWN:
            if isinstance(a, (Tensor, Param)) or isinstance(b, (Tensor, Param)):
                for fw in self.frameworks:  # a tensor's known dims may survive (broadcasting)
                    v = fw.binop(self, op, a, b, node)
                    if v is not NOT_MINE:
                        return v
            return UNKNOWN
        if isinstance(a, NDArray) or isinstance(b, NDArray):
            return ND.binop(op, a, b)
        if isinstance(a, (Tensor, Param)) or isinstance(b, (Tensor, Param)):
            for fw in self.frameworks:
                v = fw.binop(self, op, a, b, node)
                if v is not NOT_MINE:
                    return v
            return UNKNOWN
        if D.is_dim(a) and D.is_dim(b) and (isinstance(a, D.Lin) or isinstance(b, D.Lin)):
            if op == "Add":
                return D.add(a, b)
            if op == "Subtract":
                return D.sub(a, b)
            if op == "Multiply":
                return D.mul(a, b)
            if op == "FloorDivide" and isinstance(b, int) and b > 0:
                return D.floordiv(a, b)
            return D.fresh() if op in ("FloorDivide", "Divide", "Modulo", "Power") and op != "Divide" else UNKNOWN
        if (isinstance(a, D.Lin) and not isinstance(b, int)) or (isinstance(b, D.Lin) and not isinstance(a, int)):
            return UNKNOWN  # a symbolic dim with a float, a list...: dims' arithmetic does not model it
        op_fn = _PY_OPS.get(op)
        if op_fn is None:
            return UNKNOWN  # `@` on plain values
        if not L.binop_ok(op, a, b):  # 10**10**10, "x" * 10**10, [0] * 10**9: over a cap (core/limits.py)
            return UNKNOWN
        try:
            return self.charge(L.bounded(op_fn(a, b)))
        except ZeroDivisionError:
            if _number(a) and _number(b) and op in _DIV_OPS:
                self.construction_error(DivisionByZero(_DIV_OPS[op], a), node)
            return UNKNOWN
        except (*CONCRETE_ERRORS, MemoryError):  # MemoryError: [0] * (1 << 40)
            return UNKNOWN

    # ------------------------------------------------------------------ subscripts
    def getitem(self, obj, key, node) -> Any:
        if obj is UNKNOWN or key is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, _FRAMEWORK_VALUES):
            for fw in self.frameworks:
                v = fw.getitem(self, obj, key, node)
                if v is not NOT_MINE:
                    return v
            return UNKNOWN
        if isinstance(obj, NDArray):
            return ND.getitem(obj, key)
        if isinstance(obj, (list, tuple, str)):
            if isinstance(obj, list) and obj in self.havoc:
                return UNKNOWN
            if isinstance(key, int) and not isinstance(key, bool):
                if -len(obj) <= key < len(obj):
                    return obj[key]
                if isinstance(obj, tuple):  # a tuple's length is exact: IndexError in Python too
                    self.construction_error(TupleIndexOutOfRange(key, len(obj)), node)
                return UNKNOWN
            if isinstance(key, slice):
                return obj[key]
            return UNKNOWN
        if isinstance(obj, dict):
            if obj in self.havoc or not _hashable(key):
                return UNKNOWN
            if key not in obj and obj in self.complete_dicts:
                # a dict whose every key is known (`**kwargs` of a call without that keyword):
                # KeyError in Python too (`nn.BatchNorm2d(kwargs['in_channels'])` of `UNetWrapper()`)
                self.construction_error(KeyMissing(key, tuple(obj)), node)
            return obj.get(key, UNKNOWN)
        if isinstance(obj, ObjectValue) and obj.mapping:  # ConfigDict, EasyDict: items are attributes
            return obj.attrs.get(key, UNKNOWN) if isinstance(key, str) else UNKNOWN
        if isinstance(obj, ObjectValue) and obj.cls is not None:  # a class of the analysed code with __getitem__
            method = self.class_attr(obj.cls, "__getitem__", instance=obj)
            if isinstance(method, FunctionValue):
                return self.call_function(method, [key], {}, node)
        return UNKNOWN


_DIV_OPS = {"Divide": "/", "FloorDivide": "//", "Modulo": "%"}


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, D.Lin)


class _Pair:
    """A dict comprehension's ``key: value``, evaluated per item by ``_comp_loop``."""

    def __init__(self, key, value) -> None:
        self.key, self.value = key, value


def _plain_key(v, depth: int = 0) -> bool:
    """A key Python compares as the analysis does: a constant, or a short tuple of them."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    return isinstance(v, tuple) and depth < 3 and len(v) <= 16 and all(_plain_key(x, depth + 1) for x in v)


def _hashable(v) -> Any:
    if isinstance(v, tuple) and not L.weight_ok(v):  # hashing ((0,) * 10**5,) * 10**5 walks 10**10
        return False
    try:
        hash(v)
        return v is not UNKNOWN
    except TypeError:
        return False


def _inplace_root(func) -> Any:
    """The name a chain of in-place methods (``y.squeeze_(0).unsqueeze_(-1)``: each returns its
    receiver) is called on, or None."""
    e = func.value if isinstance(func, cst.Attribute) else None
    while isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute) and e.func.attr.value.endswith("_"):
        e = e.func.value
    return e.value if isinstance(e, cst.Name) else None


class _Iter:
    def __init__(self, items) -> None:
        self.items = items


def merge_values(a, b) -> Any:
    if a is b:
        return a
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.shape is not None and b.shape is not None and len(a.shape) == len(b.shape):
            same = [D.equal(x, y) == D.ALWAYS for x, y in zip(a.shape, b.shape)]
            if all(same):
                return Tensor(a.shape, a.dtype, a.batch_dim if a.batch_dim == b.batch_dim else None)
            # one of two shapes of one rank (hifi-gan's `if t % p: x = F.pad(x, (0, n_pad))`): the
            # rank and the dims both agree on are known, each other dim is one unknown size
            bd = a.batch_dim if a.batch_dim == b.batch_dim and a.batch_dim is not None and same[a.batch_dim] else None
            return Tensor(tuple(x if k else D.fresh() for x, k in zip(a.shape, same)),
                          a.dtype if a.dtype == b.dtype else "float", bd)
        return Tensor(None)
    if type(a) is type(b) and isinstance(a, (int, float, str, bool)) and a == b:
        return a
    if isinstance(a, D.Lin) and isinstance(b, D.Lin) and a == b:
        return a
    if (isinstance(a, D.Lin) and not a.is_opaque() and D.is_dim(b) or
            isinstance(b, D.Lin) and not b.is_opaque() and D.is_dim(a)):
        # a size of the input on one path, another on the other (`t = t + n_pad` under `if t % p`):
        # one unknown size, which the tensors merged alongside share nothing with
        return D.fresh()
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(merge_values(x, y) for x, y in zip(a, b))
    return UNKNOWN


_ELEMENTWISE_COMPARE = ("LessThan", "LessThanEqual", "GreaterThan", "GreaterThanEqual", "Equal", "NotEqual")


_DISTINCT_TYPES = ("builtins.type", "functools.partial")


def _same_qual(a: str, b: str) -> Any:
    if a == b:
        return True
    if a in _DISTINCT_TYPES and b in _DISTINCT_TYPES:
        return False
    parts_a, parts_b = a.split("."), b.split(".")
    if len(parts_a) == len(parts_b) == 3 and parts_a[:2] == parts_b[:2] == ["torch", "nn"] and \
            parts_a[2][:1].isupper() and parts_b[2][:1].isupper():
        return False
    return UNKNOWN


def compare(op, a, b) -> Any:
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if isinstance(a, Qual) and a.name in _TORCH_VERSION and isinstance(b, str) or \
            isinstance(b, Qual) and b.name in _TORCH_VERSION and isinstance(a, str):
        return _torch_version_compare(op, a, b)
    if op in ("Is", "IsNot"):
        if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
            if isinstance(a, (Tensor, ModuleValue, Qual)) or isinstance(b, (Tensor, ModuleValue, Qual)):
                r = False if (a is None) != (b is None) else UNKNOWN
            else:
                r = a is b
            return r if r is UNKNOWN else (r if op == "Is" else not r)
        if isinstance(a, (Qual, ClassValue)) and isinstance(b, (Qual, ClassValue)):
            same = (a.name == b.name) if isinstance(a, Qual) and isinstance(b, Qual) else (
                a.info is b.info if isinstance(a, ClassValue) and isinstance(b, ClassValue) else False)
            return same if op == "Is" else not same
        if isinstance(a, str) and isinstance(b, str):
            # `block_type is 'proj'`: different strings are never the same object; equal ones that
            # look like identifiers are, as CPython interns such constants (the code relies on it)
            if a != b:
                return op == "IsNot"
            if a.isidentifier():
                return op == "Is"
        if type(a) is int and type(b) is int and -5 <= a <= 256 and -5 <= b <= 256:
            # `i is 0` (SRGAN's discriminator): CPython keeps one object per small int, so
            # identity is equality there (Python warns, but runs it so)
            return (a == b) if op == "Is" else (a != b)
        return UNKNOWN
    if op in ("Equal", "NotEqual") and isinstance(a, Qual) and isinstance(b, Qual):
        # `norm_layer == nn.InstanceNorm2d`, `type(norm_layer) == functools.partial` (the
        # pix2pix/CycleGAN bias rule): classes compare by identity; two names are one object when
        # they are the same name, two objects when both are public classes of torch.nn (no aliases
        # there) or the two types builtins.type and functools.partial; otherwise not known
        same = _same_qual(a.name, b.name)
        return same if same is UNKNOWN or op == "Equal" else not same
    if op in ("Equal", "NotEqual") and isinstance(a, ClassValue) and isinstance(b, ClassValue):
        # `block == BasicBlock` (DenseNet's depth rule): classes compare by identity (a class of
        # the analysed code has no metaclass of its own defining ==)
        return (a.info is b.info) if op == "Equal" else (a.info is not b.info)
    if op in ("In", "NotIn"):
        if isinstance(b, (list, tuple, dict, str)) and _plain(a) and L.weight_ok(b):
            try:
                r = a in b
            except TypeError:
                return UNKNOWN
            return r if op == "In" else not r
        return UNKNOWN
    if D.is_dim(a) and D.is_dim(b) and (isinstance(a, D.Lin) or isinstance(b, D.Lin)):
        rel = D.equal(a, b)
        if op == "Equal":
            return {D.ALWAYS: True, D.NEVER: False}.get(rel, UNKNOWN)
        if op == "NotEqual":
            return {D.ALWAYS: False, D.NEVER: True}.get(rel, UNKNOWN)
        return UNKNOWN
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return UNKNOWN
    if isinstance(a, tuple) and isinstance(b, tuple) and op in ("Equal", "NotEqual"):
        if len(a) != len(b):
            return op == "NotEqual"
        rs = [compare("Equal", x, y) for x, y in zip(a, b)]
        if UNKNOWN in rs:
            return UNKNOWN
        return all(rs) if op == "Equal" else not all(rs)
    if not (_plain(a) and _plain(b)):
        if op in ("Equal", "NotEqual") and (a is None or b is None):
            return (a is b) if op == "Equal" else (a is not b)
        return UNKNOWN
    try:
        return _CMP[op](a, b)
    except TypeError:  # 1 < "a", None < 1
        return UNKNOWN


def _plain(v) -> Any:
    if isinstance(v, (tuple, list)) and not L.weight_ok(v):  # [[0] * 10**5] * 10**5: 10**10 to compare
        return False
    return v is None or isinstance(v, (int, float, str, bool)) or (
        isinstance(v, (tuple, list)) and all(_plain(e) for e in v))


_CMP = {
    "Equal": lambda a, b: a == b, "NotEqual": lambda a, b: a != b, "LessThan": lambda a, b: a < b,
    "LessThanEqual": lambda a, b: a <= b, "GreaterThan": lambda a, b: a > b,
    "GreaterThanEqual": lambda a, b: a >= b,
}

_PY_OPS = {
    "Add": lambda a, b: a + b, "Subtract": lambda a, b: a - b, "Multiply": lambda a, b: a * b,
    "Divide": lambda a, b: a / b, "FloorDivide": lambda a, b: a // b, "Modulo": lambda a, b: a % b,
    "Power": lambda a, b: a ** b if not (isinstance(b, int) and abs(b) > 64) else UNKNOWN,
    "LeftShift": lambda a, b: a << b, "RightShift": lambda a, b: a >> b, "BitAnd": lambda a, b: a & b,
    "BitOr": lambda a, b: a | b, "BitXor": lambda a, b: a ^ b,
}


from .frames import MAX_UNROLL, AnalysisAbort, Frame

BULK = 128  # a comprehension over more items than this that makes plain numbers is summarised


_EFFECTS = {"append", "extend", "insert", "add_module", "register_buffer", "register_parameter", "register_module",
            "pop", "popitem", "update", "setdefault", "add", "remove", "discard", "clear", "setattr", "delattr",
            "__setitem__", "next", "print", "exec", "eval"}


def _has_effects(node: cst.CSTNode) -> bool:
    """Does an expression call what visibly changes state (``layers.append(...)``, ``setattr``) or
    assign (``:=``)? Such a comprehension is run item by item: a summary would evaluate it
    speculatively, leaving what it changes unknown."""
    found = False

    class _V(cst.CSTVisitor):
        def visit_Call(self, n: cst.Call) -> None:
            nonlocal found
            f = n.func
            name = f.attr.value if isinstance(f, cst.Attribute) else f.value if isinstance(f, cst.Name) else None
            if name in _EFFECTS:
                found = True

        def visit_NamedExpr(self, n: cst.NamedExpr) -> None:
            nonlocal found
            found = True

    node.visit(_V())
    return found


def _plain_data(v: Any, depth: int = 0) -> bool:
    """Numbers, strings, unknowns, and lists/tuples of them: what a summarised comprehension may make."""
    if v is UNKNOWN or isinstance(v, (int, float, str)) or isinstance(v, D.Lin) or isinstance(v, NDArray):
        return True
    if isinstance(v, (list, tuple)) and depth < 8:
        return all(_plain_data(x, depth + 1) for x in v)
    return False


def _weight(v: Any) -> int:
    """The elements of v's lists and tuples, nested ones included."""
    if isinstance(v, (list, tuple)):
        return len(v) + sum(_weight(x) for x in v)
    return 0


def _blank(v: Any) -> Any:
    """v with every value forgotten but the lengths of its lists and tuples (and arrays' shapes)."""
    if isinstance(v, list):
        return [_blank(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_blank(x) for x in v)
    return v if isinstance(v, NDArray) else UNKNOWN
from ..rules.shp009_construction_error import DivisionByZero, KeyMissing, TupleIndexOutOfRange


# `torch.__version__` is a TorchVersion: it compares with a version string as a version, not as
# text. With torch installed it is the installed version (core.values.torch_version); with none it
# stays a name, and as the engine models torch 2.x, against any version before 2.0 the answer is known
# (Informer's `padding = 1 if torch.__version__ >= '1.5.0' else 2`); against a later one it is not.
_TORCH_VERSION = frozenset({"torch.__version__", "torch.version.__version__"})
_FLIP = {"GreaterThan": "LessThan", "LessThan": "GreaterThan", "GreaterThanEqual": "LessThanEqual",
         "LessThanEqual": "GreaterThanEqual", "Equal": "Equal", "NotEqual": "NotEqual"}


def _torch_version_compare(op: str, a: Any, b: Any) -> Any:
    if isinstance(b, Qual):  # '1.5.0' <= torch.__version__: as torch.__version__ >= '1.5.0'
        if op not in _FLIP:
            return UNKNOWN
        op, a, b = _FLIP[op], b, a
    m = re.fullmatch(r"(\d+)\.(\d+)(?:\.\d+)?(?:[a-z+.].*)?", b.strip())
    if m is None or (int(m.group(1)), int(m.group(2))) >= (2, 0):
        return UNKNOWN
    # torch.__version__ is later than b
    return {"GreaterThan": True, "GreaterThanEqual": True, "NotEqual": True,
            "LessThan": False, "LessThanEqual": False, "Equal": False}.get(op, UNKNOWN)


def _names_super(fn: cst.CSTNode) -> bool:
    """Whether a function's body names ``super`` or ``__class__`` (CPython then gives it a
    ``__class__`` cell, which ``locals()`` lists). Walked at each ``locals()`` call: they are rare."""
    stack = [fn]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name) and n.value in ("super", "__class__"):
            return True
        stack.extend(code_children(n))
    return False
