"""Abstract values the interpreter computes with.

Plain Python values (int, float, str, bool, None, tuple, list, dict) stand for themselves;
dimensions are ``int`` or :class:`shapelint.core.dims.Lin`.  The classes below cover the rest.
Anything not modelled is :data:`UNKNOWN`, which is contagious and never reported.
"""
from __future__ import annotations

import math
import os
import re

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple


class _Unknown:
    __slots__ = ()

    def __repr__(self):
        return "UNKNOWN"

    def __bool__(self):  # never let an unknown silently act as a boolean
        raise TypeError("UNKNOWN has no truth value")


UNKNOWN = _Unknown()

# What Python raises running the analysed code's own operations on concrete values (`float("x")`,
# `[].pop()`, `1 / 0`, `math.log(-1)`): that code fails there or the path is dead, so the result is
# UNKNOWN.  Any other exception is an engine bug: it reaches SHP000 (and raises under strict mode).
CONCRETE_ERRORS = (TypeError, ValueError, ArithmeticError, LookupError)


class NDArray:
    """A numpy array the code makes with a known shape (``np.random.random((1, 3, 320, 320))``,
    ``np.array(nested lists)``), so that ``torch.FloatTensor(...)`` / ``torch.from_numpy(...)`` of it
    has that shape, and what numpy does to its shape (lint/core/ndarray.py); its values are not kept. ``kind``:
    'float' (numpy's float64), 'float32', 'int' or 'bool'."""
    __slots__ = ("shape", "kind")

    def __init__(self, shape: Tuple[int, ...], kind: str = "float"):
        self.shape = shape
        self.kind = kind

    def __repr__(self):
        return f"NDArray({self.shape}, {self.kind})"

    def __bool__(self):
        raise TypeError("an array has no static truth value")


def is_unknown(v) -> bool:
    return v is UNKNOWN


@dataclass(eq=False)
class Tensor:
    """A tensor with a known rank (shape is a tuple of dims) or an unknown one (shape None).

    ``batch_dim`` is the index of the batch dimension when it is still where the model input
    put it (used to tell per-sample sizes from totals), else None.
    """

    shape: Optional[Tuple[Any, ...]]
    dtype: str = "float"
    batch_dim: Optional[int] = None
    probe: Optional[int] = None  # set on a model input whose shape is still to be inferred
    # The values of a small 1-D tensor computed from constants (torch.arange(depth) * w_a + w_0 in
    # RegNet's width schedule), as float32/int64 Python numbers; None for data-dependent tensors.
    data: Optional[Tuple[Any, ...]] = None
    # what a probe met before its first layer: ("unsqueeze", d) steps (``torch.unsqueeze(mixture,
    # 1)`` ahead of a Conv1d), undone from that layer's input to give the model input's shape, and
    # ("broadcast", shape) constants it was combined with (WDSR's mean), checked to leave it as it is
    probe_path: Tuple[Any, ...] = ()
    # for a tensor of unknown rank (shape None): its last dims when they are known whatever the
    # rank (a Linear's output on an input of unknown rank ends in out_features); shape-keeping ops
    # pass the same object on, anything that builds a new tensor drops it
    tail: Tuple[Any, ...] = ()

    @property
    def rank(self) -> Optional[int]:
        return None if self.shape is None else len(self.shape)

    def with_shape(self, shape, batch_dim="keep"):
        bd = self.batch_dim if batch_dim == "keep" else batch_dim
        if shape is None:
            bd = None
        return Tensor(tuple(shape) if shape is not None else None, self.dtype, bd)


# torch's in-place methods that change a tensor's shape: the name they are called on is rebound
# to the result (core/expressions.py)
INPLACE_RESHAPES = frozenset({"unsqueeze_", "squeeze_", "resize_", "resize_as_", "t_", "transpose_", "swapaxes_",
                              "swapdims_", "as_strided_", "set_"})


def unknown_tensor(dtype="float") -> Tensor:
    return Tensor(None, dtype)


