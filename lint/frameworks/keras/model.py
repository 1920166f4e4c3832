"""What the interpreter computes with when it evaluates Keras model-building code: symbolic
tensors with their Keras history, layer objects (spec, bound arguments, auto-name, weights built
from the first input), Sequential and functional models.

The interpreter knows these values only through the Keras framework (framework.py): calling one
(each value's ``call_value``), one of its attributes (``get_attr``), and :func:`call_qual` for names
under ``keras.``."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ...core.values import UNKNOWN, Tensor
from ...core.facts import Unknowable, Violation
from ...rules.shp008_wrong_rank import KerasRank
from . import PREFIXES
from . import layers_seq as LS
from .layers import BindError, KERAS_LAYERS, KSpec, bind, input_shape_of

# ------------------------------------------------------------------------------------------------
# values
# ------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class KTensor(Tensor):
    """A Keras symbolic tensor: (layer, node index, tensor index) that produced it."""

    history: Any = None


def to_snake_case(name: str) -> str:  # keras/src/utils/naming.py
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _state(interp):
    st = getattr(interp, "_keras_state", None)
    if st is None:
        st = {"uids": defaultdict(int), "models": []}
        interp._keras_state = st
    return st


def auto_name(interp, prefix: str) -> str:
    uids = _state(interp)["uids"]
    prefix = to_snake_case(prefix)
    name = prefix if uids[prefix] == 0 else f"{prefix}_{uids[prefix]}"
    uids[prefix] += 1
    return name


class _Method:
    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def call_value(self, interp, args, kwargs, node):
        return self.obj.method(interp, self.name, args, kwargs, node)


@dataclass(eq=False)
class Node:
    inputs: List[Any]  # input tensors, flattened
    outputs: List[Any]


@dataclass(eq=False)
class KLayer:
    spec: KSpec
    args: Optional[Dict[str, Any]]
    name: str
    node: Any = field(default=None, repr=False)  # the constructor call
    weights: Optional[List[Tuple[str, Tuple[int, ...], bool]]] = None  # None: unbuilt or unknown
    built: bool = False
    nodes: List[Node] = field(default_factory=list)
    inner: Any = None  # the wrapped layer of Bidirectional / TimeDistributed
    trainable: bool = True
    input_tensor: Any = None  # InputLayer's tensor
    sequence_index: int = -1
    called: bool = False  # called at least once (built by Keras, even where shapelint could not follow)

    @property
    def type_name(self):
        return self.spec.name

    def count(self, trainable=None) -> Optional[int]:
        if self.weights is None:
            return 0 if not self.built and not self.called else None  # never called: no weights yet
        return sum(_numel(s) for _, s, t in self.weights if trainable is None or (t and self.trainable) == trainable)

    def get_attr(self, interp, attr, node):
        if attr == "name":
            return self.name
        if attr in ("output",) and self.nodes:
            outs = self.nodes[0].outputs
            return outs[0] if len(outs) == 1 else list(outs)
        if attr in ("trainable",):
            return self.trainable
        return UNKNOWN

    def call_value(self, interp, args, kwargs, node):
        return call_layer(interp, self, args, kwargs, node)


@dataclass(eq=False)
class KModel:
    kind: str  # 'sequential' | 'functional'
    name: str
    node: Any = field(default=None, repr=False)
    layers: List[Any] = field(default_factory=list)  # KLayer / KModel, in model.layers order
    inputs: List[Any] = field(default_factory=list)
    outputs: List[Any] = field(default_factory=list)
    input_layer: Optional[KLayer] = None  # Sequential's
    current: Any = None  # Sequential: the output so far (None: no input shape yet)
    uncertain: bool = False
    nodes: List[Node] = field(default_factory=list)
    trainable: bool = True
    failed: bool = False  # a layer raised while building
    nodes_by_depth: Dict[int, List[Any]] = field(default_factory=dict, repr=False)

    @property
    def type_name(self):
        return "Sequential" if self.kind == "sequential" else "Functional"

    @property
    def spec(self):
        return None

    def all_layers(self):
        return [l for l in self.layers]

    def weights_list(self):
        out, seen = [], set()
        for l in self.layers:
            if not isinstance(l, KLayer):  # a nested model, a subclassed model or layer (subclass.py)
                w = l.weights_list()
                if w is None:
                    return None
                out += [(n, s, t and self.trainable) for n, s, t in w]
            elif l.weights is None and l.spec.name != "InputLayer" and l.built is not True:
                return None
            elif l.weights is None and l.spec.name != "InputLayer":
                return None
            elif id(l) not in seen and l.weights:
                seen.add(id(l))
                out += [(n, s, t and l.trainable and self.trainable) for n, s, t in l.weights]
        return out

    def count(self, trainable=None):
        w = self.weights_list()
        if w is None:
            return None
        return sum(_numel(s) for _, s, t in w if trainable is None or t == trainable)

    @property
    def built(self):
        return self.weights_list() is not None

    def get_attr(self, interp, attr, node):
        if attr in ("add", "summary", "compile", "fit", "build", "pop", "get_layer"):
            return _Method(self, attr)
        if attr == "name":
            return self.name
        if attr == "layers":
            return list(self.layers)
        if attr in ("output", "outputs", "input", "inputs"):
            if self.kind == "sequential":
                if attr.startswith("out") and self.current is not None:
                    return self.current if attr == "output" else [self.current]
                return UNKNOWN
            vals = self.outputs if attr.startswith("out") else self.inputs
            return (vals[0] if len(vals) == 1 else list(vals)) if attr in ("output", "input") else list(vals)
        return UNKNOWN

    def method(self, interp, name, args, kwargs, node):
        if name == "add" and self.kind == "sequential" and len(args) == 1:
            if interp.speculative:
                self.uncertain = True
                return None
            seq_add(interp, self, args[0], node)
            return None
        if name == "pop" and self.kind == "sequential":
            if self.layers and not interp.speculative:
                self.layers.pop()
                self.current = None
                self.uncertain = True
            return UNKNOWN
        if name == "get_layer" and args and isinstance(args[0], str):
            for l in self.layers:
                if l.name == args[0]:
                    return l
            return UNKNOWN
        if name == "get_layer" and args and isinstance(args[0], int) and 0 <= args[0] < len(self.layers):
            return self.layers[args[0]]
        return None if name in ("summary", "compile", "build") else UNKNOWN

    def call_value(self, interp, args, kwargs, node):
        if not args or self.uncertain:
            return UNKNOWN
        x = args[0]
        if self.kind == "sequential":
            out = x
            for l in self.layers:
                out = l.call_value(interp, [out], {}, node) if not isinstance(out, _Failed) else out
            if not (isinstance(x, Tensor) and isinstance(out, Tensor)):
                return Tensor(None)
            res = KTensor(out.shape, history=(self, len(self.nodes), 0))
            self.nodes.append(Node([x], [res]))
            return res
        return Tensor(None)  # a functional model called as a layer: not modelled


def _numel(s) -> int:
    n = 1
    for d in s:
        n *= d
    return n


class _Failed:
    pass


# ------------------------------------------------------------------------------------------------
# construction
# ------------------------------------------------------------------------------------------------

_FUNCTIONAL = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "average": "Average",
               "maximum": "Maximum", "minimum": "Minimum", "concatenate": "Concatenate"}


def short_name(name: str) -> Optional[str]:
    """`keras.layers.Conv2D` -> 'layers.Conv2D' -> ('layers', 'Conv2D')."""
    for p in PREFIXES:
        if name.startswith(p):
            return name[len(p):]
    return None


def call_qual(interp, name, args, kwargs, node):
    """A call of a name under keras / tf.keras: a layer class, Input, Sequential, Model, a
    functional merge form. Anything else is UNKNOWN."""
    rest = short_name(name)
    if rest is None:
        return UNKNOWN
    parts = rest.split(".")
    last = parts[-1]
    if last in ("Input",) and (len(parts) == 1 or parts[0] == "layers"):
        return make_input(interp, args, kwargs, node)
    if last == "Sequential" and (len(parts) == 1 or parts[0] == "models"):
        return make_sequential(interp, args, kwargs, node)
    if last in ("Model", "Functional") and (len(parts) == 1 or parts[0] == "models"):
        return make_functional(interp, args, kwargs, node)
    if parts[0] == "ops" and len(parts) == 2:
        return call_op(interp, last, args, kwargs, node)
    if parts[0] != "layers":
        return UNKNOWN
    if last in _FUNCTIONAL and len(parts) == 2:
        if not args:
            return UNKNOWN
        spec = KERAS_LAYERS[_FUNCTIONAL[last]]
        layer = make_layer(interp, spec, [], {k: v for k, v in kwargs.items() if k != "inputs"}, node)
        if not isinstance(layer, KLayer):
            return UNKNOWN
        return call_layer(interp, layer, [args[0]], {}, node)
    if last == "InputLayer":
        layer = make_layer(interp, KSpec("InputLayer", ()), [], {}, node, name=kwargs.get("name"))
        t = make_input(interp, args, kwargs, node, layer=layer)
        return layer if isinstance(t, KTensor) else UNKNOWN
    spec = KERAS_LAYERS.get(last)
    if spec is None:
        return UNKNOWN
    return make_layer(interp, spec, args, kwargs, node)


_OP_BINARY = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "divide": "Divide",
              "matmul": "MatrixMultiply"}
_OP_SAME_SHAPE = ("relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "swish", "softmax", "log_softmax", "elu",
                  "selu", "softplus", "exp", "log", "sqrt", "abs", "negative", "square", "erf", "leaky_relu")


def call_op(interp, name, args, kwargs, node):
    """``keras.ops.X``: the element-wise and matmul forms (numpy broadcasting, as the tensor model's
    operators have it) and the shape-preserving activations; anything else is UNKNOWN."""
    if name in _OP_BINARY and len(args) == 2 and not kwargs:
        return interp.binop(_OP_BINARY[name], args[0], args[1], node)
    if name in _OP_SAME_SHAPE and args and isinstance(args[0], Tensor):
        x = args[0]
        return Tensor(x.shape, x.dtype, x.batch_dim) if x.shape is not None else Tensor(None)
    return UNKNOWN


def make_layer(interp, spec, args, kwargs, node, name=None):
    try:
        a = bind(spec, args, kwargs) if spec.name != "InputLayer" else {}
    except BindError:
        return UNKNOWN
    nm = a.get("name") if name is None else name
    if nm is UNKNOWN:
        return UNKNOWN
    if spec.wrapper:
        inner = a.get("layer")
        if not isinstance(inner, KLayer) or inner.spec.wrapper:
            return UNKNOWN
    layer = KLayer(spec, a, nm if isinstance(nm, str) else auto_name(interp, spec.name), node)
    if spec.wrapper:
        layer.inner = a["layer"]
    tr = a.get("trainable", True)
    layer.trainable = tr if isinstance(tr, bool) else True
    if spec.check is not None:
        try:
            spec.check(a)
        except Violation as v:
            interp.violation(v, node)
            layer.args = None
        except Unknowable:
            pass
    return layer


def make_input(interp, args, kwargs, node, layer=None):
    names = ("shape", "batch_size", "dtype", "sparse", "batch_shape", "name", "tensor")
    if len(args) > len(names):
        return UNKNOWN
    a = dict(zip(names, args))
    a.update(kwargs)
    if "input_shape" in a and a.get("shape") is None:
        a["shape"] = a["input_shape"]
    try:
        shape = input_shape_of(a.get("shape"), a.get("batch_size"), a.get("batch_shape"))
    except Unknowable:
        return UNKNOWN
    if layer is None:
        nm = a.get("name")
        layer = KLayer(KSpec("InputLayer", ()), {}, nm if isinstance(nm, str) else auto_name(interp, "InputLayer"),
                       node)
    dtype = a.get("dtype")
    t = KTensor(shape, "long" if isinstance(dtype, str) and "int" in dtype else "float", 0, history=(layer, 0, 0))
    layer.weights, layer.built, layer.input_tensor = [], True, t
    layer.nodes.append(Node([], [t]))
    return t


def _implied_input(interp, layer: KLayer):
    """The legacy `input_shape=` / `batch_input_shape=` / `input_dim=` on a Sequential's first layer."""
    a = layer.args or {}
    for key in ("batch_input_shape", "input_shape", "input_dim"):
        v = a.get(key)
        if v is None or v is UNKNOWN:
            continue
        if key == "input_dim":
            v = (v,)
        if key == "batch_input_shape":
            return make_input(interp, [], {"batch_shape": v}, layer.node)
        return make_input(interp, [v], {}, layer.node)
    return None


