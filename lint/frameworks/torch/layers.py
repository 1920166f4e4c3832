"""The layer table: for each torch layer, once, its constructor signature, its shape rule, its
parameters (names and shapes, from which counts and mult-adds follow) and its configuration
checks.  The ``F.*`` forms bind their own signature and call the same rule.

Formulas follow the torch docs pages ``torch.nn.<Name>`` and ATen's shape checks (see
``docs/formulas.md``); every one is tested against a real torch forward.

A rule returns the output (a Tensor, or a tuple for layers that return several), raises
:class:`Violation` when torch would refuse the call *for certain*, and raises :class:`Unknowable`
when it cannot tell (an unknown argument): the caller then makes the output unknown.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from ...core import dims as D
from ...core.values import UNKNOWN, Tensor

REQUIRED = object()


class Violation(Exception):
    """torch would raise here, whatever the unknowns are. ``kind`` selects the rule."""

    def __init__(self, kind: str, **data):
        super().__init__(kind)
        self.kind = kind
        self.data = data


class Unknowable(Exception):
    pass


class BindError(Exception):
    pass


# A rule that cannot decide an equality it relies on (D.equal is DEPENDS) reports it through
# assumed(); the interpreter installs a recorder around each rule call (Interpreter.tensor_rule)
# that turns it into an 'assume' fact (`shapelint summary` derives the admissible inputs from them).
ASSUME_RECORDERS: list = []


def assumed(a, b, what: str) -> None:
    if ASSUME_RECORDERS:
        ASSUME_RECORDERS[-1](a, b, what)


FOLD_RECORDERS: list = []


def folded(data: dict) -> None:
    """A view(-1, K) moved whole samples between rows; whether that is a bug is decided later."""
    if FOLD_RECORDERS:
        FOLD_RECORDERS[-1](data)


def need(v):
    if v is UNKNOWN or isinstance(v, Tensor) and False:
        raise Unknowable()
    if isinstance(v, (list, tuple)):
        for e in v:
            if e is UNKNOWN:
                raise Unknowable()
    return v


def need_int(v) -> int:
    v = need(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise Unknowable()
    return v


def tup(v, n: int, what: str = "") -> Tuple[Any, ...]:
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


def shape_of(x) -> Tuple[Any, ...]:
    if not isinstance(x, Tensor) or x.shape is None:
        raise Unknowable()
    return x.shape


def bind(signature, args, kwargs, varargs=False) -> Dict[str, Any]:
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


@dataclass
class LayerSpec:
    name: str
    signature: Tuple[Tuple[str, Any], ...]
    rule: Callable
    params: Callable = lambda a: {}
    check: Optional[Callable] = None
    varargs: bool = False


@dataclass
class FunctionSpec:
    name: str
    signature: Tuple[Tuple[str, Any], ...]
    rule: Callable  # rule(args, *tensors)
    inputs: Tuple[str, ...] = ("input",)
    varargs: bool = False  # element-wise ops: only the input matters, the rest is ignored


LAYERS: Dict[str, LayerSpec] = {}
FUNCTIONS: Dict[str, FunctionSpec] = {}


def layer(name, signature, params=None, check=None, varargs=False):
    def deco(rule):
        LAYERS[name] = LayerSpec(name, tuple(signature), rule, params or (lambda a: {}), check, varargs)
        return rule
    return deco


def functional(qualnames, signature, rule, inputs=("input",), varargs=False):
    for q in qualnames:
        FUNCTIONS[q] = FunctionSpec(q, tuple(signature), rule, inputs, varargs)


def R(name, default=REQUIRED):
    return (name, default)


DEVICE = (R("device", None), R("dtype", None))


def _out(x: Tensor, shape, batch_dim="keep") -> Tensor:
    return x.with_shape(tuple(shape), batch_dim)


def _spatial_input(x, n: int, layer: str):
    """(batched, channel dim, spatial dims) for a (N, C, *spatial) or (C, *spatial) input."""
    s = shape_of(x)
    if len(s) not in (n + 1, n + 2):
        raise Violation("rank", layer=layer, expected=f"{n + 1}D (unbatched) or {n + 2}D (batched)",
                        got=len(s), shape=s)
    batched = len(s) == n + 2
    return batched, s[1 if batched else 0], s[-n:]


def _check_channels(got, expected, param, layer):
    rel = D.equal(got, expected)
    if rel == D.NEVER:
        raise Violation("channels", layer=layer, param=param, expected=expected, got=got)
    if rel == D.DEPENDS:
        assumed(got, expected, f"{layer} {param}")


# ------------------------------------------------------------------------------------------------
# Convolution
# ------------------------------------------------------------------------------------------------

def _conv_sig(transposed):
    if transposed:
        return (R("in_channels"), R("out_channels"), R("kernel_size"), R("stride", 1), R("padding", 0),
                R("output_padding", 0), R("groups", 1), R("bias", True), R("dilation", 1),
                R("padding_mode", "zeros"), *DEVICE)
    return (R("in_channels"), R("out_channels"), R("kernel_size"), R("stride", 1), R("padding", 0),
            R("dilation", 1), R("groups", 1), R("bias", True), R("padding_mode", "zeros"), *DEVICE)


def _conv_params(n, transposed):
    def params(a):
        cin, cout, g = need_int(a["in_channels"]), need_int(a["out_channels"]), need_int(a["groups"])
        k = tup(a["kernel_size"], n)
        if g <= 0 or cin % g or cout % g:
            raise Unknowable()
        w = (cin, cout // g, *k) if transposed else (cout, cin // g, *k)
        p = {"weight": w}
        if need(a["bias"]):
            p["bias"] = (cout,)
        return p
    return params


def _conv_check(n, transposed):
    def check(a):
        cin, cout, g = a["in_channels"], a["out_channels"], a["groups"]
        if isinstance(g, int) and not isinstance(g, bool):
            if g <= 0:
                raise Violation("config", what="groups must be a positive integer", arg="groups")
            for name, c in (("in_channels", cin), ("out_channels", cout)):
                if isinstance(c, int) and c % g:
                    raise Violation("config", arg="groups",
                                    what=f"{name}={c} is not divisible by groups={g}")
        pad = a["padding"]
        if isinstance(pad, str):
            if transposed:
                raise Violation("config", arg="padding",
                                what=f"ConvTranspose does not accept padding='{pad}' (torch treats the string as a size and fails at forward)")
            if pad not in ("same", "valid"):
                raise Violation("config", arg="padding", what=f"invalid padding string '{pad}', should be one of 'valid', 'same'")
            if pad == "same":
                try:
                    s = tup(a["stride"], n)
                except Unknowable:
                    return
                if any(v != 1 for v in s):
                    raise Violation("config", arg="padding",
                                    what=f"padding='same' is not supported for strided convolutions (stride={a['stride']!r})")
        if a["padding_mode"] not in ("zeros", "reflect", "replicate", "circular", UNKNOWN):
            raise Violation("config", arg="padding_mode", what=f"padding_mode '{a['padding_mode']}' is not one of zeros, reflect, replicate, circular")
        if transposed and a["padding_mode"] not in ("zeros", UNKNOWN):
            raise Violation("config", arg="padding_mode", what="ConvTranspose only supports padding_mode='zeros'")
    return check


def conv_output(L, k, s, p, d):
    """torch.nn.ConvNd / MaxPoolNd floor mode: (L + 2p - d(k-1) - 1) // s + 1."""
    return D.floordiv(D.sub(D.add(L, 2 * p), d * (k - 1) + 1), s) + 1


