"""Calls: dispatch on the callee, functions of the analysed code with their argument binding,
qualified names (the frameworks first, then the few standard-library functions modelled), module
calls (recorded as CallRecords), and methods of plain values.  A mixin of Interpreter."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import libcst as cst

from . import dims as D
from . import limits as L
from . import ndarray as ND
from .framework_api import NOT_MINE
from .values import (ATTR_DICTS, CONCRETE_ERRORS, UNKNOWN, BoundMethod, ClassValue, Expanded, FunctionValue,
                     ModuleValue, NDArray, ObjectValue, Param, Partial, Qual, Tensor, copy_tree, is_record_type)

if TYPE_CHECKING:
    from typing import Any as _Host  # a mixin: self is the Interpreter, with all its parts
else:
    _Host = object


def attr_dict(d: dict) -> ObjectValue:
    return ObjectValue(None, {str(k): attr_dict(v) if isinstance(v, dict) else v for k, v in d.items()},
                       mapping=True)


class CallsMixin(_Host):
    # ------------------------------------------------------------------ calls
    def call(self, func, args, kwargs, node, frame=None) -> Any:
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
            merged = {**func.kwargs, **kwargs}  # the partial's own keywords may come from anywhere
            return self.call(func.func, list(func.args) + list(args),
                             Expanded(merged) if func.kwargs else merged, node)
        if isinstance(func, ObjectValue) and func.cls is not None:  # an instance with __call__ (a builder)
            method = self.class_attr(func.cls, "__call__", instance=func)
            if isinstance(method, FunctionValue):
                return self.call_function(method, args, kwargs, node)
            if self.value_framework(func) is None:  # else a framework's instance (a Keras subclass): below
                return UNKNOWN
        if is_record_type(func):  # GraphPath(8, "conv", 3): a real namedtuple instance
            try:
                return func(*args, **kwargs)
            except CONCRETE_ERRORS:
                return UNKNOWN
        if isinstance(func, _RecordInit):
            self.bind_fields(func.cls, func.obj, args, kwargs, node)
            return None
        fw = self.value_framework(func)
        if fw is not None:  # a framework's own value (a Keras layer or model)
            v = fw.call_value(self, func, args, kwargs, node)
            return UNKNOWN if v is NOT_MINE else v
        return UNKNOWN

    def call_function(self, fn: FunctionValue, args, kwargs, node) -> Any:
        if self.depth > MAX_DEPTH:
            raise AnalysisAbort("call depth")
        fdef = fn.node
        if self.library_models:
            model = self.library_model(fn)
            if model is not None:
                v = model(self, fn, args, kwargs, node)
                if v is not NOT_MINE:  # NOT_MINE: the model leaves this call to the interpreter
                    return v
        active = self.active_functions
        if active.get(id(fdef), 0) >= MAX_REENTRY and not self._bounded_reentry(fn, fdef, args, kwargs):
            # (mutual) recursion: this call becomes unknown instead of exhausting the call depth
            return UNKNOWN
        frame = Frame(dict(fn.closure) if fn.closure else {}, fn, src=fn.scope)
        if fn.bound_self is not None:
            args = [fn.bound_self] + list(args)
        if not self.bind_params(fdef.params, args, kwargs, frame):
            if isinstance(fdef, cst.FunctionDef) and not fdef.decorators and isinstance(node, cst.Call) and \
                    not any(a.star for a in node.args) and \
                    len([a for a in node.args if a.keyword is None]) + (fn.bound_self is not None) == len(args) and \
                    sorted(a.keyword.value for a in node.args if a.keyword is not None) == sorted(kwargs):
                # TypeError in Python too: the call's arguments are all written out, the function is
                # plain (no decorator that could change its signature)
                from ..rules.shp009_construction_error import WrongArguments
                self.construction_error(WrongArguments(fdef.name.value, len(args), tuple(sorted(kwargs))), node)
            return UNKNOWN
        self.depth += 1
        active[id(fdef)] = active.get(id(fdef), 0) + 1
        receivers = self.active_receivers.setdefault(id(fdef), [])
        receivers.append(id(fn.bound_self) if fn.bound_self is not None else None)
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
            active[id(fdef)] -= 1
            receivers.pop()
            self.src_stack.pop()
            self.call_sites.pop()

    def _bounded_reentry(self, fn: FunctionValue, fdef, args, kwargs) -> bool:
        """A call of a function already active MAX_REENTRY times that still ends: a method of a
        module the active calls are not on (a U-Net's skip block whose forward calls the same
        method of the block nested in it: the tree of built modules is finite), or a call whose
        arguments are all decided (an hourglass's ``_forward(n - 1, x)``: Python takes the same
        path). Up to MAX_NESTING active calls; beyond, or a recursion on undecided values, unknown."""
        if self.active_functions.get(id(fdef), 0) >= MAX_NESTING:
            return False
        me = fn.bound_self
        if isinstance(me, ModuleValue) and fdef.name.value != "__init__" and \
                id(me) not in self.active_receivers.get(id(fdef), ()):
            return True
        return all(_decided(v) for v in list(args) + list(kwargs.values()))

    def library_model(self, fn: FunctionValue) -> Any:
        """A framework's model of a library function of the analysed code (a transformers
        ``post_init``), found once per function by its qualified name; None: interpret it."""
        key = id(fn.node)
        cache = self._library_model_cache
        if key not in cache:
            found = None
            qual = _qualified(self, fn)
            if qual is not None:
                for model_of in self.library_models:
                    found = model_of(qual)
                    if found is not None:
                        break
            cache[key] = found
        return cache[key]

    def bind_params(self, params: cst.Parameters, args, kwargs, frame) -> bool:
        loc = frame.locals
        positional = list(params.posonly_params) + list(params.params)
        complete = not isinstance(kwargs, Expanded)
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
            if complete:
                self.complete_dicts.add(kwargs)
            kwargs = {}
        return not kwargs

    def call_qual(self, name, args, kwargs, node) -> Any:
        if name.startswith("builtins."):
            return self.call_builtin(name[9:], args, kwargs, node)
        for fw in self.frameworks:
            v = fw.call_qual(self, name, args, kwargs, node)
            if v is not NOT_MINE:
                return v
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
        if name.startswith("numpy."):
            return _call_numpy(name[6:], args, kwargs)
        if name in ("typing.cast",) and len(args) == 2:
            return args[1]
        if name in ("copy.copy", "copy.deepcopy") and len(args) == 1:
            v = args[0]
            if isinstance(v, ObjectValue):
                return ObjectValue(v.cls, dict(v.attrs))
            if isinstance(v, (list, dict)) and v not in self.havoc:
                return type(v)(v)
            return v if isinstance(v, (int, float, str, tuple, bool)) or v is None else UNKNOWN
        if name in ("re.split", "re.findall", "re.sub") and 2 <= len(args) <= 3 and not kwargs and \
                all(isinstance(a, str) for a in args):
            import re  # string parsing of block definitions ('ir_r2_k3_s2_e6_c24'), on constants only
            try:
                return getattr(re, name[3:])(*args)
            except re.error:
                return UNKNOWN
        if name in ("os.environ.get", "os.getenv") and len(args) == 2 and isinstance(args[0], str):
            return args[1]  # an environment switch read with a default: the default configuration
        if name in ("collections.namedtuple", "typing.NamedTuple") and len(args) == 2 and isinstance(args[0], str) and \
                not set(kwargs) - {"defaults", "rename"}:
            return _record_type(args[0], args[1], kwargs)
        if name in ("argparse.Namespace", "types.SimpleNamespace") and not args:
            return ObjectValue(None, dict(kwargs))  # a config object: the attributes it is given
        if name in ATTR_DICTS and len(args) <= 1 and (not args or isinstance(args[0], dict)):
            # ml_collections.ConfigDict() filled attribute by attribute (ViT's configs.py), EasyDict
            # of a dict: a namespace whose items are its attributes, nested dicts converted too
            return attr_dict({**(args[0] if args else {}), **kwargs}) \
                if not args or args[0] not in self.havoc else UNKNOWN
        if name == "dataclasses.replace" and len(args) == 1 and isinstance(args[0], ObjectValue):
            return ObjectValue(args[0].cls, {**args[0].attrs, **kwargs})  # a copy with fields replaced
        if name == "dataclasses.field":
            if "default" in kwargs:
                return kwargs["default"]
            if "default_factory" in kwargs:
                return self.call(kwargs["default_factory"], [], {}, node)
            return UNKNOWN
        return UNKNOWN

    # ------------------------------------------------------------------ modules
    def call_module(self, m: ModuleValue, args, kwargs, node) -> Any:
        self.tick()  # containers call their children here directly: each counts (steps, time)
        if self.call_depth > MAX_DEPTH:
            raise AnalysisAbort("module nesting")
        rec = CallRecord(m, list(args), None, node, self.call_depth, self.order, speculative=self.speculative > 0)
        self.order += 1
        self.calls.append(rec)
        self.call_depth += 1
        try:
            out = self._run_module(m, args, kwargs, node)
        finally:
            self.call_depth -= 1
        rec.output = out
        rec.end = self.order
        self.order += 1
        return out

    def _run_module(self, m: ModuleValue, args, kwargs, node) -> Any:
        for fw in self.frameworks:
            v = fw.call_module(self, m, args, kwargs, node)
            if v is not NOT_MINE:
                return v
        return UNKNOWN

    # ------------------------------------------------------------------ methods of values
    def call_method(self, obj, name, args, kwargs, node) -> Any:
        if isinstance(obj, (SuperRef, Tensor, ModuleValue, Param)):  # Param: p.requires_grad_(False)
            # a SuperRef here reached a base class outside the analysed code (a framework's, object)
            for fw in self.frameworks:
                v = fw.call_method(self, obj, name, args, kwargs, node)
                if v is not NOT_MINE:
                    return v
            if isinstance(obj, SuperRef):
                return None if name == "__init__" else UNKNOWN  # object.__init__
            return UNKNOWN
        if isinstance(obj, list):
            return self.list_method(obj, name, args, node)
        if isinstance(obj, tuple) and is_record_type(type(obj)):
            # a namedtuple's own methods (EfficientNet's `block_args._replace(stride=1)`): a new record
            if name == "_replace" and not args and set(kwargs) <= set(type(obj)._fields):  # type: ignore[attr-defined]
                return obj._replace(**kwargs)  # type: ignore[attr-defined]
            if name == "_asdict" and not args and not kwargs:
                return dict(obj._asdict())  # type: ignore[attr-defined]
            return UNKNOWN
        if isinstance(obj, NDArray):
            return ND.method(obj, name, args, kwargs)
        if isinstance(obj, ObjectValue) and obj.mapping and name == "clone" and not args and not kwargs:
            return copy_tree(obj)  # a yacs CfgNode's clone(): get_default_config() returns one
        if isinstance(obj, ObjectValue) and obj.mapping and name == "get" and 1 <= len(args) <= 2 and not kwargs \
                and isinstance(args[0], str):
            # config.patches.get("grid") on a ConfigDict: its item, or the default
            return obj.attrs.get(args[0], args[1] if len(args) == 2 else None)
        if isinstance(obj, dict):
            if obj in self.havoc:
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
                    self.havoc.add(obj)
                    return UNKNOWN
                try:
                    return getattr(obj, name)(*args, **kwargs)
                except CONCRETE_ERRORS:
                    self.havoc.add(obj)
                    return UNKNOWN
            return UNKNOWN
        if isinstance(obj, str):
            if name in ("format", "join", "lower", "upper", "replace", "startswith", "endswith", "split",
                        "strip", "isdigit", "isalpha", "isnumeric", "lstrip", "rstrip", "rsplit", "partition",
                        "rpartition", "find", "count"):
                args = [list(a.items) if isinstance(a, _Iter) else a for a in args]  # "_".join(map(str, xs))
                if not L.str_method_ok(obj, name, args, kwargs):  # "{:>1500000000}".format(1)
                    return UNKNOWN
                try:
                    return self.charge(L.bounded(getattr(obj, name)(*args, **kwargs)))
                except (*CONCRETE_ERRORS, AttributeError):  # "{.x}".format(v) looks an attribute up
                    return UNKNOWN
            return UNKNOWN
        if isinstance(obj, tuple):
            if name in ("index", "count") and L.weight_ok(obj) and L.weight_ok(list(args)):
                try:
                    return getattr(obj, name)(*args)
                except CONCRETE_ERRORS:
                    return UNKNOWN
            if name == "numel":
                return D.prod(obj) if all(D.is_dim(v) for v in obj) else UNKNOWN
            return UNKNOWN
        return UNKNOWN

    def list_method(self, obj: list, name, args, node) -> Any:
        if name in ("append", "extend", "insert", "pop", "remove", "clear", "reverse", "sort"):
            if self.speculative or obj in self.havoc:
                self.havoc.add(obj)
                return UNKNOWN
            if name == "extend":
                items = self.items_of(args[0]) if args else None
                if items is None or len(obj) + len(items) > L.MAX_ITEMS:
                    self.havoc.add(obj)
                    return UNKNOWN
                obj.extend(items)
                return None
            try:
                return getattr(obj, name)(*args)
            except CONCRETE_ERRORS:
                self.havoc.add(obj)
                return UNKNOWN
        if name in ("index", "count") and L.weight_ok(obj) and L.weight_ok(list(args)):
            try:
                return getattr(obj, name)(*args)
            except CONCRETE_ERRORS:
                return UNKNOWN
        if name == "copy":
            return list(obj)
        return UNKNOWN

    # ------------------------------------------------------------------ builtins
    def call_builtin(self, name, args, kwargs, node) -> Any:
        f = BUILTINS.get(name)
        if f is None:
            return UNKNOWN
        return f(self, args, kwargs)


_NP_SIZE_FIRST = {"random.random", "random.random_sample", "random.sample", "random.ranf",
                  "random.standard_normal", "zeros", "ones", "empty"}
_NP_DIMS = {"random.rand", "random.randn"}
_NP_SIZE_THIRD = {"random.uniform", "random.normal"}  # (low/loc, high/scale, size)


_NP_SCALAR: "dict[str, Any]" = {"log": math.log, "exp": math.exp, "sqrt": math.sqrt, "log2": math.log2, "log10": math.log10,
              "floor": math.floor, "ceil": math.ceil, "abs": abs}


def _record_type(name: str, fields: Any, kwargs: dict) -> Any:
    """``collections.namedtuple("GraphPath", ['s0', 'name', 's1'])`` (or ``"s0 name s1"``) with
    constant fields, or ``typing.NamedTuple("P", [("a", int)])``: a real namedtuple class."""
    import collections

    if isinstance(fields, (list, tuple)) and all(isinstance(f, tuple) and len(f) == 2 for f in fields):
        fields = [f[0] for f in fields]  # typing.NamedTuple's (name, type) pairs
    if not (isinstance(fields, str) or isinstance(fields, (list, tuple)) and all(isinstance(f, str) for f in fields)):
        return UNKNOWN
    defaults = kwargs.get("defaults")
    if defaults is not None and not isinstance(defaults, (list, tuple)):
        return UNKNOWN
    try:
        make: Any = collections.namedtuple  # called with the analysed code's values, not literals
        cls = make(name, fields, rename=kwargs.get("rename") is True, defaults=defaults)
    except CONCRETE_ERRORS:
        return UNKNOWN
    cls._shapelint_record = True
    return cls


def _np_power(a, b):
    if isinstance(a, int) and isinstance(b, int):
        if b < 0:
            raise ValueError("Integers to negative integer powers are not allowed.")
        return a ** b
    return float(a) ** b


_NP_SCALAR2: "dict[str, Any]" = {"power": _np_power, "maximum": max, "minimum": min,
                                 "arctan2": math.atan2, "hypot": math.hypot}


def _plain_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _call_numpy(name: str, args, kwargs) -> Any:
    """numpy's array makers with a static shape (``np.random.random((1, 3, 32, 32))``,
    ``np.random.rand(2, 3)``, ``np.zeros(shape)``): an opaque :class:`NDArray` of that shape; its
    scalar functions of plain numbers (``np.log(np.exp(init_var) - 1.0)``): the number, a float
    as numpy gives (``np.floor(2.5)`` is 2.0); the array functions of :mod:`.ndarray`."""
    out = ND.call(name, args, kwargs)
    if out is not NotImplemented:
        return out
    if name in _NP_SCALAR2 and len(args) == 2 and not kwargs and all(_plain_number(a) for a in args):
        try:
            return L.bounded(_NP_SCALAR2[name](*args)) if L.binop_ok("Power", *args) else UNKNOWN
        except (ValueError, OverflowError, ZeroDivisionError):
            return UNKNOWN
    if name in _NP_SCALAR and len(args) == 1 and not kwargs and isinstance(args[0], (int, float)) and \
            not isinstance(args[0], bool):
        try:
            return float(_NP_SCALAR[name](args[0]))
        except (ValueError, OverflowError):
            return UNKNOWN
    if name in _NP_DIMS and not kwargs:
        size: Any = tuple(args)
    elif name in _NP_SIZE_FIRST and not (set(kwargs) - {"size", "shape", "dtype"}):
        size = args[0] if args else kwargs.get("size", kwargs.get("shape"))
        if name in ("zeros", "ones", "empty") and ("dtype" in kwargs or len(args) > 1):
            kind = ND.dtype_kind(kwargs["dtype"] if "dtype" in kwargs else args[1])
            if kind is None or len(args) > 2:
                return UNKNOWN
            shape = (size,) if isinstance(size, int) and not isinstance(size, bool) else size
            if not isinstance(shape, (tuple, list)) or not all(isinstance(d, int) and not isinstance(d, bool)
                                                               for d in shape):
                return UNKNOWN
            return ND.array(tuple(shape), kind)
    elif name in _NP_SIZE_THIRD and not (set(kwargs) - {"size", "low", "high", "loc", "scale"}):
        size = args[2] if len(args) > 2 else kwargs.get("size")
    else:
        return UNKNOWN
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size,)
    if not isinstance(size, (tuple, list)) or not size and name not in ("zeros", "ones", "empty") or \
            not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in size):
        return UNKNOWN
    return NDArray(tuple(size))


def _qualified(interp, fn: FunctionValue):
    """``package.module.Class.method`` of a function of the analysed code, by its file's path."""
    path = getattr(fn.scope, "path", None)
    if not path:
        return None
    import os

    parts = os.path.normpath(os.path.abspath(path))[:-3].split(os.sep)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    name = fn.node.name.value if isinstance(fn.node, cst.FunctionDef) else "<lambda>"
    owner = [fn.cls.name] if fn.cls is not None else []
    return ".".join(parts[-4:] + owner + [name])


