"""The torch framework: the hooks the interpreter calls (see lint/frameworks/__init__.py), for
qualified names under ``torch.``, tensors and parameters (attributes, indexing, operators,
methods), ``isinstance`` on torch classes, and nn.Module instances (modules.py)."""
from __future__ import annotations

import libcst as cst

from typing import Any, Optional, cast

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...core.interpreter import Interpreter
from ...core.frames import Frame
from ...core.objects import SuperRef
from ...core import dims as D
from ...core.source import ClassInfo, dotted
from ...core.values import (UNKNOWN, BoundMethod, ClassValue, FunctionValue, ModuleValue, ObjectValue, Param, Partial,
                             Qual, Tensor)
from .. import NOT_MINE, Framework, register
from . import layers as L
from . import einops_ops as E
from . import libraries
from . import tensor_ops as T
from .modules import (_CONTAINER_BASES, _CONTAINERS, _add_child, _as_tensor, _call_module, _canonical_nn,
                      _container, _fill_container, _init_torch_base, _run_sequential, apply_layer, call_functional,
                      clone_module, container_kind, make_layer, module_attr, module_method, seq_items, torch_base)

_OP_TEXT = {"Add": "+", "Subtract": "-", "Multiply": "*", "Divide": "/", "FloorDivide": "//", "Modulo": "%",
            "Power": "**", "BitAnd": "&", "BitOr": "|", "BitXor": "^"}

_MODULE_API = {"training", "forward", "modules", "children", "named_modules", "named_children", "parameters",
               "named_parameters", "buffers", "named_buffers", "state_dict", "load_state_dict", "to", "cuda",
               "cpu", "eval", "train", "apply", "register_buffer", "register_parameter", "add_module",
               "register_module", "zero_grad", "requires_grad_", "half", "float", "double", "type",
               "get_submodule", "get_parameter", "extra_repr", "dump_patches", "call_super_init"}


def call_torch(interp: Interpreter, name, args, kwargs, node) -> Any:
    from .tensor_methods import call_torch_function
    return call_torch_function(interp, name, args, kwargs, node)


def instantiate_user_module(interp: Interpreter, info: ClassInfo, base: str, args, kwargs, node) -> ModuleValue:
    """An instance of a user class deriving from ``base`` (a canonical torch.nn name)."""
    kind = _CONTAINER_BASES.get(base, "user")
    m = ModuleValue("user", info.name, cls=info, node=node)
    m.attrs["__container__"] = kind
    m.attrs["__torch_base__"] = base
    init = interp.class_attr(info, "__init__", instance=m)
    if isinstance(init, FunctionValue):
        libraries.register_to_config(interp, m, init, args, kwargs)  # diffusers' self.config
        _note_image_size(interp, m, init, args, kwargs)
        if interp.call_function(init, args, kwargs, node) is UNKNOWN:
            # arguments it does not accept, or it raises: a shell, not the model (coverage says so)
            m.attrs["__init_failed__"] = True
    elif kind != "user":
        _fill_container(interp, m, kind, args)
    else:
        _init_torch_base(interp, m, args, kwargs, node)
    return m


_IMAGE_SIZE_PARAMS = ("image_size", "img_size", "input_resolution", "image_resolution")
# a name that is the image size only where the constructor says so: MobileNetV2's and ShuffleNetV2's
# `input_size=224` with `assert input_size % 32 == 0` (an LSTM's or an MLP's input_size is features)
_ASSERTED_SIZE_PARAMS = ("input_size",)


def _asserted_divisible(init: FunctionValue, name: str) -> bool:
    """Whether ``__init__`` asserts ``name % k == 0`` (k an int of at least 2)."""
    def walk(node) -> bool:
        if isinstance(node, cst.Assert):
            t = node.test
            if isinstance(t, cst.Comparison) and len(t.comparisons) == 1 and \
                    isinstance(t.comparisons[0].operator, cst.Equal) and \
                    isinstance(t.comparisons[0].comparator, cst.Integer) and \
                    t.comparisons[0].comparator.evaluated_value == 0 and \
                    isinstance(t.left, cst.BinaryOperation) and isinstance(t.left.operator, cst.Modulo) and \
                    isinstance(t.left.left, cst.Name) and t.left.left.value == name and \
                    isinstance(t.left.right, cst.Integer) and t.left.right.evaluated_value >= 2:
                return True
        return any(walk(c) for c in node.children)

    return walk(init.node.body)