def _check_mode_padding(mode, pad, k, d, spatial, layer_name):
    """A non-zeros padding_mode runs F.pad(mode) first: torch's reflect needs each pad < the input
    size, circular needs each pad <= the input size ("wrapping around more than once")."""
    if mode not in ("reflect", "circular"):
        return
    n = len(spatial)
    for i, L in enumerate(spatial):
        if pad == "valid":
            continue
        if pad == "same":  # torch: total d*(k-1), left total//2, the rest on the right
            total = d[i] * (k[i] - 1)
            sides = (total // 2, total - total // 2)
        else:
            p = tup(pad, n)[i]
            sides = (p, p)
        worst = max(sides)
        limit = D.sub(L, worst) if mode == "reflect" else D.add(D.sub(L, worst), 1)
        if worst > 0 and D.at_least(limit, 1) == D.NEVER:
            rel = "smaller than" if mode == "reflect" else "at most"
            raise Violation("config", arg="padding_mode",
                            what=f"padding_mode='{mode}' pads dimension {i} by {worst}, which must be {rel} "
                                 f"the input size {D.text(L)}")


def _conv_rule(n, transposed):
    layer_name = ("ConvTranspose" if transposed else "Conv") + f"{n}d"

    def rule(a, x, output_size=None):
        batched, c, spatial = _spatial_input(x, n, layer_name)
        cin = need_int(a["in_channels"])
        _check_channels(c, cin, "in_channels", layer_name)
        k = tup(a["kernel_size"], n)
        s = tup(a["stride"], n)
        d = tup(a["dilation"], n)
        cout = need_int(a["out_channels"])
        pad = need(a["padding"])
        out = []
        if transposed:
            p = tup(pad, n)
            op = tup(a["output_padding"], n)
            for i in range(n):
                if op[i] >= s[i] and op[i] >= d[i]:
                    raise Violation("config", arg="output_padding",
                                    what=f"output_padding={op[i]} must be smaller than either stride={s[i]} or dilation={d[i]}")
            for i, L in enumerate(spatial):
                o = D.add(D.mul(D.sub(L, 1), s[i]), -2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1)
                # size 0: torch's slow path raises "Output size is too small", mkldnn returns an
                # empty tensor (backend-dependent), so 0 is reported with the negative sizes
                if D.at_least(o, 1) == D.NEVER:
                    raise Violation("collapse", layer=layer_name, dim=i, size=L, output=o)
                out.append(o)
        else:
            _check_mode_padding(need(a.get("padding_mode", "zeros")), pad, k, d, spatial, layer_name)
            for i, L in enumerate(spatial):
                eff = d[i] * (k[i] - 1) + 1
                if pad == "same":
                    out.append(L)
                    continue
                p = 0 if pad == "valid" else tup(pad, n)[i]
                padded = D.add(L, 2 * p)
                if D.at_least(D.sub(padded, eff), 0) == D.NEVER:
                    raise Violation("collapse", layer=layer_name, dim=i, size=L, padded=padded, kernel=eff)
                out.append(conv_output(L, k[i], s[i], p, d[i]))  # the formula tests/test_dims.py checks
        lead = (x.shape[0],) if batched else ()
        return _out(x, (*lead, cout, *out))
    return rule


for _n in (1, 2, 3):
    layer(f"Conv{_n}d", _conv_sig(False), _conv_params(_n, False), _conv_check(_n, False))(
        _conv_rule(_n, False))
    layer(f"ConvTranspose{_n}d", _conv_sig(True), _conv_params(_n, True), _conv_check(_n, True))(
        _conv_rule(_n, True))


def _f_conv(n, transposed):
    rule = _conv_rule(n, transposed)

    def f(a, x, w, b=None):
        ws = shape_of(w)
        if len(ws) != n + 2:
            raise Unknowable()
        g = need_int(a["groups"])
        if transposed:
            cin, cout = ws[0], D.mul(ws[1], g)
        else:
            cin, cout = D.mul(ws[1], g), ws[0]
        if not isinstance(cin, int) or not isinstance(cout, int):
            raise Unknowable()
        args = dict(a, in_channels=cin, out_channels=cout, kernel_size=tuple(ws[2:]),
                    padding_mode="zeros")
        return rule(args, x)
    return f


for _n in (1, 2, 3):
    functional([f"torch.nn.functional.conv{_n}d", f"torch.conv{_n}d"],
               (R("input"), R("weight"), R("bias", None), R("stride", 1), R("padding", 0), R("dilation", 1),
                R("groups", 1)), _f_conv(_n, False), ("input", "weight"))
    functional([f"torch.nn.functional.conv_transpose{_n}d", f"torch.conv_transpose{_n}d"],
               (R("input"), R("weight"), R("bias", None), R("stride", 1), R("padding", 0),
                R("output_padding", 0), R("groups", 1), R("dilation", 1)), _f_conv(_n, True),
               ("input", "weight"))


# ------------------------------------------------------------------------------------------------
# Pooling
# ------------------------------------------------------------------------------------------------

def pool_output(L, k, s, p, d, ceil_mode):
    """ATen pooling_output_shape: floor or ceil, and in ceil mode the last window must start
    inside the input or the left padding (pytorch#46929)."""
    eff = d * (k - 1) + 1
    if not ceil_mode:
        return D.floordiv(D.sub(D.add(L, 2 * p), eff), s) + 1
    if isinstance(L, int):
        out = -(-(L + 2 * p - eff) // s) + 1
        if (out - 1) * s >= L + p:
            out -= 1
        return out
    a = D.ceildiv(D.sub(D.add(L, 2 * p), eff), s) + 1
    return D.dmin(a, D.ceildiv(D.add(L, p), s))


def _pool_rule(n, kind):
    layer_name = f"{kind}Pool{n}d"

    def rule(a, x):
        batched, c, spatial = _spatial_input(x, n, layer_name)
        k = tup(a["kernel_size"], n)
        s = a.get("stride")
        s = k if s is None or (isinstance(s, (list, tuple)) and len(s) == 0) else tup(s, n)
        p = tup(a.get("padding", 0), n)
        d = tup(a.get("dilation", 1), n)
        ceil_mode = need(a.get("ceil_mode", False))
        out = []
        for i, L in enumerate(spatial):
            eff = d[i] * (k[i] - 1) + 1
            # torch compares the pad with the raw kernel, dilation ignored: kW/2 >= padW (pool2d_shape_check)
            if p[i] > k[i] // 2:
                raise Violation("config", arg="padding",
                                what=f"pad={p[i]} should be at most half of the kernel size {k[i]}")
            if kind == "Avg" and n == 3 and D.at_least(D.sub(L, k[i]), 0) == D.NEVER:
                # avg_pool3d: "input image (T, H, W) smaller than kernel size", padding or not
                raise Violation("collapse", layer=layer_name, dim=i, size=L, kernel=k[i])
            o = pool_output(L, k[i], s[i], p[i], d[i], ceil_mode)
            if D.at_least(o, 1) == D.NEVER:
                raise Violation("collapse", layer=layer_name, dim=i, size=L, padded=D.add(L, 2 * p[i]),
                                kernel=eff, output=o)
            out.append(o)
        y = _out(x, (*x.shape[:len(x.shape) - n], *out))
        if a.get("return_indices"):
            return (y, Tensor(y.shape, "long", y.batch_dim))
        return y
    return rule


for _n in (1, 2, 3):
    layer(f"MaxPool{_n}d", (R("kernel_size"), R("stride", None), R("padding", 0), R("dilation", 1),
                            R("return_indices", False), R("ceil_mode", False)))(_pool_rule(_n, "Max"))
    layer(f"AvgPool{_n}d", (R("kernel_size"), R("stride", None), R("padding", 0), R("ceil_mode", False),
                            R("count_include_pad", True), R("divisor_override", None)))(_pool_rule(_n, "Avg"))
    functional([f"torch.nn.functional.max_pool{_n}d", f"torch.max_pool{_n}d",
                f"torch.nn.functional.max_pool{_n}d_with_indices"],
               (R("input"), R("kernel_size"), R("stride", None), R("padding", 0), R("dilation", 1),
                R("ceil_mode", False), R("return_indices", False)),
               lambda a, x, _r=_pool_rule(_n, "Max"): _r(a, x))
    functional([f"torch.nn.functional.avg_pool{_n}d", f"torch.avg_pool{_n}d"],
               (R("input"), R("kernel_size"), R("stride", None), R("padding", 0), R("ceil_mode", False),
                R("count_include_pad", True), R("divisor_override", None)),
               lambda a, x, _r=_pool_rule(_n, "Avg"): _r(a, x))

for _n in (1, 2, 3):
    layer(f"LPPool{_n}d", (R("norm_type"), R("kernel_size"), R("stride", None), R("ceil_mode", False)))(
        _pool_rule(_n, "LP"))
    functional([f"torch.nn.functional.lp_pool{_n}d"],
               (R("input"), R("norm_type"), R("kernel_size"), R("stride", None), R("ceil_mode", False)),
               lambda a, x, _r=_pool_rule(_n, "LP"): _r(a, x))


def _adaptive_rule(n, kind):
    layer_name = f"Adaptive{kind}Pool{n}d"

    def rule(a, x):
        batched, c, spatial = _spatial_input(x, n, layer_name)
        o = need(a["output_size"])
        if o is None or isinstance(o, int):
            o = (o,) * n
        o = tuple(o)
        if len(o) != n:
            raise Unknowable()
        out = [spatial[i] if o[i] is None else need(o[i]) for i in range(n)]
        y = _out(x, (*x.shape[:len(x.shape) - n], *out))
        if a.get("return_indices"):
            return (y, Tensor(y.shape, "long", y.batch_dim))
        return y
    return rule


for _n in (1, 2, 3):
    layer(f"AdaptiveAvgPool{_n}d", (R("output_size"),))(_adaptive_rule(_n, "Avg"))
    layer(f"AdaptiveMaxPool{_n}d", (R("output_size"), R("return_indices", False)))(_adaptive_rule(_n, "Max"))
    functional([f"torch.nn.functional.adaptive_avg_pool{_n}d", f"torch.adaptive_avg_pool{_n}d"],
               (R("input"), R("output_size")), _adaptive_rule(_n, "Avg"))
    functional([f"torch.nn.functional.adaptive_max_pool{_n}d", f"torch.adaptive_max_pool{_n}d"],
               (R("input"), R("output_size"), R("return_indices", False)), _adaptive_rule(_n, "Max"))


# ------------------------------------------------------------------------------------------------
# Normalization
# ------------------------------------------------------------------------------------------------

def _affine_params(a, count, affine_key="affine"):
    if not need(a[affine_key]):
        return {}
    p = {"weight": count}
    if need(a.get("bias", True)):
        p["bias"] = count
    return p


def _bn_rule(n):
    ranks = {1: (2, 3), 2: (4,), 3: (5,)}[n]
    name = f"BatchNorm{n}d"

    def rule(a, x):
        s = shape_of(x)
        if len(s) not in ranks:
            raise Violation("rank", layer=name, expected=" or ".join(f"{r}D" for r in ranks), got=len(s), shape=s)
        _check_channels(s[1], need_int(a["num_features"]), "num_features", name)
        return x
    return rule


def _in_rule(n):
    name = f"InstanceNorm{n}d"

    def rule(a, x):
        batched, c, spatial = _spatial_input(x, n, name)
        # torch only warns on a mismatch when affine=False (see _InstanceNorm.forward)
        if need(a["affine"]):
            _check_channels(c, need_int(a["num_features"]), "num_features", name)
        # F.instance_norm's _verify_spatial_size when it uses input stats (no running stats kept)
        if a.get("track_running_stats") is False and D.equal(D.prod(spatial), 1) == D.ALWAYS:
            raise Violation("config", arg="input", what=f"{name} over a single spatial element: torch raises "
                                                        "'Expected more than 1 spatial element when training'")
        return x
    return rule


_NORM_SIG = (R("num_features"), R("eps", 1e-5), R("momentum", 0.1))
for _n in (1, 2, 3):
    layer(f"BatchNorm{_n}d", (*_NORM_SIG, R("affine", True), R("track_running_stats", True), *DEVICE,
                              R("bias", True)),
          params=lambda a: _affine_params(a, (need_int(a["num_features"]),)))(_bn_rule(_n))
    layer(f"InstanceNorm{_n}d", (*_NORM_SIG, R("affine", False), R("track_running_stats", False), *DEVICE,
                                 R("bias", True)),
          params=lambda a: _affine_params(a, (need_int(a["num_features"]),)))(_in_rule(_n))
layer("SyncBatchNorm", (*_NORM_SIG, R("affine", True), R("track_running_stats", True), R("process_group", None),
                        *DEVICE), params=lambda a: _affine_params(a, (need_int(a["num_features"]),)))(
    lambda a, x: (_check_channels(shape_of(x)[1], need_int(a["num_features"]), "num_features", "SyncBatchNorm"), x)[1])


def _gn_check(a):
    g, c = a["num_groups"], a["num_channels"]
    if isinstance(g, int) and isinstance(c, int) and g > 0 and c % g:
        raise Violation("config", arg="num_groups", what=f"num_channels={c} must be divisible by num_groups={g}")


@layer("GroupNorm", (R("num_groups"), R("num_channels"), R("eps", 1e-5), R("affine", True), *DEVICE, R("bias", True)),
       params=lambda a: _affine_params(a, (need_int(a["num_channels"]),)), check=_gn_check)
def _group_norm(a, x):
    s = shape_of(x)
    if len(s) < 2:
        raise Violation("rank", layer="GroupNorm", expected="at least 2D", got=len(s), shape=s)
    if need(a["affine"]):
        _check_channels(s[1], need_int(a["num_channels"]), "num_channels", "GroupNorm")
    g = a["num_groups"]
    if isinstance(g, int) and not isinstance(g, bool) and g > 0:
        # F.group_norm's _verify_batch_size, in eval mode too: N*C//G * prod(spatial) == 1 raises
        per_group = D.prod([D.floordiv(D.mul(s[0], s[1]), g), *s[2:]])
        if D.equal(per_group, 1) == D.ALWAYS:
            raise Violation("config", arg="num_groups",
                            what=f"GroupNorm({g}) normalizes a single value per group for input "
                                 f"{'x'.join(D.text(v) for v in s)}: torch raises 'Expected more than 1 value per channel'")
    return x


def _norm_shape(a):
    ns = need(a["normalized_shape"])
    if isinstance(ns, int):
        return (ns,)
    return tuple(need_int(v) for v in ns)


def _layer_norm_rule(name):
    def rule(a, x):
        s = shape_of(x)
        ns = _norm_shape(a)
        if len(s) < len(ns):
            raise Violation("channels", layer=name, param="normalized_shape", expected=ns, got=s)
        for e, g in zip(ns, s[len(s) - len(ns):]):
            if D.equal(g, e) == D.NEVER:
                raise Violation("channels", layer=name, param="normalized_shape", expected=ns,
                                got=tuple(s[len(s) - len(ns):]))
        return x
    return rule


layer("LayerNorm", (R("normalized_shape"), R("eps", 1e-5), R("elementwise_affine", True), R("bias", True), *DEVICE),
      params=lambda a: _affine_params(a, _norm_shape(a), "elementwise_affine"))(_layer_norm_rule("LayerNorm"))
layer("RMSNorm", (R("normalized_shape"), R("eps", None), R("elementwise_affine", True), *DEVICE),
      params=lambda a: {"weight": _norm_shape(a)} if need(a["elementwise_affine"]) else {})(
    _layer_norm_rule("RMSNorm"))
functional(["torch.nn.functional.layer_norm", "torch.layer_norm"],
           (R("input"), R("normalized_shape"), R("weight", None), R("bias", None), R("eps", 1e-5)),
           _layer_norm_rule("layer_norm"))
layer("LocalResponseNorm", (R("size"), R("alpha", 1e-4), R("beta", 0.75), R("k", 1.0)))(lambda a, x: x)


# ------------------------------------------------------------------------------------------------
# Linear and friends
# ------------------------------------------------------------------------------------------------

def _linear_params(a):
    i, o = need_int(a["in_features"]), need_int(a["out_features"])
    p = {"weight": (o, i)}
    if need(a["bias"]):
        p["bias"] = (o,)
    return p


@layer("Linear", (R("in_features"), R("out_features"), R("bias", True), *DEVICE), params=_linear_params)
def _linear(a, x):
    s = shape_of(x)
    if len(s) == 0:
        raise Violation("rank", layer="Linear", expected="at least 1D", got=0, shape=s)
    i = need_int(a["in_features"])
    rel = D.equal(s[-1], i)
    if rel == D.NEVER:
        raise Violation("features", layer="Linear", param="in_features", expected=i, got=s[-1], shape=s)
    if rel == D.DEPENDS:
        assumed(s[-1], i, "Linear in_features")
    return _out(x, (*s[:-1], need_int(a["out_features"])))


LAYERS["LazyLinear"] = LayerSpec("LazyLinear", (R("out_features"), R("bias", True), *DEVICE),
                                 lambda a, x: _out(x, (*shape_of(x)[:-1], need_int(a["out_features"]))))


def _f_linear(a, x, w, b=None):
    ws = shape_of(w)
    if len(ws) == 1:
        raise Unknowable()
    if len(ws) != 2:
        raise Unknowable()
    return _linear({"in_features": ws[1], "out_features": ws[0], "bias": b is not None}, x) \
        if isinstance(ws[0], int) and isinstance(ws[1], int) else _unknowable()


def _unknowable():
    raise Unknowable()


functional(["torch.nn.functional.linear"], (R("input"), R("weight"), R("bias", None)), _f_linear,
           ("input", "weight"))


def _bilinear_params(a):
    i1, i2, o = need_int(a["in1_features"]), need_int(a["in2_features"]), need_int(a["out_features"])
    p = {"weight": (o, i1, i2)}
    if need(a["bias"]):
        p["bias"] = (o,)
    return p


@layer("Bilinear", (R("in1_features"), R("in2_features"), R("out_features"), R("bias", True), *DEVICE),
       params=_bilinear_params)
def _bilinear(a, x1, x2):
    s1, s2 = shape_of(x1), shape_of(x2)
    for s, key in ((s1, "in1_features"), (s2, "in2_features")):
        if D.equal(s[-1], need_int(a[key])) == D.NEVER:
            raise Violation("features", layer="Bilinear", param=key, expected=a[key], got=s[-1], shape=s)
    return _out(x1, (*s1[:-1], need_int(a["out_features"])))


@layer("Identity", (), varargs=True)
def _identity(a, x, *rest):
    return x


def _norm_dim(dim, rank, allow_end=False):
    """torch's maybe_wrap_dim; None if out of range."""
    n = rank + (1 if allow_end else 0)
    lo, hi = (-n, n - 1) if n > 0 else (-1, 0)
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < lo or dim > hi:
        return None
    return dim + n if dim < 0 else dim


def dim_or_violation(dim, rank, what="dim", allow_end=False):
    dim = need(dim)
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise Unknowable()
    d = _norm_dim(dim, rank, allow_end)
    if d is None:
        n = rank + (1 if allow_end else 0)
        raise Violation("config", arg=what,
                        what=f"Dimension out of range (expected to be in range of [{-max(n, 1)}, {max(n, 1) - 1}], but got {dim})")
    return d


def flatten_shape(x: Tensor, start, end):
    s = shape_of(x)
    if len(s) == 0:
        return _out(x, (1,), None)
    a = dim_or_violation(start, len(s), "start_dim")
    b = dim_or_violation(end, len(s), "end_dim")
    if a > b:
        raise Violation("config", arg="start_dim", what="flatten() has invalid args: start_dim cannot come after end_dim")
    bd = x.batch_dim
    if bd is not None and a <= bd <= b and not (a == b):
        bd = None
    elif bd is not None and bd > b:
        bd = bd - (b - a)
    return _out(x, (*s[:a], D.prod(s[a:b + 1]), *s[b + 1:]), bd)


@layer("Flatten", (R("start_dim", 1), R("end_dim", -1)))
def _flatten(a, x):
    return flatten_shape(x, need(a["start_dim"]), need(a["end_dim"]))


@layer("Unflatten", (R("dim"), R("unflattened_size")))
def _unflatten(a, x):
    s = shape_of(x)
    d = dim_or_violation(a["dim"], len(s))
    sizes = tuple(need(v) for v in need(a["unflattened_size"]))
    if any(v == -1 for v in sizes):
        raise Unknowable()
    if D.equal(D.prod(sizes), s[d]) == D.NEVER:
        raise Violation("reshape_size", op="Unflatten", target=sizes, got=s[d], shape=s, dim=d)
    return _out(x, (*s[:d], *sizes, *s[d + 1:]), x.batch_dim if x.batch_dim is not None and x.batch_dim < d else None)


# ------------------------------------------------------------------------------------------------
# Element-wise: dropout, activations, softmax
# ------------------------------------------------------------------------------------------------

def _same(a, x, *rest):
    return x


def _dropout_check(a):
    p = a.get("p")
    if isinstance(p, (int, float)) and not isinstance(p, bool) and not 0 <= p <= 1:
        raise Violation("config", arg="p", what=f"dropout probability has to be between 0 and 1, but got {p}")


for _name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
    layer(_name, (R("p", 0.5), R("inplace", False)), check=_dropout_check)(_same)

_ACTIVATIONS = {
    "ReLU": (R("inplace", False),), "ReLU6": (R("inplace", False),), "SELU": (R("inplace", False),),
    "SiLU": (R("inplace", False),), "Mish": (R("inplace", False),), "Hardswish": (R("inplace", False),),
    "Hardsigmoid": (R("inplace", False),), "Sigmoid": (), "Tanh": (), "LogSigmoid": (), "Softsign": (),
    "Tanhshrink": (), "GELU": (R("approximate", "none"),), "LeakyReLU": (R("negative_slope", 0.01), R("inplace", False)),
    "ELU": (R("alpha", 1.0), R("inplace", False)), "CELU": (R("alpha", 1.0), R("inplace", False)),
    "Hardtanh": (R("min_val", -1.0), R("max_val", 1.0), R("inplace", False), R("min_value", None), R("max_value", None)),
    "Softplus": (R("beta", 1.0), R("threshold", 20.0)), "Hardshrink": (R("lambd", 0.5),),
    "Softshrink": (R("lambd", 0.5),), "Threshold": (R("threshold"), R("value"), R("inplace", False)),
    "RReLU": (R("lower", 1.0 / 8), R("upper", 1.0 / 3), R("inplace", False)),
    "Softmax": (R("dim", None),), "LogSoftmax": (R("dim", None),), "Softmin": (R("dim", None),), "Softmax2d": (),
}
for _name, _sig in _ACTIVATIONS.items():
    layer(_name, _sig)(_same)

_ELEMENTWISE_FUNCS = [
    "relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish", "hardswish", "hardsigmoid", "sigmoid", "tanh",
    "leaky_relu", "hardtanh", "softplus", "softsign", "logsigmoid", "tanhshrink", "hardshrink", "softshrink",
    "threshold", "rrelu", "softmax", "log_softmax", "softmin", "dropout", "dropout1d", "dropout2d", "dropout3d",
    "alpha_dropout", "feature_alpha_dropout", "normalize", "relu_", "elu_", "leaky_relu_", "hardtanh_",
    "local_response_norm", "instance_norm", "batch_norm", "group_norm",
]
functional([f"torch.nn.functional.{f}" for f in _ELEMENTWISE_FUNCS]
           + [f"torch.{f}" for f in ("relu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout", "relu_",
                                     "selu", "celu", "abs", "exp", "log", "sqrt", "rsqrt", "neg", "sin", "cos",
                                     "square", "sign", "clamp", "clip", "erf", "floor", "ceil", "round",
                                     "sigmoid_", "tanh_", "exp_", "log1p", "expm1", "reciprocal", "detach",
                                     "nan_to_num", "clone", "logit", "frac", "trunc")],
           (R("input"),), _same, varargs=True)


@layer("PReLU", (R("num_parameters", 1), R("init", 0.25), *DEVICE),
       params=lambda a: {"weight": (need_int(a["num_parameters"]),)})
def _prelu(a, x):
    n = need_int(a["num_parameters"])
    s = shape_of(x)
    if n != 1 and len(s) >= 2:
        _check_channels(s[1], n, "num_parameters", "PReLU")
    return x


def _glu(a, x):
    s = shape_of(x)
    d = dim_or_violation(a.get("dim", -1), len(s))
    v = s[d]
    if isinstance(v, int) and v % 2:
        raise Violation("config", arg="dim", what=f"GLU halves dimension {d}, but its size {v} is odd")
    return _out(x, (*s[:d], D.floordiv(v, 2), *s[d + 1:]))


layer("GLU", (R("dim", -1),))(_glu)
functional(["torch.nn.functional.glu"], (R("input"), R("dim", -1)), _glu)


# ------------------------------------------------------------------------------------------------
# Resampling and padding
# ------------------------------------------------------------------------------------------------

def _interp_rule(a, x):
    s = shape_of(x)
    n = len(s) - 2
    if n < 1:
        raise Violation("rank", layer="interpolate", expected="at least 3D (N, C, *spatial)", got=len(s), shape=s)
    size, scale = need(a.get("size")), need(a.get("scale_factor"))
    if size is not None and scale is not None:
        raise Violation("config", arg="size", what="only one of size or scale_factor should be defined")
    if size is None and scale is None:
        raise Violation("config", arg="size", what="either size or scale_factor should be defined")
    if size is not None:
        out = tup(size, n) if not isinstance(size, (list, tuple)) else tuple(need(v) for v in size)
        if len(out) != n:
            # torch: "Input and output must have the same number of spatial dimensions"
            raise Violation("rank", layer="interpolate", expected=f"{len(out) + 2}D for size={size!r}",
                            got=len(s), shape=s)
    else:
        sc = tup(scale, n) if not isinstance(scale, (list, tuple)) else tuple(need(v) for v in scale)
        if len(sc) != n:
            # torch: "Input and scale_factor must have the same number of spatial dimensions"
            raise Violation("rank", layer="interpolate", expected=f"{len(sc) + 2}D for scale_factor={scale!r}",
                            got=len(s), shape=s)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in sc):
            raise Unknowable()
        out = tuple(D.floor_scale(L, f) for L, f in zip(s[2:], sc))
    mode = a.get("mode", "nearest")
    rank = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}.get(mode) if isinstance(mode, str) else None
    if rank is not None and rank != len(s):
        # torch: "Got 4D input, but linear mode needs 3D input"
        raise Violation("rank", layer=f"interpolate(mode='{mode}')", expected=f"{rank}D", got=len(s), shape=s)
    for i, o in enumerate(out):
        if D.at_least(o, 1) == D.NEVER:
            raise Violation("collapse", layer="interpolate", dim=i, size=s[2 + i], output=o)
    return _out(x, (*s[:2], *out))


