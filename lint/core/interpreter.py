"""An abstract interpreter for the small, honest subset of Python that model code uses.

It runs ``__init__`` to build the module tree (layers with their bound arguments, containers,
user blocks) and ``forward`` over abstract tensors whose shapes are tuples of symbolic dims.  It
records *facts* (layer calls, violations, assumptions); it never formats a message.

Whatever it does not model evaluates to UNKNOWN for that value only.  Code under a condition it
cannot decide runs *speculatively*: its violations are not recorded (a branch may be dead for
this configuration), and what it assigns becomes unknown unless both branches agree.
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Dict, List, Optional

import libcst as cst

from . import dims as D
from ..frameworks.torch import layers as L
from ..frameworks.torch import tensor_ops as T
from .facts import AnalysisContext, CallRecord, Fact, Fold, RuleScope, Unknowable, Violation, rule_scope
from .project import ModuleRef, Project
from .source import ClassInfo, SourceModule, dotted
from .values import (UNKNOWN, BoundMethod, ClassValue, FunctionValue, ModuleValue, ObjectValue, Param, Partial,
                     Qual, Tensor)

_CONTAINERS = ("sequential", "modulelist", "moduledict")


def container_kind(m: ModuleValue) -> str:
    """'sequential' | 'modulelist' | 'moduledict' for torch containers and their subclasses, else ''."""
    if m.kind in _CONTAINERS:
        return m.kind
    if m.kind == "user":
        k = m.attrs.get("__container__", "user")
        return k if k in _CONTAINERS else ""
    return ""

MAX_DEPTH = 60
MAX_STEPS = 400_000
MAX_UNROLL = 5_000

_TORCH_NN_PREFIXES = ("torch.nn.", "torch.nn.modules.")


class AnalysisAbort(Exception):
    """The class is too large or too deep to analyse: it becomes unknown (not a crash)."""


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Raise(Exception):
    """The analysed code raises on this path: the path ends and its result is unknown."""


class Frame:
    __slots__ = ("locals", "func", "returns", "fork", "src")

    def __init__(self, locals_=None, func=None, returns=None, fork=0, src=None):
        self.locals = locals_ if locals_ is not None else {}
        self.func = func
        self.returns = returns if returns is not None else []  # returns under unknown control flow
        self.fork = fork
        self.src = src  # the module whose globals names resolve in (None: the analysed file)


_TENSOR_FACTORIES = {"randn", "rand", "zeros", "ones", "empty", "full", "randint", "normal", "arange",
                     "eye", "tensor", "as_tensor", "from_numpy", "linspace", "logspace", "rand_like",
                     "randn_like", "zeros_like", "ones_like", "empty_like", "full_like", "randint_like"}


class Interpreter:
    def __init__(self, source: SourceModule, strict: bool = False, project: Optional[Project] = None):
        self.src = source
        self.strict = strict
        self.context = AnalysisContext()  # the facts of this run (core/facts.py)
        self.facts: List[Fact] = self.context.facts
        self.calls: List[CallRecord] = []
        self.speculative = 0
        self.quiet = False  # probing: record nothing
        self.depth = 0
        self.steps = 0
        self.order = 0
        self.call_depth = 0
        self.havoc: set = set()  # ids of lists/dicts mutated under unknown control flow
        self.probes: Dict[int, Any] = {}  # probe id -> first layer applied to that input
        self._globals: Dict[int, Dict[str, Any]] = {}
        self._globals_busy: set = set()
        self._class_values: Dict[int, ClassValue] = {}
        self.project = project if project is not None else Project(source)
        # where the analysis is: the module each active function belongs to, and the call sites
        # that led here (to place a finding inside an imported module at a line of this file)
        self.src_stack: List[SourceModule] = [source]
        self.call_sites: List[tuple] = []

    # ------------------------------------------------------------------ facts
    def violation(self, v: Violation, node, module: Optional[ModuleValue] = None):
        if self.speculative or self.quiet:
            return
        self.context.violation(v.payload, node, module, self.src_stack[-1], tuple(self.call_sites))

    def assume(self, a, b, node, what):
        if not self.speculative and not self.quiet:
            self.context.assume(a, b, node, what)

    def tick(self):
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise AnalysisAbort("step budget exhausted")

    # ------------------------------------------------------------------ names
    def class_value(self, info: ClassInfo) -> ClassValue:
        return self._class_values.setdefault(id(info), ClassValue(info))

    def lookup_global(self, name: str, src: Optional[SourceModule] = None):
        src = src or self.src
        table = self._globals.setdefault(id(src), {})
        if name in table:
            return table[name]
        if name in src.classes:
            v = self.class_value(src.classes[name])
        elif name in src.functions:
            v = FunctionValue(src.functions[name], src)
        elif name in src.assigns:
            key = (id(src), name)
            if key in self._globals_busy:
                return UNKNOWN
            self._globals_busy.add(key)
            try:
                exprs = src.assigns[name]
                # Only a name assigned once at top level is a constant we can trust.
                v = self.eval(exprs[0], Frame(src=src)) if len(exprs) == 1 else UNKNOWN
            finally:
                self._globals_busy.discard(key)
        elif (id(src), name) in self._globals_busy:
            return UNKNOWN  # modules importing each other's names in a cycle
        elif name in src.rel_imports:
            level, module, imported = src.rel_imports[name]
            self._globals_busy.add((id(src), name))
            try:
                v = self.import_from(self.project.absolute_name(src, level, module), imported)
            finally:
                self._globals_busy.discard((id(src), name))
        elif name in src.imports:
            qual = src.imports[name]
            v = UNKNOWN
            if self.project.owns(qual):
                mod, _, attr = qual.rpartition(".")
                self._globals_busy.add((id(src), name))
                try:
                    v = self.import_from(mod, attr) if mod else UNKNOWN
                finally:
                    self._globals_busy.discard((id(src), name))
                if v is UNKNOWN:
                    ref = self.project.module(qual)
                    v = ModuleRef(ref) if ref is not None else UNKNOWN
            if v is UNKNOWN:
                v = Qual(qual)
        elif self._star_lookup(name, src) is not None:
            v = self._star_lookup(name, src)
        elif name in _BUILTINS:
            v = Qual("builtins." + name)
        elif "*" in src.imports and name[:1].isupper():
            v = Qual(src.imports["*"] + "." + name)
        else:
            v = UNKNOWN
        table[name] = v
        return v

    def _star_lookup(self, name: str, src: SourceModule):
        """A name brought in by `from .parts import *` (a module of the project), else None."""
        for level, module in src.star_imports:
            absolute = self.project.absolute_name(src, level, module) if level else module
            if not absolute or (not level and not self.project.owns(absolute)):
                continue
            mod = self.project.module(absolute)
            if mod is None or mod is src:
                continue
            if name in mod.classes or name in mod.functions or name in mod.assigns or \
                    name in mod.imports or name in mod.rel_imports:
                return self.lookup_global(name, mod)
        return None

    def import_from(self, module: Optional[str], name: str):
        """`from module import name` inside the project: a name of that module, or a submodule."""
        if not module:
            return UNKNOWN
        mod = self.project.module(module)
        if mod is not None and name is not None:
            if name in mod.classes or name in mod.functions or name in mod.assigns or \
                    name in mod.imports or name in mod.rel_imports:
                return self.lookup_global(name, mod)
        sub = self.project.module(f"{module}.{name}")
        if sub is not None:
            return ModuleRef(sub)
        return UNKNOWN

    def lookup(self, name: str, frame: Frame):
        if name in frame.locals:
            return frame.locals[name]
        if name == "True":
            return True
        if name == "False":
            return False
        if name == "None":
            return None
        return self.lookup_global(name, frame.src)

    # ------------------------------------------------------------------ expressions
    def eval(self, node, frame: Frame):
        self.tick()
        m = getattr(self, "_e_" + type(node).__name__, None)
        if m is None:
            return UNKNOWN
        return m(node, frame)

    def _e_Integer(self, node, frame):
        return node.evaluated_value

    def _e_Float(self, node, frame):
        return node.evaluated_value

    def _e_Imaginary(self, node, frame):
        return UNKNOWN

    def _e_SimpleString(self, node, frame):
        try:
            return node.evaluated_value
        except Exception:
            return UNKNOWN

    def _e_ConcatenatedString(self, node, frame):
        try:
            v = node.evaluated_value
            return v if v is not None else UNKNOWN
        except Exception:
            return UNKNOWN

    def _e_FormattedString(self, node, frame):
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
            conv = {"r": repr, "s": str, "a": ascii}.get(part.conversion or "", None)
            try:
                out.append(format(conv(v) if conv else v, spec))
            except (ValueError, TypeError):
                return UNKNOWN
        return "".join(out)

    def _e_Name(self, node, frame):
        return self.lookup(node.value, frame)

    def _e_Attribute(self, node, frame):
        obj = self.eval(node.value, frame)
        return self.getattr(obj, node.attr.value, node)

    def _e_Tuple(self, node, frame):
        items = self._elements(node.elements, frame)
        return UNKNOWN if items is UNKNOWN else tuple(items)

    def _e_List(self, node, frame):
        items = self._elements(node.elements, frame)
        return items if items is not UNKNOWN else UNKNOWN

    def _e_Set(self, node, frame):
        return UNKNOWN

    def _elements(self, elements, frame):
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

    def _e_Dict(self, node, frame):
        out = {}
        for el in node.elements:
            if isinstance(el, cst.StarredDictElement):
                v = self.eval(el.value, frame)
                if not isinstance(v, dict) or id(v) in self.havoc:
                    return UNKNOWN
                out.update(v)
                continue
            k = self.eval(el.key, frame)
            if not _hashable(k):
                return UNKNOWN
            out[k] = self.eval(el.value, frame)
        return out

    def _e_IfExp(self, node, frame):
        c = self.truth(self.eval(node.test, frame))
        if c is UNKNOWN:
            self.speculative += 1
            try:
                a = self.eval(node.body, frame)
                b = self.eval(node.orelse, frame)
            finally:
                self.speculative -= 1
            return merge_values(a, b)
        return self.eval(node.body if c else node.orelse, frame)

    def _e_UnaryOperation(self, node, frame):
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
        if op == "BitInvert" and isinstance(v, (int, Tensor)):
            return ~v if isinstance(v, int) else v
        return UNKNOWN

    def _e_BooleanOperation(self, node, frame):
        left = self.eval(node.left, frame)
        t = self.truth(left)
        if t is UNKNOWN:
            return UNKNOWN
        if isinstance(node.operator, cst.And):
            return self.eval(node.right, frame) if t else left
        return left if t else self.eval(node.right, frame)

    def _e_Comparison(self, node, frame):
        left = self.eval(node.left, frame)
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

    def _e_BinaryOperation(self, node, frame):
        a = self.eval(node.left, frame)
        b = self.eval(node.right, frame)
        return self.binop(type(node.operator).__name__, a, b, node)

    def _e_Subscript(self, node, frame):
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

    def _e_Ellipsis(self, node, frame):
        return Ellipsis

    def _e_Lambda(self, node, frame):
        return FunctionValue(node, frame.src or self.src, closure=dict(frame.locals))

    def _e_ListComp(self, node, frame):
        return self._comprehension(node, frame, list)

    def _e_GeneratorExp(self, node, frame):
        return self._comprehension(node, frame, list)

    def _e_DictComp(self, node, frame):
        return UNKNOWN

    def _e_SetComp(self, node, frame):
        return UNKNOWN

    def _comprehension(self, node, frame, kind):
        out = []
        local = Frame(dict(frame.locals), frame.func, src=frame.src)
        ok = self._comp_loop(node.for_in, node.elt, local, out)
        return out if ok else UNKNOWN

    def _comp_loop(self, for_in, elt, frame, out) -> bool:
        items = self.items_of(self.eval(for_in.iter, frame))
        if items is None:
            return False
        for item in items:
            self.assign(for_in.target, item, frame)
            ok = True
            for cond in for_in.ifs:
                t = self.truth(self.eval(cond.test, frame))
                if t is UNKNOWN:
                    return False
                ok = ok and t
            if not ok:
                continue
            if for_in.inner_for_in is not None:
                if not self._comp_loop(for_in.inner_for_in, elt, frame, out):
                    return False
            else:
                out.append(self.eval(elt, frame))
        return True

    def _e_Call(self, node, frame):
        func = self.eval(node.func, frame)
        if isinstance(func, Qual) and func.name == "builtins.super":
            return self._super(frame)
        args, kwargs = [], {}
        for a in node.args:
            v = self.eval(a.value, frame)
            if a.star == "*":
                items = self.items_of(v)
                if items is None:
                    return self._unknown_call(func)
                args.extend(items)
            elif a.star == "**":
                if not isinstance(v, dict) or id(v) in self.havoc:
                    return self._unknown_call(func)
                kwargs.update(v)
            elif a.keyword is not None:
                kwargs[a.keyword.value] = v
            else:
                args.append(v)
        return self.call(func, args, kwargs, node, frame)

    def _unknown_call(self, func):
        return UNKNOWN

    def _super(self, frame):
        fn = frame.func
        if fn is None or fn.cls is None:
            return UNKNOWN
        params = fn.node.params
        first = (list(params.posonly_params) + list(params.params))[:1]
        inst = frame.locals.get(first[0].name.value) if first else None
        if not isinstance(inst, (ModuleValue, ObjectValue)):
            return UNKNOWN
        return SuperRef(fn.cls, inst)

    def super_attr(self, ref: "SuperRef", attr):
        inst = ref.instance
        mro = self.mro(inst.cls) if inst.cls is not None else []
        after = mro[mro.index(ref.cls) + 1:] if ref.cls in mro else []
        for c in after:
            if attr in c.methods:
                return self.class_attr(c, attr, instance=inst)
            if attr in c.class_assigns:
                return self.eval(c.class_assigns[attr], Frame(src=c.source))
            if attr == "__init__" and isinstance(inst, ObjectValue) and _is_record(c):
                return _RecordInit(c, inst)
        return BoundMethod(ref, attr)

    # ------------------------------------------------------------------ helpers on values
    def truth(self, v):
        if v is UNKNOWN or isinstance(v, (Tensor, FunctionValue)):
            return UNKNOWN
        if isinstance(v, D.Lin):
            return True if D.at_least(v, 1) == D.ALWAYS else UNKNOWN
        if isinstance(v, (ModuleValue, Param, ClassValue, Qual, BoundMethod, Partial, ObjectValue, ModuleRef)):
            return True
        if isinstance(v, (list, dict)) and id(v) in self.havoc:
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
            if id(v) in self.havoc:
                return None
            return list(v)
        if isinstance(v, range):
            return list(v) if len(v) <= MAX_UNROLL else None
        if isinstance(v, dict):
            return None if id(v) in self.havoc else list(v.keys())
        if isinstance(v, str):
            return list(v)
        if isinstance(v, ModuleValue):
            if v.uncertain:
                return None
            kind = container_kind(v)
            if kind in ("sequential", "modulelist"):
                return list(v.children.values())
            if kind == "moduledict":
                return list(v.children.keys())
            return None
        if isinstance(v, ObjectValue) and "__items__" in v.attrs:
            return list(v.attrs["__items__"])
        if isinstance(v, Tensor):
            s = v.shape
            if s and isinstance(s[0], int) and s[0] <= 64:
                return [T.index(v, i) for i in range(s[0])]
            return None
        if isinstance(v, _Iter):
            return v.items
        return None

    def binop(self, op, a, b, node):
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        if isinstance(a, Tensor) or isinstance(b, Tensor) or isinstance(a, Param) or isinstance(b, Param):
            from ..frameworks.torch.tensor_methods import data_binop

            v = data_binop(op, a, b)
            if v is not NotImplemented:
                return v
            a, b = _as_tensor(a), _as_tensor(b)
            if a is None or b is None:
                return UNKNOWN
            if op == "MatrixMultiply":
                return self.tensor_rule(lambda: T.matmul(a, b, "@"), node)
            if op in ("Add", "Subtract", "Multiply", "Divide", "FloorDivide", "Modulo", "Power", "BitAnd",
                      "BitOr", "BitXor"):
                if a.shape is None or b.shape is None:
                    return Tensor(None)
                return self.tensor_rule(lambda: T.broadcast(a, b, _OP_TEXT.get(op, op)), node)
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
        try:
            return _PY_OPS[op](a, b)
        except Exception:
            return UNKNOWN

    def tensor_rule(self, thunk, node, module=None):
        # the rule reports assumptions and folds through a per-thread scope (core/facts.py)
        scope = RuleScope(lambda a, b, what: self.assume(a, b, node, what), lambda f: self.fold(f, node))
        with rule_scope(scope):
            try:
                return thunk()
            except Violation as v:
                self.violation(v, node, module)
                return Tensor(None)
            except Unknowable:
                return Tensor(None)

    def fold(self, fold: Fold, node):
        if not self.speculative and not self.quiet:
            self.context.fold(fold, node)

    # ------------------------------------------------------------------ attributes
    def getattr(self, obj, attr, node=None):
        if obj is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, Qual):
            return obj.attr(attr)
        if isinstance(obj, ModuleValue):
            return self.module_attr(obj, attr)
        if isinstance(obj, Tensor):
            if attr == "shape":
                return obj.shape if obj.shape is not None else UNKNOWN
            if attr == "ndim":
                return obj.rank if obj.rank is not None else UNKNOWN
            if attr in ("T", "mT"):
                return self.tensor_rule(lambda: T.transpose(obj, -2, -1) if obj.rank and obj.rank >= 2 else obj, node)
            if attr in ("data", "real"):
                return obj
            if attr in ("dtype", "device", "is_cuda", "requires_grad", "grad"):
                return UNKNOWN
            return BoundMethod(obj, attr)
        if isinstance(obj, Param):
            if attr == "shape":
                return obj.shape if obj.shape is not None else UNKNOWN
            if attr == "data":
                return _as_tensor(obj)
            if attr == "requires_grad":
                return obj.requires_grad
            return BoundMethod(_as_tensor(obj), attr)
        if isinstance(obj, ClassValue):
            return self.class_attr(obj.info, attr)
        if isinstance(obj, SuperRef):
            return self.super_attr(obj, attr)
        if isinstance(obj, ObjectValue):
            if attr in obj.attrs:
                return obj.attrs[attr]
            return self.class_attr(obj.cls, attr, instance=obj)
        if isinstance(obj, ModuleRef):
            v = self.lookup_global(attr, obj.src)
            if v is UNKNOWN:
                return self.import_from(self._module_name(obj.src), attr)
            return v
        if isinstance(obj, (list, dict, tuple, str, int, float)) and not isinstance(obj, bool):
            return BoundMethod(obj, attr)
        if isinstance(obj, D.Lin):
            return BoundMethod(obj, attr)
        if isinstance(obj, Partial) and attr in ("func", "args", "keywords"):
            return {"func": obj.func, "args": obj.args, "keywords": obj.kwargs}[attr]
        return UNKNOWN

    def _module_name(self, src: SourceModule) -> Optional[str]:
        import os as _os

        root = self.project.root
        if not root or not src.path:
            return None
        rel = _os.path.relpath(_os.path.abspath(src.path), root)
        rel = rel[:-3] if rel.endswith(".py") else rel
        parts = rel.split(_os.sep)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        return ".".join(parts)

    def class_attr(self, info: ClassInfo, attr, instance=None):
        for c in self.mro(info):
            if attr in c.methods:
                fn = c.methods[attr]
                deco = [dotted(d.decorator) for d in fn.decorators]
                if "staticmethod" in deco:
                    return FunctionValue(fn, c.source, cls=c)
                if "property" in deco and instance is not None:
                    return self.call_function(FunctionValue(fn, c.source, bound_self=instance, cls=c), [], {}, None)
                if "classmethod" in deco:
                    return FunctionValue(fn, c.source, bound_self=self.class_value(c), cls=c)
                return FunctionValue(fn, c.source, bound_self=instance, cls=c)
            if attr in c.class_assigns:
                return self.eval(c.class_assigns[attr], Frame(src=c.source))
        return UNKNOWN

    def mro(self, info: ClassInfo) -> List[ClassInfo]:
        out, todo = [], [info]
        while todo:
            c = todo.pop(0)
            if c in out or len(out) > 20:
                continue
            out.append(c)
            for b in c.base_nodes:
                v = self.eval(b, Frame(src=c.source))
                if isinstance(v, ClassValue):
                    todo.append(v.info)
        return out

    def torch_base(self, info: ClassInfo) -> Optional[str]:
        """The torch class a user class derives from ('torch.nn.Module', 'torch.nn.Sequential'...)."""
        for c in self.mro(info):
            for b in c.base_nodes:
                v = self.eval(b, Frame(src=c.source))
                if isinstance(v, Qual) and v.name.startswith("torch.nn"):
                    return _canonical_nn(v.name)
        return None

    def module_attr(self, m: ModuleValue, attr):
        if attr in m.attrs:
            return m.attrs[attr]
        if attr in m.children:
            return m.children[attr]
        if attr in m.params:
            return m.params[attr]
        if attr == "training":
            return m.training
        if m.kind == "user":
            v = self.class_attr(m.cls, attr, instance=m)
            if v is not UNKNOWN:
                return v
        if m.spec is not None and m.args is not None:
            if attr in ("weight", "bias") or attr.startswith(("weight_", "bias_", "in_proj")):
                try:
                    shapes = m.spec.params(m.args)
                except Unknowable:
                    return UNKNOWN
                if attr in shapes:
                    return Param(shapes[attr])
                return None if attr == "bias" else UNKNOWN
            if attr in m.args:
                v = m.args[attr]
                if attr in ("kernel_size", "stride", "padding", "dilation", "output_padding") and \
                        isinstance(v, int) and m.type_name[-2:] in ("1d", "2d", "3d") and "Conv" in m.type_name:
                    return (v,) * int(m.type_name[-2])
                return v
        return BoundMethod(m, attr)

    def setattr(self, obj, attr, value):
        if isinstance(obj, ModuleValue):
            if self.speculative:
                # Which branch ran is unknown: the attribute (and the module's layout) is unknown.
                obj.uncertain = True
                obj.attrs[attr] = UNKNOWN
                obj.children.pop(attr, None)
                return
            obj.attrs[attr] = value
            if isinstance(value, (ModuleValue, Param)):
                obj.register(attr, value)
            elif attr in obj.children:
                obj.children.pop(attr)
        elif isinstance(obj, ObjectValue):
            obj.attrs[attr] = UNKNOWN if self.speculative else value
        elif isinstance(obj, Param) and attr == "requires_grad" and isinstance(value, bool):
            if self.speculative:
                return
            obj.requires_grad = value  # `self.fc.weight.requires_grad = False` (a frozen weight)
        # attributes of other objects are not modelled

    # ------------------------------------------------------------------ subscripts
    def getitem(self, obj, key, node):
        if obj is UNKNOWN or key is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, Tensor):
            return self.tensor_rule(lambda: T.index(obj, key), node)
        if isinstance(obj, Param):
            return self.tensor_rule(lambda: T.index(_as_tensor(obj), key), node)
        if isinstance(obj, ModuleValue):
            if obj.uncertain:
                return UNKNOWN
            kids = list(obj.children.values())
            kind = container_kind(obj)
            if kind in ("sequential", "modulelist"):
                if isinstance(key, int) and not isinstance(key, bool) and -len(kids) <= key < len(kids):
                    return kids[key]
                if isinstance(key, slice):
                    return _container("sequential" if kind == "sequential" else "modulelist", kids[key])
            if kind == "moduledict" and isinstance(key, str):
                return obj.children.get(key, UNKNOWN)
            return UNKNOWN
        if isinstance(obj, (list, tuple, str)):
            if isinstance(obj, list) and id(obj) in self.havoc:
                return UNKNOWN
            if isinstance(key, int) and not isinstance(key, bool):
                return obj[key] if -len(obj) <= key < len(obj) else UNKNOWN
            if isinstance(key, slice):
                return obj[key]
            return UNKNOWN
        if isinstance(obj, dict):
            if id(obj) in self.havoc or not _hashable(key):
                return UNKNOWN
            return obj.get(key, UNKNOWN)
        return UNKNOWN

    # ------------------------------------------------------------------ calls
    def call(self, func, args, kwargs, node, frame=None):
        self.tick()
        if func is UNKNOWN:
            return UNKNOWN
        if isinstance(func, ModuleValue):
            return self.call_module(func, args, kwargs, node)
        if isinstance(func, FunctionValue):
            return self.call_function(func, args, kwargs, node)
        if isinstance(func, ClassValue):
            return self.instantiate(func.info, args, kwargs, node)
        if isinstance(func, Qual):
            return self.call_qual(func.name, args, kwargs, node)
        if isinstance(func, BoundMethod):
            return self.call_method(func.obj, func.name, args, kwargs, node)
        if isinstance(func, Partial):
            return self.call(func.func, list(func.args) + list(args), {**func.kwargs, **kwargs}, node)
        if isinstance(func, _RecordInit):
            self.bind_fields(func.cls, func.obj, args, kwargs, node)
            return None
        return UNKNOWN

    def call_function(self, fn: FunctionValue, args, kwargs, node):
        if self.depth > MAX_DEPTH:
            raise AnalysisAbort("call depth")
        fdef = fn.node
        frame = Frame(dict(fn.closure) if fn.closure else {}, fn, src=fn.scope)
        if fn.bound_self is not None:
            args = [fn.bound_self] + list(args)
        if not self.bind_params(fdef.params, args, kwargs, frame):
            return UNKNOWN
        self.depth += 1
        self.call_sites.append((node, self.src_stack[-1]))
        self.src_stack.append(fn.scope)
        try:
            if isinstance(fdef, cst.Lambda):
                return self.eval(fdef.body, frame)
            try:
                self.exec_block(fdef.body, frame)
                result = None
            except _Return as r:
                result = r.value
            except _Raise:
                result = UNKNOWN if not frame.returns else frame.returns[0]
            for spec in frame.returns:
                result = merge_values(result, spec)
            return result
        finally:
            self.depth -= 1
            self.src_stack.pop()
            self.call_sites.pop()

    def bind_params(self, params: cst.Parameters, args, kwargs, frame) -> bool:
        loc = frame.locals
        positional = list(params.posonly_params) + list(params.params)
        kwargs = dict(kwargs)
        args = list(args)
        for p in positional:
            name = p.name.value
            if args:
                loc[name] = args.pop(0)
            elif name in kwargs:
                loc[name] = kwargs.pop(name)
            elif p.default is not None:
                loc[name] = self.eval(p.default, Frame(src=frame.src))
            else:
                return False
        star = params.star_arg
        if isinstance(star, cst.Param):
            loc[star.name.value] = tuple(args)
            args = []
        if args:
            return False
        for p in params.kwonly_params:
            name = p.name.value
            if name in kwargs:
                loc[name] = kwargs.pop(name)
            elif p.default is not None:
                loc[name] = self.eval(p.default, Frame(src=frame.src))
            else:
                return False
        if params.star_kwarg is not None:
            loc[params.star_kwarg.name.value] = kwargs
            kwargs = {}
        return not kwargs

    def instantiate(self, info: ClassInfo, args, kwargs, node):
        base = self.torch_base(info)
        if base is None:
            return self.instantiate_object(info, args, kwargs, node)
        kind = {"torch.nn.Sequential": "sequential", "torch.nn.ModuleList": "modulelist",
                "torch.nn.ModuleDict": "moduledict"}.get(base, "user")
        m = ModuleValue("user", info.name, cls=info, node=node)
        m.attrs["__container__"] = kind
        m.attrs["__torch_base__"] = base
        init = self.class_attr(info, "__init__", instance=m)
        if isinstance(init, FunctionValue):
            self.call_function(init, args, kwargs, node)
        elif kind != "user":
            self._fill_container(m, kind, args)
        else:
            self._init_torch_base(m, args, kwargs, node)
        return m

    def _init_torch_base(self, m: ModuleValue, args, kwargs, node):
        """`super().__init__(...)` reaching a torch layer class (class LayerNorm2d(nn.LayerNorm))."""
        short = m.attrs.get("__torch_base__", "").rsplit(".", 1)[-1]
        spec = L.LAYERS.get(short)
        if spec is None:
            return
        layer = self.make_layer(spec, args, kwargs, node)
        m.spec, m.args = spec, layer.args
        m.params.update(layer.params)

    def instantiate_object(self, info: ClassInfo, args, kwargs, node):
        """A plain class: a block config, a dataclass, a NamedTuple."""
        bases = []
        for c in self.mro(info):
            for b in c.base_nodes:
                v = self.eval(b, Frame(src=c.source))
                if isinstance(v, Qual):
                    bases.append(v.name)
        if any(b.startswith(("enum.", "torch.")) for b in bases):
            return UNKNOWN
        obj = ObjectValue(info)
        is_record = _is_record(info) or any(b in ("typing.NamedTuple", "collections.namedtuple") for b in bases)
        init = self.class_attr(info, "__init__", instance=obj)
        if isinstance(init, FunctionValue):
            self.call_function(init, args, kwargs, node)
        elif is_record:
            if not self.bind_fields(info, obj, args, kwargs, node):
                return UNKNOWN
        elif args or kwargs:
            return UNKNOWN
        return obj

    def bind_fields(self, info: ClassInfo, obj: ObjectValue, args, kwargs, node) -> bool:
        """The __init__ a @dataclass (or NamedTuple) generates: fields in order, with defaults."""
        fields = []
        for c in reversed(self.mro(info)):
            fields.extend(c.fields)
        args, kwargs = list(args), dict(kwargs)
        for name, default in fields:
            if args:
                obj.attrs[name] = args.pop(0)
            elif name in kwargs:
                obj.attrs[name] = kwargs.pop(name)
            elif default is not None:
                obj.attrs[name] = self.eval(default, Frame(src=info.source))
            else:
                return False
        if args or kwargs:
            return False
        post = self.class_attr(info, "__post_init__", instance=obj)
        if isinstance(post, FunctionValue):
            self.call_function(post, [], {}, node)
        return True

    def _fill_container(self, m: ModuleValue, kind, args):
        if kind == "sequential":
            if len(args) == 1 and isinstance(args[0], dict):
                for k, v in args[0].items():
                    self._add_child(m, str(k), v)
            else:
                for i, v in enumerate(args):
                    self._add_child(m, str(i), v)
        elif kind == "modulelist" and args:
            items = self.items_of(args[0])
            if items is None:
                m.uncertain = True
            else:
                for i, v in enumerate(items):
                    self._add_child(m, str(i), v)
        elif kind == "moduledict" and args:
            d = args[0]
            if isinstance(d, dict) and id(d) not in self.havoc:
                for k, v in d.items():
                    self._add_child(m, str(k), v)
            elif isinstance(d, (list, tuple)):
                for kv in d:
                    if isinstance(kv, (list, tuple)) and len(kv) == 2:
                        self._add_child(m, str(kv[0]), kv[1])
                    else:
                        m.uncertain = True
            else:
                m.uncertain = True

    def _add_child(self, m: ModuleValue, name, v):
        if isinstance(v, ModuleValue):
            m.children[name] = v
        else:
            m.uncertain = True

    def call_qual(self, name, args, kwargs, node):
        if name.startswith("builtins."):
            return self.call_builtin(name[9:], args, kwargs, node)
        canon = _canonical_nn(name)
        short = canon.rsplit(".", 1)[-1]
        if canon.startswith("torch.nn.") and canon.count(".") == 2 and short in L.LAYERS:
            return self.make_layer(L.LAYERS[short], args, kwargs, node)
        if canon in ("torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict"):
            kind = canon.rsplit(".", 1)[1].lower()
            m = ModuleValue(kind, short, node=node)
            self._fill_container(m, kind, args)
            return m
        if canon in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            t = args[0] if args else kwargs.get("data", UNKNOWN)
            rg = kwargs.get("requires_grad", args[1] if len(args) > 1 else True)
            shape = t.shape if isinstance(t, Tensor) else None
            return Param(shape, rg if isinstance(rg, bool) else True)
        if canon == "torch.nn.Module":
            return UNKNOWN
        if canon.startswith("torch.nn.") and canon.count(".") == 2 and short[:1].isupper():
            return ModuleValue("opaque", short, node=node)
        if name.startswith("torch.") and any(isinstance(a, Tensor) and a.data is not None for a in args):
            from ..frameworks.torch.tensor_methods import data_function

            v = data_function(self, name[6:], args, kwargs)
            if v is not NotImplemented:
                return v
        if name in L.FUNCTIONS:
            return self.call_functional(L.FUNCTIONS[name], args, kwargs, node)
        if name.startswith("torch."):
            return self.call_torch(name, args, kwargs, node)
        if name in ("functools.partial",):
            if not args:
                return UNKNOWN
            return Partial(args[0], tuple(args[1:]), dict(kwargs))
        if name in ("collections.OrderedDict", "typing.OrderedDict"):
            if not args:
                return dict(kwargs)
            items = self.items_of(args[0]) if not isinstance(args[0], dict) else None
            if isinstance(args[0], dict):
                return dict(args[0])
            if items is None:
                return UNKNOWN
            out = {}
            for kv in items:
                if isinstance(kv, (list, tuple)) and len(kv) == 2 and _hashable(kv[0]):
                    out[kv[0]] = kv[1]
                else:
                    return UNKNOWN
            return out
        if name.startswith("math."):
            return _call_math(name[5:], args)
        if name in ("typing.cast",) and len(args) == 2:
            return args[1]
        if name in ("copy.copy", "copy.deepcopy") and len(args) == 1:
            v = args[0]
            if isinstance(v, ObjectValue):
                return ObjectValue(v.cls, dict(v.attrs))
            if isinstance(v, (list, dict)) and id(v) not in self.havoc:
                return type(v)(v)
            return v if isinstance(v, (int, float, str, tuple, bool)) or v is None else UNKNOWN
        if name == "dataclasses.field":
            if "default" in kwargs:
                return kwargs["default"]
            if "default_factory" in kwargs:
                return self.call(kwargs["default_factory"], [], {}, node)
            return UNKNOWN
        if name.startswith(("torchsummary.", "torchinfo.")):
            return None
        return UNKNOWN

    def make_layer(self, spec: L.LayerSpec, args, kwargs, node):
        m = ModuleValue("layer", spec.name, spec=spec, node=node)
        try:
            m.args = L.bind(spec.signature, args, kwargs, spec.varargs)
        except L.BindError:
            m.args = None
            return m
        if spec.check is not None:
            try:
                spec.check(m.args)
            except Violation as v:
                self.violation(v, node, m)
                m.args = None
            except Unknowable:
                pass
        if m.args is not None:
            try:
                for pname, shape in spec.params(m.args).items():
                    if "." not in pname:
                        m.params[pname] = Param(shape)
            except Unknowable:
                m.args = dict(m.args, __params_unknown__=True)
        return m

    def call_functional(self, fs: L.FunctionSpec, args, kwargs, node):
        if fs.varargs:
            args, kwargs = (args[:1], {}) if args else ([], {"input": kwargs.get("input", UNKNOWN)})
        try:
            a = L.bind(fs.signature, args, kwargs)
        except L.BindError:
            return UNKNOWN
        tensors = []
        for name in fs.inputs:
            v = a.pop(name)
            v = _as_tensor(v)
            if v is None:
                return Tensor(None) if name == "input" else UNKNOWN
            tensors.append(v)
        if tensors and tensors[0].probe is not None:
            return Tensor(None)
        return self.tensor_rule(lambda: fs.rule(a, *tensors), node)

    # ------------------------------------------------------------------ modules
    def call_module(self, m: ModuleValue, args, kwargs, node):
        if self.call_depth > MAX_DEPTH:
            raise AnalysisAbort("module nesting")
        rec = CallRecord(m, list(args), None, node, self.call_depth, self.order, speculative=self.speculative > 0)
        self.order += 1
        self.calls.append(rec)
        self.call_depth += 1
        try:
            out = self._call_module(m, args, kwargs, node)
        finally:
            self.call_depth -= 1
        rec.output = out
        rec.end = self.order
        self.order += 1
        return out

    def _call_module(self, m: ModuleValue, args, kwargs, node):
        if m.uncertain:
            return UNKNOWN
        container = m.attrs.get("__container__", m.kind) if m.kind == "user" else m.kind
        if m.kind == "layer":
            return self.apply_layer(m, args, kwargs, node)
        if m.kind == "user":
            fwd = self.class_attr(m.cls, "forward", instance=m)
            if isinstance(fwd, FunctionValue):
                return self.call_function(fwd, args, kwargs, node)
            if container == "sequential":
                return self._run_sequential(m, args, kwargs, node)
            if m.spec is not None:
                return self.apply_layer(m, args, kwargs, node)
            return UNKNOWN
        if m.kind == "sequential":
            return self._run_sequential(m, args, kwargs, node)
        return UNKNOWN

    def _run_sequential(self, m, args, kwargs, node):
        if len(args) != 1 or kwargs:
            return UNKNOWN
        x = args[0]
        for child in m.children.values():
            x = self.call_module(child, [x], {}, node)
        return x

    def apply_layer(self, m: ModuleValue, args, kwargs, node):
        if m.args is None:
            return Tensor(None)
        tensors = [_as_tensor(a) if isinstance(a, (Tensor, Param)) else a for a in args]
        for t in tensors:
            if isinstance(t, Tensor) and t.probe is not None:
                self.probes.setdefault(t.probe, m)
                return Tensor(None)
        if not tensors or not isinstance(tensors[0], Tensor):
            return Tensor(None)
        try:
            _signature(m.spec.rule).bind(m.args, *tensors, **kwargs)
        except TypeError:
            return Tensor(None)
        if any(a is UNKNOWN for a in m.args.values()):
            return Tensor(None)
        return self.tensor_rule(lambda: m.spec.rule(m.args, *tensors, **kwargs), node, m)

    # ------------------------------------------------------------------ methods of values
    def call_method(self, obj, name, args, kwargs, node):
        if isinstance(obj, SuperRef):
            # reached torch's own base class: nn.Module.__init__ is a no-op; containers fill
            inst = obj.instance
            kind = inst.attrs.get("__container__", "user")
            if name == "__init__" and kind != "user":
                self._fill_container(inst, kind, args)
            elif name == "__init__" and kind == "user":
                self._init_torch_base(inst, args, kwargs, node)
            elif name == "forward" and kind == "sequential":
                return self._run_sequential(inst, args, kwargs, node)
            elif name == "forward" and inst.spec is not None:
                return self.apply_layer(inst, args, kwargs, node)
            elif name != "__init__":
                return UNKNOWN
            return None
        if isinstance(obj, Tensor):
            from ..frameworks.torch.tensor_methods import call_tensor_method
            return call_tensor_method(self, obj, name, args, kwargs, node)
        if isinstance(obj, ModuleValue):
            return self.module_method(obj, name, args, kwargs, node)
        if isinstance(obj, list):
            return self.list_method(obj, name, args, node)
        if isinstance(obj, dict):
            if id(obj) in self.havoc:
                return UNKNOWN
            if name == "items":
                return _Iter([(k, v) for k, v in obj.items()])
            if name == "keys":
                return _Iter(list(obj.keys()))
            if name == "values":
                return _Iter(list(obj.values()))
            if name == "get" and args and _hashable(args[0]):
                return obj.get(args[0], args[1] if len(args) > 1 else None)
            if name in ("update", "pop", "setdefault", "__setitem__", "clear"):
                if self.speculative:
                    self.havoc.add(id(obj))
                    return UNKNOWN
                try:
                    return getattr(obj, name)(*args, **kwargs)
                except Exception:
                    self.havoc.add(id(obj))
                    return UNKNOWN
            return UNKNOWN
        if isinstance(obj, str):
            if name in ("format", "join", "lower", "upper", "replace", "startswith", "endswith", "split",
                        "strip"):
                try:
                    return getattr(obj, name)(*args, **kwargs)
                except Exception:
                    return UNKNOWN
            return UNKNOWN
        if isinstance(obj, tuple):
            if name in ("index", "count"):
                try:
                    return getattr(obj, name)(*args)
                except Exception:
                    return UNKNOWN
            if name == "numel":
                return D.prod(obj) if all(D.is_dim(v) for v in obj) else UNKNOWN
            return UNKNOWN
        return UNKNOWN

    def list_method(self, obj: list, name, args, node):
        if name in ("append", "extend", "insert", "pop", "remove", "clear", "reverse", "sort"):
            if self.speculative or id(obj) in self.havoc:
                self.havoc.add(id(obj))
                return UNKNOWN
            if name == "extend":
                items = self.items_of(args[0]) if args else None
                if items is None:
                    self.havoc.add(id(obj))
                    return UNKNOWN
                obj.extend(items)
                return None
            try:
                return getattr(obj, name)(*args)
            except Exception:
                self.havoc.add(id(obj))
                return UNKNOWN
        if name in ("index", "count"):
            try:
                return getattr(obj, name)(*args)
            except Exception:
                return UNKNOWN
        if name == "copy":
            return list(obj)
        return UNKNOWN

    def module_method(self, m: ModuleValue, name, args, kwargs, node):
        if name == "forward":
            return self.call_module(m, args, kwargs, node)
        if name in ("to", "cuda", "cpu", "eval", "train", "float", "double", "half", "requires_grad_",
                    "apply", "type", "share_memory", "bfloat16", "zero_grad"):
            if name == "train":
                return m
            return m
        if name in ("add_module", "register_module") and len(args) == 2:
            key, child = args
            if not isinstance(key, str):
                m.uncertain = True
                return None
            if self.speculative:
                m.uncertain = True
                return None
            if isinstance(child, ModuleValue):
                m.children[key] = child
                if m.kind == "user":
                    m.attrs[key] = child
            elif child is None:
                m.attrs[key] = None
            else:
                m.uncertain = True
            return None
        if name == "register_buffer":
            if args and isinstance(args[0], str) and not self.speculative:
                t = args[1] if len(args) > 1 else kwargs.get("tensor", UNKNOWN)
                m.attrs[args[0]] = t
            return None
        if name == "register_parameter":
            if len(args) == 2 and isinstance(args[0], str) and not self.speculative:
                m.attrs[args[0]] = args[1]
                m.register(args[0], args[1])
            return None
        if container_kind(m) in ("modulelist", "sequential"):
            if name in ("append", "extend", "insert"):
                if self.speculative:
                    m.uncertain = True
                    return None
                new = []
                if name == "append":
                    new = [args[0]] if args else []
                elif name == "extend":
                    items = self.items_of(args[0]) if args else None
                    if items is None:
                        m.uncertain = True
                        return None
                    new = items
                else:
                    m.uncertain = True
                    return None
                for v in new:
                    self._add_child(m, str(len(m.children)), v)
                return m
        if container_kind(m) == "moduledict" and name in ("items", "keys", "values"):
            if m.uncertain:
                return UNKNOWN
            if name == "items":
                return _Iter(list(m.children.items()))
            if name == "keys":
                return _Iter(list(m.children.keys()))
            return _Iter(list(m.children.values()))
        if name in ("children", "named_children"):
            if m.uncertain:
                return UNKNOWN
            items = list(m.children.items())
            return _Iter(items if name == "named_children" else [v for _, v in items])
        if name == "__setattr__" and len(args) == 2 and isinstance(args[0], str):
            self.setattr(m, args[0], args[1])
            return None
        if name == "__getattr__" and len(args) == 1 and isinstance(args[0], str):
            return self.getattr(m, args[0])
        if name == "modules":
            return UNKNOWN
        if name in ("parameters", "named_parameters", "buffers", "state_dict", "load_state_dict",
                    "named_modules", "named_children"):
            return UNKNOWN
        return UNKNOWN

    # ------------------------------------------------------------------ builtins
    def call_builtin(self, name, args, kwargs, node):
        f = _BUILTINS.get(name)
        if f is None:
            return UNKNOWN
        return f(self, args, kwargs)

    def call_torch(self, name, args, kwargs, node):
        from ..frameworks.torch.tensor_methods import call_torch_function
        return call_torch_function(self, name, args, kwargs, node)

    # ------------------------------------------------------------------ statements
    def exec_block(self, block, frame: Frame):
        body = block.body if isinstance(block, (cst.IndentedBlock, cst.SimpleStatementSuite)) else block
        for stmt in body:
            self.exec_stmt(stmt, frame)

    def exec_stmt(self, stmt, frame: Frame):
        self.tick()
        if isinstance(stmt, cst.SimpleStatementLine):
            for s in stmt.body:
                self.exec_small(s, frame)
            return
        m = getattr(self, "_s_" + type(stmt).__name__, None)
        if m is not None:
            m(stmt, frame)

    def exec_small(self, s, frame):
        if isinstance(s, cst.Expr):
            self.eval(s.value, frame)
        elif isinstance(s, cst.Assign):
            v = self.eval(s.value, frame)
            for t in s.targets:
                self.assign(t.target, v, frame)
        elif isinstance(s, cst.AnnAssign):
            if s.value is not None:
                self.assign(s.target, self.eval(s.value, frame), frame)
        elif isinstance(s, cst.AugAssign):
            cur = self.eval(s.target, frame)
            v = self.eval(s.value, frame)
            op = type(s.operator).__name__.replace("Assign", "")
            if isinstance(cur, list) and op == "Add" and id(cur) not in self.havoc:
                items = self.items_of(v)
                if items is None or self.speculative:
                    self.havoc.add(id(cur))
                else:
                    cur.extend(items)
                return
            if isinstance(cur, ModuleValue) and cur.kind == "modulelist" and op == "Add":
                items = self.items_of(v)
                if items is None or self.speculative:
                    cur.uncertain = True
                else:
                    for it in items:
                        self._add_child(cur, str(len(cur.children)), it)
                return
            self.assign(s.target, self.binop(op, cur, v, s), frame)
        elif isinstance(s, cst.Return):
            v = self.eval(s.value, frame) if s.value is not None else None
            if frame.fork:
                frame.returns.append(v)
                raise _SpecReturn(v)
            raise _Return(v)
        elif isinstance(s, cst.Raise):
            raise _Raise()
        elif isinstance(s, cst.Break):
            raise _Break()
        elif isinstance(s, cst.Continue):
            raise _Continue()
        elif isinstance(s, (cst.Import, cst.ImportFrom)):
            self._local_import(s, frame)
        elif isinstance(s, cst.Del):
            pass

    def _local_import(self, s, frame):
        if isinstance(s, cst.Import):
            for a in s.names:
                full = dotted(a.name)
                if a.asname is not None:
                    frame.locals[a.asname.name.value] = Qual(full)
                else:
                    frame.locals[full.split(".")[0]] = Qual(full.split(".")[0])
        elif not s.relative and s.module is not None and not isinstance(s.names, cst.ImportStar):
            mod = dotted(s.module)
            for a in s.names:
                local = a.asname.name.value if a.asname is not None else dotted(a.name)
                frame.locals[local] = Qual(f"{mod}.{dotted(a.name)}")

    def assign(self, target, value, frame):
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
            self.setattr(obj, target.attr.value, value)
        elif isinstance(target, cst.Subscript):
            obj = self.eval(target.value, frame)
            if isinstance(obj, (list, dict)) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                key = self.eval(target.slice[0].slice.value, frame)
                if self.speculative or key is UNKNOWN or id(obj) in self.havoc:
                    self.havoc.add(id(obj))
                    return
                try:
                    obj[key] = value
                except Exception:
                    self.havoc.add(id(obj))
            elif isinstance(obj, ModuleValue):
                obj.uncertain = True
            # tensor item assignment leaves the shape unchanged
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, value, frame)

    def _s_If(self, stmt, frame):
        c = self.truth(self.eval(stmt.test, frame))
        if c is UNKNOWN:
            self._fork(stmt.body, stmt.orelse, frame)
            return
        if c:
            self.exec_block(stmt.body, frame)
        elif stmt.orelse is not None:
            if isinstance(stmt.orelse, cst.If):
                self._s_If(stmt.orelse, frame)
            else:
                self.exec_block(stmt.orelse.body, frame)

    def _fork(self, body, orelse, frame):
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
        keys = set().union(*envs)
        for k in keys:
            vals = [e.get(k, UNKNOWN) for e in envs]
            v = vals[0]
            for other in vals[1:]:
                v = merge_values(v, other)
            merged[k] = v
        base.clear()
        base.update(merged)

    def _s_For(self, stmt, frame):
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

    def _s_While(self, stmt, frame):
        c = self.truth(self.eval(stmt.test, frame))
        if c is False:
            return
        self._havoc_loop(stmt, frame)

    def _havoc_loop(self, stmt, frame):
        """A loop we cannot unroll: whatever it assigns or mutates becomes unknown."""
        targets = _assigned_names(stmt)
        for n in targets:
            frame.locals[n] = UNKNOWN
        for recv in _mutated_receivers(stmt):
            v = self.eval(recv, frame) if not isinstance(recv, str) else frame.locals.get(recv)
            if isinstance(v, (list, dict)):
                self.havoc.add(id(v))
            elif isinstance(v, ModuleValue):
                v.uncertain = True
        for attr_target in _assigned_attrs(stmt):
            obj = self.eval(attr_target.value, frame)
            if isinstance(obj, ModuleValue):
                obj.uncertain = True
                obj.attrs[attr_target.attr.value] = UNKNOWN

    def _s_With(self, stmt, frame):
        for item in stmt.items:
            v = self.eval(item.item, frame)
            if item.asname is not None:
                self.assign(item.asname.name, UNKNOWN if not isinstance(v, Tensor) else v, frame)
        self.exec_block(stmt.body, frame)

    def _s_Try(self, stmt, frame):
        self.exec_block(stmt.body, frame)
        if stmt.orelse is not None:
            self.exec_block(stmt.orelse.body, frame)
        if stmt.finalbody is not None:
            self.exec_block(stmt.finalbody.body, frame)

    def _s_FunctionDef(self, stmt, frame):
        frame.locals[stmt.name.value] = FunctionValue(stmt, frame.src or self.src, closure=frame.locals)

    def _s_ClassDef(self, stmt, frame):
        frame.locals[stmt.name.value] = UNKNOWN


_SIGNATURES: Dict[Any, inspect.Signature] = {}


def _signature(fn) -> inspect.Signature:
    sig = _SIGNATURES.get(fn)
    if sig is None:
        sig = _SIGNATURES[fn] = inspect.signature(fn)
    return sig


class _SpecReturn(_Return):
    """A return under unknown control flow: recorded in Frame.returns, ends only that branch."""


def _is_record(info: ClassInfo) -> bool:
    return any(d in ("dataclass", "dataclasses.dataclass") for d in info.decorators)


class _RecordInit:
    def __init__(self, cls, obj):
        self.cls, self.obj = cls, obj


class SuperRef:
    def __init__(self, cls, instance):
        self.cls = cls
        self.instance = instance


class _Iter:
    def __init__(self, items):
        self.items = items


def _container(kind, kids):
    m = ModuleValue(kind, {"sequential": "Sequential", "modulelist": "ModuleList"}[kind])
    for i, k in enumerate(kids):
        m.children[str(i)] = k
    return m


def _canonical_nn(name: str) -> str:
    """torch.nn.modules.conv.Conv2d -> torch.nn.Conv2d; torch.nn.modules.Conv2d -> torch.nn.Conv2d."""
    if name.startswith("torch.nn.modules."):
        return "torch.nn." + name.rsplit(".", 1)[-1]
    if name.startswith("torch.nn.parameter."):
        return "torch.nn." + name.rsplit(".", 1)[-1]
    return name


def _hashable(v):
    try:
        hash(v)
        return v is not UNKNOWN
    except TypeError:
        return False


def _as_tensor(v):
    if isinstance(v, Tensor):
        return v
    if isinstance(v, Param):
        return Tensor(v.shape, "float", None)
    if isinstance(v, (int, float)) or D.is_dim(v):
        return Tensor((), "float", None)
    return None


def merge_values(a, b):
    if a is b:
        return a
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.shape is not None and b.shape is not None and len(a.shape) == len(b.shape) and \
                all(D.equal(x, y) == D.ALWAYS for x, y in zip(a.shape, b.shape)):
            return Tensor(a.shape, a.dtype, a.batch_dim if a.batch_dim == b.batch_dim else None)
        return Tensor(None)
    if type(a) is type(b) and isinstance(a, (int, float, str, bool)) and a == b:
        return a
    if isinstance(a, D.Lin) and isinstance(b, D.Lin) and a == b:
        return a
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(merge_values(x, y) for x, y in zip(a, b))
    return UNKNOWN


def compare(op, a, b):
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
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
        return UNKNOWN
    if op in ("In", "NotIn"):
        if isinstance(b, (list, tuple, dict, str)) and _plain(a):
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
    except Exception:
        return UNKNOWN


def _plain(v):
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

_OP_TEXT = {"Add": "+", "Subtract": "-", "Multiply": "*", "Divide": "/", "FloorDivide": "//", "Modulo": "%",
            "Power": "**", "BitAnd": "&", "BitOr": "|", "BitXor": "^"}


def _call_math(name, args):
    if any(not isinstance(a, (int, float)) or isinstance(a, bool) for a in args):
        if name in ("ceil", "floor") and len(args) == 1 and isinstance(args[0], D.Lin):
            return args[0]
        return UNKNOWN
    f = getattr(math, name, None)
    if f is None or not callable(f):
        return UNKNOWN
    try:
        return f(*args)
    except Exception:
        return UNKNOWN


def _b_len(interp, args, kwargs):
    if len(args) != 1:
        return UNKNOWN
    v = args[0]
    if isinstance(v, Tensor):
        return v.shape[0] if v.shape else UNKNOWN
    if isinstance(v, ModuleValue):
        return len(v.children) if not v.uncertain and v.kind != "user" else UNKNOWN
    items = interp.items_of(v)
    return len(items) if items is not None else UNKNOWN


def _concrete(fn):
    def f(interp, args, kwargs):
        if any(a is UNKNOWN for a in args) or any(v is UNKNOWN for v in kwargs.values()):
            return UNKNOWN
        try:
            return fn(*args, **kwargs)
        except Exception:
            return UNKNOWN
    return f


def _b_range(interp, args, kwargs):
    if kwargs or not args or any(not isinstance(a, int) or isinstance(a, bool) for a in args):
        return UNKNOWN
    try:
        return range(*args)
    except Exception:
        return UNKNOWN


def _b_iterfn(fn):
    def f(interp, args, kwargs):
        lists = [interp.items_of(a) for a in args]
        if any(x is None for x in lists):
            return UNKNOWN
        try:
            return _Iter(list(fn(*lists, **{k: v for k, v in kwargs.items()})))
        except Exception:
            return UNKNOWN
    return f


def _b_list(interp, args, kwargs):
    if not args:
        return []
    items = interp.items_of(args[0])
    return list(items) if items is not None else UNKNOWN


def _b_tuple(interp, args, kwargs):
    if not args:
        return ()
    items = interp.items_of(args[0])
    return tuple(items) if items is not None else UNKNOWN


def _b_int(interp, args, kwargs):
    if len(args) == 1 and isinstance(args[0], D.Lin):
        return args[0]
    return _concrete(int)(interp, args, kwargs)


def _b_minmax(fn):
    def f(interp, args, kwargs):
        vals = args
        if len(args) == 1:
            vals = interp.items_of(args[0])
            if vals is None:
                return UNKNOWN
        if kwargs or not vals:
            return UNKNOWN
        if any(isinstance(v, D.Lin) for v in vals):
            if fn is min and all(D.is_dim(v) for v in vals):
                r = vals[0]
                for v in vals[1:]:
                    r = D.dmin(r, v)
                return r
            return UNKNOWN
        return _concrete(fn)(interp, list(vals), {})
    return f


def _b_sum(interp, args, kwargs):
    items = interp.items_of(args[0]) if args else None
    if items is None:
        return UNKNOWN
    r = args[1] if len(args) > 1 else 0
    for v in items:
        if D.is_dim(v) and D.is_dim(r):
            r = D.add(r, v)
        elif isinstance(v, (int, float)) and isinstance(r, (int, float)):
            r = r + v
        else:
            return UNKNOWN
    return r


def _b_isinstance(interp, args, kwargs):
    if len(args) != 2:
        return UNKNOWN
    v, t = args
    types = t if isinstance(t, tuple) else (t,)
    results = [_isinstance_one(interp, v, x) for x in types]
    if True in results:
        return True
    if UNKNOWN in results:
        return UNKNOWN
    return False


_PY_TYPES = {"builtins.int": int, "builtins.float": float, "builtins.str": str, "builtins.bool": bool,
             "builtins.list": list, "builtins.tuple": tuple, "builtins.dict": dict}


def _isinstance_one(interp, v, t):
    if v is UNKNOWN or t is UNKNOWN:
        return UNKNOWN
    if isinstance(t, ClassValue):
        if isinstance(v, ModuleValue) and v.cls is not None:
            return t.info in interp.mro(v.cls)
        if isinstance(v, ObjectValue):
            return t.info in interp.mro(v.cls)
        if isinstance(v, (Tensor, int, float, str, list, tuple, dict)) or v is None:
            return False
        return UNKNOWN
    if not isinstance(t, Qual):
        return UNKNOWN
    name = _canonical_nn(t.name)
    if name in _PY_TYPES:
        if isinstance(v, D.Lin):
            return name == "builtins.int"
        if v is None or isinstance(v, (int, float, str, bool, list, tuple, dict)):
            return isinstance(v, _PY_TYPES[name])
        if isinstance(v, (Tensor, ModuleValue, ObjectValue, Param)):
            return False
        return UNKNOWN
    if name in ("torch.Tensor", "torch.nn.Parameter"):
        if isinstance(v, Param):
            return True
        if isinstance(v, Tensor):
            return name == "torch.Tensor"
        if v is None or isinstance(v, (int, float, str, list, tuple, dict, ModuleValue, ObjectValue)):
            return False
        return UNKNOWN
    if isinstance(v, ModuleValue) and name.startswith("torch.nn."):
        if name == "torch.nn.Module":
            return True
        if v.kind == "layer":
            return name == f"torch.nn.{v.type_name}"
        if v.kind in _CONTAINERS:
            return name == f"torch.nn.{v.type_name}"
        base = v.attrs.get("__torch_base__")
        if base is not None:
            return name == base or UNKNOWN
        return UNKNOWN
    if isinstance(v, (Tensor, int, float, str, list, tuple, dict)) or v is None:
        return False if name.startswith("torch.nn.") else UNKNOWN
    return UNKNOWN


def _b_getattr(interp, args, kwargs):
    if len(args) >= 2 and isinstance(args[1], str):
        v = interp.getattr(args[0], args[1])
        if v is UNKNOWN and len(args) == 3:
            return UNKNOWN
        return v
    return UNKNOWN


def _b_hasattr(interp, args, kwargs):
    """hasattr(self, 'shortcut') on a module or object whose layout is known."""
    if len(args) != 2 or not isinstance(args[1], str):
        return UNKNOWN
    obj, name = args
    if isinstance(obj, ModuleValue):
        if obj.uncertain:
            return UNKNOWN
        if name in obj.attrs or name in obj.children or name in obj.params or name == "training":
            return True
        if obj.kind == "user":
            if interp.class_attr(obj.cls, name) is not UNKNOWN:
                return True
            # nn.Module's own attributes and methods are not modelled: only plain names are False
            return False if not name.startswith("_") and name not in _MODULE_API else UNKNOWN
        return UNKNOWN
    if isinstance(obj, ObjectValue):
        if name in obj.attrs:
            return True
        return interp.class_attr(obj.cls, name) is not UNKNOWN or UNKNOWN
    return UNKNOWN


_MODULE_API = {"training", "forward", "modules", "children", "named_modules", "named_children", "parameters",
               "named_parameters", "buffers", "named_buffers", "state_dict", "load_state_dict", "to", "cuda",
               "cpu", "eval", "train", "apply", "register_buffer", "register_parameter", "add_module",
               "register_module", "zero_grad", "requires_grad_", "half", "float", "double", "type",
               "get_submodule", "get_parameter", "extra_repr", "dump_patches", "call_super_init"}


def _b_setattr(interp, args, kwargs):
    if len(args) == 3 and isinstance(args[1], str):
        interp.setattr(args[0], args[1], args[2])
    elif len(args) == 3 and isinstance(args[0], (ModuleValue, ObjectValue)):
        # an attribute whose name is unknown: the object's layout is no longer known
        if isinstance(args[0], ModuleValue):
            args[0].uncertain = True
        else:
            args[0].attrs["__unknown_attrs__"] = True
    return None


def _b_set(interp, args, kwargs):
    """A set of plain hashable values, kept as a sorted-by-insertion tuple (len(), in, iteration)."""
    if kwargs:
        return UNKNOWN
    items = interp.items_of(args[0]) if args else []
    if items is None or not all(_plain(v) and _hashable(v) for v in items):
        return UNKNOWN
    return tuple(dict.fromkeys(items))


def _b_super(interp, args, kwargs):
    return _SUPER


_SUPER = Qual("__super__")

_BUILTINS = {
    "len": _b_len, "range": _b_range, "int": _b_int, "float": _concrete(float), "bool": _concrete(bool),
    "str": _concrete(str), "abs": _concrete(abs), "round": _concrete(round), "max": _b_minmax(max),
    "min": _b_minmax(min), "sum": _b_sum, "list": _b_list, "tuple": _b_tuple, "dict": _concrete(dict),
    "enumerate": _b_iterfn(lambda xs, start=0: enumerate(xs, start)), "zip": _b_iterfn(zip),
    "reversed": _b_iterfn(lambda xs: reversed(xs)), "sorted": _b_iterfn(lambda xs: sorted(xs)),
    "isinstance": _b_isinstance, "getattr": _b_getattr, "setattr": _b_setattr, "hasattr": _b_hasattr,
    "print": lambda i, a, k: None, "super": _b_super, "divmod": _concrete(divmod), "pow": _concrete(pow),
    "any": _concrete(any), "all": _concrete(all), "type": lambda i, a, k: UNKNOWN, "iter": lambda i, a, k: UNKNOWN,
    "next": lambda i, a, k: UNKNOWN, "map": lambda i, a, k: UNKNOWN, "filter": lambda i, a, k: UNKNOWN,
    "callable": lambda i, a, k: UNKNOWN, "id": lambda i, a, k: UNKNOWN, "set": _b_set, "frozenset": _b_set,
    "object": lambda i, a, k: UNKNOWN, "NotImplementedError": lambda i, a, k: UNKNOWN,
    "ValueError": lambda i, a, k: UNKNOWN, "RuntimeError": lambda i, a, k: UNKNOWN,
}


def _walk(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


def _assigned_names(stmt):
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


def _mutated_receivers(stmt):
    out = []
    for n in _walk(stmt):
        if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in _MUTATORS:
            out.append(n.func.value)
        if isinstance(n, cst.AugAssign):
            out.append(n.target)
    return out


def _assigned_attrs(stmt):
    out = []
    for n in _walk(stmt):
        if isinstance(n, cst.Assign):
            out.extend(t.target for t in n.targets if isinstance(t.target, cst.Attribute))
    return out