def _note_image_size(interp: Interpreter, m: ModuleValue, init: FunctionValue, args, kwargs) -> None:
    """A model built with the image size it takes (a ViT's ``image_size=224``, timm's ``img_size``):
    kept as ``__image_size__`` (an int or an (h, w) pair), the input engine._declared_input gives
    a model no input shape was given for."""
    params = init.node.params
    names = [p.name.value for p in list(params.posonly_params) + list(params.params) + list(params.kwonly_params)]
    known = [n for n in _IMAGE_SIZE_PARAMS if n in names] + \
        [n for n in _ASSERTED_SIZE_PARAMS if n in names and _asserted_divisible(init, n)]
    if not known:
        return
    frame = Frame(src=init.scope)
    interp.speculative += 1  # binding only: nothing recorded
    try:
        if not interp.bind_params(params, [m] + list(args), kwargs, frame):
            return
    finally:
        interp.speculative -= 1
    for n in known:
        if n in frame.locals:
            m.attrs["__image_size__"] = frame.locals[n]
            return


# torch's own int-or-tuple helpers (`from torch.nn.modules.utils import _triple`), as user code
# calls them to spell a Conv3d's kernel
_NTUPLE = {f"torch.nn.modules.{m}.{f}": n for m in ("utils", "conv", "pooling")
           for f, n in (("_single", 1), ("_pair", 2), ("_triple", 3), ("_quadruple", 4))}


def _ntuple(n: int, args, kwargs) -> Any:
    """torch's ``_ntuple(n)``: an iterable as a tuple, anything else repeated n times."""
    if len(args) != 1 or kwargs or args[0] is UNKNOWN:
        return UNKNOWN
    x = args[0]
    if isinstance(x, (list, tuple)):
        return tuple(x)
    if isinstance(x, (int, float, bool)) or x is None or D.is_dim(x):
        return tuple([x] * n)
    return UNKNOWN


_XAVIER = {f"torch.nn.init.{f}{u}" for f in ("xavier_normal", "xavier_uniform") for u in ("_", "")}


def _xavier_fans(interp: Interpreter, w: Any, node) -> None:
    """torch's xavier init divides by fan_in + fan_out: 0 for a conv weight with a 0 kernel
    (`init.xavier_normal(m.weight)` after `kernel_size=0`), a ZeroDivisionError while building."""
    shape = w.shape if isinstance(w, (Param, Tensor)) else None
    if not shape or len(shape) < 2 or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
        return
    field = 1
    for d in shape[2:]:
        field *= d
    if (shape[0] + shape[1]) * field == 0:
        from ...rules.shp009_construction_error import DivisionByZero

        interp.construction_error(DivisionByZero("/", 2.0), node)


# re-parametrizations of a layer's weight: the same module comes back, its shapes unchanged
_REPARAMETRIZE = {f"torch.nn.utils.{f}" for f in ("weight_norm", "spectral_norm", "remove_weight_norm",
                                                  "remove_spectral_norm")} | \
    {f"torch.nn.utils.parametrizations.{f}" for f in ("weight_norm", "spectral_norm", "orthogonal")}


def _reparametrized(canon: str, args, kwargs) -> Any:
    """``nn.utils.spectral_norm(nn.Conv2d(...))`` (SNGAN, SAGAN), ``weight_norm`` (MelGAN, WaveNet):
    the module itself. weight_norm replaces ``weight`` by ``weight_g`` and ``weight_v``: torchinfo
    counts those, torchsummary the computed weight, so the layer's parameter count is left unknown;
    spectral_norm keeps the count (``weight_orig``; u and v are buffers)."""
    m = args[0] if args else kwargs.get("module", UNKNOWN)
    if not isinstance(m, ModuleValue):
        return UNKNOWN
    if (canon.endswith(".weight_norm") or ".parametrizations." in canon) and m.kind == "layer" and m.args is not None:
        # (parametrizations hold the weight in a child ParametrizationList: counted unknown too)
        m.args = dict(m.args, __params_unknown__=True)
    elif canon == "torch.nn.utils.spectral_norm" and m.kind == "layer":
        name = args[1] if len(args) > 1 else kwargs.get("name", "weight")
        if isinstance(name, str):
            m.attrs["__reparametrized__"] = name  # named_parameters(): weight_orig
    return m


