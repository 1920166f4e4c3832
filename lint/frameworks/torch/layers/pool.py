"""Pooling: max, average, LP and adaptive pooling, and their F.* forms."""
from __future__ import annotations

from ....core import dims as D
from ....core.facts import Unknowable, Violation
from ....core.values import Tensor
from ....rules import shp007_invalid_config as C
from ....rules.shp004_spatial_collapse import Collapse
from .table import LAYERS, LayerInput, R, _out, _spatial_input, channel_tail, functional, layer, need, tup


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


def _check_positive(layer_name, k, s, p, d):
    """What torch's pooling forward refuses: a zero stride (the kernel size when stride is not
    given), a non-positive kernel size or dilation, a negative padding."""
    def bad(t, test):
        return any(isinstance(v, int) and not isinstance(v, bool) and test(v) for v in t)

    one = (lambda t: t[0] if len(set(t)) == 1 else t)
    if bad(s, lambda v: v == 0):
        raise Violation(C.NotPositive(layer_name, "stride", one(s), "stride should not be zero"))
    if bad(k, lambda v: v <= 0):
        raise Violation(C.NotPositive(layer_name, "kernel_size", one(k), "kernel size should be greater than zero"))
    if bad(s, lambda v: v < 0):
        raise Violation(C.NotPositive(layer_name, "stride", one(s), "stride should be greater than zero"))
    if bad(d, lambda v: v <= 0):
        raise Violation(C.NotPositive(layer_name, "dilation", one(d), "dilation should be greater than zero"))
    if bad(p, lambda v: v < 0):
        raise Violation(C.NotPositive(layer_name, "padding", one(p), "pad must be non-negative"))


def _pool_rule(n, kind):
    layer_name = f"{kind}Pool{n}d"

    def rule(a, x):
        k = tup(a["kernel_size"], n)
        s = a.get("stride")
        s = k if s is None or (isinstance(s, (list, tuple)) and len(s) == 0) else tup(s, n)
        p = tup(a.get("padding", 0), n)
        d = tup(a.get("dilation", 1), n)
        _check_positive(layer_name, k, s, p, d)
        for i in range(n):
            # torch compares the pad with the raw kernel, dilation ignored: kW/2 >= padW (pool2d_shape_check);
            # whatever the tensor's shape (even unknown here), this call fails
            if isinstance(p[i], int) and isinstance(k[i], int) and p[i] > k[i] // 2:
                raise Violation(C.PoolPaddingTooLarge(p[i], k[i]))
        batched, c, spatial = _spatial_input(x, n, layer_name)
        ceil_mode = need(a.get("ceil_mode", False))
        out = []
        for i, L in enumerate(spatial):
            eff = d[i] * (k[i] - 1) + 1
            if kind == "Avg" and n == 3 and D.at_least(D.sub(L, k[i]), 0) == D.NEVER:
                # avg_pool3d: "input image (T, H, W) smaller than kernel size", padding or not
                raise Violation(Collapse(layer_name, i, L, kernel=k[i]))
            o = pool_output(L, k[i], s[i], p[i], d[i], ceil_mode)
            if D.at_least(o, 1) == D.NEVER:
                raise Violation(Collapse(layer_name, i, L, padded=D.add(L, 2 * p[i]), kernel=eff, output=o))
            out.append(o)
        y = _out(x, (*x.shape[:len(x.shape) - n], *out))
        if a.get("return_indices"):
            return (y, Tensor(y.shape, "long", y.batch_dim))
        return y
    return rule


for _n in (1, 2, 3):
    layer(f"MaxPool{_n}d", (R("kernel_size"), R("stride", None), R("padding", 0), R("dilation", 1),
                            R("return_indices", False), R("ceil_mode", False)),
          implies=LayerInput("spatial", _n), pools=_n)(_pool_rule(_n, "Max"))
    layer(f"AvgPool{_n}d", (R("kernel_size"), R("stride", None), R("padding", 0), R("ceil_mode", False),
                            R("count_include_pad", True), R("divisor_override", None)),
          implies=LayerInput("spatial", _n), pools=_n)(_pool_rule(_n, "Avg"))
    functional([f"torch.nn.functional.max_pool{_n}d", f"torch.max_pool{_n}d",
                f"torch.nn.functional.max_pool{_n}d_with_indices"],
               (R("input"), R("kernel_size"), R("stride", None), R("padding", 0), R("dilation", 1),
                R("ceil_mode", False), R("return_indices", False)),
               lambda a, x, _r=_pool_rule(_n, "Max"): _r(a, x), pools=_n)
    functional([f"torch.nn.functional.avg_pool{_n}d", f"torch.avg_pool{_n}d"],
               (R("input"), R("kernel_size"), R("stride", None), R("padding", 0), R("ceil_mode", False),
                R("count_include_pad", True), R("divisor_override", None)),
               lambda a, x, _r=_pool_rule(_n, "Avg"): _r(a, x), pools=_n)

    for _kind in ("Max", "Avg"):
        # whatever the input's rank: the padding check, and (C, *spatial) from a tail that long
        LAYERS[f"{_kind}Pool{_n}d"].tail = channel_tail(_n, _pool_rule(_n, _kind))

