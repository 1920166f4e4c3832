"""numpy arrays by their shape: what model code builds tables with before handing them to torch.

A sinusoid position table (``np.array([[pos / np.power(10000, 2 * (j // 2) / d) for j in range(d)]
for pos in range(n)])``, then ``table[:, 0::2] = np.sin(table[:, 0::2])`` and
``torch.FloatTensor(table)``), a thin-plate-spline grid (``np.linspace``, ``np.concatenate``,
``np.stack``), an anchor table: the tensor torch makes of it has the array's shape, which is all the
analysis needs. Values are not kept (:class:`NDArray` holds a shape of plain ints and a kind:
'float' is numpy's default float64, 'float32', 'int', 'bool'), so
anything that depends on them is unknown; so is every numpy function and method not listed here,
and every shape that would not be plain ints. Nothing here reports: numpy's own errors make the
result unknown.
"""
from __future__ import annotations

import math
from typing import Any, List, Optional, Tuple

from . import limits as L
from .values import UNKNOWN, NDArray

MAX_ELEMENTS = 1 << 40  # a shape beyond this is not an array model code builds


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v) -> bool:
    return isinstance(v, (int, float))  # bool included: numpy takes it as a number


def _kind_of_scalar(v) -> str:
    if isinstance(v, bool):
        return "bool"
    return "int" if isinstance(v, int) else "float"


def _join(a: str, b: str) -> str:
    """numpy's promotion of two arrays, by kind: bool < int < float32 < float (float64); an int
    array with a float32 one is float64."""
    if {a, b} == {"int", "float32"}:
        return "float"
    order = ("bool", "int", "float32", "float")
    return order[max(order.index(a), order.index(b))]


def _join_scalar(array_kind: str, scalar_kind: str) -> str:
    """An array with a Python number (NEP 50: the number is 'weak'): the array's kind, unless a
    float meets an int or bool array."""
    if scalar_kind == "float" and array_kind in ("int", "bool"):
        return "float"
    if scalar_kind == "int" and array_kind == "bool":
        return "int"
    return array_kind


def array(shape: Tuple[int, ...], kind: str = "float") -> Any:
    if not all(_int(d) and d >= 0 for d in shape) or math.prod(shape) > MAX_ELEMENTS:
        return UNKNOWN
    return NDArray(tuple(shape), kind)


# ------------------------------------------------------------------------------------------------
# np.array(nested lists)
# ------------------------------------------------------------------------------------------------

def _skeleton(v: Any, depth: int = 0) -> Any:
    """``(shape, kind, exact)`` of nested lists/tuples of numbers, None when it is not a rectangular
    array of numbers (ragged, strings, objects). An unknown item is ``((), None, False)``: its shape
    is only known to start with the given dims; numpy takes only homogeneous data, so beside a known
    sibling it has that sibling's shape in code that runs."""
    if v is UNKNOWN:
        return ((), None, False)
    if _number(v):
        return ((), _kind_of_scalar(v), True)
    if isinstance(v, NDArray):
        return (v.shape, v.kind, True)
    if not isinstance(v, (list, tuple)) or depth >= 32 or len(v) > L.MAX_ITEMS:
        return None
    if not v:
        return ((0,), "float", True)
    subs = [_skeleton(x, depth + 1) for x in v]
    if any(s is None for s in subs):
        return None
    exact = [s for s in subs if s[2]]
    if exact:
        shape, kind = exact[0][0], exact[0][1]
        for s in exact[1:]:
            if s[0] != shape:
                return None  # ragged: numpy refuses it
            kind = _join(kind, s[1])
        if any(s[0] != shape[:len(s[0])] for s in subs):
            return None
        return ((len(v),) + shape, kind, True)
    longest = max((s[0] for s in subs), key=len)
    if any(s[0] != longest[:len(s[0])] for s in subs):
        return None
    return ((len(v),) + longest, None, False)


def from_data(v: Any, dtype: Any = None) -> Any:
    """``np.array(v)`` / ``np.asarray(v)``."""
    s = _skeleton(v)
    if s is None or not s[2]:
        return UNKNOWN
    shape, kind, _ = s
    k = dtype_kind(dtype) if dtype is not None else kind
    return UNKNOWN if k is None else array(shape, k)


