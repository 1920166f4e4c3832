"""Python's builtins as the interpreter models them: each takes (interp, args, kwargs) and returns a
value or UNKNOWN.  ``isinstance`` and ``hasattr`` on framework values are asked of the frameworks."""
from __future__ import annotations

import collections.abc as _abc
import numbers as _numbers

from typing import Any, Callable, Dict

from . import dims as D
from . import limits as L
from .framework_api import NOT_MINE
from .values import (CONCRETE_ERRORS, UNKNOWN, ClassValue, FunctionValue, ModuleValue, NDArray, ObjectValue, Param, Partial,
                     Qual, Tensor, is_record_type)


def _b_len(interp, args, kwargs) -> Any:
    if len(args) != 1:
        return UNKNOWN
    v = args[0]
    if isinstance(v, Tensor):
        return v.shape[0] if v.shape else UNKNOWN
    if isinstance(v, NDArray):
        return v.shape[0] if v.shape else UNKNOWN
    if isinstance(v, ModuleValue):
        return len(v.children) + len(v.nones) if not v.uncertain and v.kind != "user" else UNKNOWN
    if isinstance(v, range):  # lazy: never materialised
        try:
            return len(v)
        except OverflowError:
            return UNKNOWN
    items = interp.items_of(v)
    return len(items) if items is not None else UNKNOWN


def _concrete(fn, ok=None) -> Any:
    """fn run on plain values; ``ok(args)`` first says whether it may run within the caps
    (core/limits.py), and a result over a cap is UNKNOWN."""
    def f(interp, args, kwargs) -> Any:
        if any(a is UNKNOWN for a in args) or any(v is UNKNOWN for v in kwargs.values()):
            return UNKNOWN
        if any(isinstance(a, range) for a in args) or (ok is not None and not ok(args)):
            return UNKNOWN
        if not all(L.weight_ok(a) for a in args):  # str([[0] * 10**5] * 10**5)
            return UNKNOWN
        try:
            return interp.charge(L.bounded(fn(*args, **kwargs)))
        except CONCRETE_ERRORS:
            return UNKNOWN
    return f


def _b_anyall(fn) -> Any:
    """any/all over items we know (a huge range is never iterated: UNKNOWN)"""
    def f(interp, args, kwargs) -> Any:
        if len(args) != 1 or kwargs:
            return UNKNOWN
        items = interp.items_of(args[0])
        if items is None or any(v is UNKNOWN for v in items):
            return UNKNOWN
        try:
            return fn(items)
        except CONCRETE_ERRORS:
            return UNKNOWN
    return f


def _b_dict(interp, args, kwargs) -> Any:
    """dict(mapping or pairs, **kw); the pairs may come from zip(...) or a generator."""
    if len(args) == 1 and not isinstance(args[0], dict) and args[0] is not UNKNOWN:
        items = interp.items_of(args[0])
        if items is None:
            return UNKNOWN
        args = [items]
    return _concrete(dict)(interp, args, kwargs)


def _b_issubclass(interp, args, kwargs) -> Any:
    """issubclass(C, B) for classes of the analysed code: C's MRO (a tuple of bases: any)."""
    from .values import ClassValue

    if len(args) != 2 or kwargs or not isinstance(args[0], ClassValue):
        return UNKNOWN
    bases = args[1] if isinstance(args[1], tuple) else (args[1],)
    if not all(isinstance(b, ClassValue) for b in bases):
        return UNKNOWN
    mro = interp.mro(args[0].info)
    if any(b.info in mro for b in bases):
        return True
    # a base outside the analysed code could still derive from B only if B is outside too
    return False


def _b_range(interp, args, kwargs) -> Any:
    if kwargs or not args or any(not isinstance(a, int) or isinstance(a, bool) for a in args):
        return UNKNOWN
    try:
        return range(*args)
    except CONCRETE_ERRORS:
        return UNKNOWN


def _b_iterfn(fn) -> Any:
    def f(interp, args, kwargs) -> Any:
        lists = [interp.items_of(a) for a in args]
        if any(x is None for x in lists) or not all(L.weight_ok(x) for x in lists):
            return UNKNOWN
        try:
            return _Iter(interp.charge(list(fn(*lists, **{k: v for k, v in kwargs.items()}))))
        except CONCRETE_ERRORS:
            return UNKNOWN
    return f


def _b_list(interp, args, kwargs) -> Any:
    if not args:
        return []
    items = interp.items_of(args[0])
    return list(items) if items is not None else UNKNOWN


def _b_tuple(interp, args, kwargs) -> Any:
    if not args:
        return ()
    items = interp.items_of(args[0])
    return tuple(items) if items is not None else UNKNOWN


def _b_int(interp, args, kwargs) -> Any:
    if len(args) == 1 and isinstance(args[0], D.Lin):
        return args[0]
    return _concrete(int)(interp, args, kwargs)