def call_qual(interp: Interpreter, name: str, args, kwargs, node) -> Any:
    """torch.nn layers, containers and Parameter; torch functions; NOT_MINE for other names."""
    if name.startswith("einops."):
        return call_einops(interp, name, args, kwargs, node)
    if name == "copy.deepcopy" and len(args) == 1 and not kwargs and isinstance(args[0], ModuleValue):
        c = clone_module(args[0])
        return c if c is not None else UNKNOWN
    if not name.startswith("torch"):
        return NOT_MINE
    if name in _NTUPLE:
        return _ntuple(_NTUPLE[name], args, kwargs)
    if name in _XAVIER and args:
        _xavier_fans(interp, args[0], node)
    canon = _canonical_nn(name)
    short = canon.rsplit(".", 1)[-1]
    if canon in _REPARAMETRIZE:
        return _reparametrized(canon, args, kwargs)
    if name.endswith(".__init__") and _canonical_nn(name[:-9]).count(".") == 2 and \
            _canonical_nn(name[:-9]).startswith("torch.nn."):
        return _explicit_base_init(interp, _canonical_nn(name[:-9]), args, kwargs, node)
    if canon.startswith("torch.nn.") and canon.count(".") == 2 and short in L.LAYERS:
        return make_layer(interp, L.LAYERS[short], args, kwargs, node)
    if canon in ("torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict"):
        kind = canon.rsplit(".", 1)[1].lower()
        m = ModuleValue(kind, short, node=node)
        _fill_container(interp, m, kind, args)
        return m
    if canon in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
        t = args[0] if args else kwargs.get("data", UNKNOWN)
        rg = kwargs.get("requires_grad", args[1] if len(args) > 1 else True)
        shape = t.shape if isinstance(t, Tensor) else None
        return Param(shape, rg if isinstance(rg, bool) else True)
    if canon in ("torch.nn.Buffer", "torch.nn.parameter.Buffer"):  # a buffer is its tensor
        return args[0] if args else kwargs.get("data", UNKNOWN)
    if canon == "torch.nn.Module":
        return UNKNOWN
    if canon == "torch.nn.Transformer.generate_square_subsequent_mask":
        sz = args[0] if args else kwargs.get("sz", UNKNOWN)
        return Tensor((sz, sz), "float", None) if isinstance(sz, int) and not isinstance(sz, bool) else Tensor(None)
    if canon.startswith("torch.nn.") and canon.count(".") == 2 and short[:1].isupper():
        return ModuleValue("opaque", short, node=node)
    if name.startswith("torch.") and any(isinstance(a, Tensor) and a.data is not None for a in args):
        from .tensor_methods import data_function

        v = data_function(interp, name[6:], args, kwargs)
        if v is not NotImplemented:
            return v
    if name in L.FUNCTIONS:
        return call_functional(interp, L.FUNCTIONS[name], args, kwargs, node)
    if name.startswith("torch."):
        return call_torch(interp, name, args, kwargs, node)
    if name.startswith(("torchsummary.", "torchinfo.")):
        return None  # summary(model, ...) in the analysed file does nothing to the model
    return NOT_MINE


_EINOPS_LAYERS = {
    "Rearrange": L.LayerSpec("Rearrange", (), lambda a, x: E.transform("rearrange", x, a["pattern"], a["lengths"])),
    "Reduce": L.LayerSpec("Reduce", (), lambda a, x: E.transform("reduce", x, a["pattern"], a["lengths"])),
}


