"""What torch means to the interpreter: nn.Module subclasses of the analysed code, the layer
table's layers (built with their bound arguments and parameters, applied through their shape
rules), the containers (Sequential, ModuleList, ModuleDict), nn.Parameter, torch functions and
tensor methods, ``isinstance`` on torch classes.  The hooks of the :class:`TorchFramework`
(framework.py) call these."""
from __future__ import annotations

import inspect
from typing import Any, Dict, List, Optional, Tuple

from ...core import dims as D
from typing import TYPE_CHECKING

from ...core.frames import Frame, ProbeDone

if TYPE_CHECKING:
    from ...core.interpreter import Interpreter
from ...core.expressions import _Iter
from ...core.source import ClassInfo
from ...core.values import UNKNOWN, BoundMethod, FunctionValue, ModuleValue, Param, Qual, Tensor
from . import layers as L
from .layers import Unknowable, Violation
from .inputs import symbolic_input
from .einops_ops import probe_step

_CONTAINERS = ("sequential", "modulelist", "moduledict")
_CONTAINER_BASES = {"torch.nn.Sequential": "sequential", "torch.nn.ModuleList": "modulelist",
                    "torch.nn.ModuleDict": "moduledict"}


def container_kind(m: ModuleValue) -> str:
    """'sequential' | 'modulelist' | 'moduledict' for torch containers and their subclasses, else ''."""
    if m.kind in _CONTAINERS:
        return m.kind
    if m.kind == "user":
        k = m.attrs.get("__container__", "user")
        return k if k in _CONTAINERS else ""
    return ""


def _container(kind: str, kids: List[Any]) -> ModuleValue:
    m = ModuleValue(kind, {"sequential": "Sequential", "modulelist": "ModuleList"}[kind])
    for i, k in enumerate(kids):
        if k is None and kind == "modulelist":
            m.nones.add(str(i))
        else:
            m.children[str(i)] = k
    return m


def seq_items(m: ModuleValue) -> Optional[List[Any]]:
    """What a Sequential or ModuleList holds, in order, a ModuleList's None entries included (None
    when its names are not the indices torch gives them)."""
    if not m.nones:
        return list(m.children.values())
    names = [str(i) for i in range(len(m.children) + len(m.nones))]
    if set(names) != set(m.children) | m.nones:
        return None
    return [m.children.get(k) for k in names]


def _canonical_nn(name: str) -> str:
    """torch.nn.modules.conv.Conv2d -> torch.nn.Conv2d; torch.nn.modules.Conv2d -> torch.nn.Conv2d."""
    if name.startswith("torch.nn.modules."):
        return "torch.nn." + name.rsplit(".", 1)[-1]
    if name.startswith("torch.nn.parameter."):
        return "torch.nn." + name.rsplit(".", 1)[-1]
    return name


def _as_tensor(v: Any) -> Optional[Tensor]:
    if isinstance(v, Tensor):
        return v
    if isinstance(v, Param):
        return Tensor(v.shape, "float", None)
    if isinstance(v, (int, float)) or D.is_dim(v):
        return Tensor((), "float", None)
    return None


_SIGNATURES: Dict[Any, inspect.Signature] = {}
_FITS: Dict[Tuple[Any, int, Tuple[str, ...]], bool] = {}


def _signature(fn: Any) -> inspect.Signature:
    sig = _SIGNATURES.get(fn)
    if sig is None:
        sig = _SIGNATURES[fn] = inspect.signature(fn)
    return sig


def fits(fn: Any, nargs: int, kwargs: Dict[str, Any]) -> bool:
    """Would ``fn(*nargs positional arguments, **kwargs)`` bind? Whether a call binds depends only
    on how many positional arguments and which keywords it passes, so ``inspect``'s bind (costly,
    once per layer call) runs once per (function, count, keywords)."""
    key = (fn, nargs, tuple(kwargs))
    ok = _FITS.get(key)
    if ok is None:
        try:
            _signature(fn).bind(*range(nargs), **dict.fromkeys(key[2]))
            ok = True
        except TypeError:
            ok = False
        _FITS[key] = ok
    return ok


