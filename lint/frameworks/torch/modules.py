"""What torch means to the interpreter: nn.Module subclasses of the analysed code, the layer
table's layers (built with their bound arguments and parameters, applied through their shape
rules), the containers (Sequential, ModuleList, ModuleDict), nn.Parameter, torch functions and
tensor methods, ``isinstance`` on torch classes.  Registered as the :class:`TorchFramework`."""
from __future__ import annotations

import inspect
from typing import Any, Dict, List, Optional

from ...core import dims as D
from ...core.interpreter import Frame, Interpreter
from ...core.objects import SuperRef
from ...core.expressions import _Iter
from ...core.source import ClassInfo
from ...core.values import UNKNOWN, BoundMethod, FunctionValue, ModuleValue, ObjectValue, Param, Qual, Tensor
from .. import NOT_MINE, Framework, register
from . import layers as L
from . import tensor_ops as T
from .layers import Unknowable, Violation

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
        m.children[str(i)] = k
    return m


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


def _signature(fn: Any) -> inspect.Signature:
    sig = _SIGNATURES.get(fn)
    if sig is None:
        sig = _SIGNATURES[fn] = inspect.signature(fn)
    return sig


_OP_TEXT = {"Add": "+", "Subtract": "-", "Multiply": "*", "Divide": "/", "FloorDivide": "//", "Modulo": "%",
            "Power": "**", "BitAnd": "&", "BitOr": "|", "BitXor": "^"}

_MODULE_API = {"training", "forward", "modules", "children", "named_modules", "named_children", "parameters",
               "named_parameters", "buffers", "named_buffers", "state_dict", "load_state_dict", "to", "cuda",
               "cpu", "eval", "train", "apply", "register_buffer", "register_parameter", "add_module",
               "register_module", "zero_grad", "requires_grad_", "half", "float", "double", "type",
               "get_submodule", "get_parameter", "extra_repr", "dump_patches", "call_super_init"}


# ------------------------------------------------------------------ modules and their construction


def torch_base(interp, info: ClassInfo) -> Optional[str]:
    """The torch class a user class derives from ('torch.nn.Module', 'torch.nn.Sequential'...)."""
    for c in interp.mro(info):
        for b in c.base_nodes:
            v = interp.eval(b, Frame(src=c.source))
            if isinstance(v, Qual) and v.name.startswith("torch.nn"):
                return _canonical_nn(v.name)
    return None


def _init_torch_base(interp, m: ModuleValue, args, kwargs, node):
    """`super().__init__(...)` reaching a torch layer class (class LayerNorm2d(nn.LayerNorm))."""
    short = m.attrs.get("__torch_base__", "").rsplit(".", 1)[-1]
    spec = L.LAYERS.get(short)
    if spec is None:
        return
    layer = make_layer(interp, spec, args, kwargs, node)
    m.spec, m.args = spec, layer.args
    m.params.update(layer.params)


def _fill_container(interp, m: ModuleValue, kind, args):
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
        if isinstance(d, dict) and id(d) not in interp.havoc:
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


def _add_child(interp, m: ModuleValue, name, v):
    if isinstance(v, ModuleValue):
        m.children[name] = v
    else:
        m.uncertain = True


def make_layer(interp, spec: L.LayerSpec, args, kwargs, node):
    m = ModuleValue("layer", spec.name, spec=spec, node=node)
    try:
        m.args = L.bind(spec.signature, args, kwargs, spec.varargs)
    except L.BindError:
        m.args = None
        return m
    if spec.check is not None:
        try:
            spec.check(m.args)
        except Violation as v:
            interp.violation(v, node, m)
            m.args = None
        except Unknowable:
            pass
    if m.args is not None:
        try:
            for pname, shape in spec.params(m.args).items():
                if "." not in pname:
                    m.params[pname] = Param(shape)
        except Unknowable:
            m.args = dict(m.args, __params_unknown__=True)
    return m


def call_functional(interp, fs: L.FunctionSpec, args, kwargs, node):
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
        return Tensor(None)
    return interp.tensor_rule(lambda: fs.rule(a, *tensors), node)