def call_einops(interp: Interpreter, name: str, args, kwargs, node) -> Any:
    """einops functions and its torch layers, from their pattern strings (einops_ops.py)."""
    short = name.rsplit(".", 1)[-1]
    if name in ("einops.layers.torch.Rearrange", "einops.layers.torch.Reduce"):
        lengths = dict(kwargs)
        pattern = args[0] if args else lengths.pop("pattern", UNKNOWN)
        if short == "Reduce":
            if len(args) < 2:
                lengths.pop("reduction", None)
            if len(args) > 2:
                return ModuleValue("opaque", short, node=node)
        elif len(args) > 1:
            return ModuleValue("opaque", short, node=node)
        m = ModuleValue("layer", short, spec=_EINOPS_LAYERS[short], node=node)
        m.args = {"pattern": pattern, "lengths": lengths}
        return m
    if name.startswith("einops.layers."):
        return ModuleValue("opaque", short, node=node)
    if short in ("rearrange", "reduce", "repeat"):
        lengths = dict(kwargs)
        x = args[0] if args else lengths.pop("tensor", UNKNOWN)
        pattern = args[1] if len(args) > 1 else lengths.pop("pattern", UNKNOWN)
        if short == "reduce":
            if len(args) <= 2:
                lengths.pop("reduction", None)
        if len(args) > (3 if short == "reduce" else 2):
            return Tensor(None)
        x = _as_tensor(x) if isinstance(x, (Tensor, Param)) else None
        if x is None:
            return Tensor(None)  # a list of tensors (stacked by einops): not modelled
        if x.probe is not None:  # a model input first rearranged: the layer after it tells (engine._probe)
            step = E.probe_step(pattern, lengths) if short == "rearrange" else None
            return Tensor(None) if step is None else \
                Tensor(None, x.dtype, None, x.probe, probe_path=x.probe_path + (step,))
        return interp.tensor_rule(lambda: E.transform(short, x, pattern, lengths), node)
    if short == "einsum" and args and not kwargs:
        tensors = [_as_tensor(a) if isinstance(a, (Tensor, Param)) else a for a in args[:-1]]
        return interp.tensor_rule(lambda: E.einsum(tensors, args[-1]), node)
    if short == "pack" and len(args) == 2 and not kwargs:
        items = interp.items_of(args[0])
        if items is None:
            return UNKNOWN
        tensors = [_as_tensor(a) if isinstance(a, (Tensor, Param)) else a for a in items]
        out = interp.tensor_rule(lambda: E.pack(tensors, args[1]), node)
        return out if isinstance(out, tuple) else UNKNOWN
    if short == "unpack" and len(args) == 3 and not kwargs:
        x = _as_tensor(args[0]) if isinstance(args[0], (Tensor, Param)) else None
        out = interp.tensor_rule(lambda: E.unpack(x, args[1], args[2]), node)
        return out if isinstance(out, list) else UNKNOWN
    return UNKNOWN


def _explicit_base_init(interp: Interpreter, base: str, args, kwargs, node) -> Any:
    """``nn.Linear.__init__(self, i, o)`` in a user class's ``__init__`` (the older spelling of
    ``super().__init__``, and the only one for a class with two bases, ``class SNLinear(nn.Linear,
    SN)``): as super() reaching that base. Only the class's own torch base is initialised;
    ``nn.Module.__init__(self)`` is a no-op; anything else is unknown."""
    m = args[0] if args else None
    if not isinstance(m, ModuleValue) or m.kind != "user":
        return UNKNOWN
    if base == "torch.nn.Module":
        return None
    if _canonical_nn(m.attrs.get("__torch_base__", "")) != base:
        return UNKNOWN
    kind = m.attrs.get("__container__", "user")
    if kind != "user":
        _fill_container(interp, m, kind, list(args[1:]))
    else:
        _init_torch_base(interp, m, list(args[1:]), kwargs, node)
    return None


def call_super(interp: Interpreter, ref: SuperRef, name: str, args, kwargs, node) -> Any:
    """super().name(...) reaching torch's own base class: nn.Module.__init__ is a no-op,
    containers fill, a layer base binds its arguments; forward runs the base's own."""
    inst = ref.instance
    kind = inst.attrs.get("__container__", "user")
    if name == "__init__" and kind != "user":
        _fill_container(interp, inst, kind, args)
    elif name == "__init__" and kind == "user":
        _init_torch_base(interp, inst, args, kwargs, node)
    elif name == "forward" and kind == "sequential":
        return _run_sequential(interp, inst, args, kwargs, node)
    elif name == "forward" and inst.spec is not None:
        return apply_layer(interp, inst, args, kwargs, node)
    elif name != "__init__":
        return UNKNOWN
    return None


# ------------------------------------------------------------------ tensors and parameters