def dtype_kind(dtype: Any) -> Optional[str]:
    """'float', 'int' or 'bool' of a numpy dtype given as ``np.float32``, ``'float32'``, ``float``."""
    name = getattr(dtype, "name", None)
    if isinstance(name, str):
        name = name.rsplit(".", 1)[-1]
    elif isinstance(dtype, str):
        name = dtype
    elif dtype is float:
        name = "float"
    elif dtype is int:
        name = "int"
    elif dtype is bool:
        name = "bool"
    else:
        return None
    if name in ("float32", "float16", "half", "single"):
        return "float32"
    if name.startswith("float") or name == "double":
        return "float"  # float64, numpy's default
    if name.startswith(("int", "uint")) or name in ("long", "short", "byte"):
        return "int"
    if name in ("bool", "bool_"):
        return "bool"
    return None


# ------------------------------------------------------------------------------------------------
# indexing, broadcasting
# ------------------------------------------------------------------------------------------------


def getitem(a: NDArray, key: Any) -> Any:
    """Basic indexing: ints, slices, None, Ellipsis. A single element is a number of unknown value."""
    items = list(key) if isinstance(key, tuple) else [key]
    if any(k is UNKNOWN for k in items):
        return UNKNOWN
    n_ell = sum(1 for k in items if k is Ellipsis)
    if n_ell > 1:
        return UNKNOWN
    consumed = sum(1 for k in items if k is not None and k is not Ellipsis)
    if consumed > len(a.shape):
        return UNKNOWN  # IndexError in numpy
    if n_ell:
        i = items.index(Ellipsis)
        items[i:i + 1] = [slice(None)] * (len(a.shape) - consumed)
    else:
        items += [slice(None)] * (len(a.shape) - consumed)
    out: List[int] = []
    d = 0
    for k in items:
        if k is None:
            out.append(1)
            continue
        size = a.shape[d]
        d += 1
        if _int(k):
            if not -size <= k < size:
                return UNKNOWN
            continue
        if isinstance(k, slice) and all(p is None or _int(p) for p in (k.start, k.stop, k.step)):
            if k.step == 0:
                return UNKNOWN
            out.append(len(range(*k.indices(size))))
            continue
        return UNKNOWN  # fancy indexing, symbolic bounds
    return array(tuple(out), a.kind)  # () : a numpy scalar, of unknown value


def _shape_kind(v: Any) -> Any:
    if isinstance(v, NDArray):
        return v.shape, v.kind
    if _number(v):
        return (), _kind_of_scalar(v)
    return None


def broadcast(a: Any, b: Any, op: str = "Add") -> Any:
    """numpy's broadcasting of two operands (arrays or numbers)."""
    sa, sb = _shape_kind(a), _shape_kind(b)
    if sa is None or sb is None:
        return UNKNOWN
    (xa, ka), (xb, kb) = sa, sb
    if not isinstance(a, NDArray):
        ka = kb = _join_scalar(kb, ka)
    elif not isinstance(b, NDArray):
        ka = kb = _join_scalar(ka, kb)
    n = max(len(xa), len(xb))
    xa, xb = (1,) * (n - len(xa)) + xa, (1,) * (n - len(xb)) + xb
    out = []
    for p, q in zip(xa, xb):
        if p != q and p != 1 and q != 1:
            return UNKNOWN  # numpy's ValueError
        out.append(q if p == 1 else p)
    kind = _join(ka, kb)
    if op == "Divide" and kind in ("int", "bool"):
        kind = "float"
    if op in _COMPARISONS:
        kind = "bool"
    return array(tuple(out), kind)


_COMPARISONS = {"LessThan", "LessThanEqual", "GreaterThan", "GreaterThanEqual", "Equal", "NotEqual"}


def matmul(a: Any, b: Any) -> Any:
    """``a @ b`` / ``np.matmul`` / ``np.dot`` of 1-D and 2-D arrays."""
    if not (isinstance(a, NDArray) and isinstance(b, NDArray)) or not (1 <= len(a.shape) <= 2 and 1 <= len(b.shape) <= 2):
        return UNKNOWN
    k1 = a.shape[-1]
    k2 = b.shape[0]
    if k1 != k2:
        return UNKNOWN  # numpy's ValueError
    out = a.shape[:-1] + b.shape[1:]
    return array(out, _join(a.kind, b.kind))