def make_sequential(interp, args, kwargs, node):
    layers = args[0] if args else kwargs.get("layers")
    nm = kwargs.get("name", args[2] if len(args) > 2 else None)
    model = KModel("sequential", nm if isinstance(nm, str) else auto_name(interp, "Sequential"), node)
    _state(interp)["models"].append(model)
    if layers is None:
        return model
    items = interp.items_of(layers) if not isinstance(layers, (list, tuple)) else list(layers)
    if items is None:
        model.uncertain = True
        return model
    for item in items:
        seq_add(interp, model, item, node)
    return model


def seq_add(interp, model: KModel, item, node):
    if model.uncertain:
        return
    if isinstance(item, KTensor) and item.history is not None and item.history[0].spec.name == "InputLayer":
        item = item.history[0]
    if isinstance(item, KLayer) and item.spec.name == "InputLayer":
        if model.layers or model.input_layer is not None:
            model.uncertain = True
            return
        model.input_layer = item
        model.current = item.input_tensor
        return
    if not isinstance(item, (KLayer, KModel)) and not hasattr(item, "call_value"):  # subclass.KObject has it
        model.uncertain = True
        return
    if not model.layers and model.input_layer is None and isinstance(item, KLayer):
        t = _implied_input(interp, item)
        if isinstance(t, KTensor):
            model.input_layer = t.history[0]
            model.current = t
    model.layers.append(item)
    if model.current is not None and not isinstance(model.current, _Failed):
        out = item.call_value(interp, [model.current], {}, getattr(item, "node", None) or node)
        if isinstance(out, Tensor) and out.shape is None:
            model.failed = True
            model.current = _Failed()
        else:
            model.current = out