def _call_module(interp, m: ModuleValue, args, kwargs, node):
    if m.uncertain:
        return UNKNOWN
    container = m.attrs.get("__container__", m.kind) if m.kind == "user" else m.kind
    if m.kind == "layer":
        return apply_layer(interp, m, args, kwargs, node)
    if m.kind == "user":
        fwd = interp.class_attr(m.cls, "forward", instance=m)
        if isinstance(fwd, FunctionValue):
            return interp.call_function(fwd, args, kwargs, node)
        if container == "sequential":
            return _run_sequential(interp, m, args, kwargs, node)
        if m.spec is not None:
            return apply_layer(interp, m, args, kwargs, node)
        return UNKNOWN
    if m.kind == "sequential":
        return _run_sequential(interp, m, args, kwargs, node)
    return UNKNOWN


def _run_sequential(interp, m, args, kwargs, node):
    if len(args) != 1 or kwargs:
        return UNKNOWN
    x = args[0]
    for child in m.children.values():
        x = interp.call_module(child, [x], {}, node)
    return x


def apply_layer(interp, m: ModuleValue, args, kwargs, node):
    if m.args is None:
        return Tensor(None)
    tensors = [_as_tensor(a) if isinstance(a, (Tensor, Param)) else a for a in args]
    for t in tensors:
        if isinstance(t, Tensor) and t.probe is not None:
            interp.probes.setdefault(t.probe, m)
            return Tensor(None)
    if not tensors or not isinstance(tensors[0], Tensor):
        return Tensor(None)
    try:
        _signature(m.spec.rule).bind(m.args, *tensors, **kwargs)
    except TypeError:
        return Tensor(None)
    if any(a is UNKNOWN for a in m.args.values()):
        return Tensor(None)
    return interp.tensor_rule(lambda: m.spec.rule(m.args, *tensors, **kwargs), node, m)


def module_method(interp, m: ModuleValue, name, args, kwargs, node):
    if name == "forward":
        return interp.call_module(m, args, kwargs, node)
    if name in ("to", "cuda", "cpu", "eval", "train", "float", "double", "half", "requires_grad_",
                "apply", "type", "share_memory", "bfloat16", "zero_grad"):
        if name == "train":
            return m
        return m
    if name in ("add_module", "register_module") and len(args) == 2:
        key, child = args
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
                _add_child(interp, m, str(len(m.children)), v)
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
    if name == "modules":
        return UNKNOWN
    if name in ("parameters", "named_parameters", "buffers", "state_dict", "load_state_dict",
                "named_modules", "named_children"):
        return UNKNOWN
    return UNKNOWN


def module_attr(interp, m: ModuleValue, attr):
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
            if attr in ("kernel_size", "stride", "padding", "dilation", "output_padding") and \
                    isinstance(v, int) and m.type_name[-2:] in ("1d", "2d", "3d") and "Conv" in m.type_name:
                return (v,) * int(m.type_name[-2])
            return v
    return BoundMethod(m, attr)


def call_torch(interp, name, args, kwargs, node):
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
        interp.call_function(init, args, kwargs, node)
    elif kind != "user":
        _fill_container(interp, m, kind, args)
    else:
        _init_torch_base(interp, m, args, kwargs, node)
    return m


def call_qual(interp: Interpreter, name: str, args, kwargs, node) -> Any:
    """torch.nn layers, containers and Parameter; torch functions; NOT_MINE for other names."""
    if not name.startswith("torch"):
        return NOT_MINE
    canon = _canonical_nn(name)
    short = canon.rsplit(".", 1)[-1]
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
    if canon == "torch.nn.Module":
        return UNKNOWN
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
        return BoundMethod(_as_tensor(obj), attr)
    return NOT_MINE


def getitem(interp: Interpreter, obj: Any, key: Any, node) -> Any:
    if isinstance(obj, Tensor):
        return interp.tensor_rule(lambda: T.index(obj, key), node)
    if isinstance(obj, Param):
        return interp.tensor_rule(lambda: T.index(_as_tensor(obj), key), node)
    if isinstance(obj, ModuleValue):
        if obj.uncertain:
            return UNKNOWN
        kids = list(obj.children.values())
        kind = container_kind(obj)
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
            return list(v.children.values())
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
            return Tensor(None)
        return interp.tensor_rule(lambda: T.broadcast(a, b, _OP_TEXT.get(op, op)), node)
    return UNKNOWN


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
            return name == base or UNKNOWN
        return UNKNOWN
    if isinstance(v, (Tensor, int, float, str, list, tuple, dict)) or v is None:
        return False if name.startswith("torch.nn.") else UNKNOWN
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
    prefixes = ("torch.",)

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
        return has_attr(interp, obj, name) if isinstance(obj, ModuleValue) else NOT_MINE


register(TorchFramework())
