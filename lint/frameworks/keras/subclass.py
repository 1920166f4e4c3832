"""Subclassed Keras models and layers: a user class deriving from ``keras.Model`` or
``keras.layers.Layer`` whose ``__init__`` creates layers and whose ``call`` applies them (and a
layer's ``build(input_shape)``, with ``self.add_weight``).

An instance is a :class:`KObject`, a plain object of the analysed code (the core keeps its
attributes and runs its methods) that the Keras framework calls: calling it runs ``build`` once
(a layer), then ``call`` on the inputs, and records the call as a Keras node so that the instance
can sit in a Sequential or a functional graph.  Its weights are those of ``add_weight`` plus those
of the layers it tracks (its attributes, lists and dicts of them), as Keras counts them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple

from ...core.values import UNKNOWN, FunctionValue, ObjectValue, Tensor
from .model import KLayer, KModel, KTensor, Node, _Method, _numel, auto_name

MODEL_BASES = ("Model", "Functional")
LAYER_BASES = ("Layer",)


@dataclass(eq=False)
class KObject(ObjectValue):
    """An instance of a user subclass of keras.Model ('model') or keras.layers.Layer ('layer')."""

    kind: str = "layer"
    name: str = ""
    node: Any = field(default=None, repr=False)
    nodes: List[Node] = field(default_factory=list)
    own_weights: Optional[List[Tuple[str, Tuple[int, ...], bool]]] = field(default_factory=list)  # None: unknown
    built: bool = False
    trainable: bool = True
    busy: bool = False  # its call is running (a call that calls itself is not followed)
    uncertain: bool = False  # (as KModel's) never: what is not followed is unknown locally
    failed: bool = False

    @property
    def type_name(self) -> str:
        return self.cls.name

    @property
    def spec(self):
        return None

    def tracked(self) -> List[Any]:
        """The layers it tracks, in attribute order (Keras's auto-tracking), each once."""
        out: List[Any] = []
        seen = set()

        def visit(v, depth=0):
            if isinstance(v, (KLayer, KModel, KObject)):
                if id(v) not in seen and v is not self:
                    seen.add(id(v))
                    out.append(v)
            elif isinstance(v, (list, tuple)) and depth < 3:
                for e in v:
                    visit(e, depth + 1)
            elif isinstance(v, dict) and depth < 3:
                for e in v.values():
                    visit(e, depth + 1)

        for v in self.attrs.values():
            visit(v)
        return out

    def weights_list(self):
        """(name, shape, trainable) of every weight, None when one is unknown."""
        if self.own_weights is None:
            return None
        out = [(n, s, t and self.trainable) for n, s, t in self.own_weights]
        for layer in self.tracked():
            if isinstance(layer, (KModel, KObject)):
                w = layer.weights_list()
            elif not layer.built and not layer.called:
                w = []  # a layer never called has no weights yet (Keras counts 0)
            else:
                w = layer.weights
                if w is not None:
                    w = [(n, s, t and layer.trainable) for n, s, t in w]
            if w is None:
                return None
            out += [(n, s, t and self.trainable) for n, s, t in w]
        return out

    def count(self, trainable=None) -> Optional[int]:
        w = self.weights_list()
        if w is None:
            return None
        return sum(_numel(s) for _, s, t in w if trainable is None or t == trainable)

    # -- what the framework asks
    def get_attr(self, interp, attr, node):
        """An attribute the class itself does not define: Keras's Layer/Model API."""
        if attr in ("add_weight", "build", "summary", "compile", "fit", "call", "count_params"):
            return _Method(self, attr)
        if attr == "name":
            return self.name
        if attr == "built":
            return self.built
        if attr == "trainable":
            return self.trainable
        if attr == "layers":
            return self.tracked()
        return UNKNOWN

    def method(self, interp, name, args, kwargs, node):
        if name == "add_weight":
            return self._add_weight(interp, args, kwargs)
        if name == "build":
            # Keras 3's Layer.build(shape) on a subclass without its own build() only marks it built
            # (with a warning): it does not trace call(), so no sublayer is built and nothing fails
            self.built = True
            return None
        if name == "count_params":
            n = self.count()
            return UNKNOWN if n is None else n
        return None if name in ("summary", "compile", "build") else UNKNOWN

    def _add_weight(self, interp, args, kwargs):
        names = ("shape", "initializer", "dtype", "trainable", "autocast", "regularizer", "constraint",
                 "aggregation", "overwrite_with_gradient", "name")
        a = dict(zip(names, args))
        a.update(kwargs)
        shape = a.get("shape", ())
        shape = () if shape is None else shape
        trainable = a.get("trainable", True)
        if interp.speculative or self.own_weights is None:
            self.own_weights = None
            return Tensor(None)
        if not isinstance(shape, (list, tuple)) or not all(isinstance(d, int) and not isinstance(d, bool)
                                                           for d in shape) or not isinstance(trainable, bool):
            self.own_weights = None  # a size shapelint cannot tell: the count is unknown
            return Tensor(None)
        nm = a.get("name")
        self.own_weights.append((nm if isinstance(nm, str) else f"w{len(self.own_weights)}", tuple(shape), trainable))
        return Tensor(tuple(shape))

    def call_value(self, interp, args, kwargs, node):
        """``obj(x)``: ``build`` once (a layer with a build method), then ``call``."""
        if not args or self.busy:
            return UNKNOWN
        x = args[0]
        if not self.built:
            build = interp.class_attr(self.cls, "build", instance=self)
            if isinstance(build, FunctionValue) and self.kind == "layer":
                shape = _input_shape(x)
                if shape is None:
                    return Tensor(None)
                self.busy = True
                try:
                    interp.call_function(build, [shape], {}, node)
                finally:
                    self.busy = False
            self.built = True
        fn = interp.class_attr(self.cls, "call", instance=self)
        if not isinstance(fn, FunctionValue):
            return Tensor(None)
        self.busy = True
        try:
            out = interp.call_function(fn, args, kwargs, node)
        finally:
            self.busy = False
        return self._record(args, out)

    def _record(self, args, out):
        flat_in = [a for a in args if isinstance(a, Tensor)]
        idx = len(self.nodes)
        if isinstance(out, Tensor):
            if out.shape is None:
                return out
            res = KTensor(out.shape, out.dtype, 0, history=(self, idx, 0))
            self.nodes.append(Node(flat_in, [res]))
            return res
        if isinstance(out, (list, tuple)) and out and all(isinstance(o, Tensor) and o.shape is not None for o in out):
            outs = [KTensor(o.shape, o.dtype, 0, history=(self, idx, i)) for i, o in enumerate(out)]
            self.nodes.append(Node(flat_in, outs))
            return type(out)(outs)
        return out


def _input_shape(x) -> Optional[tuple]:
    """The ``input_shape`` Keras passes to ``build``: a tuple, None for the batch."""
    if isinstance(x, Tensor) and x.shape is not None:
        return tuple(None if i == 0 else d for i, d in enumerate(x.shape))
    return None


def keras_base(interp, info) -> Optional[str]:
    """'keras.Model' or 'keras.layers.Layer' when the class derives from one (through the analysed
    code's classes), else None."""
    from ...core.frames import Frame
    from ...core.values import Qual
    from . import PREFIXES

    for c in interp.mro(info):
        for b in c.base_nodes:
            v = interp.eval(b, Frame(src=c.source))
            if isinstance(v, Qual) and v.name.startswith(PREFIXES):
                last = v.name.rsplit(".", 1)[-1]
                if last in MODEL_BASES:
                    return "keras.Model"
                if last in LAYER_BASES:
                    return "keras.layers.Layer"
    return None


def instantiate(interp, info, base, args, kwargs, node) -> Any:
    obj = KObject(info, {}, kind="model" if base == "keras.Model" else "layer", node=node)
    obj.name = auto_name(interp, info.name)
    init = interp.class_attr(info, "__init__", instance=obj)
    if isinstance(init, FunctionValue):
        interp.call_function(init, args, kwargs, node)
    else:
        base_init(obj, kwargs)
    return obj


def base_init(obj: KObject, kwargs) -> None:
    """``super().__init__(name=..., trainable=...)`` reaching Keras's Layer/Model."""
    nm = kwargs.get("name")
    if isinstance(nm, str):
        obj.name = nm
    tr = kwargs.get("trainable")
    if isinstance(tr, bool):
        obj.trainable = tr