@dataclass(eq=False)
class Qual:
    """A name from outside the analysed code, by qualified name (``torch.nn.Conv2d``)."""

    name: str

    def attr(self, a: str) -> Any:
        name = f"{self.name}.{a}"
        if name in ("torch.__version__", "torch.version.__version__"):
            v = torch_version()
            return Qual(name) if v is None else v
        return _CONSTANTS[name] if name in _CONSTANTS else Qual(name)  # math.pi is a number


_CONSTANTS = {"math.pi": math.pi, "math.e": math.e, "math.tau": math.tau, "math.inf": math.inf}


class TorchVersion(str):
    """``torch.__version__``: a string that compares as torch's own ``TorchVersion`` does (as a
    packaging ``Version`` with strings and tuples of numbers: ``torch.__version__ >= "1.10"`` is
    true on 2.13.0, where plain strings say otherwise; ``!=`` stays the plain string's). Release
    numbers and a local tag (``+cpu``, which sorts after the bare release) are read; a comparison
    that needs more (pre-releases, two different local tags) raises TypeError, which the analysis
    reads as unknown."""

    @staticmethod
    def _key(v: Any) -> Tuple[Tuple[int, ...], Optional[str]]:
        if isinstance(v, tuple) and v and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v):
            return v, None
        if isinstance(v, str):
            m = re.fullmatch(r"(\d+(?:\.\d+)*)(?:\+([a-z0-9]+(?:[.][a-z0-9]+)*))?", v.strip().lower())
            if m:
                return tuple(int(x) for x in m.group(1).split(".")), m.group(2)
        raise TypeError(f"cannot compare a torch version with {v!r}")

    def _cmp(self, other: Any) -> int:
        (a, la), (b, lb) = self._key(str(self)), self._key(other)
        n = max(len(a), len(b))
        a, b = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
        if a != b:
            return (a > b) - (a < b)
        if la == lb:
            return 0
        if la is None or lb is None:
            return -1 if la is None else 1  # 2.13.0 < 2.13.0+cpu
        raise TypeError("two local versions")

    def __lt__(self, other: Any) -> bool:
        return self._cmp(other) < 0

    def __le__(self, other: Any) -> bool:
        return self._cmp(other) <= 0

    def __gt__(self, other: Any) -> bool:
        return self._cmp(other) > 0

    def __ge__(self, other: Any) -> bool:
        return self._cmp(other) >= 0

    def __eq__(self, other: Any) -> bool:
        return self._cmp(other) == 0

    def __ne__(self, other: Any) -> bool:
        return str.__ne__(str(self), other)  # torch leaves != to str

    __hash__ = str.__hash__


_TORCH_VERSION: List[Optional[TorchVersion]] = []


def torch_version() -> Optional[TorchVersion]:
    """The version of the torch installed beside shapelint (its ``torch/version.py``, read as
    text: torch is not imported), which is the torch the linted code runs with; None when there is
    none (the version then stays unknown, and so does every branch on it)."""
    if not _TORCH_VERSION:
        v: Optional[TorchVersion] = None
        try:
            import importlib.util

            spec = importlib.util.find_spec("torch")
            locations = list(spec.submodule_search_locations or []) if spec is not None else []
            for loc in locations[:1]:
                with open(os.path.join(loc, "version.py"), encoding="utf-8") as f:
                    m = re.search(r"""^__version__\s*(?::\s*str\s*)?=\s*['"]([^'"]+)['"]""", f.read(), re.M)
                if m:
                    v = TorchVersion(m.group(1))
        except (ImportError, ValueError, OSError, UnicodeDecodeError):
            v = None  # a broken environment: the version is unknown, never a crash
        _TORCH_VERSION.append(v)
    return _TORCH_VERSION[0]


@dataclass(eq=False)
class Param:
    """An ``nn.Parameter`` (or a registered buffer when ``buffer``)."""

    shape: Optional[Tuple[Any, ...]]
    requires_grad: bool = True
    buffer: bool = False