# ------------------------------------------------------------------ modules and their construction


def torch_base(interp: Interpreter, info: ClassInfo) -> Optional[str]:
    """The torch class a user class derives from ('torch.nn.Module', 'torch.nn.Sequential'...)."""
    for c in interp.mro(info):
        for b in c.base_nodes:
            v = interp.eval(b, Frame(src=c.source))
            if isinstance(v, Qual) and v.name.startswith("torch.nn"):
                return _canonical_nn(v.name)
            if isinstance(v, Qual) and v.name in MODULE_SUBCLASSES:
                return "torch.nn.Module"
    return None


# nn.Module subclasses of known packages whose instances are plain modules to the analysis (their
# extra methods: training_step, configure_optimizers, log..., are never part of forward)
MODULE_SUBCLASSES = frozenset({
    "pytorch_lightning.LightningModule", "pytorch_lightning.core.LightningModule",
    "pytorch_lightning.core.module.LightningModule", "pytorch_lightning.core.lightning.LightningModule",
    "lightning.LightningModule", "lightning.pytorch.LightningModule", "lightning.pytorch.core.LightningModule",
    "lightning.pytorch.core.module.LightningModule", "lightning.pytorch.core.lightning.LightningModule",
    "torch.jit.ScriptModule", "torch.jit._script.ScriptModule",
})


def _init_torch_base(interp: Interpreter, m: ModuleValue, args, kwargs, node) -> None:
    """`super().__init__(...)` reaching a torch layer class (class LayerNorm2d(nn.LayerNorm))."""
    short = m.attrs.get("__torch_base__", "").rsplit(".", 1)[-1]
    spec = L.LAYERS.get(short)
    if spec is None:
        return
    layer = make_layer(interp, spec, args, kwargs, node)
    m.spec, m.args = spec, layer.args
    m.params.update(layer.params)


def _fill_container(interp: Interpreter, m: ModuleValue, kind, args) -> None:
    if kind == "sequential":
        if len(args) == 1 and isinstance(args[0], dict):
            for k, v in args[0].items():
                _add_child(interp, m, str(k), v)
        else:
            for i, v in enumerate(args):
                _add_child(interp, m, str(i), v)
    elif kind == "modulelist" and args:
        items = interp.items_of(args[0])
        if items is None:
            m.uncertain = True
        else:
            for i, v in enumerate(items):
                _add_child(interp, m, str(i), v)
    elif kind == "moduledict" and args:
        d = args[0]
        if isinstance(d, dict) and d not in interp.havoc:
            for k, v in d.items():
                _add_child(interp, m, str(k), v)
        elif isinstance(d, (list, tuple)):
            for kv in d:
                if isinstance(kv, (list, tuple)) and len(kv) == 2:
                    _add_child(interp, m, str(kv[0]), kv[1])
                else:
                    m.uncertain = True
        else:
            m.uncertain = True


def _add_child(interp: Interpreter, m: ModuleValue, name, v) -> None:
    if isinstance(v, ModuleValue):
        m.children[name] = v
    elif v is None and container_kind(m) == "modulelist":
        m.nones.add(name)  # nn.ModuleList([None, conv]): torch keeps the None
    else:
        m.uncertain = True


# layer arguments torch allocates a weight from (torch.empty(size)): a float there is a TypeError
# while building (checked against torch 2 in tests/test_reach_styles.py)
_INT_SIZES = {
    **{f"Conv{n}d": ("in_channels", "out_channels", "kernel_size") for n in (1, 2, 3)},
    **{f"ConvTranspose{n}d": ("in_channels", "out_channels") for n in (1, 2, 3)},
    "Linear": ("in_features", "out_features"),
    **{f"BatchNorm{n}d": ("num_features",) for n in (1, 2, 3)},
    "Embedding": ("num_embeddings", "embedding_dim"),
}