def make_functional(interp, args, kwargs, node):
    names = ("inputs", "outputs", "name")
    if len(args) > 3:
        return UNKNOWN
    a = dict(zip(names, args))
    a.update(kwargs)
    ins, outs = a.get("inputs"), a.get("outputs")
    if ins is None or outs is None:
        return UNKNOWN  # a subclassed Model's super().__init__(), or unknown
    flat_in = _flatten(ins)
    flat_out = _flatten(outs)
    nm = a.get("name")
    model = KModel("functional", nm if isinstance(nm, str) else auto_name(interp, "Functional"), node)
    if flat_in is None or flat_out is None or not all(isinstance(t, KTensor) for t in flat_in + flat_out):
        model.uncertain = True
        return model
    model.inputs, model.outputs = flat_in, flat_out
    model.layers = _graph_layers(flat_in, flat_out, model)
    if model.layers is None:
        model.layers, model.uncertain = [], True
    _state(interp)["models"].append(model)
    return model


def _flatten(v):
    if isinstance(v, dict):
        v = list(v.values())
    if isinstance(v, (list, tuple)):
        out = []
        for e in v:
            f = _flatten(e)
            if f is None:
                return None
            out += f
        return out
    return [v] if isinstance(v, Tensor) else None


def _graph_layers(inputs, outputs, model=None):
    """The layers between inputs and outputs in Keras's order (keras/src/ops/function.py
    map_graph: a depth-first walk from the outputs, operations by decreasing depth, each depth in
    the order the walk first met them); sets model.nodes_by_depth."""
    finished, order, indices = set(), [], {}

    def node_of(t):
        h = getattr(t, "history", None)
        if h is None or h[1] >= len(h[0].nodes):
            raise Unknowable()
        return h[0], h[0].nodes[h[1]]

    def helper(t, depth=0):
        if depth > 500:
            raise Unknowable()
        op, nd = node_of(t)
        if id(nd) in finished:
            return
        is_input = not nd.inputs
        if not is_input and any(t is x for x in inputs):
            finished.add(id(nd))
            return
        if id(op) not in indices:
            indices[id(op)] = (len(indices), op)
        if not is_input:
            for x in nd.inputs:
                helper(x, depth + 1)
        finished.add(id(nd))
        order.append((op, nd))

    try:
        for t in outputs:
            helper(t)
        in_graph = {id(nd) for _, nd in order}
        node_depth, op_depth = {}, {}
        for op, nd in reversed(order):
            d = node_depth.setdefault(id(nd), 0)
            d = max(d, op_depth.get(id(op), 0))
            op_depth[id(op)] = d
            node_depth[id(nd)] = d
            for x in nd.inputs:
                _, parent = node_of(x)
                if id(parent) in in_graph:
                    node_depth[id(parent)] = max(d + 1, node_depth.get(id(parent), 0))
    except Unknowable:
        return None
    ops = {id(op): op for op, _ in order}
    for t in inputs:
        op, nd = node_of(t)
        if id(op) not in op_depth:
            op_depth[id(op)], indices[id(op)], ops[id(op)] = 0, (-1, op), op
            node_depth[id(nd)] = 0
            order.append((op, nd))
    if model is not None:
        by_depth = defaultdict(list)
        for op, nd in order:
            if id(nd) in node_depth and nd not in by_depth[node_depth[id(nd)]]:
                by_depth[node_depth[id(nd)]].append(nd)
        model.nodes_by_depth = dict(by_depth)
    return sorted(ops.values(), key=lambda op: (-op_depth[id(op)], indices[id(op)][0]))