for _n in (1, 2, 3):
    layer(f"LPPool{_n}d", (R("norm_type"), R("kernel_size"), R("stride", None), R("ceil_mode", False)),
          implies=LayerInput("spatial", _n))(
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
    layer(f"AdaptiveAvgPool{_n}d", (R("output_size"),), implies=LayerInput("spatial", _n), pools=_n)(
        _adaptive_rule(_n, "Avg"))
    layer(f"AdaptiveMaxPool{_n}d", (R("output_size"), R("return_indices", False)),
          implies=LayerInput("spatial", _n), pools=_n)(_adaptive_rule(_n, "Max"))
    for _kind in ("Avg", "Max"):
        LAYERS[f"Adaptive{_kind}Pool{_n}d"].tail = channel_tail(_n, _adaptive_rule(_n, _kind))
    functional([f"torch.nn.functional.adaptive_avg_pool{_n}d", f"torch.adaptive_avg_pool{_n}d"],
               (R("input"), R("output_size")), _adaptive_rule(_n, "Avg"), pools=_n)
    functional([f"torch.nn.functional.adaptive_max_pool{_n}d", f"torch.adaptive_max_pool{_n}d"],
               (R("input"), R("output_size"), R("return_indices", False)), _adaptive_rule(_n, "Max"), pools=_n)


def _unpool_rule(n):
    """MaxUnpool{n}d: each spatial size (L - 1) * stride - 2 * padding + kernel_size (ATen
    max_unpooling), or the spatial part of an ``output_size`` given to forward; the channels and
    batch of the input. Indices of another shape, or an output_size torch would refuse, are not
    decided here (unknown)."""
    layer_name = f"MaxUnpool{n}d"

    def rule(a, x, indices=None, output_size=None):
        k = tup(a["kernel_size"], n)
        s = a.get("stride")
        s = k if s is None or (isinstance(s, (list, tuple)) and len(s) == 0) else tup(s, n)
        p = tup(a.get("padding", 0), n)
        _check_positive(layer_name, k, s, p, (1,) * n)
        batched, c, spatial = _spatial_input(x, n, layer_name)
        if isinstance(indices, Tensor) and indices.shape is not None and \
                any(D.equal(a_, b_) != D.ALWAYS for a_, b_ in zip(indices.shape, x.shape)) or \
                isinstance(indices, Tensor) and indices.shape is not None and len(indices.shape) != len(x.shape):
            raise Unknowable()
        default = [D.add(D.mul(D.sub(L, 1), s[i]), k[i] - 2 * p[i]) for i, L in enumerate(spatial)]
        if output_size is not None:
            size = need(output_size)
            if not isinstance(size, (list, tuple)) or len(size) not in (n, n + 1, n + 2) or \
                    not all(isinstance(v, int) and not isinstance(v, bool) for v in size[-n:]):
                raise Unknowable()
            wanted = list(size[-n:])
            # torch accepts a size within a stride of the default one
            for w, d, st in zip(wanted, default, s):
                if not isinstance(d, int) or not d - st < w < d + st:
                    raise Unknowable()
            default = wanted
        for i, o in enumerate(default):
            if D.at_least(o, 1) == D.NEVER:
                raise Unknowable()
        return _out(x, (*x.shape[:len(x.shape) - n], *default))
    return rule


for _n in (1, 2, 3):
    layer(f"MaxUnpool{_n}d", (R("kernel_size"), R("stride", None), R("padding", 0)),
          implies=LayerInput("spatial", _n))(_unpool_rule(_n))
    functional([f"torch.nn.functional.max_unpool{_n}d"],
               (R("input"), R("indices"), R("kernel_size"), R("stride", None), R("padding", 0),
                R("output_size", None)),
               lambda a, x, idx=None, _r=_unpool_rule(_n): _r(a, x, idx, a.get("output_size")),
               inputs=("input", "indices"))
