"""The layer table's machinery: signatures and binding, the specs (:class:`LayerSpec` for
``nn.*`` layers, :class:`FunctionSpec` for ``F.*``/``torch.*`` functions), the registration
functions, and the helpers every shape rule shares.

A shape rule is ``rule(args, *tensors)``: it returns the output (a Tensor, or a tuple for layers
that return several), raises :class:`~shapelint.core.facts.Violation` with a rule's payload when
torch would refuse the call *for certain*, and raises :class:`~shapelint.core.facts.Unknowable`
when it cannot tell. An equality it relies on but cannot decide goes to
:func:`~shapelint.core.facts.assumed`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from ....core import dims as D
from ....core.facts import BindError, Unknowable, Violation, assumed
from ....core.values import UNKNOWN, Tensor
from ....rules.shp003_channel_mismatch import Channels
from ....rules.shp007_invalid_config import DimOutOfRange
from ....rules.shp008_wrong_rank import RankBatchedOrNot

REQUIRED = object()

Signature = Tuple[Tuple[str, Any], ...]
Args = Dict[str, Any]


def need(v: Any) -> Any:
    if v is UNKNOWN:
        raise Unknowable()
    if isinstance(v, (list, tuple)):
        for e in v:
            if e is UNKNOWN:
                raise Unknowable()
    return v


def need_int(v: Any) -> int:
    v = need(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise Unknowable()
    return v


def need_size(v: Any) -> Any:
    """A layer's size argument: an int, or a symbolic size (a constructor parameter of a class
    nobody builds in sight, engine._symbolic_runs); Unknowable otherwise."""
    if isinstance(v, D.Lin) and not v.is_opaque():
        return v
    return need_int(v)


def out_size(v: Any) -> Any:
    """A layer's output size (out_channels, out_features): :func:`need_size`, or a size nothing is
    known about when the argument is unknown: the other dims of the output stay known."""
    return D.fresh() if v is UNKNOWN else need_size(v)


def tup(v: Any, n: int, what: str = "") -> Tuple[Any, ...]:
    """An int-or-tuple layer argument as an n-tuple (torch's _ntuple)."""
    v = need(v)
    if isinstance(v, (list, tuple)):
        if len(v) == 1 and n > 1:
            return tuple(v) * n
        if len(v) != n:
            raise Unknowable()
        return tuple(need_int(e) if not isinstance(e, float) else e for e in v)
    if isinstance(v, bool):
        raise Unknowable()
    if isinstance(v, (int, float)):
        return (v,) * n
    raise Unknowable()


def shape_of(x: Any) -> Tuple[Any, ...]:
    if not isinstance(x, Tensor) or x.shape is None:
        raise Unknowable()
    return x.shape


def bind(signature: Signature, args: Sequence[Any], kwargs: Dict[str, Any], varargs: bool = False) -> Args:
    """Bind call arguments to a signature the way Python does."""
    if varargs:
        return {}
    names = [n for n, _ in signature]
    if len(args) > len(names):
        raise BindError("too many positional arguments")
    out = dict(zip(names, args))
    for k, v in kwargs.items():
        if k not in names or k in out:
            raise BindError(f"unexpected argument {k}")
        out[k] = v
    for n, default in signature:
        if n not in out:
            if default is REQUIRED:
                raise BindError(f"missing argument {n}")
            out[n] = default
    return out


@dataclass(frozen=True)
class LayerInput:
    """The input a layer implies when it is the first to meet a forward input (see ``inputs.py``):

    * ``kind='spatial'``: ``(N, C, *spatial)`` with ``spatial`` dims (``(C, *spatial)`` unbatched);
    * ``kind='sequence'``: an RNN's ``(L, N, F)``, or ``(N, L, F)`` under ``batch_first``.

    ``channels`` names the argument that gives C (or F); without it no symbolic input is guessed,
    only where the batch is in a declared one."""

    kind: str
    spatial: int = 0
    channels: Optional[str] = None


def _no_params(a: Args) -> Dict[str, Tuple[int, ...]]:
    return {}


@dataclass
class LayerSpec:
    name: str
    signature: Signature
    rule: Callable[..., Any]
    params: Callable[[Args], Dict[str, Tuple[int, ...]]] = _no_params
    check: Optional[Callable[[Args], None]] = None
    varargs: bool = False
    implies: Optional[LayerInput] = None  # the input this layer implies as a model's first layer
    # keeps its input's rank and channels whatever they are (an activation, a dropout, a padding):
    # a model's first such layer says nothing of the input, the layer after it does (inputs.py)
    transparent: bool = False
    # a pooling layer of this many spatial dims: as the model's first layer it keeps the input's
    # batch and channels, the layer after it tells them (an attention block's pooled gate)
    pools: int = 0
    # a composite layer (TransformerEncoderLayer...): ``build(args, kit)`` returns its children
    # (name -> module, or a list for a ModuleList), ``forward(args, kit, *inputs, **kw)`` runs them
    # through ``kit.call(path, *args, **kw)`` in torch's order (see attention.py)
    build: Optional[Callable[..., Any]] = None
    forward: Optional[Callable[..., Any]] = None
    # ``tail(args, x)``: the rule for an input of unknown rank whose last dims may be known
    # (``Tensor.tail``); layers without one make such an input's output unknown
    tail: Optional[Callable[..., Any]] = None


@dataclass
class FunctionSpec:
    name: str
    signature: Signature
    rule: Callable[..., Any]  # rule(args, *tensors)
    inputs: Tuple[str, ...] = ("input",)
    varargs: bool = False  # element-wise ops: only the input matters, the rest is ignored
    pools: int = 0  # as LayerSpec.pools: F.adaptive_avg_pool2d(x, 1) first


LAYERS: Dict[str, LayerSpec] = {}
FUNCTIONS: Dict[str, FunctionSpec] = {}


def layer(name: str, signature: Sequence[Tuple[str, Any]],
          params: Optional[Callable[[Args], Dict[str, Tuple[int, ...]]]] = None,
          check: Optional[Callable[[Args], None]] = None, varargs: bool = False,
          implies: Optional[LayerInput] = None, build: Optional[Callable[..., Any]] = None,
          transparent: bool = False, pools: int = 0) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``nn.<name>``: ``@layer(...)`` on its shape rule (a composite's: on its forward)."""
    def deco(rule: Callable[..., Any]) -> Callable[..., Any]:
        LAYERS[name] = LayerSpec(name, tuple(signature), rule, params or _no_params, check, varargs, implies,
                                 transparent, pools, build, rule if build is not None else None)
        return rule
    return deco


def functional(qualnames: Sequence[str], signature: Sequence[Tuple[str, Any]], rule: Callable[..., Any],
               inputs: Tuple[str, ...] = ("input",), varargs: bool = False, pools: int = 0) -> None:
    for q in qualnames:
        FUNCTIONS[q] = FunctionSpec(q, tuple(signature), rule, inputs, varargs, pools)


def R(name: str, default: Any = REQUIRED) -> Tuple[str, Any]:
    return (name, default)


DEVICE = (R("device", None), R("dtype", None))


def _out(x: Tensor, shape: Sequence[Any], batch_dim: Any = "keep") -> Tensor:
    return x.with_shape(tuple(shape), batch_dim)


def _spatial_input(x: Any, n: int, layer: str) -> Tuple[bool, Any, Tuple[Any, ...]]:
    """(batched, channel dim, spatial dims) for a (N, C, *spatial) or (C, *spatial) input."""
    s = shape_of(x)
    if len(s) not in (n + 1, n + 2):
        raise Violation(RankBatchedOrNot(layer=layer, got=len(s), shape=s, unbatched=n + 1))
    batched = len(s) == n + 2
    return batched, s[1 if batched else 0], s[-n:]


def channel_tail(n, rule):
    """The rule for an input of unknown rank of a layer that takes ``(C, *spatial)`` or ``(N, C,
    *spatial)`` (``n`` spatial dims): its channels are dim ``-(n+1)`` either way, so the last dims
    known there (``x.tail``, what a layer before gave) are checked as the unbatched form, and the
    output ends in what that form gives, whatever the rank. Dims the tail does not tell are
    opaque: nothing is claimed about them."""
    def tail(a, x):
        known = tuple(x.tail or ())[-(n + 1):]
        t = tuple(D.fresh() for _ in range(n + 1 - len(known))) + known
        out = rule(a, Tensor(t, x.dtype, None))
        if not isinstance(out, Tensor) or out.shape is None:
            raise Unknowable()
        return Tensor(None, x.dtype, tail=tuple(out.shape))
    return tail


def _check_channels(got: Any, expected: Any, param: str, layer: str) -> None:
    rel = D.equal(got, expected)
    if rel == D.NEVER:
        raise Violation(Channels(layer=layer, param=param, expected=expected, got=got))
    if rel == D.DEPENDS:
        assumed(got, expected, f"{layer} {param}")


def check_size(got: Any, arg: Any, param: str, layer: str) -> None:
    """:func:`_check_channels` against a layer's argument, skipped when the argument is unknown (an
    option set on branches the analysis cannot decide, DCGAN's ``nc``): the layer then takes what it
    is fed, which correct code does; apply_layer lets such a layer through (_OPEN_SIZE_ARGS)."""
    if arg is UNKNOWN:
        return
    _check_channels(got, need_size(arg), param, layer)


def _norm_dim(dim: Any, rank: int, allow_end: bool = False) -> Optional[int]:
    """torch's maybe_wrap_dim; None if out of range."""
    n = rank + (1 if allow_end else 0)
    lo, hi = (-n, n - 1) if n > 0 else (-1, 0)
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < lo or dim > hi:
        return None
    return dim + n if dim < 0 else dim


def dim_or_violation(dim: Any, rank: int, what: str = "dim", allow_end: bool = False) -> int:
    dim = need(dim)
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise Unknowable()
    d = _norm_dim(dim, rank, allow_end)
    if d is None:
        n = rank + (1 if allow_end else 0)
        raise Violation(DimOutOfRange(low=-max(n, 1), high=max(n, 1) - 1, dim=dim))
    return d


def param_count(spec: LayerSpec, args: Args) -> Optional[int]:
    try:
        return sum(math.prod(s) for s in spec.params(args).values())
    except Unknowable:
        return None


def broadcast_tail(a: Tensor, b: Optional[Tensor]) -> Tensor:
    """:func:`broadcast` where a side's rank is unknown (``b`` may be None: an operand of unknown
    kind, a tensor or a number). The result's rank is unknown; its last dims are known from the
    right for as long as they are sure: both sides' dims known and agreeing (or one of them 1), or
    one side's dim known never to be 1 where the other side's is unknown (torch needs that one 1 or
    equal), or one side's dim where the other side's whole shape is known and has ended. A number
    (0-d) leaves the other side as it is."""
    if b is not None and (a.shape == () or b.shape == ()):
        other = a if b.shape == () else b
        return Tensor(None, other.dtype, tail=other.tail)
    sa, fa = (a.shape, True) if a.shape is not None else (a.tail, False)
    sb, fb = ((b.shape, True) if b.shape is not None else (b.tail, False)) if b is not None else ((), False)
    out = []
    for i in range(1, max(len(sa), len(sb)) + 1):
        if i <= len(sa) and i <= len(sb):
            x, y = sa[-i], sb[-i]
            if D.equal(x, y) == D.ALWAYS or isinstance(y, int) and y == 1:
                out.append(x)
            elif isinstance(x, int) and x == 1:
                out.append(y)
            else:
                break
        else:
            d, other_whole = (sa[-i], fb) if i <= len(sa) else (sb[-i], fa)
            if not (other_whole or (d != 1 if isinstance(d, int) else D.equal(d, 1) == D.NEVER)):
                break
            out.append(d)
    dtype = a.dtype if b is None or a.dtype == b.dtype else "float64" if "float64" in (a.dtype, b.dtype) else "float"
    return Tensor(None, dtype, tail=tuple(reversed(out)))