# ------------------------------------------------------------------------------------------------
# calling a layer
# ------------------------------------------------------------------------------------------------

def _shape(t):
    if isinstance(t, Tensor) and t.shape is not None:
        return tuple(t.shape)
    raise Unknowable()


def call_layer(interp, layer: KLayer, args, kwargs, node):
    """layer(x): the output tensor(s); a violation where Keras would raise."""
    if layer.args is None or not args:
        return Tensor(None)
    layer.called = True
    spec = layer.spec
    try:
        if spec.merge:
            items = interp.items_of(args[0]) if not isinstance(args[0], (list, tuple)) else list(args[0])
            if items is None:
                raise Unknowable()
            flat_in = list(items)
            shapes = [_shape(t) for t in flat_in]
            out = _rule(spec)(layer.args, shapes)
            weights = []
        elif spec.name == "MultiHeadAttention":
            q = args[0]
            v = args[1] if len(args) > 1 else kwargs.get("value")
            k = args[2] if len(args) > 2 else kwargs.get("key")
            flat_in = [x for x in (q, v, k) if x is not None]
            ras = kwargs.get("return_attention_scores", False)
            if not isinstance(ras, bool):
                raise Unknowable()
            qs, vs = _shape(q), _shape(v)
            ks = None if k is None else _shape(k)
            out = LS.mha_rule(layer.args, qs, vs, ks, ras)
            weights = _weights(LS.mha_weights, layer.args, qs, vs, ks)
        else:
            x = args[0]
            flat_in = [x]
            s = _shape(x)
            if spec.wrapper:
                out, weights = _wrapper(layer, s)
            else:
                out = _rule(spec)(layer.args, s)
                weights = _weights(spec.weights, layer.args, s)
    except Violation as v:
        interp.violation(v, node)
        return Tensor(None)
    except Unknowable:
        return Tensor(None)
    if not layer.built:
        layer.weights, layer.built = weights, True
    idx = len(layer.nodes)
    if isinstance(out, list):
        outs = [KTensor(tuple(o), history=(layer, idx, i), batch_dim=0) for i, o in enumerate(out)]
        layer.nodes.append(Node(flat_in, outs))
        return outs
    res = KTensor(tuple(out), history=(layer, idx, 0), batch_dim=0)
    layer.nodes.append(Node(flat_in, [res]))
    return res


def _rule(spec: KSpec):
    if spec.rule is None:  # a wrapper's spec: its call is _wrapper's
        raise Unknowable()
    return spec.rule


def _weights(fn, *a):
    try:
        return fn(*a)
    except Unknowable:
        return None


def _wrapper(layer: KLayer, s):
    inner = layer.inner
    if inner.args is None:
        raise Unknowable()
    if layer.spec.name == "TimeDistributed":
        if len(s) < 3:
            raise Violation(KerasRank(layer="TimeDistributed", expects="at least 3D (batch, timesteps, ...)",
                                      got=len(s), shape=s))
        r = inner.spec.rule(inner.args, (s[0], *s[2:]))
        if isinstance(r, list):
            raise Unknowable()
        w = _weights(inner.spec.weights, inner.args, (s[0], *s[2:]))
        return (s[0], s[1], *r[1:]), w
    # Bidirectional
    if inner.spec.name not in ("LSTM", "GRU", "SimpleRNN"):
        raise Unknowable()
    r = inner.spec.rule(inner.args, s)
    w = _weights(inner.spec.weights, inner.args, s)
    return LS.bidirectional_output(layer.args, r, inner.name), (None if w is None else w + w)
