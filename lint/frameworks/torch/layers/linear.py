"""Linear and friends, flatten/unflatten, and the element-wise layers (dropout, activations)."""
from __future__ import annotations

from ....core import dims as D
from ....core.facts import Unknowable, Violation, assumed
from ....core.values import UNKNOWN, Tensor
from ....rules import shp007_invalid_config as C
from ....rules.shp001_flatten_size import UnflattenSize
from ....rules.shp002_feature_mismatch import Features
from ....rules.shp008_wrong_rank import RankAtLeast
from .table import (DEVICE, LAYERS, LayerSpec, R, _check_channels, _out, dim_or_violation, functional, layer,
                    need, need_int, need_size, out_size, shape_of)


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
        raise Violation(RankAtLeast(layer="Linear", got=0, shape=s, least=1))
    if a["in_features"] is not UNKNOWN:  # unknown (an option on undecided branches): takes what it is fed
        i = need_size(a["in_features"])
        rel = D.equal(s[-1], i)
        if rel == D.NEVER:
            raise Violation(Features(layer="Linear", param="in_features", expected=i, got=s[-1], shape=s))
        if rel == D.DEPENDS:
            assumed(s[-1], i, "Linear in_features")
    return _out(x, (*s[:-1], out_size(a["out_features"])))


def _linear_tail(a, x):
    """An input of unknown rank (``(N, F)``, ``(N, T, F)``...): a Linear reads only its last dim,
    so one known there (``x.tail``, what a Linear before gave) is checked all the same, and the
    output ends in out_features whatever the rank."""
    if x.tail and a["in_features"] is not UNKNOWN:
        i = need_size(a["in_features"])
        rel = D.equal(x.tail[-1], i)
        if rel == D.NEVER:
            raise Violation(Features(layer="Linear", param="in_features", expected=i, got=x.tail[-1],
                                     shape=(Ellipsis, *x.tail)))
        if rel == D.DEPENDS:
            assumed(x.tail[-1], i, "Linear in_features")
    return Tensor(None, x.dtype, tail=(out_size(a["out_features"]),))


LAYERS["Linear"].tail = _linear_tail

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
            raise Violation(Features(layer="Bilinear", param=key, expected=a[key], got=s[-1], shape=s))
    return _out(x1, (*s1[:-1], need_int(a["out_features"])))


@layer("Identity", (), varargs=True, transparent=True)
def _identity(a, x, *rest):
    return x


def flatten_shape(x: Tensor, start, end):
    s = shape_of(x)
    if len(s) == 0:
        return _out(x, (1,), None)
    a = dim_or_violation(start, len(s), "start_dim")
    b = dim_or_violation(end, len(s), "end_dim")
    if a > b:
        raise Violation(C.FlattenOrder())
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
        raise Violation(UnflattenSize(target=sizes, got=s[d], shape=s, dim=d))
    return _out(x, (*s[:d], *sizes, *s[d + 1:]), x.batch_dim if x.batch_dim is not None and x.batch_dim < d else None)


# ------------------------------------------------------------------------------------------------
# Element-wise: dropout, activations, softmax
# ------------------------------------------------------------------------------------------------

def _same(a, x, *rest):
    return x


def _dropout_check(a):
    p = a.get("p")
    if isinstance(p, (int, float)) and not isinstance(p, bool) and not 0 <= p <= 1:
        raise Violation(C.DropoutProbability(p))


for _name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
    layer(_name, (R("p", 0.5), R("inplace", False)), check=_dropout_check, transparent=True)(_same)

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
def _softmax(a, x, *rest):
    """Softmax/LogSoftmax/Softmin over ``dim``: torch raises "Dimension out of range" for a dim the
    input does not have (``nn.Softmax(dim=2)`` on a classifier's (N, 2) logits)."""
    dim = a.get("dim")
    if isinstance(dim, int) and not isinstance(dim, bool) and x.shape is not None:
        dim_or_violation(dim, len(x.shape))
    return x


for _name, _sig in _ACTIVATIONS.items():
    layer(_name, _sig, transparent=True)(_softmax if _name in ("Softmax", "LogSoftmax", "Softmin") else _same)

_ELEMENTWISE_FUNCS = [
    "relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish", "hardswish", "hardsigmoid", "sigmoid", "tanh",
    "leaky_relu", "hardtanh", "softplus", "softsign", "logsigmoid", "tanhshrink", "hardshrink", "softshrink",
    "threshold", "rrelu", "softmax", "log_softmax", "softmin", "dropout", "dropout1d", "dropout2d", "dropout3d",
    "alpha_dropout", "feature_alpha_dropout", "normalize", "relu_", "elu_", "leaky_relu_", "hardtanh_",
    "local_response_norm", "instance_norm", "group_norm",
]
functional([f"torch.nn.functional.{f}" for f in _ELEMENTWISE_FUNCS]
           + [f"torch.{f}" for f in ("relu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout", "relu_",
                                     "selu", "celu", "abs", "exp", "log", "sqrt", "rsqrt", "neg", "sin", "cos",
                                     "square", "sign", "clamp", "clip", "erf", "floor", "ceil", "round",
                                     "sigmoid_", "tanh_", "exp_", "log1p", "expm1", "reciprocal", "detach",
                                     "nan_to_num", "clone", "logit", "frac", "trunc")],
           (R("input"),), _same, varargs=True)
functional([f"torch.nn.functional.{f}" for f in ("softmax", "log_softmax", "softmin")],
           (R("input"), R("dim", None), R("_stacklevel", 3), R("dtype", None)), _softmax)
functional(["torch.softmax", "torch.log_softmax"], (R("input"), R("dim"), R("dtype", None)), _softmax)


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
        raise Violation(C.GluOddDim(d, v))
    return _out(x, (*s[:d], D.floordiv(v, 2), *s[d + 1:]))


layer("GLU", (R("dim", -1),))(_glu)
functional(["torch.nn.functional.glu"], (R("input"), R("dim", -1)), _glu)