def make_layer(interp: Interpreter, spec: L.LayerSpec, args, kwargs, node) -> ModuleValue:
    m = ModuleValue("layer", spec.name, spec=spec, node=node)
    m.src = interp.src_stack[-1] if interp.src_stack else None
    try:
        m.args = L.bind(spec.signature, args, kwargs, spec.varargs)
    except L.BindError:
        m.args = None
        return m
    for arg in _INT_SIZES.get(spec.name, ()):
        v = m.args.get(arg)
        if isinstance(v, float) or isinstance(v, tuple) and any(isinstance(x, float) for x in v):
            from ...rules.shp009_construction_error import FloatSize

            interp.construction_error(FloatSize(spec.name, arg, v), node)  # torch.empty() raises TypeError
    if spec.check is not None:
        try:
            spec.check(m.args)
        except Violation as v:
            interp.violation(v, node, m)
            m.args = None
        except Unknowable:
            pass
    if m.args is not None and spec.build is not None:
        try:
            kids = spec.build(m.args, _Kit(interp, m, node))
        except Unknowable:
            kids = None
        if kids is None:
            m.uncertain = True
        else:
            for name, kid in kids.items():
                if isinstance(kid, list):
                    kid = _container("modulelist", kid)
                if isinstance(kid, ModuleValue):
                    m.children[name] = kid
                else:
                    m.uncertain = True
    if m.args is not None:
        try:
            for pname, shape in spec.params(m.args).items():
                # dotted ones (MultiheadAttention's out_proj.weight) too: parameters() yields them
                m.params[pname] = Param(shape)
        except Unknowable:
            m.args = dict(m.args, __params_unknown__=True)
    return m


def clone_module(m: ModuleValue, memo: Optional[Dict[int, Any]] = None) -> Optional[ModuleValue]:
    """copy.deepcopy of a module (``_get_clones``; ViT's ``self.layer.append(copy.deepcopy(layer))``):
    the same structure with fresh parameters, a module or parameter reached twice copied once;
    None for a module whose structure is not fully known."""
    memo = {} if memo is None else memo
    if id(m) in memo:
        return memo[id(m)]
    if m.uncertain or m.kind == "opaque":
        return None
    c = ModuleValue(m.kind, m.type_name, spec=m.spec, args=m.args, cls=m.cls, node=m.node, src=m.src,
                    training=m.training)
    memo[id(m)] = c
    c.nones = set(m.nones)

    def copy_of(v: Any) -> Any:
        if isinstance(v, ModuleValue):
            return clone_module(v, memo)
        if isinstance(v, Param):
            if id(v) not in memo:
                memo[id(v)] = Param(v.shape, v.requires_grad, v.buffer)
            return memo[id(v)]
        if isinstance(v, (list, tuple)) and any(isinstance(e, (ModuleValue, Param)) for e in v):
            items = [copy_of(e) for e in v]
            return None if any(e is None for e in items) else type(v)(items)
        return v

    c.params = {n: copy_of(p) for n, p in m.params.items()}
    for n, k in m.children.items():
        kc = clone_module(k, memo)
        if kc is None:
            return None
        c.children[n] = kc
    for a, v in m.attrs.items():
        cv = copy_of(v)
        if cv is None and v is not None:
            return None
        c.attrs[a] = cv
    return c


class _Kit:
    """What a composite layer's build and forward (layers/attention.py) use: make a child layer,
    deep-copy one, call a child by its dotted path (a recorded call, as torch's hooks see it)."""

    def __init__(self, interp: Interpreter, m: ModuleValue, node) -> None:
        self.interp, self.m, self.node = interp, m, node

    def make(self, name: str, *args, **kwargs) -> ModuleValue:
        return make_layer(self.interp, L.LAYERS[name], list(args), kwargs, self.node)

    def clones(self, m: Any, n: int) -> List[ModuleValue]:
        if not isinstance(m, ModuleValue):
            raise Unknowable()
        out = []
        for _ in range(n):
            c = clone_module(m)
            if c is None:
                raise Unknowable()
            out.append(c)
        return out

    def call(self, path: str, *args, **kwargs) -> Any:
        m: ModuleValue = self.m
        for part in path.split("."):
            child = m.children.get(part)
            if child is None:
                raise Unknowable()
            m = child
        out = self.interp.call_module(m, list(args), kwargs, self.node)
        if out is UNKNOWN or (isinstance(out, Tensor) and out.shape is None and not out.tail):
            raise Unknowable()
        return out


