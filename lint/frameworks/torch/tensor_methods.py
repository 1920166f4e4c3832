"""Dispatch of tensor methods (``x.view(...)``) and ``torch.*`` functions to their shape rules."""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from ...core import dims as D
from . import layers as L
from . import tensor_ops as T
from .layers import Unknowable, need
from ...core.values import UNKNOWN, NDArray, Param, Qual, Tensor

# Methods that return a tensor of the same shape.
_SAME = {
    "contiguous", "float", "double", "half", "bfloat16", "int", "long", "bool", "byte", "char", "short", "to",
    "cuda", "cpu", "detach", "clone", "requires_grad_", "type", "type_as", "relu", "relu_", "sigmoid",
    "sigmoid_", "tanh", "tanh_", "exp", "exp_", "log", "log_", "sqrt", "rsqrt", "abs", "neg", "sign", "clamp",
    "clamp_", "clip", "clamp_min", "clamp_max", "pow", "pow_", "softmax", "log_softmax", "fill_", "zero_",
    "normal_", "uniform_", "masked_fill", "masked_fill_", "add_", "sub_", "mul_", "div_", "floor", "ceil",
    "round", "sin", "cos", "square", "reciprocal", "erf", "exp2", "log1p", "expm1", "nan_to_num", "pin_memory",
    "cumsum", "cumprod", "flip", "roll", "tril", "triu", "dropout", "abs_", "detach_", "copy_", "sigmoid",
    "leaky_relu", "gelu", "silu", "hardtanh", "hardswish", "logit", "frac", "trunc", "sort_values",
    "contiguous_format", "retain_grad", "cauchy_", "bernoulli", "bernoulli_", "exponential_", "float16",
    "softplus", "elu", "selu", "mish", "clone_", "lerp", "where", "masked_scatter", "index_fill",
    # the in-place forms (quantizers: `output.clamp_(qmin, qmax).round_()`)
    "round_", "floor_", "ceil_", "trunc_", "frac_", "sign_", "neg_", "sqrt_", "rsqrt_", "reciprocal_",
    "square_", "sin_", "cos_", "erf_", "log1p_", "expm1_", "clamp_min_", "clamp_max_", "clip_", "nan_to_num_",
    "lerp_", "index_fill_", "leaky_relu_", "elu_", "hardtanh_", "random_", "geometric_", "log_normal_",
}
_FLOAT_OF_INT = {"float", "double", "half", "bfloat16"}
_INT_OF = {"long", "int", "short", "byte", "char", "bool"}
_BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/", "true_divide": "/", "floor_divide": "//",
           "remainder": "%", "fmod": "%", "maximum": "max", "minimum": "min", "atan2": "atan2", "eq": "==",
           "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "logical_and": "and", "logical_or": "or",
           "multiply": "*", "subtract": "-", "divide": "/", "hypot": "hypot", "xlogy": "xlogy"}
_REDUCE = {"mean", "sum", "prod", "amax", "amin", "std", "var", "norm", "logsumexp", "nansum", "nanmean",
           "count_nonzero", "all", "any", "argmax", "argmin"}