def binop(op: str, a: Any, b: Any) -> Any:
    if op == "MatrixMultiply":
        return matmul(a, b)
    if op in ("Add", "Subtract", "Multiply", "Divide", "FloorDivide", "Modulo", "Power", "BitAnd",
              "BitOr", "BitXor") or op in _COMPARISONS:
        return broadcast(a, b, op)
    return UNKNOWN


# ------------------------------------------------------------------------------------------------
# numpy's functions and the arrays' methods
# ------------------------------------------------------------------------------------------------

_UNARY = {"sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "exp", "expm1",
          "exp2", "log", "log2", "log10", "log1p", "sqrt", "square", "abs", "absolute", "negative",
          "floor", "ceil", "round", "around", "rint", "sign", "reciprocal", "deg2rad", "rad2deg",
          "radians", "degrees", "copy", "float32", "float64", "int64", "int32"}
_FLOAT_UNARY = {"sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "exp", "expm1",
                "exp2", "log", "log2", "log10", "log1p", "sqrt", "reciprocal", "deg2rad", "rad2deg",
                "radians", "degrees"}
_BINARY = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "divide": "Divide",
           "true_divide": "Divide", "power": "Power", "maximum": "Add", "minimum": "Add",
           "arctan2": "Divide", "hypot": "Divide", "fmod": "Modulo", "mod": "Modulo"}


def _axis(v: Any, rank: int, extra: int = 0) -> Optional[int]:
    if not _int(v) or not -(rank + extra) <= v < rank + extra:
        return None
    return v % (rank + extra)


def _shape_arg(v: Any) -> Optional[Tuple[int, ...]]:
    if _int(v):
        return (v,)
    if isinstance(v, (list, tuple)) and all(_int(d) for d in v):
        return tuple(v)
    return None