def call_functional(interp: Interpreter, fs: L.FunctionSpec, args, kwargs, node) -> Any:
    if fs.varargs:
        args, kwargs = (args[:1], {}) if args else ([], {"input": kwargs.get("input", UNKNOWN)})
    try:
        a = L.bind(fs.signature, args, kwargs)
    except L.BindError:
        return UNKNOWN
    tensors = []
    for name in fs.inputs:
        v = a.pop(name)
        v = _as_tensor(v)
        if v is None:
            return Tensor(None) if name == "input" else UNKNOWN
        tensors.append(v)
    if tensors and tensors[0].probe is not None:
        if fs.pools:  # F.adaptive_avg_pool2d(x, 1) first: the layer after it tells the input
            return Tensor(None, "float", None, tensors[0].probe,
                          probe_path=tensors[0].probe_path + (("pooled", fs.pools),))
        return Tensor(None)
    return interp.tensor_rule(lambda: fs.rule(a, *tensors), node)


def _call_module(interp: Interpreter, m: ModuleValue, args, kwargs, node) -> Any:
    if m.uncertain and m.kind != "user":
        return UNKNOWN
    container = m.attrs.get("__container__", m.kind) if m.kind == "user" else m.kind
    if m.kind == "layer":
        return apply_layer(interp, m, args, kwargs, node)
    if m.kind == "user":
        fwd = interp.class_attr(m.cls, "forward", instance=m)
        if isinstance(fwd, FunctionValue) and m.spec is not None and m.args is not None and args and \
                isinstance(args[0], Tensor) and args[0].probe is not None:
            if symbolic_input(m, 0) is not None:
                # a torch layer's subclass with a forward of its own (EfficientNet's
                # Conv2dStaticSamePadding(nn.Conv2d)) met first: its layer's arguments tell the input
                return apply_layer(interp, m, args, kwargs, node)
        if isinstance(fwd, FunctionValue):
            # its own forward runs even when the layout is uncertain (a head built under an
            # undecided `if args.deepsupervision:`): what was set on undecided branches reads as
            # unknown, and whatever walks the layout (children(), len, indexing) is unknown too
            return interp.call_function(fwd, args, kwargs, node)
        if m.uncertain:
            return UNKNOWN
        if container == "sequential":
            return _run_sequential(interp, m, args, kwargs, node)
        if m.spec is not None:
            return apply_layer(interp, m, args, kwargs, node)
        return UNKNOWN
    if m.kind == "sequential":
        return _run_sequential(interp, m, args, kwargs, node)
    return UNKNOWN


def _run_sequential(interp: Interpreter, m, args, kwargs, node) -> Any:
    if len(args) != 1 or kwargs:
        return UNKNOWN
    x = args[0]
    for child in m.children.values():
        x = interp.call_module(child, [x], {}, node)
    return x