def _arg(args, kwargs, i, name, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def call_tensor_method(interp, x: Tensor, name, args, kwargs, node):
    if name == "forward":
        return UNKNOWN
    if x.probe is not None:
        v = _probe_method(x, name, args, kwargs)
        if v is not None:
            return v
    if x.data is not None:
        v = data_method(x, name, args, kwargs)
        if v is not NotImplemented:
            return v
    return interp.tensor_rule(lambda: _method(interp, x, name, args, kwargs, node), node)


# methods that keep a model input's shape: a probe (engine._probe) passes through them
_PROBE_KEEPS = {"float", "double", "half", "contiguous", "to", "cuda", "cpu", "type", "detach", "clone"}


def _probe_method(x: Tensor, name, args, kwargs) -> Optional[Tensor]:
    """A model input whose shape the first layer it meets will tell: ``mixture.float()`` keeps
    the probe, ``mixture.unsqueeze(1)`` keeps it and notes the step (undone later from that
    layer's input: a Conv1d after ``unsqueeze(1)`` makes the input (N, L))."""
    if name in _PROBE_KEEPS and not (name == "type" and not args and not kwargs):
        return Tensor(None, x.dtype, None, x.probe, probe_path=x.probe_path)
    if name in ("unsqueeze", "unsqueeze_"):
        d = args[0] if args and not kwargs else kwargs.get("dim") if not args and len(kwargs) == 1 else None
        if isinstance(d, int) and not isinstance(d, bool):
            return Tensor(None, x.dtype, None, x.probe, probe_path=x.probe_path + (("unsqueeze", d),))
    # `x.squeeze(1)` of an input with a singleton dim there (a (N, 1, T, F) spectrogram): undone by
    # putting the 1 back (engine._unwound); a bare squeeze() could drop any of them: not followed
    if name in ("squeeze", "squeeze_"):
        d = args[0] if len(args) == 1 and not kwargs else kwargs.get("dim") if not args and len(kwargs) == 1 else None
        if isinstance(d, int) and not isinstance(d, bool):
            return Tensor(None, x.dtype, None, x.probe, probe_path=x.probe_path + (("squeeze", d),))
    # a time series (N, L, C) turned channels-first for its first Conv1d (`x.permute(0, 2, 1)`,
    # `x.transpose(1, 2)`): undone from that layer's input (engine._unwound)
    if name == "permute" and not kwargs:
        dims = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
        if dims and all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
            return Tensor(None, x.dtype, None, x.probe, probe_path=x.probe_path + (("permute", dims),))
    if name in ("transpose", "swapaxes", "swapdims") and len(args) == 2 and not kwargs and \
            all(isinstance(d, int) and not isinstance(d, bool) for d in args):
        return Tensor(None, x.dtype, None, x.probe, probe_path=x.probe_path + (("transpose", tuple(args)),))
    return None


Handler = Callable[..., Any]  # handler(interp, x, name, args, kwargs, node) -> value


# torch's parameter names (after self) of the methods whose handler reads its arguments; a name
# starting with '*' takes its values as varargs or as one sequence, and by keyword as the sequence
# (``x.reshape(2, 3)``, ``x.reshape((2, 3))``, ``x.reshape(shape=(2, 3))``). tests/test_keyword_forms.py
# calls torch with every keyword listed here and compares.
_SIZE_ARGS = ("*size",)
_SIGNATURES: Dict[str, Tuple[str, ...]] = {
    "view": _SIZE_ARGS, "reshape": ("*shape",), "permute": ("*dims",), "expand": _SIZE_ARGS,
    "repeat": ("*repeats",), "new": _SIZE_ARGS, "new_zeros": _SIZE_ARGS, "new_ones": _SIZE_ARGS, "new_empty": _SIZE_ARGS,
    "new_full": ("size", "fill_value"), "flatten": ("start_dim", "end_dim"), "unflatten": ("dim", "sizes"),
    "transpose": ("dim0", "dim1"), "swapdims": ("dim0", "dim1"), "swapaxes": ("axis0", "axis1"),
    "squeeze": ("dim",), "squeeze_": ("dim",), "unsqueeze": ("dim",), "unsqueeze_": ("dim",),
    "size": ("dim",), "unbind": ("dim",), "chunk": ("chunks", "dim"), "split": ("split_size", "dim"),
    "unfold": ("dimension", "size", "step"), "std": ("dim", "unbiased", "keepdim"),
    "var": ("dim", "unbiased", "keepdim"), "norm": ("p", "dim", "keepdim"), "count_nonzero": ("dim",),
    "max": ("dim", "keepdim"), "min": ("dim", "keepdim"), "median": ("dim", "keepdim"),
    "mode": ("dim", "keepdim"), "view_as": ("other",), "reshape_as": ("other",), "expand_as": ("other",),
    "matmul": ("other",), "mm": ("mat2",), "bmm": ("mat2",), "dim": (), "ndimension": (), "numel": (),
    "t": (), "T": (), "sort": ("dim", "descending"), "argsort": ("dim", "descending"),
    "topk": ("k", "dim", "largest", "sorted"),
}
for _r in _REDUCE:
    _SIGNATURES.setdefault(_r, ("dim", "keepdim"))
# keywords torch accepts that change no shape; torch's argument parser also takes numpy's names
_SHAPELESS_KW = {"out", "dtype", "memory_format", "non_blocking", "device", "requires_grad", "layout",
                 "pin_memory", "copy", "correction", "alpha", "rounding_mode", "unbiased"}
_KW_ALIASES = {"axis": "dim", "keepdims": "keepdim"}
_EXTRA_KW = {"max": {"other"}, "min": {"other"}, "norm": {"dtype"}, "view": set()}


class _Unbound(Exception):
    """A keyword this table does not know for the method: the result is unknown."""


def bind(name: str, args: List[Any], kwargs: Dict[str, Any]) -> Tuple[List[Any], Dict[str, Any]]:
    """(args, kwargs) with torch's keyword forms normalized to what the handlers read: a varargs
    parameter given by keyword becomes the one positional sequence, numpy's aliases become torch's
    names, ``swapaxes``'s and ``mm``'s names become ``transpose``'s and ``matmul``'s."""
    sig = _SIGNATURES.get(name)
    if sig is None or not kwargs:
        return args, kwargs
    kwargs = dict(kwargs)
    for a, canon in _KW_ALIASES.items():
        if a in kwargs and canon in sig and canon not in kwargs:
            kwargs[canon] = kwargs.pop(a)
    if name == "view" and "dtype" in kwargs:
        raise _Unbound()  # view(dtype=...) reinterprets the elements: unknown
    known = {n.lstrip("*") for n in sig} | _SHAPELESS_KW | _EXTRA_KW.get(name, set())
    if any(k not in known for k in kwargs):
        raise _Unbound()
    if sig and sig[0].startswith("*"):
        key = sig[0][1:]
        if key in kwargs:
            if args:
                raise _Unbound()  # torch rejects both forms at once
            args = [kwargs.pop(key)]
            if name == "new" and isinstance(args[0], (tuple, list)):
                args = list(args[0])  # new(size=(2, 3)) is sizes, where new((2, 3)) is data
    elif name == "swapaxes":
        kwargs = {{"axis0": "dim0", "axis1": "dim1"}.get(k, k): v for k, v in kwargs.items()}
    elif name in ("mm", "bmm") and "mat2" in kwargs and not args:
        args = [kwargs.pop("mat2")]
    elif name == "matmul" and "other" in kwargs and not args:
        args = [kwargs.pop("other")]
    elif name in ("view_as", "reshape_as", "expand_as") and "other" in kwargs and not args:
        args = [kwargs.pop("other")]
    elif name == "new_full" and "size" in kwargs and not args:
        args = [kwargs.pop("size")]
    return args, kwargs


def _method(interp: Any, x: Tensor, name: str, args: List[Any], kwargs: Dict[str, Any], node: Any) -> Any:
    try:
        args, kwargs = bind(name, list(args), kwargs)
    except _Unbound:
        return UNKNOWN if name in ("size", "dim") else Tensor(None)
    if any(a is UNKNOWN for a in args) or any(v is UNKNOWN for v in kwargs.values()):
        if name in ("size", "dim"):
            return UNKNOWN
        if name in _SAME:
            return x if name not in _FLOAT_OF_INT | _INT_OF else x.with_shape(x.shape)
        return Tensor(None)
    handler = _METHODS.get(name)
    if handler is None and name.rstrip("_") in _BINARY:
        handler = _m_binary
    if handler is None:
        raise Unknowable()
    return handler(interp, x, name, args, kwargs, node)


def _m_size(interp, x, name, args, kwargs, node):
    s = T.shape_of(x)
    d = _arg(args, kwargs, 0, "dim")
    if d is None:
        return s
    return s[L.dim_or_violation(d, len(s))]


def _m_dim(interp, x, name, args, kwargs, node):
    return len(T.shape_of(x))


def _m_numel(interp, x, name, args, kwargs, node):
    return T.numel(x)


def _m_same(interp, x, name, args, kwargs, node):
    if name in _FLOAT_OF_INT:
        return Tensor(x.shape, "float", x.batch_dim)
    if x.dtype == "float64" and name in ("to", "type") and any(_dtype_kind(a, None) for a in [*args, *kwargs.values()]):
        # `.to(torch.float32)`, `.type(torch.FloatTensor)`: a float (or long) tensor now
        kind = next(_dtype_kind(a, None) for a in [*args, *kwargs.values()] if _dtype_kind(a, None))
        return Tensor(x.shape, kind, x.batch_dim)
    if name in _INT_OF:
        return Tensor(x.shape, "long", x.batch_dim)
    return x


def _m_view(interp, x, name, args, kwargs, node):
    if len(args) == 1 and isinstance(args[0], Tensor):  # view(dtype) / reshape of a tensor: unknown
        raise Unknowable()
    return T.reshape(x, T.size_list(args), _op_text(interp, node))


def _m_view_as(interp, x, name, args, kwargs, node):
    o = args[0] if args else None
    if not isinstance(o, Tensor):
        raise Unknowable()
    if name == "expand_as":
        return T.expand(x, T.shape_of(o))
    return T.reshape(x, list(T.shape_of(o)), _op_text(interp, node))


def _m_flatten(interp, x, name, args, kwargs, node):
    return T.flatten(x, _arg(args, kwargs, 0, "start_dim", 0), _arg(args, kwargs, 1, "end_dim", -1))


def _m_unflatten(interp, x, name, args, kwargs, node):
    return L.LAYERS["Unflatten"].rule({"dim": _arg(args, kwargs, 0, "dim"),
                                       "unflattened_size": _arg(args, kwargs, 1, "sizes")}, x)


def _m_permute(interp, x, name, args, kwargs, node):
    return T.permute(x, args if args else kwargs.get("dims", ()))


def _m_transpose(interp, x, name, args, kwargs, node):
    return T.transpose(x, _arg(args, kwargs, 0, "dim0"), _arg(args, kwargs, 1, "dim1"))


def _m_t(interp, x, name, args, kwargs, node):
    s = T.shape_of(x)
    if len(s) == 2:
        return T.transpose(x, 0, 1)
    if len(s) < 2:
        return x
    if name == "T":  # deprecated beyond 2-D, but torch still reverses every dim
        return T.permute(x, tuple(range(len(s) - 1, -1, -1)))
    raise Unknowable()  # t() of a 3-D tensor raises


def _m_squeeze(interp, x, name, args, kwargs, node):
    return T.squeeze(x, _arg(args, kwargs, 0, "dim"))


def _m_unsqueeze(interp, x, name, args, kwargs, node):
    return T.unsqueeze(x, _arg(args, kwargs, 0, "dim"))


def _m_reduce(interp, x, name, args, kwargs, node):
    dim = _arg(args, kwargs, 0, "dim")
    keep = _arg(args, kwargs, 1, "keepdim", False)
    if name == "norm":
        dim, keep = _arg(args, kwargs, 1, "dim"), _arg(args, kwargs, 2, "keepdim", False)
    if name in ("std", "var"):
        if isinstance(dim, bool):  # std(unbiased)
            dim, keep = None, False
        else:  # std(dim, unbiased, keepdim): the second positional is `unbiased`
            keep = _arg(args, kwargs, 2, "keepdim", False)
    out = T.reduce(x, dim, need(keep))
    return Tensor(out.shape, "long", out.batch_dim) if name in ("argmax", "argmin") else out


def _m_max(interp, x, name, args, kwargs, node):
    dim = _arg(args, kwargs, 0, "dim")
    if dim is None and "other" in kwargs:
        dim = kwargs["other"]
        if not isinstance(dim, Tensor):
            raise Unknowable()
    if isinstance(dim, Tensor):
        return T.broadcast(x, dim, name)
    if dim is None:
        return Tensor((), x.dtype, None)
    out = T.reduce(x, dim, need(_arg(args, kwargs, 1, "keepdim", False)))
    return (out, Tensor(out.shape, "long", out.batch_dim))


def _m_unknowable(interp, x, name, args, kwargs, node):
    raise Unknowable()


def _m_sort(interp, x, name, args, kwargs, node):
    """``x.sort(dim=-1)``: (values, long indices) of x's shape; ``argsort`` the indices;
    ``topk(k, dim=-1)`` the same with the dim cut to k (a k past it is unknown, not reported)."""
    s = list(T.shape_of(x))
    if name == "topk":
        k = need(_arg(args, kwargs, 0, "k"))
        dim = need(_arg(args, kwargs, 1, "dim", -1))
    else:
        k, dim = None, need(_arg(args, kwargs, 0, "dim", -1))
    if not s:
        raise Unknowable()
    d = L.dim_or_violation(dim, len(s))
    if k is not None:
        if not (isinstance(k, int) and not isinstance(k, bool) and k >= 0) or \
                not (isinstance(s[d], int) and k <= s[d]):
            raise Unknowable()
        s[d] = k
    values = x.with_shape(tuple(s), x.batch_dim if x.batch_dim != d else None)
    indices = Tensor(values.shape, "long", values.batch_dim)
    return indices if name == "argsort" else (values, indices)


def _m_unfold(interp, x, name, args, kwargs, node):
    return T.unfold(x, _arg(args, kwargs, 0, "dimension"), _arg(args, kwargs, 1, "size"),
                    _arg(args, kwargs, 2, "step"))


def _m_binary(interp, x, name, args, kwargs, node):
    o = args[0] if args else kwargs.get("other")
    o = _tensor_like(o)
    if o is None:
        raise Unknowable()
    return T.broadcast(x, o, _BINARY.get(name.rstrip("_"), name))


def _m_matmul(interp, x, name, args, kwargs, node):
    o = _tensor_like(args[0] if args else None)
    if o is None:
        raise Unknowable()
    return T.matmul(x, o, name)


def _m_chunk(interp, x, name, args, kwargs, node):
    return T.chunk(x, _arg(args, kwargs, 0, "chunks"), _arg(args, kwargs, 1, "dim", 0))


def _m_split(interp, x, name, args, kwargs, node):
    return T.split(x, _arg(args, kwargs, 0, "split_size"), _arg(args, kwargs, 1, "dim", 0))


def _m_unbind(interp, x, name, args, kwargs, node):
    s = T.shape_of(x)
    d = L.dim_or_violation(_arg(args, kwargs, 0, "dim", 0), len(s))
    if not isinstance(s[d], int) or s[d] > 64:
        raise Unknowable()
    return tuple(T.index(x, tuple([slice(None)] * d + [i])) for i in range(s[d]))


def _m_expand(interp, x, name, args, kwargs, node):
    return T.expand(x, args if args else kwargs.get("size"))


def _m_repeat(interp, x, name, args, kwargs, node):
    return T.repeat(x, args)


def _m_new(interp, x, name, args, kwargs, node):
    # sizes as varargs or one sequence: new_ones(2, 3, 4) == new_ones((2, 3, 4))
    size = args if args else ([kwargs["size"]] if "size" in kwargs else None)
    return Tensor(tuple(T.size_list(size)) if size else None, x.dtype, None)


def _m_legacy_new(interp, x, name, args, kwargs, node):
    """``x.new(2, 3)`` / ``x.new(x.size())`` (the legacy constructor: sizes as ints or a torch.Size;
    FactorVAE's ``std.data.new(std.size()).normal_()``). A list or tuple is data, not sizes: unknown."""
    if kwargs or not args:
        return Tensor(None)
    if all(D.is_dim(a) for a in args):
        return Tensor(tuple(args), x.dtype, None)
    call_args = getattr(node, "args", None) or ()
    if len(args) == 1 and isinstance(args[0], tuple) and len(call_args) == 1 and \
            all(D.is_dim(a) for a in args[0]) and _is_size_expr(call_args[0].value):
        return Tensor(args[0], x.dtype, None)
    return Tensor(None)


def _is_size_expr(e) -> bool:
    """``t.size()`` or ``t.shape``: a torch.Size, which legacy constructors read as sizes."""
    import libcst as cst

    if isinstance(e, cst.Call) and not e.args:
        e = e.func
        return isinstance(e, cst.Attribute) and e.attr.value == "size"
    return isinstance(e, cst.Attribute) and e.attr.value == "shape"


def _m_new_full(interp, x, name, args, kwargs, node):
    return Tensor(tuple(T.size_list(args[:1])) if args else None, x.dtype, None)


def _m_opaque(interp, x, name, args, kwargs, node):
    return UNKNOWN


# name -> handler; where a name fits several entries the first listed wins (setdefault below).
# A name not listed whose stem without '_' is a binary op (x.eq_(y)) goes to _m_binary.
_METHOD_ENTRIES: List[Tuple[Iterable[str], Handler]] = [
    (("size", "shape"), _m_size),
    (("dim", "ndimension"), _m_dim),
    (("numel",), _m_numel),
    (_SAME, _m_same),
    (("view", "reshape"), _m_view),
    (("view_as", "reshape_as", "expand_as"), _m_view_as),
    (("flatten",), _m_flatten),
    (("unflatten",), _m_unflatten),
    (("permute",), _m_permute),
    (("transpose", "swapaxes", "swapdims"), _m_transpose),
    (("t", "T"), _m_t),
    (("squeeze", "squeeze_"), _m_squeeze),
    (("unsqueeze", "unsqueeze_"), _m_unsqueeze),
    (_REDUCE, _m_reduce),
    (("max", "min", "median", "mode"), _m_max),
    (("sort", "argsort", "topk"), _m_sort),
    (("unfold",), _m_unfold),
    (_BINARY, _m_binary),
    (("matmul", "mm", "bmm"), _m_matmul),
    (("chunk",), _m_chunk),
    (("split",), _m_split),
    (("unbind",), _m_unbind),
    (("expand",), _m_expand),
    (("repeat",), _m_repeat),
    (("new_zeros", "new_ones", "new_empty"), _m_new),
    (("new",), _m_legacy_new),
    (("new_full",), _m_new_full),
    (("item", "tolist", "numpy", "data_ptr", "backward", "register_hook", "element_size", "is_contiguous",
      "get_device", "stride", "storage"), _m_opaque),
]
_METHODS: Dict[str, Handler] = {}
for _names, _handler in _METHOD_ENTRIES:
    for _n in _names:
        _METHODS.setdefault(_n, _handler)


def _tensor_like(o):
    if isinstance(o, Tensor):
        return o
    if isinstance(o, Param):
        return Tensor(o.shape)
    if isinstance(o, (int, float)) or D.is_dim(o):
        return Tensor((), "float")
    return None


def _op_text(interp, node):
    """The operation's name for the facts; the message quotes the source itself, lazily."""
    if node is not None and hasattr(node, "func"):
        f = node.func
        return f.attr.value if hasattr(f, "attr") else getattr(f, "value", "reshape")
    return "reshape"


def _meshgrid(interp, args, kwargs) -> Any:
    """``torch.meshgrid(a, b, indexing='ij')`` of 1-D (or 0-D) tensors sized n1..nk: k tensors of
    shape (n1, ..., nk); with ``indexing='xy'`` the first two sizes swap (torch's rule, checked in
    tests/test_meshgrid.py). A list or tuple of tensors may be passed whole."""
    ops = list(args)
    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
        ops = list(ops[0])
    indexing = kwargs.get("indexing", "ij")
    if not ops or set(kwargs) - {"indexing"} or indexing not in ("ij", "xy"):
        return UNKNOWN
    sizes = []
    for t in ops:
        t = _tensor_like(t)
        if t is None or t.shape is None or len(t.shape) > 1:
            return UNKNOWN  # torch raises for more than one dim; unknown ranks are not guessed
        sizes.append(t.shape[0] if t.shape else 1)
    shape = list(sizes)
    if indexing == "xy" and len(shape) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    return tuple(Tensor(tuple(shape), _tensor_like(t).dtype) for t in ops)


def call_torch_function(interp, name, args, kwargs, node):
    short = name[len("torch."):]
    v = data_function(interp, short, args, kwargs)
    if v is not NotImplemented:
        return v
    if short in _FACTORIES:
        return _FACTORIES[short](args, kwargs)
    if short in ("autograd.Variable", "autograd.variable.Variable") and args and isinstance(args[0], Tensor):
        return args[0]  # the pre-0.4 wrapper: the same tensor
    if short in ("jit.is_scripting", "jit.is_tracing", "_C._get_tracing_state", "onnx.is_in_onnx_export",
                 "compiler.is_compiling", "_dynamo.is_compiling", "compiler.is_dynamo_compiling",
                 "fx._symbolic_trace.is_fx_tracing", "is_grad_enabled", "is_autocast_enabled"):
        # plain eager execution; gradient checkpointing (taken only with grad enabled) computes the
        # same shapes as the plain call it wraps
        return False
    if short in ("utils.checkpoint.checkpoint", "utils.checkpoint") and args:
        # activation checkpointing calls the function on the arguments: same shapes
        return interp.call(args[0], list(args[1:]), {k: v for k, v in kwargs.items()
                                                      if k not in ("use_reentrant", "preserve_rng_state",
                                                                   "determinism_check", "debug",
                                                                   "context_fn")}, node)
    if short == "is_tensor" and len(args) == 1:
        v = args[0]
        if isinstance(v, (Tensor, Param)):
            return True
        return False if v is None or isinstance(v, (int, float, str, list, tuple, dict)) else UNKNOWN
    if short == "jit.annotate" and len(args) == 2:
        return args[1]
    if short.startswith(("jit.", "_assert", "autograd.", "cuda.", "backends.", "manual_seed", "set_",
                         "no_grad", "enable_grad", "inference_mode", "device", "_C.", "utils.")):
        return UNKNOWN
    if short == "Size":
        items = interp.items_of(args[0]) if args else None
        return tuple(items) if items is not None else UNKNOWN
    x = args[0] if args else kwargs.get("tensor" if short == "split" else "input")
    if short == "gather":  # torch.gather(input, dim, index): the index's shape, the input's dtype
        index = args[2] if len(args) > 2 else kwargs.get("index")
        if isinstance(index, Tensor) and isinstance(x, Tensor):
            return Tensor(index.shape, x.dtype)
        return Tensor(None)
    if short.startswith("fft."):
        return _fft(interp, short[4:], args, kwargs, node)
    if short == "nn.functional.scaled_dot_product_attention":
        # (..., L, E) queries and (..., S, Ev) values: (..., L, Ev)
        q = args[0] if args else kwargs.get("query")
        v = args[2] if len(args) > 2 else kwargs.get("value")
        if isinstance(q, Tensor) and isinstance(v, Tensor) and q.shape is not None and v.shape is not None and \
                q.rank == v.rank and q.rank >= 2:
            return Tensor(tuple(q.shape[:-1]) + (v.shape[-1],), q.dtype, q.batch_dim)
        return Tensor(None)
    if short == "addmm" and len(args) >= 3:  # addmm(bias, mat1, mat2): mat1 @ mat2 (bias broadcasts)
        m1, m2 = args[1], args[2]
        if isinstance(m1, Tensor) and isinstance(m2, Tensor) and m1.rank == 2 and m2.rank == 2:
            return interp.tensor_rule(lambda: T.matmul(m1, m2, "torch.addmm"), node)
        return Tensor(None)
    if short == "einsum" and args and isinstance(args[0], str):
        ops = list(args[1:])
        if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
            ops = list(ops[0])
        ts = [_tensor_like(t) for t in ops]
        if not ts or any(t is None or t.shape is None for t in ts):
            return Tensor(None)
        return interp.tensor_rule(lambda: T.einsum(args[0], ts), node)
    if short == "meshgrid":
        return _meshgrid(interp, args, kwargs)
    if short in ("cat", "concat", "concatenate", "stack", "hstack", "vstack"):
        seq = interp.items_of(args[0] if args else kwargs.get("tensors"))
        if seq is None or not seq:
            return Tensor(None)
        ts = [_tensor_like(t) for t in seq]
        dim = _arg(args, kwargs, 1, "dim", kwargs.get("axis", 0))
        if short in ("cat", "concat", "concatenate") and len(ts) > 1 and \
                all(t is not None and t.probe is not None and not t.probe_path for t in ts) and \
                len({t.probe for t in ts}) == len(ts) and isinstance(dim, int) and not isinstance(dim, bool) and \
                not (set(kwargs) - {"tensors", "dim"}):
            # pix2pix's discriminator: torch.cat((img_A, img_B), 1) of two model inputs, then its
            # first conv: each input is that layer's input with channels of its own (engine._probe)
            return Tensor(None, ts[0].dtype, None, ts[0].probe,
                          probe_path=(("cat", dim, tuple(t.probe for t in ts)),))
        if any(t is None or t.shape is None for t in ts):
            return Tensor(None)
        if any(k not in ("tensors", "dim", "axis", "out", "dtype") for k in kwargs):
            return Tensor(None)
        if short in ("hstack", "vstack"):
            return Tensor(None)
        return interp.tensor_rule(lambda: T.concat(ts, need(dim), _op_text(interp, node), stack=short == "stack"),
                                  node)
    if not isinstance(x, (Tensor, Param)):
        return UNKNOWN
    x = _tensor_like(x)
    rest, rk = list(args[1:]), dict(kwargs)
    if not args:
        rk.pop("tensor" if short == "split" else "input", None)
    if short == "split" and "split_size_or_sections" in rk:
        rk["split_size"] = rk.pop("split_size_or_sections")
    if short in ("flatten", "reshape", "transpose", "permute", "squeeze", "unsqueeze", "mean", "sum", "amax",
                 "amin", "max", "min", "matmul", "mm", "bmm", "chunk", "split", "unbind", "std", "var", "prod",
                 "argmax", "argmin", "logsumexp", "norm", "add", "sub", "mul", "div", "maximum", "minimum",
                 "topk", "sort", "argsort",
                 "where", "swapaxes", "t", "masked_fill", "view_as_real", "narrow") or short in _BINARY:
        if short == "reshape" and len(rest) > 1:
            return Tensor(None)  # torch.reshape(x, 2, 3) raises; another rule's business
        if short == "where":
            return Tensor(None)
        if short in ("narrow", "view_as_real"):
            return Tensor(None)
        return call_tensor_method(interp, x, short, rest, rk, node)
    if short in ("pow", "float_power") and len(rest) == 1 and isinstance(rest[0], (int, float)) and \
            not isinstance(rest[0], bool):
        return x  # torch.pow(x, 3.0): elementwise with a number
    if short in ("sigmoid", "tanh", "relu", "exp", "log", "abs", "sqrt", "clamp", "clone", "detach", "softmax",
                 "log_softmax", "dropout", "neg", "sign", "erf", "square", "cumsum", "flip", "roll",
                 "nan_to_num", "clip", "sin", "cos", "floor", "ceil", "round", "rsqrt", "real", "conj"):
        return x
    return UNKNOWN


_FFT_ONE = {"fft", "ifft", "rfft", "irfft", "hfft", "ihfft"}
_FFT_MANY = {"fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn"}


def _fft(interp, name, args, kwargs, node):
    """``torch.fft.*``: the transformed dims keep their size (``n``/``s`` given: that size), but a
    real-to-complex transform's last one becomes ``n // 2 + 1`` and its inverse's ``2 * (m - 1)``
    (torch's defaults); ``fftshift``/``ifftshift`` keep the shape. The result is complex
    (``irfft``/``hfft``: real). A transform whose sizes are not all known is unknown."""
    x = args[0] if args else kwargs.get("input")
    if not isinstance(x, (Tensor, Param)):
        return UNKNOWN
    x = _tensor_like(x)
    if name in ("fftshift", "ifftshift"):
        return x
    many = name in _FFT_MANY
    if name not in _FFT_ONE and not many:
        return UNKNOWN
    if x.shape is None or len(args) > 4 or \
            any(k not in ("input", "n", "s", "dim", "norm", "out") for k in kwargs):
        return Tensor(None)
    rank = len(x.shape)
    size = _arg(args, kwargs, 1, "s" if many else "n")
    dims = _arg(args, kwargs, 2, "dim", None if many else -1)
    if many:
        if dims is None:
            if name.endswith("2"):
                dims = (-2, -1)
            elif size is not None:
                items = interp.items_of(size)
                if items is None:
                    return Tensor(None)
                dims = tuple(range(-len(items), 0))
            else:
                dims = tuple(range(-rank, 0)) if rank else ()
        dims = interp.items_of(dims)
        sizes = None if size is None else interp.items_of(size)
        if dims is None or size is not None and (sizes is None or len(sizes) != len(dims)):
            return Tensor(None)
    else:
        dims = [dims]
        sizes = None if size is None else [size]
    if not dims or not all(isinstance(d, int) and not isinstance(d, bool) and -rank <= d < rank for d in dims):
        return Tensor(None)
    dims = [d % rank for d in dims]
    if len(set(dims)) != len(dims):
        return Tensor(None)
    shape = list(x.shape)
    for i, d in enumerate(dims):
        if sizes is not None:
            n = sizes[i]
            if not (isinstance(n, int) and not isinstance(n, bool) and n > 0 or D.is_dim(n) and not isinstance(n, int)):
                if n is not None and not (isinstance(n, int) and n == -1):
                    return Tensor(None)
                n = None
            if n is not None:
                shape[d] = n
    last = dims[-1]
    m = shape[last] if sizes is None or sizes[-1] in (None, -1) else None
    if name in ("rfft", "rfft2", "rfftn", "ihfft"):
        shape[last] = D.add(D.floordiv(shape[last], 2), 1) if D.is_dim(shape[last]) else None
    elif name in ("irfft", "irfft2", "irfftn", "hfft") and m is not None:
        # torch refuses fewer than one output point: leave that to torch (unknown, not reported)
        shape[last] = D.mul(D.sub(m, 1), 2) if D.is_dim(m) and not (isinstance(m, int) and m < 2) else None
    if any(s is None for s in shape):
        return Tensor(None)
    real_out = name in ("irfft", "irfft2", "irfftn", "hfft")
    return Tensor(tuple(shape), "float" if real_out else "complex", x.batch_dim if x.batch_dim not in dims else None)


def _shape_from(args, kwargs):
    if "size" in kwargs:
        args = [kwargs["size"]]
    return tuple(T.size_list(args))


def _dtype_kind(v, default):
    """'long' for integer and bool dtypes (index tensors), 'float' for the rest."""
    from ...core.values import Qual

    if isinstance(v, Qual):
        short = v.name.rsplit(".", 1)[-1]
        return "long" if short in ("long", "int", "int64", "int32", "int16", "int8", "uint8", "bool",
                                   "short") else "float"
    return default


def _factory(dtype="float"):
    def f(args, kwargs):
        kind = _dtype_kind(kwargs.get("dtype"), dtype)
        try:
            return Tensor(_shape_from(args, kwargs), kind)
        except Unknowable:
            return Tensor(None, kind)
    return f


def _full(args, kwargs):
    try:
        return Tensor(tuple(T.size_list(args[:1] if args else [kwargs.get("size")])), "float")
    except Unknowable:
        return Tensor(None)


def _randint(args, kwargs):
    size = kwargs.get("size")
    if size is None:
        for a in args:
            if isinstance(a, (tuple, list)):
                size = a
    try:
        return Tensor(tuple(T.size_list([size])), "long") if size is not None else Tensor(None, "long")
    except Unknowable:
        return Tensor(None, "long")


def _like(args, kwargs):
    x = args[0] if args else kwargs.get("input")
    return Tensor(x.shape, x.dtype) if isinstance(x, Tensor) else UNKNOWN


def _arange(args, kwargs):
    """torch.arange(end) / (start, end[, step]), positional or by keyword: a 1-D tensor of
    ceil((end - start) / step) elements (a symbolic end from 0 by 1 gives that many)."""
    a = list(args)
    if len(a) == 1:
        start, end, step = kwargs.get("start", 0), a[0], kwargs.get("step", 1)
    else:
        start = a[0] if a else kwargs.get("start", 0)
        end = a[1] if len(a) > 1 else kwargs.get("end")
        step = a[2] if len(a) > 2 else kwargs.get("step", 1)
    nums = (int, float)
    dtype = kwargs.get("dtype")
    floaty = (isinstance(dtype, Qual) and dtype.name.startswith("torch.float")) or \
        any(isinstance(v, float) for v in (start, end, step))
    kind = "float" if floaty else "long"
    if all(isinstance(v, nums) and not isinstance(v, bool) for v in (start, end, step)) and step != 0:
        return Tensor((max(_math.ceil((end - start) / step), 0),), kind)
    if start == 0 and step == 1 and D.is_dim(end):
        return Tensor((end,), kind)
    return Tensor(None, kind)


def _eye(args, kwargs):
    """``torch.eye(n)`` / ``torch.eye(n, m)``: an n x m (n x n) float matrix (MeanShift's
    ``torch.eye(3).view(3, 3, 1, 1)``)."""
    n = args[0] if args else kwargs.get("n")
    m = args[1] if len(args) > 1 else kwargs.get("m", n)
    if set(kwargs) - {"n", "m", "dtype", "device", "requires_grad"} or len(args) > 2:
        return Tensor(None)
    dims = []
    for v in (n, m):
        if isinstance(v, int) and not isinstance(v, bool) and v >= 0 or D.is_dim(v):
            dims.append(v)
        else:
            return Tensor(None)
    return Tensor(tuple(dims), _dtype_kind(kwargs.get("dtype"), "float") or "float")


def _legacy(kind):
    """``torch.Tensor(2, 3, 32, 32)`` / ``torch.FloatTensor(...)``: sizes as ints; one numpy array
    of a known shape (:class:`NDArray`) is its data (converted to the constructor's type); a list
    is data too, of unknown shape here."""
    def f(args, kwargs):
        if len(args) == 1 and isinstance(args[0], NDArray) and not kwargs:
            return Tensor(args[0].shape, kind)
        if len(args) == 1 and isinstance(args[0], Tensor) and not kwargs:
            # `torch.Tensor(torch.zeros(B, N, gap))`: a tensor of the same shape (converted)
            return Tensor(args[0].shape, kind, args[0].batch_dim)
        if args and all(isinstance(a, int) and not isinstance(a, bool) or D.is_dim(a) for a in args) and not kwargs:
            try:
                return Tensor(tuple(T.size_list(args)), kind)
            except Unknowable:
                pass
        return Tensor(None, kind)
    return f


def _from_array(args, kwargs):
    """``torch.tensor(arr, dtype=torch.float32)``: the array's shape when the dtype makes it the
    default float (numpy's float64 would stay double, which a float model refuses)."""
    if args and isinstance(args[0], NDArray) and _dtype_kind(kwargs.get("dtype"), None) == "float" and \
            str(getattr(kwargs.get("dtype"), "name", "")).rsplit(".", 1)[-1] in ("float", "float32"):
        return Tensor(args[0].shape, "float")
    if len(args) == 1 and not set(kwargs) - {"device"} and isinstance(args[0], NDArray) and \
            args[0].kind in _ARRAY_DTYPES:
        return Tensor(args[0].shape, _ARRAY_DTYPES[args[0].kind])
    return Tensor(None)


_ARRAY_DTYPES = {"int": "long", "bool": "bool", "float32": "float", "float": "float64"}


def _from_numpy(args, kwargs):
    """``torch.from_numpy(arr)``: the array's shape; numpy's default float64 makes a double tensor
    (dtype 'float64': a layer with float parameters refuses it before any shape,
    modules.apply_layer; ``.float()`` makes it float)."""
    if len(args) == 1 and not kwargs and isinstance(args[0], NDArray) and args[0].kind in _ARRAY_DTYPES:
        return Tensor(args[0].shape, _ARRAY_DTYPES[args[0].kind])
    return Tensor(None)


_FACTORIES = {
    "randn": _factory(), "rand": _factory(), "zeros": _factory(), "ones": _factory(), "empty": _factory(),
    "full": _full, "randint": _randint, "zeros_like": _like, "ones_like": _like, "empty_like": _like,
    "randn_like": _like, "rand_like": _like, "full_like": _like, "arange": _arange, "eye": _eye,
    "tensor": _from_array, "as_tensor": _from_array,
    "from_numpy": _from_numpy, "LongTensor": _legacy("long"),
    "FloatTensor": _legacy("float"), "Tensor": _legacy("float"),
}


# ------------------------------------------------------------------------------------------------
# Small constant tensors: enough of torch's arithmetic for width schedules computed with tensors.
# Values are kept as float32 (torch's default dtype) or int64, rounded after every operation.
# ------------------------------------------------------------------------------------------------

import math as _math
import struct as _struct

MAX_DATA = 4096


def _f32(v: float) -> float:
    return _struct.unpack("f", _struct.pack("f", v))[0]


def data_tensor(values, dtype) -> Tensor:
    vals = tuple(int(v) for v in values) if dtype == "long" else tuple(_f32(float(v)) for v in values)
    return Tensor((len(vals),), dtype, None, None, vals)


def _as_data(v):
    """(values, dtype, is_scalar) of a constant tensor or a Python number, else None."""
    if isinstance(v, Tensor) and v.data is not None:
        return v.data, v.dtype, False
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return (v,), ("long" if isinstance(v, int) else "float"), True


def data_binop(op: str, a, b):
    """Element-wise arithmetic with torch's type promotion; NotImplemented if not constant."""
    da, db = _as_data(a), _as_data(b)
    if da is None or db is None or (da[2] and db[2]):
        return NotImplemented
    (xa, ta, sa), (xb, tb, sb) = da, db
    n = max(len(xa), len(xb))
    if not (len(xa) in (1, n) and len(xb) in (1, n)) or (sa and sb):
        return NotImplemented
    xa = xa * n if len(xa) == 1 else xa
    xb = xb * n if len(xb) == 1 else xb
    fn = {"Add": lambda x, y: x + y, "Subtract": lambda x, y: x - y, "Multiply": lambda x, y: x * y,
          "Divide": lambda x, y: x / y, "Power": lambda x, y: x ** y, "FloorDivide": lambda x, y: x // y,
          "Modulo": lambda x, y: x % y}.get(op)
    if fn is None:
        return NotImplemented
    dtype = "long" if ta == tb == "long" and op != "Divide" else "float"
    try:
        return data_tensor([fn(x, y) for x, y in zip(xa, xb)], dtype)
    except (ArithmeticError, ValueError, OverflowError):
        return NotImplemented


def _round_half_even(v: float) -> float:
    return float(round(v))  # torch.round rounds half to even, as Python does


def data_method(x: Tensor, name, args, kwargs):
    vals: Any = x.data
    if name == "tolist":
        return list(vals)
    if name in ("int", "long"):
        return data_tensor([int(v) for v in vals], "long")  # truncation toward zero, as torch
    if name == "float":
        return data_tensor(vals, "float")
    if name == "round":
        return data_tensor([_round_half_even(v) for v in vals], x.dtype)
    if name == "split" and len(args) == 1 and not kwargs and isinstance(args[0], (list, tuple)) and \
            all(isinstance(n, int) and not isinstance(n, bool) for n in args[0]) and sum(args[0]) == len(vals):
        out, i = [], 0  # torch.linspace(...).split(depths): a stochastic-depth schedule per stage
        for n in args[0]:
            out.append(data_tensor(vals[i:i + n], x.dtype))
            i += n
        return tuple(out)
    if name in ("size", "shape"):
        return NotImplemented
    if name in ("sum",) and not args:
        return NotImplemented
    return NotImplemented


def _long_or_none(dt) -> bool:
    return dt is None or (isinstance(dt, Qual) and dt.name in ("torch.long", "torch.int64"))


def data_function(interp, short, args, kwargs):
    if short == "arange" and set(kwargs) <= {"dtype"} and _long_or_none(kwargs.get("dtype")) and 1 <= len(args) <= 3 and all(
            isinstance(a, int) and not isinstance(a, bool) for a in args):
        r = range(*args)
        return data_tensor(r, "long") if 0 < len(r) <= MAX_DATA else NotImplemented
    if short == "linspace" and len(args) == 3 and set(kwargs) <= {"device"} and \
            all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args) and \
            isinstance(args[2], int) and 0 < args[2] <= MAX_DATA:
        a, b, n = args
        f32 = lambda v: _struct.unpack("f", _struct.pack("f", v))[0]  # noqa: E731  (float32, as torch)
        return data_tensor([f32(a + (b - a) * i / (n - 1)) if n > 1 else float(a) for i in range(n)], "float")
    if short in ("Tensor", "FloatTensor", "LongTensor") and len(args) == 1 and not kwargs and \
            not isinstance(args[0], (int, Tensor)) and not D.is_dim(args[0]):
        # torch.Tensor([0.4488, 0.4371, 0.4040]): a list is the data (an int would be a size)
        items = interp.items_of(args[0])
        if items and len(items) <= MAX_DATA and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                   for v in items):
            if short == "LongTensor" and not all(isinstance(v, int) for v in items):
                return NotImplemented
            return data_tensor([float(v) for v in items] if short != "LongTensor" else items,
                               "long" if short == "LongTensor" else "float")
        return NotImplemented
    if short == "tensor" and len(args) == 1 and set(kwargs) <= {"device"}:
        items = interp.items_of(args[0])
        if items and len(items) <= MAX_DATA and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                   for v in items):
            return data_tensor(items, "long" if all(isinstance(v, int) for v in items) else "float")
        return NotImplemented
    x = args[0] if args else None
    if not isinstance(x, Tensor) or x.data is None:
        if short == "pow" and len(args) == 2 and isinstance(args[1], Tensor) and args[1].data is not None:
            return data_binop("Power", args[0], args[1])
        return NotImplemented
    if short in ("log", "exp", "sqrt", "round", "floor", "ceil") and len(args) == 1:
        fn = {"log": _math.log, "exp": _math.exp, "sqrt": _math.sqrt, "round": _round_half_even,
              "floor": _math.floor, "ceil": _math.ceil}[short]
        try:
            return data_tensor([fn(v) for v in x.data], "float" if short not in ("round", "floor", "ceil")
                               or x.dtype == "float" else x.dtype)
        except (ValueError, OverflowError):
            return NotImplemented
    if short in ("divide", "div", "true_divide") and len(args) == 2:
        return data_binop("Divide", args[0], args[1])
    if short in ("mul", "multiply") and len(args) == 2:
        return data_binop("Multiply", args[0], args[1])
    if short == "pow" and len(args) == 2:
        return data_binop("Power", args[0], args[1])
    if short == "unique" and len(args) == 1 and set(kwargs) <= {"return_counts", "sorted"}:
        vals = sorted(set(x.data))  # torch.unique sorts (timm RegNet's stage widths and depths)
        out = data_tensor(vals, x.dtype)
        if kwargs.get("return_counts") is True:
            return out, data_tensor([list(x.data).count(v) for v in vals], "long")
        return out
    if short == "diff" and len(args) == 1:
        d = [b - a for a, b in zip(x.data, x.data[1:])]
        return data_tensor(d, x.dtype) if d else NotImplemented
    return NotImplemented
