"""Convolutions: ConvNd, ConvTransposeNd and their F.conv* forms."""
from __future__ import annotations

from ....core import dims as D
from ....core.facts import Unknowable, Violation
from ....core.values import UNKNOWN
from ....rules import shp007_invalid_config as C
from ....rules.shp004_spatial_collapse import Collapse
from .table import (DEVICE, LAYERS, LayerInput, R, _out, _spatial_input, channel_tail, check_size, functional, layer,
                    need, need_int, out_size, shape_of, tup)


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
                raise Violation(C.GroupsNotPositive())
            for name, c in (("in_channels", cin), ("out_channels", cout)):
                if isinstance(c, int) and c % g:
                    raise Violation(C.NotDivisibleByGroups(name, c, g))
        pad = a["padding"]
        if isinstance(pad, str):
            if transposed:
                raise Violation(C.TransposedPaddingString(pad))
            if pad not in ("same", "valid"):
                raise Violation(C.InvalidPaddingString(pad))
            if pad == "same":
                try:
                    s = tup(a["stride"], n)
                except Unknowable:
                    return
                if any(v != 1 for v in s):
                    raise Violation(C.SamePaddingStrided(a["stride"]))
        if a["padding_mode"] not in ("zeros", "reflect", "replicate", "circular", UNKNOWN):
            raise Violation(C.InvalidPaddingMode(a["padding_mode"]))
        if transposed and a["padding_mode"] not in ("zeros", UNKNOWN):
            raise Violation(C.TransposedPaddingMode())
    return check


def _check_positive(layer_name, k, s, d, pad, n):
    """torch's forward refuses these (ATen's conv shape checks), in this order."""
    if any(isinstance(v, int) and v <= 0 for v in s):
        raise Violation(C.NotPositive(layer_name, "stride", _one(s), "non-positive stride is not supported"))
    if any(isinstance(v, int) and v < 0 for v in k):
        raise Unknowable()  # a negative kernel size fails building the weight: not this rule's
    if any(isinstance(v, int) and v == 0 for v in k):
        raise Violation(C.NotPositive(layer_name, "kernel_size", _one(k), "kernel size should be greater than zero"))
    if any(isinstance(v, int) and v <= 0 for v in d):
        raise Violation(C.NotPositive(layer_name, "dilation", _one(d), "dilation should be greater than zero"))
    if not isinstance(pad, str):
        p = tup(pad, n)
        if any(isinstance(v, int) and v < 0 for v in p):
            raise Violation(C.NotPositive(layer_name, "padding", _one(p), "negative padding is not supported"))


def _one(t):
    return t[0] if len(set(t)) == 1 else t


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
            raise Violation(C.ModePaddingTooLarge(mode, i, worst, L))


def _conv_rule(n, transposed):
    layer_name = ("ConvTranspose" if transposed else "Conv") + f"{n}d"

    def rule(a, x, output_size=None):
        batched, c, spatial = _spatial_input(x, n, layer_name)
        check_size(c, a["in_channels"], "in_channels", layer_name)
        k = tup(a["kernel_size"], n)
        s = tup(a["stride"], n)
        d = tup(a["dilation"], n)
        cout = out_size(a["out_channels"])
        pad = need(a["padding"])
        _check_positive(layer_name, k, s, d, pad, n)
        g = a["groups"]
        if not transposed and isinstance(cout, int) and cout == 0 and \
                isinstance(g, int) and not isinstance(g, bool) and g >= 1:
            # ATen's check_shape_forward: weight.size(0) >= groups (the transposed form's empty
            # weight is backend-dependent: oneDNN refuses it, so it is left alone)
            raise Violation(C.NoOutputChannels(layer_name, g))
        out = []
        if transposed:
            p = tup(pad, n)
            op = tup(a["output_padding"], n)
            for i in range(n):
                if op[i] >= s[i] and op[i] >= d[i]:
                    raise Violation(C.OutputPaddingTooLarge(op[i], s[i], d[i]))
            for i, L in enumerate(spatial):
                o = D.add(D.mul(D.sub(L, 1), s[i]), -2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1)
                # size 0: torch's slow path raises "Output size is too small", mkldnn returns an
                # empty tensor (backend-dependent), so 0 is reported with the negative sizes
                if D.at_least(o, 1) == D.NEVER:
                    raise Violation(Collapse(layer_name, i, L, output=o))
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
                    raise Violation(Collapse(layer_name, i, L, padded=padded, kernel=eff))
                out.append(conv_output(L, k[i], s[i], p, d[i]))  # the formula tests/test_dims.py checks
        lead = (x.shape[0],) if batched else ()
        return _out(x, (*lead, cout, *out))
    return rule


for _n in (1, 2, 3):
    layer(f"Conv{_n}d", _conv_sig(False), _conv_params(_n, False), _conv_check(_n, False),
          implies=LayerInput("spatial", _n, "in_channels"))(
        _conv_rule(_n, False))
    layer(f"ConvTranspose{_n}d", _conv_sig(True), _conv_params(_n, True), _conv_check(_n, True),
          implies=LayerInput("spatial", _n, "in_channels"))(
        _conv_rule(_n, True))
    LAYERS[f"Conv{_n}d"].tail = channel_tail(_n, _conv_rule(_n, False))
    LAYERS[f"ConvTranspose{_n}d"].tail = channel_tail(_n, _conv_rule(_n, True))


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