@dataclass(eq=False)
class ModuleValue:
    """An nn.Module instance built by ``__init__``.

    kind: 'layer' (a torch layer from the layer table), 'user' (a class of the analysed code),
    'sequential', 'modulelist', 'moduledict', or 'opaque' (a torch module we do not model).
    """

    kind: str
    type_name: str
    spec: Any = field(default=None, repr=False)  # LayerSpec for 'layer'
    args: Optional[Dict[str, Any]] = field(default=None, repr=False)  # bound constructor arguments
    cls: Any = field(default=None, repr=False)  # ClassInfo for user classes
    attrs: Dict[str, Any] = field(default_factory=dict, repr=False)
    children: Dict[str, "ModuleValue"] = field(default_factory=dict, repr=False)  # registration order
    # a ModuleList's None entries, by name: torch keeps them (len, indexing and iteration see None;
    # HRNet's fuse layers `fuse_layer.append(None)` where j == i), named_modules() skips them
    nones: Set[str] = field(default_factory=set, repr=False)
    params: Dict[str, Param] = field(default_factory=dict, repr=False)  # own (non-recursive) parameters
    node: Any = field(default=None, repr=False)  # the constructor call, for messages
    src: Any = field(default=None, repr=False)  # the SourceModule ``node`` lies in (a layer's)
    name: str = ""  # qualified name, as named_modules() gives it
    uncertain: bool = False  # structure not fully known (built under unknown control flow)
    training: bool = False

    def register(self, name: str, value):
        if isinstance(value, ModuleValue):
            self.children[name] = value
            self.params.pop(name, None)
        elif isinstance(value, Param):
            self.params[name] = value
            self.children.pop(name, None)
        else:
            if name in self.children and value is None:
                self.children.pop(name)

    def ordered_children(self) -> List["ModuleValue"]:
        return list(self.children.values())


@dataclass(eq=False)
class FunctionValue:
    """A function or method of the analysed code (a libcst FunctionDef) with its scope."""

    node: Any
    scope: Any  # the module namespace (SourceModule)
    bound_self: Any = None
    cls: Any = None  # class the method was found on (for super())
    closure: Optional[Dict[str, Any]] = None


@dataclass(eq=False)
class ObjectValue:
    """An instance of a plain class of the analysed code (a block config, a dataclass)."""

    cls: Any = field(repr=False)
    attrs: Dict[str, Any] = field(default_factory=dict)
    closed: bool = False  # every attribute is known (a library config): getattr(o, "x", d) is d
    # a dict with attribute access (ml_collections.ConfigDict, EasyDict): `c["k"]` is `c.k`
    mapping: bool = False


# dicts with attribute access a library gives (a configuration built attribute by attribute)
ATTR_DICTS = frozenset({"ml_collections.ConfigDict", "ml_collections.config_dict.ConfigDict",
                        "ml_collections.config_dict.config_dict.ConfigDict", "easydict.EasyDict",
                        "addict.Dict", "munch.Munch", "attrdict.AttrDict", "yacs.config.CfgNode", "yacs.config.CN"})


def copy_tree(v: Any) -> Any:
    """A configuration's ``clone()``: its nested attribute dicts copied, the leaves shared."""
    if isinstance(v, ObjectValue):
        return ObjectValue(v.cls, {k: copy_tree(x) for k, x in v.attrs.items()}, v.closed, v.mapping)
    return v


@dataclass(eq=False)
class ClassValue:
    info: Any  # ClassInfo


@dataclass(eq=False)
class Partial:
    """functools.partial(func, *args, **kwargs)."""

    func: Any
    args: Tuple[Any, ...]
    kwargs: Dict[str, Any]


@dataclass(eq=False)
class BoundMethod:
    """A method of a modelled value: ``x.view``, ``layers.append``, ``self.features.add_module``."""

    obj: Any
    name: str


class Expanded(dict):
    """A call's keyword arguments that include a ``**other`` expansion: ``other`` may hold keys the
    analysis did not see (a module global filled later), so a missing key proves nothing."""


def is_record_type(v: Any) -> bool:
    """A class made by ``collections.namedtuple(...)`` in the analysed code (a real Python class,
    built from the call's constant name and fields; its instances are real tuples)."""
    return isinstance(v, type) and issubclass(v, tuple) and getattr(v, "_shapelint_record", False)
