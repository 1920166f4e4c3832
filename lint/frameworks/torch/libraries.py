"""Models of the model libraries' own plumbing (transformers, timm, diffusers), for code that uses
them: what their helpers do to a model's *shapes* — mostly nothing — without following their
internals.

* ``library_model(qualname)``: a function of the analysed code, by its qualified name (the last
  parts of its file's path, its class, its name), answered by a model instead of being
  interpreted (a model answering NOT_MINE leaves that call to the interpreter): weight initialisation and ``post_init`` do nothing to shapes; a transformers config
  is built from its dataclass fields (see :func:`build_config`).
* ``instantiate_object(interp, info, args, kwargs, node)``: a plain class of the analysed code that
  a library gives meaning to (a transformers ``PreTrainedConfig`` subclass), else NOT_MINE.

Nothing here imports a library: these are models in pure Python, keyed by names.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

from ...core.framework_api import NOT_MINE
from ...core.values import UNKNOWN, ModuleValue, ObjectValue

if TYPE_CHECKING:
    from ...core.interpreter import Interpreter


def _nothing(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """A helper that changes no shape (weight init, gradient checkpointing switches, logging).
    A model receives the call's arguments without the bound ``self`` (``fn.bound_self``)."""
    return None


def _unknown(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    return UNKNOWN


def _pretrained_init(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """transformers' ``PreTrainedModel.__init__(self, config, ...)``: keeps the config."""
    m = fn.bound_self
    if isinstance(m, ModuleValue):
        m.attrs["config"] = args[0] if args else kwargs.get("config", UNKNOWN)
        m.attrs["gradient_checkpointing"] = False
    return None


def _identity_decorator(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    return args[0] if args else UNKNOWN


def _eager_interface(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """``ALL_ATTENTION_FUNCTIONS.get_interface(impl, default)``: the eager default (plain torch code,
    which the configs here select), else unknown."""
    impl = args[0] if args else kwargs.get("attn_implementation", kwargs.get("experts_implementation"))
    default = args[1] if len(args) > 1 else kwargs.get("default", UNKNOWN)
    return default if impl in (None, "eager") else UNKNOWN


def _instantiate_entry(interp: "Interpreter", content, node) -> Any:
    cls, kw = content if isinstance(content, tuple) and len(content) == 2 else (content, {})
    if content is UNKNOWN or not isinstance(kw, dict):
        return UNKNOWN
    return interp.call(cls, [], dict(kw), node)


def _act2fn_getitem(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """transformers' ``ACT2FN[name]`` (a ClassInstantier): a new instance of the activation class."""
    mapping = getattr(fn.bound_self, "attrs", {}).get("__mapping__")
    if not isinstance(mapping, dict) or not args or not isinstance(args[0], str):
        return UNKNOWN
    return _instantiate_entry(interp, mapping.get(args[0], UNKNOWN), node)


def _get_activation(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """transformers' ``get_activation(name)``: ``ACT2FN[name]``."""
    table = interp.lookup_global("ACT2FN", fn.scope)
    mapping = getattr(table, "attrs", {}).get("__mapping__")
    name = args[0] if args else kwargs.get("activation_string")
    if not isinstance(mapping, dict) or not isinstance(name, str):
        return UNKNOWN
    return _instantiate_entry(interp, mapping.get(name, UNKNOWN), node)


_BUILD_PARAMS = ("model_cls", "variant", "pretrained", "pretrained_cfg", "pretrained_cfg_overlay", "model_cfg",
                 "feature_cfg", "pretrained_strict", "pretrained_filter_fn", "cache_dir", "kwargs_filter",
                 "pretrained_model_args")


def _timm_build(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """timm's ``build_model_with_cfg(model_cls, variant, pretrained, ..., **kwargs)``: the model class
    built with the keyword arguments (no pretrained weights are loaded, no feature adapter)."""
    bound = dict(zip(_BUILD_PARAMS, args))
    rest = {}
    for k, v in kwargs.items():
        if k in _BUILD_PARAMS:
            bound[k] = v
        else:
            rest[k] = v
    if rest.pop("features_only", False) is not False or bound.get("pretrained") not in (False, None):
        return UNKNOWN
    rest.pop("pruned", None)
    flt = bound.get("kwargs_filter")
    if isinstance(flt, (tuple, list)):
        for k in flt:
            rest.pop(k, None)
    cls = bound.get("model_cls", UNKNOWN)
    cfg = bound.get("model_cfg")
    if cfg is not None:
        rest["cfg"] = cfg
    return interp.call(cls, [], rest, node)


def _timm_get_act_layer(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """timm's ``get_act_layer(name)``: a class or callable as given, a name through its table."""
    name = args[0] if args else kwargs.get("name", "relu")
    if name is None or name == "":
        return None
    if not isinstance(name, str):
        return name
    return _timm_table_entry(interp, fn.scope, "_ACT_LAYER_DEFAULT", name.lower())


def _timm_table_entry(interp: "Interpreter", scope, table: str, key: str) -> Any:
    """``TABLE[key]`` of a module-level ``TABLE = dict(key=value, ...)``, evaluating that entry
    only; ``nn.SiLU if _has_silu else Swish`` is its first branch (every torch 2 has them)."""
    import libcst as cst

    from ...core.frames import Frame

    exprs = scope.assigns.get(table, []) if scope is not None else []
    if len(exprs) != 1 or not isinstance(exprs[0], cst.Call):
        return UNKNOWN
    for a in exprs[0].args:
        if a.keyword is not None and a.keyword.value == key:
            e = a.value
            if isinstance(e, cst.IfExp) and isinstance(e.test, cst.Name) and e.test.value.startswith("_has_"):
                e = e.body
            return interp.eval(e, Frame(src=scope))
    return UNKNOWN


def _timm_get_norm_layer(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """timm's ``get_norm_layer(norm_layer)``: a class as given (a partial's keywords kept), a name
    through ``_NORM_MAP``."""
    from ...core.values import Partial

    layer = args[0] if args else kwargs.get("norm_layer")
    if layer is None or layer == "":
        return None
    if isinstance(layer, Partial):
        return layer
    if isinstance(layer, str):
        table = interp.lookup_global("_NORM_MAP", fn.scope)
        key = layer.replace("_", "").lower()
        return table.get(key, UNKNOWN) if isinstance(table, dict) else UNKNOWN
    return layer


def _timm_ntuple_parse(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """timm's ``to_2tuple(x)`` (``_ntuple(n)``'s ``parse``): a list or tuple as a tuple, anything
    else (a number, a string, a class) repeated n times."""
    n = (fn.closure or {}).get("n")
    x = args[0] if args else UNKNOWN
    if isinstance(x, (list, tuple)):
        return tuple(x)
    if not isinstance(n, int) or x is UNKNOWN:
        return UNKNOWN
    return tuple([x] * n)


def _linspace(a: float, b: float, n: int) -> list:
    return [a + (b - a) * i / (n - 1) for i in range(n)] if n > 1 else [float(a)] * n


def _timm_drop_path_rates(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """timm's ``calculate_drop_path_rates(rate, depths, stagewise)``: the linear schedule, per block
    or per stage (stochastic depth is the identity in eval mode; the rates only pick the module)."""
    names = ("drop_path_rate", "depths", "stagewise")
    b = dict(zip(names, args), **{k: v for k, v in kwargs.items() if k in names})
    rate, depths, stagewise = b.get("drop_path_rate"), b.get("depths"), b.get("stagewise", False)
    if not isinstance(rate, (int, float)) or isinstance(rate, bool):
        return UNKNOWN
    if isinstance(depths, int):
        return _linspace(0, rate, depths)
    if not isinstance(depths, (list, tuple)) or not all(isinstance(d, int) for d in depths):
        return UNKNOWN
    flat = _linspace(0, rate, sum(depths))
    if stagewise is not True:
        return flat
    out, i = [], 0
    for d in depths:
        out.append(flat[i:i + d])
        i += d
    return out


def _short_name(v: Any) -> Optional[str]:
    from ...core.values import ClassValue, Qual

    if isinstance(v, ClassValue):
        return v.info.name
    if isinstance(v, Qual):
        return v.name.rsplit(".", 1)[-1]
    return None


def _table_names(scope, table: str) -> set:
    """The names listed by a module-level ``TABLE = {A, B}`` or ``dict(k=A, ...)``."""
    import libcst as cst

    exprs = scope.assigns.get(table, []) if scope is not None else []
    if len(exprs) != 1:
        return set()
    e = exprs[0]
    if isinstance(e, cst.Set):
        return {x.value.value for x in e.elements if isinstance(x.value, cst.Name)}
    if isinstance(e, cst.Call):
        return {a.value.value for a in e.args if isinstance(a.value, cst.Name)}
    return set()


def _timm_get_norm_act_layer(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """timm's ``get_norm_act_layer(norm_layer, act_layer)``: the norm+act class for a norm (by name
    or class), the activation bound where that class takes one."""
    from ...core.values import FunctionValue, Partial

    names = ("norm_layer", "act_layer")
    b = dict(zip(names, args), **{k: v for k, v in kwargs.items() if k in names})
    layer, act = b.get("norm_layer"), b.get("act_layer")
    if layer is None:
        return None
    extra: Dict[str, Any] = {}
    if isinstance(layer, Partial):
        extra.update(layer.kwargs)
        layer = layer.func
    scope = fn.scope
    if isinstance(layer, str):
        if not layer:
            return None
        found = _timm_table_entry(interp, scope, "_NORM_ACT_MAP", layer.replace("_", "").lower().split("-")[0])
    elif _short_name(layer) in _table_names(scope, "_NORM_ACT_MAP"):
        found = layer
    elif isinstance(layer, FunctionValue):
        found = layer
    else:
        name = _short_name(layer)
        if name is None:
            return UNKNOWN
        found = _timm_table_entry(interp, scope, "_NORM_TO_NORM_ACT_MAP", name.lower())
    if found is UNKNOWN:
        return UNKNOWN
    if _short_name(found) in _table_names(scope, "_NORM_ACT_REQUIRES_ARG"):
        extra.setdefault("act_layer", act)
    return Partial(found, (), extra) if extra else found


def _timm_generate_regnet(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """timm RegNet's ``generate_regnet(slope, initial, mult, depth, group_size, quant=8)`` (torch
    arithmetic on constants, done here in float32-rounded Python)."""
    import math
    import struct

    names = ("width_slope", "width_initial", "width_mult", "depth", "group_size", "quant")
    b = dict(zip(names, args), **{k: v for k, v in kwargs.items() if k in names})
    b.setdefault("quant", 8)
    if not all(isinstance(b.get(n), (int, float)) and not isinstance(b.get(n), bool) for n in names):
        return UNKNOWN

    def f32(x: float) -> float:
        return struct.unpack("f", struct.pack("f", x))[0]

    wa, w0, wm, depth, gs, q = (b[n] for n in names)
    cont = [f32(f32(i * f32(wa)) + w0) for i in range(depth)]
    exps = [float(round(f32(f32(math.log(f32(c / w0))) / math.log(wm)))) for c in cont]
    widths = [int(round(f32(f32(w0 * f32(wm ** e)) / q)) * q) for e in exps]
    stages = len(set(widths))
    return widths, stages, [gs] * stages


def _timm_get_attn(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """timm's ``get_attn(attn_type)``: a class or partial as given; a name is interpreted."""
    from ...core.values import ClassValue, Partial, Qual

    t = args[0] if args else kwargs.get("attn_type")
    if isinstance(t, (ClassValue, Partial, Qual, ModuleValue)):
        return t
    if t is None or t is False or t == "":
        return None
    return NOT_MINE


def _set_fields(obj) -> list:
    """The set (not None) fields of an output dataclass, in order: what its tuple view holds."""
    if not isinstance(obj, ObjectValue):
        return []
    return [(k, v) for k, v in obj.attrs.items() if v is not None and not k.startswith("_")]


def _output_getitem(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """``outputs[0]``, ``outputs[1:]``, ``outputs["logits"]`` of a ModelOutput / BaseOutput: its set
    fields as a tuple, or by name."""
    obj, key = fn.bound_self, args[0] if args else UNKNOWN
    if not isinstance(obj, ObjectValue):
        return UNKNOWN
    if isinstance(key, str):
        v = obj.attrs.get(key)
        return UNKNOWN if v is None else v
    values = tuple(v for _, v in _set_fields(obj))
    if any(v is UNKNOWN for v in values):
        return UNKNOWN  # a field of unknown value may be None: the positions are unknown
    if isinstance(key, int) and not isinstance(key, bool):
        return values[key] if -len(values) <= key < len(values) else UNKNOWN
    if isinstance(key, slice):
        return values[key]
    return UNKNOWN


def _output_to_tuple(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    values = tuple(v for _, v in _set_fields(fn.bound_self))
    return UNKNOWN if any(v is UNKNOWN for v in values) else values


def _diffusers_attention_forward(interp: "Interpreter", fn, args, kwargs, node) -> Any:
    """diffusers' ``Attention.forward``: its processor called on the module and the inputs, with the
    extra keywords that processor's ``__call__`` accepts (the source reads them with
    ``inspect.signature``)."""
    from ...core.values import FunctionValue

    m = fn.bound_self
    proc = m.attrs.get("processor") if isinstance(m, ModuleValue) else None
    if not isinstance(proc, ObjectValue):
        return UNKNOWN
    call = interp.class_attr(proc.cls, "__call__", instance=proc)
    if not isinstance(call, FunctionValue):
        return UNKNOWN
    names = ("hidden_states", "encoder_hidden_states", "attention_mask")
    b = dict(zip(names, args))
    extra = {}
    for k, v in kwargs.items():
        if k in names:
            b[k] = v
        else:
            extra[k] = v
    params = call.node.params
    accepted = {p.name.value for p in list(params.params) + list(params.kwonly_params)}
    if params.star_kwarg is None:
        extra = {k: v for k, v in extra.items() if k in accepted}
    if "hidden_states" not in b:
        return UNKNOWN
    return interp.call_function(call, [m, b["hidden_states"]],
                                {"encoder_hidden_states": b.get("encoder_hidden_states"),
                                 "attention_mask": b.get("attention_mask"), **extra}, node)


# (module path tail, class or '', function) -> model
_MODELS: Dict[str, Callable[..., Any]] = {
    # transformers
    "transformers.modeling_utils.PreTrainedModel.__init__": _pretrained_init,
    "transformers.modeling_utils.PreTrainedModel.post_init": _nothing,
    "transformers.modeling_utils.PreTrainedModel.init_weights": _nothing,
    "transformers.modeling_utils.PreTrainedModel._init_weights": _nothing,
    "transformers.modeling_utils.PreTrainedModel.initialize_weights": _nothing,
    "transformers.modeling_utils.PreTrainedModel.tie_weights": _nothing,
    "transformers.modeling_utils.PreTrainedModel.gradient_checkpointing_enable": _nothing,
    "transformers.modeling_utils.PreTrainedModel.gradient_checkpointing_disable": _nothing,
    "transformers.modeling_utils.PreTrainedModel._backward_compatibility_gradient_checkpointing": _nothing,
    "transformers.modeling_utils.PreTrainedModel.warn_if_padding_and_no_attention_mask": _nothing,
    "transformers.modeling_utils.PreTrainedModel.get_extended_attention_mask": _unknown,
    "transformers.configuration_utils.PreTrainedConfig.__post_init__": _nothing,
    "transformers.modeling_utils.AttentionInterface.get_interface": _eager_interface,
    "transformers.activations.ClassInstantier.__getitem__": _act2fn_getitem,
    "transformers.activations.get_activation": _get_activation,
    # attention masks broadcast against the scores (batch, 1, query, key): no shape of their own to
    # follow; None (no mask) keeps the scores' shape, as any valid mask does
    **{f"transformers.masking_utils.{f}": _nothing for f in (
        "create_causal_mask", "create_bidirectional_mask", "create_sliding_window_causal_mask",
        "create_bidirectional_sliding_window_mask", "create_chunked_causal_mask", "create_masks_for_generate",
        "create_recurrent_attention_mask")},
    "transformers.integrations.moe.ExpertsInterface.get_interface": _eager_interface,
    "transformers.utils.generic.ModelOutput.__post_init__": _nothing,
    "transformers.utils.generic.ModelOutput.__getitem__": _output_getitem,
    "transformers.utils.generic.ModelOutput.to_tuple": _output_to_tuple,
    "diffusers.utils.outputs.BaseOutput.__getitem__": _output_getitem,
    "diffusers.utils.outputs.BaseOutput.to_tuple": _output_to_tuple,
    "diffusers.utils.outputs.BaseOutput.__post_init__": _nothing,
    # timm
    "timm.layers.create_attn.get_attn": _timm_get_attn,
    # attention takes the explicit path (matmul, softmax, matmul): the shapes of the fused kernel's
    "timm.layers.config.use_fused_attn": lambda interp, fn, args, kwargs, node: False,
    "timm.layers.create_norm_act.get_norm_act_layer": _timm_get_norm_act_layer,
    "timm.models.regnet.generate_regnet": _timm_generate_regnet,
    "timm.layers.drop.calculate_drop_path_rates": _timm_drop_path_rates,
    "timm.layers.helpers.parse": _timm_ntuple_parse,
    "timm.layers.create_act.get_act_layer": _timm_get_act_layer,
    "timm.layers.create_norm.get_norm_layer": _timm_get_norm_layer,
    "timm.models._builder.build_model_with_cfg": _timm_build,
    "timm.models._builder.load_pretrained": _nothing,
    "timm.models._manipulate.checkpoint_seq": _unknown,
    "timm.layers.weight_init.trunc_normal_": _nothing,
    "timm.layers.weight_init.lecun_normal_": _nothing,
    # diffusers
    # vendor-specific kernels (NPU, XLA, MLU) are not the path torch on CPU/CUDA takes
    **{f"{lib}.utils.import_utils.{f}": (lambda interp, fn, args, kwargs, node: False)
       for lib in ("diffusers", "transformers")
       for f in ("is_torch_npu_available", "is_torch_xla_available", "is_torch_mlu_available",
                 "is_torch_xpu_available", "is_torch_musa_available")},
    "diffusers.models.attention_processor.Attention.forward": _diffusers_attention_forward,
    "diffusers.models.modeling_utils.ModelMixin.__init__": _nothing,
    "diffusers.configuration_utils.ConfigMixin.register_to_config": _nothing,
}


def library_model(qualname: str) -> Optional[Callable[..., Any]]:
    """The model of a library function by its qualified name (the path's last parts, the class, the
    name: '...unpacked.transformers.modeling_utils.PreTrainedModel.post_init'), else None."""
    parts = qualname.split(".")
    for i in range(len(parts)):
        found = _MODELS.get(".".join(parts[i:]))
        if found is not None:
            return found
    return None


# ------------------------------------------------------------------ transformers configs

def _is_transformers_config(interp: "Interpreter", info) -> bool:
    for c in interp.mro(info):
        if c.name in ("PreTrainedConfig", "PretrainedConfig") and c.source.path and \
                c.source.path.replace("\\", "/").endswith("transformers/configuration_utils.py"):
            return True
    return False


def build_config(interp: "Interpreter", info, args, kwargs, node) -> Any:
    """A ``PreTrainedConfig`` subclass (a keyword-only dataclass in transformers 5): every field of
    the class and its bases with its default, the keyword overrides (an ``attribute_map`` alias
    names its field), then the subclass's own ``__post_init__`` (the base's is modelled: unknown
    keywords become attributes); attention runs eagerly (plain torch code)."""
    from ...core.frames import Frame
    from ...core.values import FunctionValue

    if args:
        return UNKNOWN  # keyword-only
    obj = ObjectValue(info)
    amap: Dict[str, str] = {}
    mro = interp.mro(info)
    for c in reversed(mro):
        if "attribute_map" in c.class_assigns:
            m = interp.eval(c.class_assigns["attribute_map"], Frame(src=c.source))
            if isinstance(m, dict):
                amap.update({k: v for k, v in m.items() if isinstance(k, str) and isinstance(v, str)})
    for c in reversed(mro):
        for name, default in c.fields:
            obj.attrs[name] = interp.eval(default, Frame(src=c.source)) if default is not None else None
    extra = {}
    for k, v in kwargs.items():
        k = amap.get(k, k)
        if k in obj.attrs:
            obj.attrs[k] = v
        else:
            extra[k] = v
    num_labels = extra.pop("num_labels", None)
    if obj.attrs.get("id2label") is None:
        n = num_labels if isinstance(num_labels, int) else 2
        obj.attrs["id2label"] = {i: f"LABEL_{i}" for i in range(n)}
        obj.attrs["label2id"] = {f"LABEL_{i}": i for i in range(n)}
    ids = obj.attrs.get("id2label")
    obj.attrs["num_labels"] = len(ids) if isinstance(ids, dict) else UNKNOWN
    obj.attrs["_attn_implementation"] = extra.pop("attn_implementation", "eager")
    obj.attrs["_attn_implementation_internal"] = obj.attrs["_attn_implementation"]
    obj.attrs["_experts_implementation"] = extra.pop("experts_implementation", None)
    obj.attrs["output_attentions"] = obj.attrs["_output_attentions"] = extra.pop("output_attentions", False)
    obj.attrs["name_or_path"] = obj.attrs["_name_or_path"] = ""
    obj.attrs["use_return_dict"] = obj.attrs.get("return_dict", True)
    obj.attrs.update(extra)
    for c in mro:
        if "__post_init__" in c.methods:
            if c.name in ("PreTrainedConfig", "PretrainedConfig"):
                break
            interp.call_function(FunctionValue(c.methods["__post_init__"], c.source, bound_self=obj, cls=c),
                                 [], dict(extra), node)
            break
    for alias, real in amap.items():
        if real in obj.attrs:
            obj.attrs[alias] = obj.attrs[real]
    obj.closed = True  # every attribute is known: getattr(config, "x", default) takes the default
    return obj


def instantiate_object(interp: "Interpreter", info, args, kwargs, node) -> Any:
    if info.name == "ClassInstantier" and len(args) == 1 and isinstance(args[0], dict):
        return ObjectValue(info, {"__mapping__": args[0]})  # ACT2FN: see _act2fn_getitem
    if _is_transformers_config(interp, info):
        return build_config(interp, info, args, kwargs, node)
    return NOT_MINE


def register_to_config(interp: "Interpreter", m: ModuleValue, init, args, kwargs) -> None:
    """diffusers' ``@register_to_config`` on a model's ``__init__``: ``self.config`` holds every
    argument of the construction, defaults included (``self.config.in_channels``)."""
    import libcst as cst

    from ...core.frames import Frame
    from ...core.source import dotted

    node = init.node
    decos = [dotted(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
             for d in getattr(node, "decorators", ())]
    if "register_to_config" not in decos:
        return
    frame = Frame(src=init.scope)
    if not interp.bind_params(node.params, [m] + list(args), kwargs, frame):
        return
    first = (list(node.params.posonly_params) + list(node.params.params))[:1]
    attrs = {k: v for k, v in frame.locals.items() if not first or k != first[0].name.value}
    if node.params.star_kwarg is not None:
        extra = attrs.pop(node.params.star_kwarg.name.value, {})
        if isinstance(extra, dict):
            attrs.update(extra)
    if node.params.star_arg is not None and isinstance(node.params.star_arg, cst.Param):
        attrs.pop(node.params.star_arg.name.value, None)
    cfg = ObjectValue(m.cls, attrs)
    cfg.closed = True
    m.attrs["config"] = cfg