layer("Upsample", (R("size", None), R("scale_factor", None), R("mode", "nearest"), R("align_corners", None),
                   R("recompute_scale_factor", None)))(_interp_rule)
layer("UpsamplingNearest2d", (R("size", None), R("scale_factor", None)))(_interp_rule)
layer("UpsamplingBilinear2d", (R("size", None), R("scale_factor", None)))(
    lambda a, x: _interp_rule(dict(a, mode="bilinear"), x))  # torch: F.interpolate(mode='bilinear')
functional(["torch.nn.functional.interpolate", "torch.nn.functional.upsample",
            "torch.nn.functional.upsample_nearest", "torch.nn.functional.upsample_bilinear"],
           (R("input"), R("size", None), R("scale_factor", None), R("mode", "nearest"), R("align_corners", None),
            R("recompute_scale_factor", None), R("antialias", False)), _interp_rule)


def _pixel_shuffle(a, x):
    s = shape_of(x)
    r = need_int(a["upscale_factor"])
    if len(s) < 3:
        raise Violation("rank", layer="PixelShuffle", expected="at least 3D", got=len(s), shape=s)
    c = s[-3]
    if isinstance(c, int) and c % (r * r):
        raise Violation("config", arg="upscale_factor",
                        what=f"pixel_shuffle expects its input's 'channel' dimension ({c}) to be divisible by the square of upscale_factor ({r * r})")
    if not isinstance(c, int):
        raise Unknowable()
    return _out(x, (*s[:-3], c // (r * r), D.mul(s[-2], r), D.mul(s[-1], r)))


def _pixel_unshuffle(a, x):
    s = shape_of(x)
    r = need_int(a["downscale_factor"])
    if len(s) < 3:
        raise Violation("rank", layer="PixelUnshuffle", expected="at least 3D", got=len(s), shape=s)
    for v in s[-2:]:
        if isinstance(v, int) and v % r:
            raise Violation("config", arg="downscale_factor",
                            what=f"pixel_unshuffle expects height and width ({s[-2]}, {s[-1]}) to be divisible by downscale_factor ({r})")
        if not isinstance(v, int):
            raise Unknowable()
    return _out(x, (*s[:-3], D.mul(s[-3], r * r), s[-2] // r, s[-1] // r))


layer("PixelShuffle", (R("upscale_factor"),))(_pixel_shuffle)
layer("PixelUnshuffle", (R("downscale_factor"),))(_pixel_unshuffle)
functional(["torch.nn.functional.pixel_shuffle", "torch.pixel_shuffle"], (R("input"), R("upscale_factor")),
           _pixel_shuffle)
functional(["torch.nn.functional.pixel_unshuffle", "torch.pixel_unshuffle"], (R("input"), R("downscale_factor")),
           _pixel_unshuffle)


def pad_shape(x: Tensor, pad, mode="constant", layer_name="pad"):
    """F.pad: pad is (last_left, last_right, prev_left, prev_right, ...)."""
    s = shape_of(x)
    # a one-element constant tensor stands for its value, as torch converts it (U-Net's diffX // 2)
    pad = tuple(v.data[0] if isinstance(v, Tensor) and v.data is not None and len(v.data) == 1 else need(v)
                for v in need(pad))
    if len(pad) % 2 or len(pad) // 2 > len(s):
        raise Violation("config", arg="pad", what=f"padding length {len(pad)} does not fit a {len(s)}D input")
    out = list(s)
    for i in range(len(pad) // 2):
        d = len(s) - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if not isinstance(lo, int) or not isinstance(hi, int):
            raise Unknowable()
        if mode == "reflect":
            L = s[d]
            if isinstance(L, int) and (lo >= L or hi >= L):
                raise Violation("config", arg="padding",
                                what=f"reflection padding ({lo}, {hi}) must be smaller than the input size {L}")
        if mode == "circular":
            # torch: "Padding value causes wrapping around more than once" when a pad > the size
            L = s[d]
            if isinstance(L, int) and (lo > L or hi > L):
                raise Violation("config", arg="padding",
                                what=f"circular padding ({lo}, {hi}) must be at most the input size {L}")
        out[d] = D.add(s[d], lo + hi)
        # torch's constant pad may crop to an empty dim (size 0); only a negative size raises
        if D.at_least(out[d], 0 if mode == "constant" else 1) == D.NEVER:
            raise Violation("collapse", layer=layer_name, dim=d, size=s[d], output=out[d])
    return _out(x, out)


def _pad_layer(n, mode):
    def rule(a, x):
        s = shape_of(x)
        if len(s) not in (n + 1, n + 2):
            raise Violation("rank", layer=f"Pad{n}d", expected=f"{n + 1}D or {n + 2}D", got=len(s), shape=s)
        p = need(a["padding"])
        p = (p,) * (2 * n) if isinstance(p, int) else tuple(p)
        return pad_shape(x, p, mode)
    return rule


for _n in (1, 2, 3):
    layer(f"ZeroPad{_n}d", (R("padding"),))(_pad_layer(_n, "constant"))
    layer(f"ConstantPad{_n}d", (R("padding"), R("value")))(_pad_layer(_n, "constant"))
    layer(f"ReflectionPad{_n}d", (R("padding"),))(_pad_layer(_n, "reflect"))
    layer(f"ReplicationPad{_n}d", (R("padding"),))(_pad_layer(_n, "replicate"))
    layer(f"CircularPad{_n}d", (R("padding"),))(_pad_layer(_n, "circular"))
functional(["torch.nn.functional.pad"], (R("input"), R("pad"), R("mode", "constant"), R("value", None)),
           lambda a, x: pad_shape(x, a["pad"], need(a["mode"])))


# ------------------------------------------------------------------------------------------------
# Embedding and recurrent layers
# ------------------------------------------------------------------------------------------------

@layer("Embedding", (R("num_embeddings"), R("embedding_dim"), R("padding_idx", None), R("max_norm", None),
                     R("norm_type", 2.0), R("scale_grad_by_freq", False), R("sparse", False), R("_weight", None),
                     R("_freeze", False), *DEVICE),
       params=lambda a: {"weight": (need_int(a["num_embeddings"]), need_int(a["embedding_dim"]))})
def _embedding(a, x):
    s = shape_of(x)
    return Tensor((*s, need_int(a["embedding_dim"])), "float", x.batch_dim)


def _f_embedding(a, x, w):
    ws = shape_of(w)
    if len(ws) != 2:
        raise Unknowable()
    return Tensor((*shape_of(x), ws[1]), "float", x.batch_dim)


functional(["torch.nn.functional.embedding"], (R("input"), R("weight"), R("padding_idx", None),
                                               R("max_norm", None), R("norm_type", 2.0),
                                               R("scale_grad_by_freq", False), R("sparse", False)),
           _f_embedding, ("input", "weight"))

_RNN_SIG = (R("input_size"), R("hidden_size"), R("num_layers", 1), R("bias", True), R("batch_first", False),
            R("dropout", 0.0), R("bidirectional", False), R("proj_size", 0), *DEVICE)
_RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def _rnn_params(kind):
    def params(a):
        g = _RNN_GATES[kind]
        i, h = need_int(a["input_size"]), need_int(a["hidden_size"])
        layers, bias = need_int(a["num_layers"]), need(a["bias"])
        dirs = 2 if need(a["bidirectional"]) else 1
        proj = need_int(a.get("proj_size", 0) or 0)
        hout = proj if proj > 0 else h
        p = {}
        for layer_i in range(layers):
            for d in range(dirs):
                sfx = f"_l{layer_i}" + ("_reverse" if d else "")
                inp = i if layer_i == 0 else dirs * hout
                p["weight_ih" + sfx] = (g * h, inp)
                p["weight_hh" + sfx] = (g * h, hout)
                if bias:
                    p["bias_ih" + sfx] = (g * h,)
                    p["bias_hh" + sfx] = (g * h,)
                if proj > 0:
                    p["weight_hr" + sfx] = (proj, h)
        return p
    return params


def _rnn_rule(kind):
    def rule(a, x, hx=None):
        s = shape_of(x)
        if len(s) not in (2, 3):
            raise Violation("rank", layer=kind, expected="2D (unbatched) or 3D (batched)", got=len(s), shape=s)
        i = need_int(a["input_size"])
        if D.equal(s[-1], i) == D.NEVER:
            raise Violation("features", layer=kind, param="input_size", expected=i, got=s[-1], shape=s)
        h = need_int(a["hidden_size"])
        proj = need_int(a.get("proj_size", 0) or 0)
        hout = proj if proj > 0 else h
        dirs = 2 if need(a["bidirectional"]) else 1
        layers = need_int(a["num_layers"])
        bf = need(a["batch_first"])
        if len(s) == 3:
            n = s[0] if bf else s[1]
            out = Tensor((*s[:2], dirs * hout), "float", x.batch_dim)
            hn = Tensor((dirs * layers, n, hout), "float", 1)
            cn = Tensor((dirs * layers, n, h), "float", 1)
        else:
            out = Tensor((s[0], dirs * hout), "float", None)
            hn = Tensor((dirs * layers, hout), "float", None)
            cn = Tensor((dirs * layers, h), "float", None)
        return (out, (hn, cn)) if kind == "LSTM" else (out, hn)
    return rule


for _k in ("LSTM", "GRU"):
    layer(_k, _RNN_SIG, params=_rnn_params(_k))(_rnn_rule(_k))
layer("RNN", (R("input_size"), R("hidden_size"), R("num_layers", 1), R("nonlinearity", "tanh"), R("bias", True),
              R("batch_first", False), R("dropout", 0.0), R("bidirectional", False), *DEVICE),
      params=_rnn_params("RNN"))(_rnn_rule("RNN"))


def _mha_check(a):
    e, h = a["embed_dim"], a["num_heads"]
    if isinstance(e, int) and isinstance(h, int) and h > 0 and e % h:
        raise Violation("config", arg="num_heads", what=f"embed_dim={e} must be divisible by num_heads={h}")


def _mha_params(a):
    e = need_int(a["embed_dim"])
    k = need(a["kdim"]) or e
    v = need(a["vdim"]) or e
    p = {}
    if k == e and v == e:
        p["in_proj_weight"] = (3 * e, e)
    else:
        p.update(q_proj_weight=(e, e), k_proj_weight=(e, k), v_proj_weight=(e, v))
    if need(a["bias"]):
        p["in_proj_bias"] = (3 * e,)
    if need(a["add_bias_kv"]):
        p.update(bias_k=(1, 1, e), bias_v=(1, 1, e))
    # the output projection is a child module (`out_proj`, a Linear) that forward calls directly
    p["out_proj.weight"] = (e, e)
    if need(a["bias"]):
        p["out_proj.bias"] = (e,)
    return p


@layer("MultiheadAttention", (R("embed_dim"), R("num_heads"), R("dropout", 0.0), R("bias", True),
                              R("add_bias_kv", False), R("add_zero_attn", False), R("kdim", None), R("vdim", None),
                              R("batch_first", False), *DEVICE), params=_mha_params, check=_mha_check)
def _mha(a, q, k, v, key_padding_mask=None, need_weights=True, attn_mask=None, average_attn_weights=True,
         is_causal=False):
    sq, sk = shape_of(q), shape_of(k)
    e = need_int(a["embed_dim"])
    if D.equal(sq[-1], e) == D.NEVER:
        raise Violation("features", layer="MultiheadAttention", param="embed_dim", expected=e, got=sq[-1], shape=sq)
    if len(sq) != 3:
        raise Unknowable()
    bf = need(a["batch_first"])
    n, L = (sq[0], sq[1]) if bf else (sq[1], sq[0])
    S = sk[1] if bf else sk[0]
    S = D.add(S, int(bool(need(a["add_bias_kv"]))) + int(bool(need(a["add_zero_attn"]))))
    out = Tensor(sq, "float", q.batch_dim)
    need_weights, average = need(need_weights), need(average_attn_weights)
    if need_weights is False:
        return (out, None)
    if need_weights is not True or average not in (True, False):
        raise Unknowable()
    weights = (n, L, S) if average else (n, need_int(a["num_heads"]), L, S)
    return (out, Tensor(weights, "float", 0))


def param_count(spec: LayerSpec, args) -> Optional[int]:
    try:
        return sum(math.prod(s) for s in spec.params(args).values())
    except Unknowable:
        return None