def apply_layer(interp: Interpreter, m: ModuleValue, args, kwargs, node) -> Any:
    if m.args is None:
        return Tensor(None)
    tensors = [_as_tensor(a) if isinstance(a, (Tensor, Param)) else a for a in args]
    for t in tensors:
        if isinstance(t, Tensor) and t.probe is not None:
            if m.spec is not None and m.spec.transparent and t is tensors[0]:
                # ReflectionPad2d first: the conv after it tells, through the steps before the pad
                # (voicefilter's `x.unsqueeze(1)` then ZeroPad2d: the input has one dim less)
                return Tensor(None, "float", None, t.probe, probe_path=t.probe_path)
            if m.spec is not None and m.spec.name == "Rearrange" and t is tensors[0] and m.args is not None:
                # einops' Rearrange layer first (a ViT's patch embedding): the layer after it tells
                step = probe_step(m.args.get("pattern"), dict(m.args.get("lengths") or {}))
                return Tensor(None) if step is None else \
                    Tensor(None, "float", None, t.probe, probe_path=t.probe_path + (step,))
            if m.spec is not None and m.spec.pools and t is tensors[0]:  # a pool first: the same
                return Tensor(None, "float", None, t.probe, probe_path=t.probe_path + (("pooled", m.spec.pools),))
            cat = [step[2] for step in t.probe_path if step[0] == "cat"]
            weak = t is tensors[0] and symbolic_input(m, 0) is None
            for probe in (cat[0] if cat else (t.probe,)):
                if probe not in interp.probes or probe in interp.probe_weak and not weak:
                    interp.probes[probe] = m
                    interp.probe_paths[probe] = t.probe_path
                    if weak:
                        interp.probe_weak.add(probe)
                    else:
                        interp.probe_weak.discard(probe)
            if interp.probe_target and len(interp.probes) >= interp.probe_target and not interp.probe_weak:
                raise ProbeDone()
            if weak and not cat and m.spec is not None and m.spec.name in _SAME_SHAPE:
                # a norm of any rank keeps its input's shape: the layer after it may tell the rank
                return Tensor(None, "float", None, t.probe, probe_path=t.probe_path)
            return Tensor(None)
    if not tensors or not isinstance(tensors[0], Tensor):
        return Tensor(None)
    if tensors[0].dtype == "float64" and _has_params(m):
        # a float64 tensor made from a numpy array into a layer with float parameters: torch
        # raises a dtype error before any shape (a declared double input, for a model converted
        # with .double(), is dtype 'double' and is followed)
        return Tensor(None)
    if m.spec.forward is not None:
        if m.uncertain:
            return Tensor(None)
        kit = _Kit(interp, m, node)
        if not fits(m.spec.forward, 2 + len(tensors), kwargs):
            return Tensor(None)
        return interp.tensor_rule(lambda: m.spec.forward(m.args, kit, *tensors, **kwargs), node, m)
    if not fits(m.spec.rule, 1 + len(tensors), kwargs):
        return Tensor(None)
    free = _SHAPE_FREE_ARGS | _OPEN_SIZE_ARGS.get(m.spec.name, frozenset())
    if any(a is UNKNOWN for k, a in m.args.items() if k not in free):
        return Tensor(None)
    if m.spec.tail is not None and any(t.shape is None for t in tensors if isinstance(t, Tensor)) and \
            fits(m.spec.tail, 1 + len(tensors), kwargs) and all(isinstance(t, Tensor) for t in tensors):
        if not any(isinstance(t, Tensor) and t.tail for t in tensors) and interp.violated:
            # after a failure torch never gets here: no new size is made up downstream of it
            return Tensor(None)
        tail = m.spec.tail
        return interp.tensor_rule(lambda: tail(m.args, *tensors, **kwargs), node, m)
    return interp.tensor_rule(lambda: m.spec.rule(m.args, *tensors, **kwargs), node, m)


# layers that accept several ranks and give their input's shape: as a model's first layer they
# leave its rank to the layer after them (engine._probe)
_SAME_SHAPE = frozenset({"BatchNorm1d", "InstanceNorm1d", "LayerNorm", "GroupNorm", "LocalResponseNorm",
                         "LazyBatchNorm1d", "RMSNorm"})


def _has_params(m: ModuleValue) -> bool:
    try:
        return bool(m.spec.params(m.args)) if m.spec is not None and m.args is not None else True
    except Unknowable:
        return True


# layer arguments no output shape depends on: unknown, they leave the forward rule its say
# (`bias=False or Norm == torchlib.Identity` in a GAN's conv blocks); rules read them, if ever,
# through need(), which makes an unknown one Unknowable
_SHAPE_FREE_ARGS = frozenset({"bias", "inplace", "eps", "momentum", "affine", "track_running_stats",
                              "negative_slope", "device", "dtype"})