def tensor_attr(interp: Interpreter, obj: Any, attr: str, node) -> Any:
    if isinstance(obj, Tensor):
        if attr == "shape":
            return obj.shape if obj.shape is not None else UNKNOWN
        if attr == "ndim":
            return obj.rank if obj.rank is not None else UNKNOWN
        if attr in ("T", "mT"):
            if attr == "T" and obj.rank is not None and obj.rank > 2:  # torch reverses every dim
                return interp.tensor_rule(lambda: T.permute(obj, tuple(range(obj.rank - 1, -1, -1))), node)
            return interp.tensor_rule(lambda: T.transpose(obj, -2, -1) if obj.rank and obj.rank >= 2 else obj, node)
        if attr in ("data", "real"):
            return obj
        if attr in ("dtype", "device", "is_cuda", "requires_grad", "grad"):
            return UNKNOWN
        return BoundMethod(obj, attr)
    if isinstance(obj, Param):
        if attr == "shape":
            return obj.shape if obj.shape is not None else UNKNOWN
        if attr == "data":
            return _as_tensor(obj)
        if attr == "requires_grad":
            return obj.requires_grad
        if attr == "requires_grad_":
            return BoundMethod(obj, attr)
        return BoundMethod(_as_tensor(obj), attr)
    return NOT_MINE


def getitem(interp: Interpreter, obj: Any, key: Any, node) -> Any:
    if isinstance(obj, Tensor):
        return interp.tensor_rule(lambda: T.index(obj, key), node)
    if isinstance(obj, Param):
        return interp.tensor_rule(lambda: T.index(cast(Tensor, _as_tensor(obj)), key), node)
    if isinstance(obj, ModuleValue):
        if obj.uncertain:
            return UNKNOWN
        kind = container_kind(obj)
        kids = seq_items(obj) if kind in ("sequential", "modulelist") else list(obj.children.values())
        if kids is None:
            return UNKNOWN
        if kind in ("sequential", "modulelist"):
            if isinstance(key, int) and not isinstance(key, bool) and -len(kids) <= key < len(kids):
                return kids[key]
            if isinstance(key, slice):
                return _container("sequential" if kind == "sequential" else "modulelist", kids[key])
        if kind == "moduledict" and isinstance(key, str):
            return obj.children.get(key, UNKNOWN)
        return UNKNOWN
    return NOT_MINE


def items_of(interp: Interpreter, v: Any) -> Any:
    if isinstance(v, ModuleValue):
        if v.uncertain:
            return None
        kind = container_kind(v)
        if kind in ("sequential", "modulelist"):
            return seq_items(v)
        if kind == "moduledict":
            return list(v.children.keys())
        return None
    if isinstance(v, Tensor):
        s = v.shape
        if s and isinstance(s[0], int) and s[0] <= 64:
            return [T.index(v, i) for i in range(s[0])]
        return None
    return NOT_MINE


def binop(interp: Interpreter, op: str, a: Any, b: Any, node) -> Any:
    from .tensor_methods import data_binop

    for x, y in ((a, b), (b, a)):
        if isinstance(x, Tensor) and x.probe is not None and isinstance(y, (int, float)) and \
                not isinstance(y, bool) and op in ("Add", "Subtract", "Multiply", "Divide"):
            # self.model(input * 255): the layer after tells
            return Tensor(None, "float", None, x.probe, probe_path=x.probe_path)
        yt = _as_tensor(y) if isinstance(y, (Tensor, Param)) else None
        if isinstance(x, Tensor) and x.probe is not None and yt is not None and yt.probe is None and \
                yt.shape is not None and all(isinstance(d, int) for d in yt.shape) and \
                op in ("Add", "Subtract", "Multiply", "Divide"):
            # WDSR's `(x - self.rgb_mean * 255.0) / 127.5` with a (1, 3, 1, 1) mean: the layer after
            # tells, if the constant broadcasts into its input without changing it (checked then)
            return Tensor(None, "float", None, x.probe, probe_path=x.probe_path + (("broadcast", yt.shape),))
    if (a is UNKNOWN or b is UNKNOWN) and op in _ARITHMETIC:
        # `x + self.table[:, :n]` with a table the analysis could not build: whatever it is (a
        # tensor, a number), the sum keeps x's last dims that are never 1
        x = _as_tensor(b if a is UNKNOWN else a)
        if x is None or x.probe is not None or x.dtype != "float":
            return UNKNOWN
        out = T.broadcast_tail(x, None)
        return out if out.tail else UNKNOWN
    v = data_binop(op, a, b)
    if v is not NotImplemented:
        return v
    a, b = _as_tensor(a), _as_tensor(b)
    if a is None or b is None:
        return UNKNOWN
    if op == "MatrixMultiply":
        return interp.tensor_rule(lambda: T.matmul(a, b, "@"), node)
    if op in ("Add", "Subtract", "Multiply", "Divide", "FloorDivide", "Modulo", "Power", "BitAnd",
              "BitOr", "BitXor"):
        if a.shape is None or b.shape is None:
            if interp.violated:  # after a failure: known last dims are not checked against each other
                return T.broadcast_tail(a, b)
            return interp.tensor_rule(lambda: T.broadcast_partial(a, b, _OP_TEXT.get(op, op)), node)
        return interp.tensor_rule(lambda: T.broadcast(a, b, _OP_TEXT.get(op, op)), node)
    if op in _COMPARE_TEXT:  # `fm_s <= fm_t`: a bool tensor of the broadcast shape
        if a.shape is None or b.shape is None:
            return Tensor(None, "bool")
        out = interp.tensor_rule(lambda: T.broadcast(a, b, _COMPARE_TEXT[op]), node)
        return Tensor(out.shape, "bool", out.batch_dim) if isinstance(out, Tensor) else out
    return UNKNOWN


