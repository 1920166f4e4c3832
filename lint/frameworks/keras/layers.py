"""The Keras layer table: for each Keras 3 layer, once, its constructor signature (as Keras binds
positional and keyword arguments), its output-shape rule, its weights (built from the input shape,
as Keras layers infer their input sizes) and its configuration checks.

Shapes are tuples whose first entry is the batch, the symbol ``None`` (:data:`BATCH`); channels
are last unless ``data_format='channels_first'``.  Formulas follow keras/src/ops/operation_utils.py
(``compute_conv_output_shape``, ``compute_pooling_output_shape``) and
keras/src/backend/common/backend_utils.py (transposed convolutions); every one is tested against
Keras 3 with the torch backend (tests/test_keras_layers.py).

A rule raises :class:`Violation` when Keras would raise *for certain* and :class:`Unknowable` when
it cannot tell; the caller then makes the output unknown.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

from ...core import dims as D
from ...core.values import UNKNOWN
from ...core.facts import Unknowable, Violation
from ...rules.shp001_flatten_size import KerasReshapeSize
from ...rules.shp004_spatial_collapse import KerasCollapse
from ...rules.shp007_invalid_config import KerasConfig
from ...rules.shp008_wrong_rank import KerasRank
from ..torch.layers.conv import conv_output

REQUIRED = object()
BATCH = D.sym("None")

# keyword arguments every Keras layer accepts (Layer.__init__ and the legacy input_shape family)
BASE_KWARGS = {"name": None, "dtype": None, "trainable": True, "input_shape": None, "batch_input_shape": None,
               "batch_size": None, "input_dim": None, "autocast": True, "dynamic": False, "activity_regularizer": None}


class BindError(Exception):
    pass


Weight = Tuple[str, Tuple[int, ...], bool]  # name, shape, trainable


@dataclass
class KSpec:
    name: str  # the Keras class name
    positional: Tuple[Tuple[str, Any], ...]  # bound in this order
    keywords: Dict[str, Any] = field(default_factory=dict)  # keyword-only options we read
    rule: Optional[Callable] = None  # rule(args, shape) -> shape | list of shapes (None: a wrapper)
    weights: Callable = lambda a, s: []  # weights(args, input shape) -> [Weight]
    check: Optional[Callable] = None  # check(args), at construction
    merge: bool = False  # called on a list of tensors
    wrapper: bool = False  # takes a layer (Bidirectional, TimeDistributed)


KERAS_LAYERS: Dict[str, KSpec] = {}


def _reg(spec: KSpec) -> KSpec:
    KERAS_LAYERS[spec.name] = spec
    return spec


def bind(spec: KSpec, args, kwargs) -> Dict[str, Any]:
    if len(args) > len(spec.positional):
        raise BindError("too many positional arguments")
    out = {n: v for (n, _), v in zip(spec.positional, args)}
    known = {n for n, _ in spec.positional} | set(spec.keywords) | set(BASE_KWARGS)
    for k, v in kwargs.items():
        if k in out:
            raise BindError(f"{k} given twice")
        if k not in known and not k.endswith(("_initializer", "_regularizer", "_constraint")):
            raise BindError(f"unexpected argument {k}")
        out[k] = v
    for n, d in list(spec.positional) + list(spec.keywords.items()) + list(BASE_KWARGS.items()):
        if n not in out:
            if d is REQUIRED:
                raise BindError(f"missing argument {n}")
            out[n] = d
    return out


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------

def need(v):
    if v is UNKNOWN:
        raise Unknowable()
    if isinstance(v, (list, tuple)):
        for e in v:
            need(e)
    return v


def need_int(v) -> int:
    v = need(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise Unknowable()
    return v


def tup(v, n: int) -> Tuple[int, ...]:
    """Keras's standardize_tuple: an int, or an n-tuple of ints."""
    v = need(v)
    if isinstance(v, bool):
        raise Unknowable()
    if isinstance(v, int):
        return (v,) * n
    if isinstance(v, (list, tuple)) and len(v) == n and all(isinstance(e, int) and not isinstance(e, bool) for e in v):
        return tuple(v)
    raise Unknowable()