# sizes a layer's rule reads only when known: the output size, read through need_int() after the
# input is checked against the other arguments (`nn.Linear(64 * 4 * 4, args.num_classes)`: the
# output is unknown, a wrong in_features is still wrong), and the input size, checked only when
# known (table.check_size: `nn.Conv2d(nc, ndf, 4, 2, 1)` with nc set on branches of a required
# --dataset takes what it is fed, as the code does when it runs; the rest of the model is followed)
_OPEN_SIZE_ARGS = {"Linear": frozenset({"in_features", "out_features"}),
                   **{f"Conv{n}d": frozenset({"in_channels", "out_channels"}) for n in (1, 2, 3)},
                   **{f"BatchNorm{n}d": frozenset({"num_features"}) for n in (1, 2, 3)}}


def module_method(interp: Interpreter, m: ModuleValue, name, args, kwargs, node) -> Any:
    if name == "forward":
        return interp.call_module(m, args, kwargs, node)
    if name == "requires_grad_":
        flag = args[0] if args else kwargs.get("requires_grad", True)
        params = named_parameters(m)
        if params is None or not isinstance(flag, bool) or interp.speculative:
            _havoc_grads(m)
        else:
            for _, p in params:
                p.requires_grad = flag
        return m
    if name in ("parameters", "named_parameters") and not args and set(kwargs) <= {"recurse", "prefix"}:
        recurse = kwargs.get("recurse", True)
        prefix = kwargs.get("prefix", "")
        if not isinstance(recurse, bool) or not isinstance(prefix, str):
            return UNKNOWN
        params = named_parameters(m, recurse)
        if params is None:
            return UNKNOWN
        if name == "parameters":
            return _Iter([p for _, p in params])
        return _Iter([(f"{prefix}.{n}" if prefix else n, p) for n, p in params])
    if name in ("to", "cuda", "cpu", "eval", "train", "float", "double", "half",
                "apply", "type", "share_memory", "bfloat16", "zero_grad"):
        if name == "train":
            return m
        return m
    if name in ("add_module", "register_module"):
        # add_module(name, module): positional or keyword (`block.add_module(name="conv", module=conv)`)
        got = list(args) + [kwargs[k] for k in ("name", "module")[len(args):] if k in kwargs]
        if len(got) != 2 or len(args) + len(kwargs) != 2:
            m.uncertain = True
            return None
        key, child = got
        if not isinstance(key, str):
            m.uncertain = True
            return None
        if interp.speculative:
            m.uncertain = True
            return None
        if isinstance(child, ModuleValue):
            m.children[key] = child
            if m.kind == "user":
                m.attrs[key] = child
        elif child is None:
            m.attrs[key] = None
        else:
            m.uncertain = True
        return None
    if name == "register_buffer":
        if args and isinstance(args[0], str) and not interp.speculative:
            t = args[1] if len(args) > 1 else kwargs.get("tensor", UNKNOWN)
            m.attrs[args[0]] = t
        return None
    if name == "register_parameter":
        if len(args) == 2 and isinstance(args[0], str) and not interp.speculative:
            m.attrs[args[0]] = args[1]
            m.register(args[0], args[1])
        return None
    if container_kind(m) in ("modulelist", "sequential"):
        if name in ("append", "extend", "insert"):
            if interp.speculative:
                m.uncertain = True
                return None
            new = []
            if name == "append":
                new = [args[0]] if args else []
            elif name == "extend":
                items = interp.items_of(args[0]) if args else None
                if items is None:
                    m.uncertain = True
                    return None
                new = items
            else:
                m.uncertain = True
                return None
            for v in new:
                _add_child(interp, m, str(len(m.children) + len(m.nones)), v)
            return m
    if container_kind(m) == "moduledict" and name in ("items", "keys", "values"):
        if m.uncertain:
            return UNKNOWN
        if name == "items":
            return _Iter(list(m.children.items()))
        if name == "keys":
            return _Iter(list(m.children.keys()))
        return _Iter(list(m.children.values()))
    if name in ("children", "named_children"):
        if m.uncertain:
            return UNKNOWN
        items = list(m.children.items())
        return _Iter(items if name == "named_children" else [v for _, v in items])
    if name == "__setattr__" and len(args) == 2 and isinstance(args[0], str):
        interp.setattr(m, args[0], args[1])
        return None
    if name == "__getattr__" and len(args) == 1 and isinstance(args[0], str):
        return interp.getattr(m, args[0])
    if name in ("modules", "named_modules") and not args and not kwargs:
        tree = _module_tree(m)
        if tree is None:
            return UNKNOWN
        return _Iter(tree if name == "named_modules" else [v for _, v in tree])
    if name in ("parameters", "named_parameters", "buffers", "state_dict", "load_state_dict",
                "named_modules", "named_children"):
        return UNKNOWN
    if name in _RESTRUCTURING:
        m.uncertain = True  # a change of the module's children not followed: what it holds is unknown
    return UNKNOWN