def _b_minmax(fn) -> Any:
    def f(interp, args, kwargs) -> Any:
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


def _b_sum(interp, args, kwargs) -> Any:
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
    return L.bounded(r)


def _b_isinstance(interp, args, kwargs) -> Any:
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


_ABCS = {f"{m}.{n}": getattr(_abc, n) for m in ("collections.abc", "typing")
         for n in ("Iterable", "Sequence", "Mapping", "Collection", "Container", "Sized")}
_NUMBERS = {f"numbers.{n}": getattr(_numbers, n) for n in ("Number", "Complex", "Real", "Rational", "Integral")}
_PY_TYPES = {"builtins.int": int, "builtins.float": float, "builtins.str": str, "builtins.bool": bool,
             "builtins.list": list, "builtins.tuple": tuple, "builtins.dict": dict}


def _isinstance_one(interp, v, t) -> Any:
    if v is UNKNOWN or t is UNKNOWN:
        return UNKNOWN
    if isinstance(t, ClassValue):
        if isinstance(v, ModuleValue) and v.cls is not None:
            return t.info in interp.mro(v.cls)
        if isinstance(v, ObjectValue):
            return v.cls is not None and t.info in interp.mro(v.cls)
        if isinstance(v, (Tensor, int, float, str, list, tuple, dict)) or v is None:
            return False
        return UNKNOWN
    if is_record_type(t):  # isinstance(x, GraphPath) of a namedtuple class
        if isinstance(v, tuple):
            return isinstance(v, t)
        if isinstance(v, (Tensor, ModuleValue, ObjectValue, int, float, str, list, dict)) or v is None:
            return False
        return UNKNOWN
    if not isinstance(t, Qual):
        return UNKNOWN
    name = t.name
    if name in _PY_TYPES:
        if isinstance(v, D.Lin):
            return name == "builtins.int"
        if v is None or isinstance(v, (int, float, str, bool, list, tuple, dict)):
            return isinstance(v, _PY_TYPES[name])
        if isinstance(v, (Tensor, ModuleValue, ObjectValue, Param, ClassValue, FunctionValue)):
            return False  # a class or function of the analysed code is none of these
        if isinstance(v, Qual) and v.name.rsplit(".", 1)[-1][:1].isupper() and \
                interp.framework_of(v.name) is not None:
            return False  # a framework's class (nn.ReLU) passed as a value
        return UNKNOWN
    num = _NUMBERS.get(name)
    if num is not None:  # isinstance(normalized_shape, numbers.Integral) (Restormer's LayerNorm)
        if v is None or isinstance(v, (int, float, str, bool, list, tuple, dict)):
            return isinstance(v, num)
        if isinstance(v, D.Lin):
            return True  # a size: an int whatever its value
        if isinstance(v, (Tensor, ModuleValue, ObjectValue, Param, ClassValue, FunctionValue)):
            return False
        return UNKNOWN
    abc = _ABCS.get(name)
    if abc is not None:  # isinstance(size, Iterable) on a plain value
        if v is None or isinstance(v, (int, float, str, bool, list, tuple, dict)):
            return isinstance(v, abc)
        if isinstance(v, D.Lin):
            return False
        return UNKNOWN
    for fw in interp.frameworks:
        if fw.owns(name):
            r = fw.isinstance(interp, v, name)
            if r is not NOT_MINE:
                return r
            if isinstance(v, (ClassValue, FunctionValue, Partial)) or v is None or \
                    isinstance(v, (int, float, str, list, tuple, dict)):
                return False  # a class, a function, a plain value: no instance of a framework class
    return UNKNOWN


def _b_getattr(interp, args, kwargs) -> Any:
    if len(args) >= 2 and isinstance(args[1], str):
        if len(args) == 3 and _b_hasattr(interp, args[:2], {}) is False:
            return args[2]  # getattr(self, "s1", None) on a module that never set it (diffusers' FreeU switch)
        v = interp.getattr(args[0], args[1])
        if v is UNKNOWN and len(args) == 3:
            if _lacks(interp, args[0], args[1]):
                return args[2]  # getattr(config, "head_dim", default) on a config without one
            return UNKNOWN
        return v
    return UNKNOWN


def _lacks(interp, obj, name: str) -> bool:
    """An object whose every attribute is known (``closed``: a library config built by its model,
    lint/frameworks/torch/libraries.py) that has no attribute ``name``, itself or on its class."""
    return isinstance(obj, ObjectValue) and getattr(obj, "closed", False) and name not in obj.attrs and \
        (obj.cls is None or interp.class_attr(obj.cls, name) is UNKNOWN)