def fmt_shape(shape) -> str:
    """A shape as Keras prints it: (None, 26, 26, 32)."""
    parts = [str(d) if isinstance(d, int) else "None" for d in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def data_format(a) -> str:
    df = need(a.get("data_format"))
    return "channels_last" if df is None else df


def _spatial(shape, n: int, a, layer: str, exact=True):
    """(channels, spatial dims, channels_last?) for a (batch, *spatial, C) input."""
    if (len(shape) != n + 2) if exact else (len(shape) < n + 2):
        where = "spatial..., channels" if n else "channels"
        raise Violation(KerasRank(layer=layer, expects=f"{n + 2}D (batch, {where})", got=len(shape), shape=shape))
    last = data_format(a) == "channels_last"
    if last:
        return shape[-1], tuple(shape[1:-1]), True
    return shape[1], tuple(shape[2:]), False


def _join(shape, c, spatial, last):
    return (shape[0], *spatial, c) if last else (shape[0], c, *spatial)


def _positive(a, *names):
    for n in names:
        v = a.get(n)
        if isinstance(v, int) and not isinstance(v, bool) and v <= 0:
            raise Violation(KerasConfig(arg=n, text=f"`{n}` must be a positive integer, got {n}={v}"))


def _padding(a):
    p = need(a["padding"])
    if not isinstance(p, str):
        raise Unknowable()
    return p.lower()


def _check_padding(allowed=("valid", "same")):
    def check(a):
        p = a.get("padding")
        if isinstance(p, str) and p.lower() not in allowed:
            raise Violation(KerasConfig(arg="padding", text=f"padding={p!r} is not one of "
                                                            f"{', '.join(repr(x) for x in allowed)}"))
    return check


def _window(L, k, s, pad, d, layer, i):
    """One spatial output size: 'same' = ceil(L/s), 'valid' = floor((L - d(k-1) - 1)/s) + 1."""
    if pad in ("same", "causal"):
        return D.ceildiv(L, s)
    out = conv_output(L, k, s, 0, d)
    if D.at_least(out, 1) == D.NEVER:
        raise Violation(KerasCollapse(layer=layer, dim=i, size=L, output=out))
    return out


# ------------------------------------------------------------------------------------------------
# Input
# ------------------------------------------------------------------------------------------------

def input_shape_of(shape, batch_size=None, batch_shape=None):
    """The symbolic shape of keras.Input(shape=...): batch None, unknown sizes opaque."""
    if batch_shape is not None:
        dims = need(list(batch_shape))
        if not dims:
            raise Unknowable()
        return tuple([BATCH if dims[0] is None else need_int(dims[0])] +
                     [D.fresh("?") if v is None else need_int(v) for v in dims[1:]])
    if shape is None:
        raise Unknowable()
    shape = need(shape)
    if isinstance(shape, int):
        shape = (shape,)
    if not isinstance(shape, (list, tuple)):
        raise Unknowable()
    b = BATCH if batch_size is None else need_int(batch_size)
    return (b, *(D.fresh("?") if v is None else need_int(v) for v in shape))


# ------------------------------------------------------------------------------------------------
# Dense, Embedding
# ------------------------------------------------------------------------------------------------

def _dense_rule(a, s):
    if len(s) < 2:
        raise Violation(KerasRank(layer="Dense", expects="at least 2D", got=len(s), shape=s))
    return (*s[:-1], need_int(a["units"]))


def _dense_weights(a, s):
    f = s[-1]
    if not isinstance(f, int):
        raise Unknowable()
    u = need_int(a["units"])
    w = [("kernel", (f, u), True)]
    if need(a["use_bias"]):
        w.append(("bias", (u,), True))
    return w


_reg(KSpec("Dense", (("units", REQUIRED), ("activation", None), ("use_bias", True)),
           {"lora_rank": None, "lora_alpha": None, "quantization_config": None},
           _dense_rule, _dense_weights, lambda a: _positive(a, "units")))

_reg(KSpec("Embedding", (("input_dim", REQUIRED), ("output_dim", REQUIRED)),
           {"mask_zero": False, "weights": None, "input_length": None, "lora_rank": None, "lora_alpha": None,
            "quantization_config": None, "embeddings_initializer": None},
           lambda a, s: (*s, need_int(a["output_dim"])),
           lambda a, s: [("embeddings", (need_int(a["input_dim"]), need_int(a["output_dim"])), True)],
           lambda a: _positive(a, "input_dim", "output_dim")))


# ------------------------------------------------------------------------------------------------
# Convolutions
# ------------------------------------------------------------------------------------------------

def _conv_check(n, kind):
    def check(a):
        _check_padding(("valid", "same", "causal") if n == 1 and kind == "conv" else ("valid", "same"))(a)
        if kind != "depthwise":
            _positive(a, "filters")
        if kind == "conv":
            g, f = a.get("groups"), a.get("filters")
            if isinstance(g, int) and g <= 0:
                raise Violation(KerasConfig(arg="groups", text="the number of groups must be a positive integer, "
                                                               f"got groups={g}"))
            if isinstance(g, int) and isinstance(f, int) and g > 0 and f % g:
                raise Violation(KerasConfig(arg="groups", text=f"filters={f} is not divisible by groups={g}"))
        try:
            k, s, d = tup(a["kernel_size"], n), tup(a["strides"], n), tup(a["dilation_rate"], n)
        except Unknowable:
            return
        if not all(k):
            raise Violation(KerasConfig(arg="kernel_size",
                                        text=f"kernel_size cannot contain 0, got {a['kernel_size']!r}"))
        if not all(s):
            raise Violation(KerasConfig(arg="strides", text=f"strides cannot contain 0, got {a['strides']!r}"))
        if max(s) > 1 and max(d) > 1:
            raise Violation(KerasConfig(arg="dilation_rate",
                                        text=f"strides > 1 is not supported with dilation_rate > 1 "
                                             f"(strides={a['strides']!r}, "
                                             f"dilation_rate={a['dilation_rate']!r})"))
    return check


def _conv_rule(n, kind):
    name = {"conv": f"Conv{n}D", "transpose": f"Conv{n}DTranspose", "separable": f"SeparableConv{n}D",
            "depthwise": f"DepthwiseConv{n}D"}[kind]

    def rule(a, s):
        c, spatial, last = _spatial(s, n, a, name)
        k, st, d = tup(a["kernel_size"], n), tup(a["strides"], n), tup(a["dilation_rate"], n)
        pad = _padding(a)
        if kind == "conv":
            g = need_int(a["groups"])
            if isinstance(c, int) and c % g:
                raise Violation(KerasConfig(arg="groups", text=f"the input has {c} channels, which is not "
                                                               f"divisible by groups={g}"))
        out = []
        if kind == "transpose":
            op = a.get("output_padding")
            op = None if op is None else tup(op, n)
            for i, L in enumerate(spatial):
                eff = (k[i] - 1) * d[i] + 1
                if pad == "valid":
                    extra = max(eff, st[i]) - eff if op is None else op[i]
                    o = D.add(D.mul(D.sub(L, 1), st[i]), eff + extra)
                elif op is None:
                    o = D.mul(L, st[i])
                else:
                    o = D.add(D.mul(D.sub(L, 1), st[i]), eff % 2 + op[i])
                out.append(o)
            cout = need_int(a["filters"])
        else:
            out = [_window(L, k[i], st[i], pad, d[i], name, i) for i, L in enumerate(spatial)]
            cout = need_int(a["filters"]) if kind != "depthwise" else D.mul(c, need_int(a["depth_multiplier"]))
        return _join(s, cout, out, last)
    return rule


def _conv_weights(n, kind):
    def weights(a, s):
        c = s[-1] if data_format(a) == "channels_last" else s[1]
        if not isinstance(c, int):
            raise Unknowable()
        k = tup(a["kernel_size"], n)
        bias = need(a["use_bias"])
        if kind == "conv":
            f = need_int(a["filters"])
            w = [("kernel", (*k, c // need_int(a["groups"]), f), True)]
        elif kind == "transpose":
            f = need_int(a["filters"])
            w = [("kernel", (*k, f, c), True)]
        elif kind == "separable":
            f, m = need_int(a["filters"]), need_int(a["depth_multiplier"])
            w = [("depthwise_kernel", (*k, c, m), True), ("pointwise_kernel", (1,) * n + (c * m, f), True)]
        else:
            m = need_int(a["depth_multiplier"])
            f = c * m
            w = [("kernel", (*k, c, m), True)]
        if bias:
            w.append(("bias", (f,), True))
        return w
    return weights


def _conv_sig(n, kind):
    one = 1 if n == 1 else (1,) * n
    if kind == "conv":
        return ((("filters", REQUIRED), ("kernel_size", REQUIRED), ("strides", one), ("padding", "valid"),
                 ("data_format", None), ("dilation_rate", one), ("groups", 1), ("activation", None),
                 ("use_bias", True)), {"lora_rank": None, "lora_alpha": None})
    if kind == "transpose":
        order = ("output_padding", "data_format") if n != 3 else ("data_format", "output_padding")
        return ((("filters", REQUIRED), ("kernel_size", REQUIRED), ("strides", one), ("padding", "valid"),
                 (order[0], None), (order[1], None), ("dilation_rate", one), ("activation", None),
                 ("use_bias", True)), {})
    if kind == "separable":
        return ((("filters", REQUIRED), ("kernel_size", REQUIRED), ("strides", one), ("padding", "valid"),
                 ("data_format", None), ("dilation_rate", one), ("depth_multiplier", 1), ("activation", None),
                 ("use_bias", True)), {})
    return ((("kernel_size", REQUIRED), ("strides", one), ("padding", "valid"), ("depth_multiplier", 1),
             ("data_format", None), ("dilation_rate", one), ("activation", None), ("use_bias", True)), {})


for _n in (1, 2, 3):
    for _kind, _fmt in (("conv", "Conv{}D"), ("transpose", "Conv{}DTranspose")):
        _sig, _kw = _conv_sig(_n, _kind)
        _reg(KSpec(_fmt.format(_n), _sig, _kw, _conv_rule(_n, _kind), _conv_weights(_n, _kind), _conv_check(_n, _kind)))
for _n in (1, 2):
    for _kind, _fmt in (("separable", "SeparableConv{}D"), ("depthwise", "DepthwiseConv{}D")):
        _sig, _kw = _conv_sig(_n, _kind)
        _reg(KSpec(_fmt.format(_n), _sig, _kw, _conv_rule(_n, _kind), _conv_weights(_n, _kind), _conv_check(_n, _kind)))


# ------------------------------------------------------------------------------------------------
# Pooling
# ------------------------------------------------------------------------------------------------

def _pool_rule(n, name):
    def rule(a, s):
        c, spatial, last = _spatial(s, n, a, name)
        k = tup(a["pool_size"], n)
        st = k if a["strides"] is None else tup(a["strides"], n)
        pad = _padding(a)
        out = [_window(L, k[i], st[i], pad, 1, name, i) for i, L in enumerate(spatial)]
        return _join(s, c, out, last)
    return rule


def _global_rule(n, name):
    def rule(a, s):
        c, spatial, last = _spatial(s, n, a, name)
        if need(a["keepdims"]):
            return _join(s, c, [1] * n, last)
        return (s[0], c)
    return rule


for _n in (1, 2, 3):
    _two = 2 if _n == 1 else (2,) * _n
    for _op in ("Max", "Average"):
        _nm = f"{_op}Pooling{_n}D"
        _reg(KSpec(_nm, (("pool_size", _two), ("strides", None), ("padding", "valid"), ("data_format", None)),
                   {}, _pool_rule(_n, _nm), check=_check_padding()))
        _gn = f"Global{_op}Pooling{_n}D"
        _reg(KSpec(_gn, (("data_format", None), ("keepdims", False)), {}, _global_rule(_n, _gn)))


# ------------------------------------------------------------------------------------------------
# Resampling, padding, cropping
# ------------------------------------------------------------------------------------------------

def _upsampling_rule(n):
    name = f"UpSampling{n}D"

    def rule(a, s):
        if n == 1:
            if len(s) != 3:
                raise Violation(KerasRank(layer=name, expects="3D (batch, steps, features)", got=len(s), shape=s))
            return (s[0], D.mul(s[1], need_int(a["size"])), s[2])
        c, spatial, last = _spatial(s, n, a, name)
        f = tup(a["size"], n)
        return _join(s, c, [D.mul(L, f[i]) for i, L in enumerate(spatial)], last)
    return rule


_reg(KSpec("UpSampling1D", (("size", 2),), {}, _upsampling_rule(1)))
_reg(KSpec("UpSampling2D", (("size", (2, 2)), ("data_format", None), ("interpolation", "nearest")), {},
           _upsampling_rule(2)))
_reg(KSpec("UpSampling3D", (("size", (2, 2, 2)), ("data_format", None)), {}, _upsampling_rule(3)))


def _pairs(v, n, what):
    """ZeroPadding/Cropping argument: int, n ints, or n (before, after) pairs."""
    v = need(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return [(v, v)] * n
    if n == 1 and isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, int) for x in v):
        return [tuple(v)]
    if isinstance(v, (list, tuple)) and len(v) == n:
        out = []
        for e in v:
            if isinstance(e, int) and not isinstance(e, bool):
                out.append((e, e))
            elif isinstance(e, (list, tuple)) and len(e) == 2 and all(isinstance(x, int) for x in e):
                out.append(tuple(e))
            else:
                raise Unknowable()
        return out
    raise Unknowable()


def _pad_rule(n, crop):
    name = f"{'Cropping' if crop else 'ZeroPadding'}{n}D"
    key = "cropping" if crop else "padding"

    def rule(a, s):
        if n == 1:
            if len(s) != 3:
                raise Violation(KerasRank(layer=name, expects="3D (batch, steps, features)", got=len(s), shape=s))
            c, spatial, last = s[2], (s[1],), True
        else:
            c, spatial, last = _spatial(s, n, a, name)
        p = _pairs(a[key], n, key)
        out = []
        for i, L in enumerate(spatial):
            if crop:
                o = D.sub(L, p[i][0] + p[i][1])
                if D.at_least(o, 1) == D.NEVER:
                    raise Violation(KerasCollapse(layer=name, dim=i, size=L, output=o))
            else:
                o = D.add(L, p[i][0] + p[i][1])
            out.append(o)
        return _join(s, c, out, last)
    return rule


for _n in (1, 2, 3):
    _reg(KSpec(f"ZeroPadding{_n}D", (("padding", 1 if _n == 1 else (1,) * _n),) +
               ((("data_format", None),) if _n > 1 else ()), {}, _pad_rule(_n, False)))
    _reg(KSpec(f"Cropping{_n}D", (("cropping", (1, 1) if _n == 1 else ((0, 0),) * _n),) +
               ((("data_format", None),) if _n > 1 else ()), {}, _pad_rule(_n, True)))


# ------------------------------------------------------------------------------------------------
# Reshaping
# ------------------------------------------------------------------------------------------------

def _flatten_rule(a, s):
    if len(s) < 1:
        raise Violation(KerasRank(layer="Flatten", expects="at least 1D", got=len(s), shape=s))
    rest = list(s[1:])
    if data_format(a) == "channels_first" and len(rest) > 1:
        rest = rest[1:] + rest[:1]
    return (s[0], D.prod(rest) if rest else 1)


_reg(KSpec("Flatten", (("data_format", None),), {}, _flatten_rule))


def _reshape_rule(a, s):
    target = need(a["target_shape"])
    if isinstance(target, int) and not isinstance(target, bool):
        target = (target,)
    if not isinstance(target, (list, tuple)) or not all(isinstance(t, int) for t in target):
        raise Unknowable()
    target = tuple(target)
    per_sample = D.prod(s[1:])
    unknown = [i for i, t in enumerate(target) if t == -1]
    if len(unknown) > 1 or any(t == 0 or t < -1 for t in target):
        raise Violation(KerasConfig(arg="target_shape", text=f"Reshape target_shape={target} is invalid: at most "
                                                             "one -1, other sizes positive"))
    known = math.prod(t for t in target if t != -1)
    if not unknown:
        if D.equal(per_sample, known) == D.NEVER:
            raise Violation(KerasReshapeSize(per_sample=per_sample, k=known, shape=s, target=target))
        return (s[0], *target)
    if isinstance(per_sample, int):
        if per_sample % known:
            raise Violation(KerasReshapeSize(per_sample=per_sample, k=known, shape=s, target=target,
                                             multiple=True))
        fill = per_sample // known
    else:
        fill = D.floordiv(per_sample, known)
    return (s[0], *(fill if t == -1 else t for t in target))


_reg(KSpec("Reshape", (("target_shape", REQUIRED),), {}, _reshape_rule))


def _permute_rule(a, s):
    dims = need(a["dims"])
    if not isinstance(dims, (list, tuple)) or sorted(dims) != list(range(1, len(dims) + 1)):
        n = len(dims) if isinstance(dims, (list, tuple)) else "?"
        raise Violation(KerasConfig(arg="dims", text=f"Permute dims={dims!r} must be a permutation of 1..{n}"))
    if len(dims) != len(s) - 1:
        raise Violation(KerasRank(layer=f"Permute({tuple(dims)})", expects=f"{len(dims) + 1}D", got=len(s), shape=s))
    return (s[0], *(s[d] for d in dims))


_reg(KSpec("Permute", (("dims", REQUIRED),), {}, _permute_rule))


def _repeat_rule(a, s):
    if len(s) != 2:
        raise Violation(KerasRank(layer="RepeatVector", expects="2D (batch, features)", got=len(s), shape=s))
    return (s[0], need_int(a["n"]), s[1])


_reg(KSpec("RepeatVector", (("n", REQUIRED),), {}, _repeat_rule))


# ------------------------------------------------------------------------------------------------
# Shape-preserving layers
# ------------------------------------------------------------------------------------------------

def _same(a, s):
    return s


def _rate_check(a):
    r = a.get("rate")
    if isinstance(r, (int, float)) and not isinstance(r, bool) and not 0 <= r <= 1:
        raise Violation(KerasConfig(arg="rate", text=f"Dropout rate must be a float in the range [0, 1], got rate={r}"))


_reg(KSpec("Dropout", (("rate", REQUIRED), ("noise_shape", None), ("seed", None)), {}, _same, check=_rate_check))
for _n in (1, 2, 3):
    _reg(KSpec(f"SpatialDropout{_n}D", (("rate", REQUIRED),) + ((("data_format", None),) if _n > 1 else ()) +
               (("seed", None),), {}, _same, check=_rate_check))
for _nm, _sig in (("Activation", (("activation", REQUIRED),)),
                  ("ReLU", (("max_value", None), ("negative_slope", 0.0), ("threshold", 0.0))),
                  ("LeakyReLU", (("negative_slope", 0.3),)), ("ELU", (("alpha", 1.0),)),
                  ("Softmax", (("axis", -1),)), ("GaussianNoise", (("stddev", REQUIRED), ("seed", None))),
                  ("GaussianDropout", (("rate", REQUIRED), ("seed", None))),
                  ("AlphaDropout", (("rate", REQUIRED), ("noise_shape", None), ("seed", None))),
                  ("ActivityRegularization", (("l1", 0.0), ("l2", 0.0))), ("Identity", ())):
    _reg(KSpec(_nm, _sig, {"alpha": None} if _nm == "LeakyReLU" else {}, _same))


def _axes(a, s, layer):
    ax = need(a["axis"])
    ax = list(ax) if isinstance(ax, (list, tuple)) else [ax]
    out = []
    for x in ax:
        if not isinstance(x, int) or isinstance(x, bool):
            raise Unknowable()
        if not -len(s) <= x < len(s):
            raise Violation(KerasConfig(arg="axis", text=f"{layer} axis={x} is out of range for a {len(s)}D input "
                                                         f"{fmt_shape(s)}"))
        if s[x % len(s)] is BATCH:
            raise Violation(KerasConfig(arg="axis", text=f"{layer} axis={x} is the batch axis of its input "
                                                         f"{fmt_shape(s)}, whose size is not known when the layer "
                                                         "is built"))
        out.append(x % len(s))
    return out


def _bn_weights(a, s):
    (ax,) = _axes(a, s, "BatchNormalization")
    c = s[ax]
    if not isinstance(c, int):
        raise Unknowable()
    w = []
    if need(a["scale"]):
        w.append(("gamma", (c,), True))
    if need(a["center"]):
        w.append(("beta", (c,), True))
    w += [("moving_mean", (c,), False), ("moving_variance", (c,), False)]
    return w


def _bn_rule(a, s):
    _axes(a, s, "BatchNormalization")
    return s


_reg(KSpec("BatchNormalization", (("axis", -1), ("momentum", 0.99), ("epsilon", 1e-3), ("center", True),
                                  ("scale", True)),
           {"renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99, "synchronized": False},
           _bn_rule, _bn_weights))


def _ln_weights(a, s):
    ax = _axes(a, s, "LayerNormalization")
    shape = tuple(s[i] for i in sorted(ax))
    if not all(isinstance(c, int) for c in shape):
        raise Unknowable()
    shape = shape if len(shape) > 1 else shape
    w = []
    if need(a["scale"]):
        w.append(("gamma", shape, True))
    if need(a["center"]):
        w.append(("beta", shape, True))
    return w


def _ln_rule(a, s):
    _axes(a, s, "LayerNormalization")
    return s


_reg(KSpec("LayerNormalization", (("axis", -1), ("epsilon", 1e-3), ("center", True), ("scale", True)),
           {"rms_scaling": False}, _ln_rule, _ln_weights))