def _call_math(name, args) -> Any:
    if name == "prod" and len(args) == 1 and isinstance(args[0], (list, tuple)) and len(args[0]) <= 64 and \
            all(D.is_dim(a) for a in args[0]):
        return D.prod(args[0])  # `math.prod([c] + [d // 8 for d in (64, 64)])`: a flatten size
    if any(not isinstance(a, (int, float)) or isinstance(a, bool) for a in args):
        if name in ("ceil", "floor") and len(args) == 1 and isinstance(args[0], D.Lin):
            return args[0]
        return UNKNOWN
    f = getattr(math, name, None)
    if f is None or not callable(f) or not L.math_ok(name, args):  # math.factorial(10**7)
        return UNKNOWN
    try:
        return L.bounded(f(*args))
    except CONCRETE_ERRORS:
        return UNKNOWN


from .builtins import BUILTINS  # noqa: E402
from .expressions import _hashable, _Iter, merge_values  # noqa: E402
from .facts import CallRecord
from .frames import MAX_DEPTH, MAX_NESTING, MAX_REENTRY, AnalysisAbort, Frame, _Raise, _Return
from .objects import SuperRef, _RecordInit  # noqa: E402


def _decided(v: Any, depth: int = 0) -> bool:
    """A value that decides a recursion's path as Python would: plain Python constants (no symbol,
    nothing unknown) and containers of them; a tensor, a module or a function counts as decided
    (recursions are driven by their numbers, and a tensor's shape is checked where it is used)."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, (Tensor, ModuleValue, FunctionValue, ClassValue)):
        return True
    if isinstance(v, (tuple, list)) and depth < 3 and len(v) <= 64:
        return all(_decided(x, depth + 1) for x in v)
    return False