def _b_hasattr(interp, args, kwargs) -> Any:
    """hasattr(self, 'shortcut') on a module or object whose layout is known."""
    if len(args) != 2 or not isinstance(args[1], str):
        return UNKNOWN
    obj, name = args
    if isinstance(obj, ModuleValue) or (isinstance(obj, Qual) and interp.framework_of(obj.name) is not None):
        for fw in interp.frameworks:
            r = fw.hasattr(interp, obj, name)
            if r is not NOT_MINE:
                return r
        return UNKNOWN
    if isinstance(obj, ObjectValue):
        if name in obj.attrs:
            return True
        if _lacks(interp, obj, name):
            return False
        return (obj.cls is not None and interp.class_attr(obj.cls, name) is not UNKNOWN) or UNKNOWN
    return UNKNOWN


def _b_setattr(interp, args, kwargs) -> Any:
    if len(args) == 3 and isinstance(args[1], str):
        interp.setattr(args[0], args[1], args[2])
    elif len(args) == 3 and isinstance(args[0], (ModuleValue, ObjectValue)):
        # an attribute whose name is unknown: the object's layout is no longer known
        if isinstance(args[0], ModuleValue):
            args[0].uncertain = True
        else:
            args[0].attrs["__unknown_attrs__"] = True
    return None


def _b_set(interp, args, kwargs) -> Any:
    """A set of plain hashable values, kept as a sorted-by-insertion tuple (len(), in, iteration)."""
    if kwargs:
        return UNKNOWN
    items = interp.items_of(args[0]) if args else []
    if items is None or not all(_plain(v) and _hashable(v) for v in items):
        return UNKNOWN
    return tuple(dict.fromkeys(items))


def _b_map(interp, args, kwargs) -> Any:
    """``map(str, [...])`` over known items, one iterable: the calls made now, in order (an
    iterator: only iterated, as Python allows)."""
    if kwargs or len(args) != 2:
        return UNKNOWN
    items = interp.items_of(args[1])
    if items is None or len(items) > 1000:
        return UNKNOWN
    out = [interp.call(args[0], [x], {}, None) for x in items]
    return UNKNOWN if any(v is UNKNOWN for v in out) else _Iter(out)


def _b_type(interp, args, kwargs) -> Any:
    """``type(norm_layer)`` where it is compared with a type: a functools.partial object's, or a
    torch.nn class's (``type``: torch.nn's layers have no metaclass); anything else is not known."""
    if len(args) != 1 or kwargs:
        return UNKNOWN
    v = args[0]
    if isinstance(v, Partial):
        return Qual("functools.partial")
    if isinstance(v, Qual):
        parts = v.name.split(".")
        if len(parts) == 3 and parts[:2] == ["torch", "nn"] and parts[2][:1].isupper():
            return Qual("builtins.type")
    return UNKNOWN


def _b_super(interp, args, kwargs) -> Any:
    return _SUPER


_SUPER = Qual("__super__")

BUILTINS: Dict[str, Callable[..., Any]] = {
    "len": _b_len, "range": _b_range, "int": _b_int, "float": _concrete(float), "bool": _concrete(bool),
    "str": _concrete(str), "abs": _concrete(abs), "round": _concrete(round, L.round_ok), "max": _b_minmax(max),
    "min": _b_minmax(min), "sum": _b_sum, "list": _b_list, "tuple": _b_tuple, "dict": _b_dict,
    "issubclass": _b_issubclass,
    "enumerate": _b_iterfn(lambda xs, start=0: enumerate(xs, start)), "zip": _b_iterfn(zip),
    "reversed": _b_iterfn(lambda xs: reversed(xs)), "sorted": _b_iterfn(lambda xs: sorted(xs)),
    "isinstance": _b_isinstance, "getattr": _b_getattr, "setattr": _b_setattr, "hasattr": _b_hasattr,
    "print": lambda i, a, k: None, "super": _b_super, "locals": lambda i, a, k: UNKNOWN,  # (expressions._e_Call) "divmod": _concrete(divmod),
    "pow": _concrete(pow, L.pow_ok), "chr": _concrete(chr), "ord": _concrete(ord), "any": _b_anyall(any), "all": _b_anyall(all), "type": _b_type, "iter": lambda i, a, k: UNKNOWN,
    "next": lambda i, a, k: UNKNOWN, "map": _b_map, "filter": lambda i, a, k: UNKNOWN,
    "callable": lambda i, a, k: UNKNOWN, "id": lambda i, a, k: UNKNOWN, "set": _b_set, "frozenset": _b_set,
    "object": lambda i, a, k: UNKNOWN, "NotImplementedError": lambda i, a, k: UNKNOWN,
    "ValueError": lambda i, a, k: UNKNOWN, "RuntimeError": lambda i, a, k: UNKNOWN,
}


from .expressions import _hashable, _Iter, _plain  # noqa: E402  (a cycle: expressions -> interpreter -> here)