_ARITHMETIC = ("Add", "Subtract", "Multiply", "Divide")

_COMPARE_TEXT = {"LessThan": "<", "LessThanEqual": "<=", "GreaterThan": ">", "GreaterThanEqual": ">=",
                 "Equal": "==", "NotEqual": "!="}


def aug_assign(interp: Interpreter, op: str, cur: Any, v: Any) -> bool:
    """``self.layers += [...]`` on an nn.ModuleList."""
    if isinstance(cur, ModuleValue) and cur.kind == "modulelist" and op == "Add":
        items = interp.items_of(v)
        if items is None or interp.speculative:
            cur.uncertain = True
        else:
            for it in items:
                _add_child(interp, cur, str(len(cur.children)), it)
        return True
    return False


def is_instance(interp: Interpreter, v: Any, qualname: str) -> Any:
    """isinstance(v, torch.X)."""
    name = _canonical_nn(qualname)
    if name in ("torch.Tensor", "torch.nn.Parameter"):
        if isinstance(v, Param):
            return True
        if isinstance(v, Tensor):
            return name == "torch.Tensor"
        if v is None or isinstance(v, (int, float, str, list, tuple, dict, ModuleValue, ObjectValue)):
            return False
        return UNKNOWN
    if isinstance(v, ModuleValue) and name.startswith("torch.nn."):
        if name == "torch.nn.Module":
            return True
        if v.kind == "layer":
            return name == f"torch.nn.{v.type_name}"
        if v.kind in _CONTAINERS:
            return name == f"torch.nn.{v.type_name}"
        base = v.attrs.get("__torch_base__")
        if base is not None:
            if name == base:
                return True
            # a plain nn.Module subclass (every base in its MRO known) is no torch layer: the weight
            # init loop's `isinstance(m, nn.Conv3d)` on the model itself is false
            return False if base == "torch.nn.Module" and _module_only(interp, v.cls) else UNKNOWN
        return UNKNOWN
    if isinstance(v, (Tensor, int, float, str, list, tuple, dict)) or v is None:
        return False if name.startswith("torch.nn.") else UNKNOWN
    return UNKNOWN


def _module_only(interp: Interpreter, info: Optional[ClassInfo]) -> bool:
    """Every base of the class, all the way up, is a class of the analysed code or nn.Module."""
    if info is None:
        return False
    for c in interp.mro(info):
        for b in c.base_nodes:
            v = interp.eval(b, Frame(src=c.source))
            if isinstance(v, ClassValue):
                continue
            if not (isinstance(v, Qual) and (_canonical_nn(v.name) == "torch.nn.Module" or v.name == "builtins.object")):
                return False
    return True


_AUTOGRAD_FUNCTION = ("torch.autograd.Function", "torch.autograd.function.Function",
                      "torch.autograd.function.InplaceFunction")


def autograd_apply(interp: Interpreter, info: ClassInfo) -> Any:
    """``Fn.apply`` of a custom ``torch.autograd.Function`` (shake-shake's mixing, a gradient
    reversal, a binarizing activation): its ``forward(ctx, ...)`` staticmethod, given a context
    object of its own (``ctx.save_for_backward(...)``, ``ctx.alpha = a``); the shapes are those of
    the forward it computes. Anything else: NOT_MINE (unknown)."""
    mro = interp.mro(info)
    if not any(isinstance(b, Qual) and b.name in _AUTOGRAD_FUNCTION
               for c in mro for b in (interp.eval(n, Frame(src=c.source)) for n in c.base_nodes)):
        return NOT_MINE
    for c in mro:
        fn = c.methods.get("forward")
        if fn is not None:
            # apply calls the class's forward with the context first, whether or not it is
            # declared a staticmethod (BinaryNet's `def forward(ctx, input, ...)`): the same call
            if any(dotted(d.decorator) == "classmethod" for d in fn.decorators):
                # `def forward(cls, ctx, input, ...)` (quantized.pytorch's UniformQuantize): the class
                # first, then the context
                return Partial(FunctionValue(fn, c.source, cls=c), (ClassValue(info), ObjectValue(None, {})), {})
            return Partial(FunctionValue(fn, c.source, cls=c), (ObjectValue(None, {}),), {})
    return UNKNOWN