def reshape(a: NDArray, shape: Any) -> Any:
    s = _shape_arg(shape)
    if s is None or sum(1 for d in s if d == -1) > 1 or any(d < -1 for d in s):
        return UNKNOWN
    total = math.prod(a.shape)
    known = math.prod(d for d in s if d != -1)
    if -1 in s:
        if known == 0 or total % known:
            return UNKNOWN
        s = tuple(total // known if d == -1 else d for d in s)
    elif known != total:
        return UNKNOWN
    return array(s, a.kind)


def transpose(a: NDArray, axes: Any = None) -> Any:
    if axes is None:
        return array(tuple(reversed(a.shape)), a.kind)
    ax = _shape_arg(axes)
    if ax is None or sorted(x % len(a.shape) if -len(a.shape) <= x < len(a.shape) else -1 for x in ax) != \
            list(range(len(a.shape))):
        return UNKNOWN
    return array(tuple(a.shape[x] for x in ax), a.kind)


def _join_arrays(arrays: Any, axis: Any, stack: bool) -> Any:
    if not isinstance(arrays, (list, tuple)) or not arrays:
        return UNKNOWN
    arrs = [x if isinstance(x, NDArray) else from_data(x) for x in arrays]
    if any(not isinstance(x, NDArray) for x in arrs):
        return UNKNOWN
    first = arrs[0].shape
    kind = arrs[0].kind
    for x in arrs[1:]:
        kind = _join(kind, x.kind)
    if stack:
        if any(x.shape != first for x in arrs):
            return UNKNOWN
        ax = _axis(axis, len(first), 1)
        if ax is None:
            return UNKNOWN
        return array(first[:ax] + (len(arrs),) + first[ax:], kind)
    ax = _axis(axis, len(first))
    if ax is None or any(len(x.shape) != len(first) or x.shape[:ax] + x.shape[ax + 1:] != first[:ax] + first[ax + 1:]
                         for x in arrs):
        return UNKNOWN
    return array(first[:ax] + (sum(x.shape[ax] for x in arrs),) + first[ax + 1:], kind)


def call(name: str, args: list, kwargs: dict) -> Any:
    """``np.<name>(*args, **kwargs)`` for the array functions modelled here, else NotImplemented."""
    if name in ("array", "asarray", "asfarray") and len(args) == 1 and not set(kwargs) - {"dtype"}:
        v = args[0]
        if isinstance(v, NDArray):
            k = dtype_kind(kwargs["dtype"]) if "dtype" in kwargs else v.kind
            return UNKNOWN if k is None else array(v.shape, "float" if name == "asfarray" else k)
        return from_data(v, kwargs.get("dtype"))
    if name in ("ascontiguousarray", "atleast_1d") and len(args) == 1 and not kwargs and isinstance(args[0], NDArray):
        return array(args[0].shape or (1,), args[0].kind)
    if name in _UNARY and len(args) == 1 and not kwargs and isinstance(args[0], NDArray):
        a = args[0]
        kind = "float32" if name == "float32" else "int" if name in ("int64", "int32") else \
            "float" if name == "float64" or name in _FLOAT_UNARY and a.kind in ("int", "bool") else a.kind
        return array(a.shape, kind)
    if name in _BINARY and len(args) == 2 and not kwargs and \
            (isinstance(args[0], NDArray) or isinstance(args[1], NDArray)):
        return broadcast(args[0], args[1], _BINARY[name])
    if name == "arange" and 1 <= len(args) <= 3 and not set(kwargs) - {"dtype"} and all(_number(a) for a in args):
        start, stop, step = (0, args[0], 1) if len(args) == 1 else (args[0], args[1], args[2] if len(args) == 3 else 1)
        try:  # numpy's length: ceil((stop - start) / step), none below 0 (exact for ints, as range's)
            n = len(range(start, stop, step)) if all(_int(a) for a in args) else \
                max(0, math.ceil((stop - start) / step))
        except (ValueError, ZeroDivisionError, OverflowError):
            return UNKNOWN
        kind = "int" if all(_int(a) for a in args) else "float"
        if "dtype" in kwargs:
            kind = dtype_kind(kwargs["dtype"]) or ""
        return array((n,), kind) if kind else UNKNOWN
    if name == "linspace" and 2 <= len(args) <= 3 and not set(kwargs) - {"num", "endpoint", "dtype"}:
        num = args[2] if len(args) == 3 else kwargs.get("num", 50)
        spaced = dtype_kind(kwargs["dtype"]) if "dtype" in kwargs else "float"
        return array((num,), spaced) if _int(num) and num >= 0 and spaced else UNKNOWN
    if name in ("zeros_like", "ones_like", "empty_like", "full_like") and args and isinstance(args[0], NDArray) \
            and not set(kwargs) - {"dtype"}:
        like: Optional[str] = dtype_kind(kwargs["dtype"]) if "dtype" in kwargs else args[0].kind
        return array(args[0].shape, like) if like else UNKNOWN
    if name in ("concatenate", "stack") and 1 <= len(args) <= 2 and not set(kwargs) - {"axis"}:
        axis = args[1] if len(args) == 2 else kwargs.get("axis", 0)
        return _join_arrays(args[0], axis, name == "stack")
    if name in ("vstack", "hstack") and len(args) == 1 and not kwargs and isinstance(args[0], (list, tuple)):
        arrs = [x if isinstance(x, NDArray) else from_data(x) for x in args[0]]
        if any(not isinstance(x, NDArray) or not x.shape for x in arrs):
            return UNKNOWN
        if name == "vstack":
            arrs = [array((1,) + x.shape, x.kind) if len(x.shape) == 1 else x for x in arrs]
            return _join_arrays(arrs, 0, False)
        return _join_arrays(arrs, 0 if len(arrs[0].shape) == 1 else 1, False)
    if name in ("expand_dims", "reshape", "transpose", "tile") and args and len(args) + len(kwargs) <= 2 and \
            len(kwargs) <= 1 and isinstance(args[0], NDArray):
        # the second argument by position or by numpy's keyword (axis=, newshape=/shape=, axes=, reps=)
        key = {"expand_dims": ("axis",), "reshape": ("newshape", "shape"), "transpose": ("axes",),
               "tile": ("reps",)}[name]
        if kwargs and next(iter(kwargs)) not in key:
            return UNKNOWN
        second = args[1] if len(args) == 2 else next(iter(kwargs.values())) if kwargs else None
        a = args[0]
        if name == "expand_dims":
            ax = _axis(second, len(a.shape), 1)
            return UNKNOWN if ax is None else array(a.shape[:ax] + (1,) + a.shape[ax:], a.kind)
        if name == "reshape":
            return reshape(a, second)
        if name == "transpose":
            return transpose(a, second)
        reps = _shape_arg(second)
        if reps is None or any(r < 0 for r in reps):
            return UNKNOWN
        n = max(len(a.shape), len(reps))
        shape = (1,) * (n - len(a.shape)) + a.shape
        reps = (1,) * (n - len(reps)) + reps
        return array(tuple(d * r for d, r in zip(shape, reps)), a.kind)
    if name in ("matmul", "dot") and len(args) == 2 and not kwargs:
        return matmul(args[0], args[1])
    if name == "linalg.inv" and len(args) == 1 and not kwargs and isinstance(args[0], NDArray):
        a = args[0]
        ok = len(a.shape) >= 2 and a.shape[-1] == a.shape[-2]
        return array(a.shape, "float") if ok else UNKNOWN
    if name == "linalg.norm" and args and isinstance(args[0], NDArray) and len(args) <= 2 and \
            not set(kwargs) - {"ord", "axis", "keepdims"}:
        a, axis, keep = args[0], kwargs.get("axis"), kwargs.get("keepdims", False)
        if axis is None:
            return array((1,) * len(a.shape) if keep is True else (), "float")
        axes = axis if isinstance(axis, tuple) else (axis,)
        got = [_axis(x, len(a.shape)) for x in axes]
        if any(g is None for g in got) or keep not in (True, False):
            return UNKNOWN
        return array(tuple(1 if i in got else d for i, d in enumerate(a.shape) if keep or i not in got), "float")
    if name == "fill_diagonal" and len(args) == 2 and not kwargs and isinstance(args[0], NDArray):
        return None  # in place: the shape stays
    if name == "meshgrid" and args and all(isinstance(a, NDArray) and len(a.shape) == 1 for a in args) and \
            not set(kwargs) - {"indexing"}:
        sizes = [a.shape[0] for a in args]
        indexing = kwargs.get("indexing", "xy")
        if indexing == "xy" and len(sizes) >= 2:
            sizes[0], sizes[1] = sizes[1], sizes[0]
        elif indexing not in ("xy", "ij"):
            return UNKNOWN
        kind = args[0].kind
        for a in args[1:]:
            kind = _join(kind, a.kind)
        return [array(tuple(sizes), kind) for _ in args]
    if name == "outer" and len(args) == 2 and not kwargs and all(isinstance(a, NDArray) for a in args):
        return array((math.prod(args[0].shape), math.prod(args[1].shape)), _join(args[0].kind, args[1].kind))
    return NotImplemented


def attribute(a: NDArray, attr: str) -> Any:
    if attr == "shape":
        return a.shape
    if attr == "ndim":
        return len(a.shape)
    if attr == "size":
        return math.prod(a.shape)
    if attr == "T":
        return array(tuple(reversed(a.shape)), a.kind)
    return NotImplemented


def method(a: NDArray, name: str, args: list, kwargs: dict) -> Any:
    if name == "reshape" and not kwargs and args:
        return reshape(a, args[0] if len(args) == 1 else tuple(args))
    if name == "astype" and len(args) == 1 and not kwargs:
        kind = dtype_kind(args[0])
        return UNKNOWN if kind is None else array(a.shape, kind)
    if name in ("copy", "clip") and not kwargs:
        return array(a.shape, a.kind)
    if name == "transpose" and not kwargs:
        return transpose(a, None if not args else args[0] if len(args) == 1 else tuple(args))
    if name in ("flatten", "ravel") and not args and not kwargs:
        return array((math.prod(a.shape),), a.kind)
    if name == "squeeze" and not args and not kwargs:
        return array(tuple(d for d in a.shape if d != 1), a.kind)
    return UNKNOWN