# nn.Module / container methods that change which children a module holds
_RESTRUCTURING = {"add_module", "register_module", "append", "extend", "insert", "update", "pop", "popitem",
                  "clear", "setdefault", "__setitem__", "__delitem__", "__iadd__", "remove"}


def named_parameters(m: ModuleValue, recurse: bool = True) -> Optional[List[Any]]:
    """(name, Param) as ``m.named_parameters()`` gives them (deduplicated, registration order, own
    before children's); None when some module's parameters are not known."""
    out: List[Any] = []
    seen_p: set = set()
    seen_m: set = set()

    def walk(x: ModuleValue, prefix: str) -> bool:
        if id(x) in seen_m:
            return True
        seen_m.add(id(x))
        if x.uncertain or x.kind == "opaque":
            return False
        if x.kind == "layer" and (x.args is None or x.args.get("__params_unknown__")):
            return False
        for n, p in x.params.items():
            if p.buffer or id(p) in seen_p:
                continue
            seen_p.add(id(p))
            out.append((prefix + n, p))
        if recurse:
            for cn, c in x.children.items():
                if not walk(c, f"{prefix}{cn}."):
                    return False
        return True
    return out if walk(m, "") else None


def _havoc_grads(m: ModuleValue) -> None:
    """A freeze we cannot follow: mark the tree so that trainable counts say unknown."""
    m.attrs["__grads_unknown__"] = True


def _module_tree(root: ModuleValue):
    """torch's named_modules(): pre-order, each module once; None when any part is uncertain."""
    out, seen = [], set()
    stack = [("", root)]
    while stack:
        name, m = stack.pop()
        if not isinstance(m, ModuleValue) or m.uncertain:
            return None
        if id(m) in seen:
            continue
        seen.add(id(m))
        out.append((name, m))
        for k, c in reversed(list(m.children.items())):
            if c is None:
                continue
            stack.append((f"{name}.{k}" if name else k, c))
    return out


def module_attr(interp: Interpreter, m: ModuleValue, attr) -> Any:
    if attr in m.attrs:
        return m.attrs[attr]
    if attr in m.children:
        return m.children[attr]
    if attr in m.params:
        return m.params[attr]
    if attr == "training":
        return m.training
    if m.kind == "user":
        v = interp.class_attr(m.cls, attr, instance=m)
        if v is not UNKNOWN:
            return v
    if m.spec is not None and m.args is not None:
        if attr in ("weight", "bias") or attr.startswith(("weight_", "bias_", "in_proj")):
            try:
                shapes = m.spec.params(m.args)
            except Unknowable:
                return UNKNOWN
            if attr in shapes:
                return Param(shapes[attr])
            return None if attr == "bias" else UNKNOWN
        if attr in m.args:
            v = m.args[attr]
            kind = m.spec.name  # the torch layer's, also for a subclass (Conv2dStaticSamePadding)
            if attr in ("kernel_size", "stride", "padding", "dilation", "output_padding") and \
                    isinstance(v, int) and kind[-2:] in ("1d", "2d", "3d") and "Conv" in kind:
                return (v,) * int(kind[-2])
            return v
    return BoundMethod(m, attr)