def has_attr(interp: Interpreter, obj: ModuleValue, name: str) -> Any:
    """hasattr(self, 'shortcut') on a module whose layout is known."""
    if obj.uncertain:
        return UNKNOWN
    if name in obj.attrs or name in obj.children or name in obj.params or name == "training":
        return True
    if obj.kind == "user":
        if interp.class_attr(obj.cls, name) is not UNKNOWN:
            return True
        # nn.Module's own attributes and methods are not modelled: only plain names are False
        return False if not name.startswith("_") and name not in _MODULE_API else UNKNOWN
    return UNKNOWN


# ------------------------------------------------------------------ the framework


class TorchFramework(Framework):
    """PyTorch.  It claims every ModuleValue, Tensor and Param, so a framework registered for
    other modules must be asked first (``register(fw, first=True)``) and claim only its own."""

    name = "torch"
    prefixes = ("torch.", "einops.")
    # the model libraries' plumbing (transformers, timm, diffusers): libraries.py
    library_model = staticmethod(libraries.library_model)
    instantiate_object = staticmethod(libraries.instantiate_object)

    def class_base(self, interp, info) -> Optional[str]:
        return torch_base(interp, info)

    def instantiate(self, interp, info, base, args, kwargs, node) -> Any:
        return instantiate_user_module(interp, info, base, args, kwargs, node)

    def call_qual(self, interp, name, args, kwargs, node) -> Any:
        return call_qual(interp, name, args, kwargs, node)

    def call_module(self, interp, m, args, kwargs, node) -> Any:
        return _call_module(interp, m, args, kwargs, node)

    def call_method(self, interp, obj, name, args, kwargs, node) -> Any:
        if isinstance(obj, Tensor):
            from .tensor_methods import call_tensor_method
            return call_tensor_method(interp, obj, name, args, kwargs, node)
        if isinstance(obj, ModuleValue):
            return module_method(interp, obj, name, args, kwargs, node)
        if isinstance(obj, Param):
            if name == "requires_grad_":
                flag = args[0] if args else kwargs.get("requires_grad", True)
                if isinstance(flag, bool) and not interp.speculative:
                    obj.requires_grad = flag
                return obj
            from .tensor_methods import call_tensor_method
            return call_tensor_method(interp, cast(Tensor, _as_tensor(obj)), name, args, kwargs, node)
        if isinstance(obj, SuperRef) and isinstance(obj.instance, ModuleValue):
            return call_super(interp, obj, name, args, kwargs, node)
        return NOT_MINE

    def getattr(self, interp, obj, attr, node) -> Any:
        if isinstance(obj, ModuleValue):
            return module_attr(interp, obj, attr)
        return tensor_attr(interp, obj, attr, node)

    def getitem(self, interp, obj, key, node) -> Any:
        return getitem(interp, obj, key, node)

    def items_of(self, interp, v) -> Any:
        return items_of(interp, v)

    def binop(self, interp, op, a, b, node) -> Any:
        return binop(interp, op, a, b, node)

    def aug_assign(self, interp, op, target, value) -> bool:
        return aug_assign(interp, op, target, value)

    def isinstance(self, interp, v, qualname) -> Any:
        return is_instance(interp, v, qualname)

    def hasattr(self, interp, obj, name) -> Any:
        if isinstance(obj, Qual) and obj.name in ("torch.nn.functional", "torch.nn.functional.F") and \
                name == "scaled_dot_product_attention":
            return True  # every torch 2 has it (libraries test for it to pick their attention path)
        return has_attr(interp, obj, name) if isinstance(obj, ModuleValue) else NOT_MINE

    def class_attr(self, interp, info, attr) -> Any:
        return autograd_apply(interp, info) if attr == "apply" else NOT_MINE


register(TorchFramework())
