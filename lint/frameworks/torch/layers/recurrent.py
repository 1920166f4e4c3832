"""Embedding, the recurrent layers (LSTM, GRU, RNN) and their cells."""
from __future__ import annotations

from ....core import dims as D
from ....core.facts import Unknowable, Violation
from ....core.values import Tensor
from ....rules import shp007_invalid_config as C
from ....rules.shp002_feature_mismatch import Features, StateShape
from ....rules.shp006_broadcast_mismatch import TableOverflow
from ....rules.shp008_wrong_rank import RankBatchedOrNot
from .table import DEVICE, LAYERS, LayerInput, R, functional, layer, need, need_int, need_size, shape_of


def _emb_check(a):
    n, p = a["num_embeddings"], a["padding_idx"]
    if isinstance(n, int) and isinstance(p, int) and not isinstance(p, bool) and not -n <= p < n:
        raise Violation(C.PaddingIdx(p, n))


@layer("Embedding", (R("num_embeddings"), R("embedding_dim"), R("padding_idx", None), R("max_norm", None),
                     R("norm_type", 2.0), R("scale_grad_by_freq", False), R("sparse", False), R("_weight", None),
                     R("_freeze", False), *DEVICE), check=_emb_check,
       params=lambda a: {"weight": (need_int(a["num_embeddings"]), need_int(a["embedding_dim"]))})
def _embedding(a, x):
    s = shape_of(x)
    n = a["num_embeddings"]
    if x.data is not None and isinstance(n, int) and x.data and all(isinstance(v, int) for v in x.data):
        hi, lo = max(x.data), min(x.data)
        if hi >= n or lo < 0:
            raise Violation(TableOverflow(layer="Embedding", rows=n, index=hi if hi >= n else lo))
    return Tensor((*s, need_int(a["embedding_dim"])), "float", x.batch_dim)


def _embedding_tail(a, x):
    """Indices of unknown rank ((N, T), (T, N), (N,)...): the output ends in embedding_dim all the same."""
    return Tensor(None, "float", tail=(need_size(a["embedding_dim"]),))


LAYERS["Embedding"].tail = _embedding_tail


def _f_embedding(a, x, w):
    ws = shape_of(w)
    if len(ws) != 2:
        raise Unknowable()
    return Tensor((*shape_of(x), ws[1]), "float", x.batch_dim)


functional(["torch.nn.functional.embedding"], (R("input"), R("weight"), R("padding_idx", None),
                                               R("max_norm", None), R("norm_type", 2.0),
                                               R("scale_grad_by_freq", False), R("sparse", False)),
           _f_embedding, ("input", "weight"))

_RNN_SIG = (R("input_size"), R("hidden_size"), R("num_layers", 1), R("bias", True), R("batch_first", False),
            R("dropout", 0.0), R("bidirectional", False), R("proj_size", 0), *DEVICE)
_RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def _rnn_params(kind):
    def params(a):
        g = _RNN_GATES[kind]
        i, h = need_int(a["input_size"]), need_int(a["hidden_size"])
        layers, bias = need_int(a["num_layers"]), need(a["bias"])
        dirs = 2 if need(a["bidirectional"]) else 1
        proj = need_int(a.get("proj_size", 0) or 0)
        hout = proj if proj > 0 else h
        p = {}
        for layer_i in range(layers):
            for d in range(dirs):
                sfx = f"_l{layer_i}" + ("_reverse" if d else "")
                inp = i if layer_i == 0 else dirs * hout
                p["weight_ih" + sfx] = (g * h, inp)
                p["weight_hh" + sfx] = (g * h, hout)
                if bias:
                    p["bias_ih" + sfx] = (g * h,)
                    p["bias_hh" + sfx] = (g * h,)
                if proj > 0:
                    p["weight_hr" + sfx] = (proj, h)
        return p
    return params


def _rnn_rule(kind):
    def rule(a, x, hx=None):
        s = shape_of(x)
        if len(s) not in (2, 3):
            raise Violation(RankBatchedOrNot(layer=kind, got=len(s), shape=s, unbatched=2))
        i = need_int(a["input_size"])
        if D.equal(s[-1], i) == D.NEVER:
            raise Violation(Features(layer=kind, param="input_size", expected=i, got=s[-1], shape=s))
        h = need_int(a["hidden_size"])
        proj = need_int(a.get("proj_size", 0) or 0)
        hout = proj if proj > 0 else h
        dirs = 2 if need(a["bidirectional"]) else 1
        layers = need_int(a["num_layers"])
        bf = need(a["batch_first"])
        if len(s) == 3:
            n = s[0] if bf else s[1]
            _check_states(kind, hx, ((dirs * layers, n, hout), (dirs * layers, n, h)))
            out = Tensor((*s[:2], dirs * hout), "float", x.batch_dim)
            hn = Tensor((dirs * layers, n, hout), "float", 1)
            cn = Tensor((dirs * layers, n, h), "float", 1)
        else:
            _check_states(kind, hx, ((dirs * layers, hout), (dirs * layers, h)))
            out = Tensor((s[0], dirs * hout), "float", None)
            hn = Tensor((dirs * layers, hout), "float", None)
            cn = Tensor((dirs * layers, h), "float", None)
        return (out, (hn, cn)) if kind == "LSTM" else (out, hn)
    return rule


def _check_states(kind, hx, want):
    """h0 (and c0 for an LSTM) against torch's check_hidden_size / the batched-or-not rank check."""
    if hx is None:
        return
    if kind == "LSTM":
        if not isinstance(hx, tuple) or len(hx) != 2:
            return  # not seen: the output does not depend on it
        states = (("h_0", hx[0], want[0]), ("c_0", hx[1], want[1]))
    else:
        states = (("h_0", hx, want[0]),)
    for name, t, w in states:
        if not isinstance(t, Tensor) or t.shape is None:
            continue
        g = t.shape
        if len(g) != len(w) or any(D.equal(a, b) == D.NEVER for a, b in zip(g, w)):
            raise Violation(StateShape(layer=kind, state=name, expected=w, got=g))


def _rnn_tail(kind):
    def tail(a, x, hx=None):
        """An input of unknown rank whose last dim is known (an Embedding's output on token ids of
        unknown rank): it must be input_size; the output ends in hidden (or proj) size times the
        directions, h_n in the hidden (or proj) size, c_n in hidden_size."""
        i = need_int(a["input_size"])
        if x.tail and D.equal(x.tail[-1], i) == D.NEVER:
            raise Violation(Features(layer=kind, param="input_size", expected=i, got=x.tail[-1],
                                     shape=(Ellipsis, *x.tail)))
        h = need_int(a["hidden_size"])
        proj = need_int(a.get("proj_size", 0) or 0)
        hout = proj if proj > 0 else h
        dirs = 2 if need(a["bidirectional"]) else 1
        out = Tensor(None, "float", tail=(dirs * hout,))
        hn = Tensor(None, "float", tail=(hout,))
        return (out, (hn, Tensor(None, "float", tail=(h,)))) if kind == "LSTM" else (out, hn)
    return tail


for _k in ("LSTM", "GRU"):
    layer(_k, _RNN_SIG, params=_rnn_params(_k), implies=LayerInput("sequence", channels="input_size"))(_rnn_rule(_k))
layer("RNN", (R("input_size"), R("hidden_size"), R("num_layers", 1), R("nonlinearity", "tanh"), R("bias", True),
              R("batch_first", False), R("dropout", 0.0), R("bidirectional", False), *DEVICE),
      params=_rnn_params("RNN"), implies=LayerInput("sequence", channels="input_size"))(_rnn_rule("RNN"))
for _k in ("LSTM", "GRU", "RNN"):
    LAYERS[_k].tail = _rnn_tail(_k)


# ------------------------------------------------------------------ cells

_CELL_GATES = {"LSTMCell": 4, "GRUCell": 3, "RNNCell": 1}


def _cell_params(kind):
    def params(a):
        g, i, h = _CELL_GATES[kind], need_int(a["input_size"]), need_int(a["hidden_size"])
        p = {"weight_ih": (g * h, i), "weight_hh": (g * h, h)}
        if need(a["bias"]):
            p.update(bias_ih=(g * h,), bias_hh=(g * h,))
        return p
    return params


def _cell_rule(kind):
    def rule(a, x, hx=None):
        s = shape_of(x)
        if len(s) not in (1, 2):
            raise Violation(RankBatchedOrNot(layer=kind, got=len(s), shape=s, unbatched=1))
        i, h = need_int(a["input_size"]), need_int(a["hidden_size"])
        if D.equal(s[-1], i) == D.NEVER:
            raise Violation(Features(layer=kind, param="input_size", expected=i, got=s[-1], shape=s))
        want = (s[0], h) if len(s) == 2 else (h,)
        if hx is not None:
            if kind == "LSTMCell":
                states = (("h_0", hx[0]), ("c_0", hx[1])) if isinstance(hx, tuple) and len(hx) == 2 else ()
            else:
                states = (("hx", hx),)
            for name, t in states:
                if not isinstance(t, Tensor) or t.shape is None:
                    continue
                g = t.shape
                if len(g) != len(want) or any(D.equal(p, q) == D.NEVER for p, q in zip(g, want)):
                    raise Violation(StateShape(layer=kind, state=name, expected=want, got=g))
        bd = x.batch_dim if len(s) == 2 else None
        h1 = Tensor(want, "float", bd)
        return (h1, Tensor(want, "float", bd)) if kind == "LSTMCell" else h1
    return rule


for _k in ("LSTMCell", "GRUCell"):
    layer(_k, (R("input_size"), R("hidden_size"), R("bias", True), *DEVICE), params=_cell_params(_k))(_cell_rule(_k))
layer("RNNCell", (R("input_size"), R("hidden_size"), R("bias", True), R("nonlinearity", "tanh"), *DEVICE),
      params=_cell_params("RNNCell"))(_cell_rule("RNNCell"))


# ------------------------------------------------------------------ EmbeddingBag

def _bag_check(a):
    n, p = a["num_embeddings"], a["padding_idx"]
    if isinstance(n, int) and isinstance(p, int) and not isinstance(p, bool) and not -n <= p < n:
        raise Violation(C.PaddingIdx(p, n))


@layer("EmbeddingBag", (R("num_embeddings"), R("embedding_dim"), R("max_norm", None), R("norm_type", 2.0),
                        R("scale_grad_by_freq", False), R("mode", "mean"), R("sparse", False), R("_weight", None),
                        R("include_last_offset", False), R("padding_idx", None), *DEVICE),
       params=lambda a: {"weight": (need_int(a["num_embeddings"]), need_int(a["embedding_dim"]))}, check=_bag_check)
def _embedding_bag(a, x, offsets=None, per_sample_weights=None):
    s = shape_of(x)
    d = need_int(a["embedding_dim"])
    if len(s) == 2:
        if offsets is not None:
            raise Unknowable()  # torch: offsets must be None for a 2D input
        return Tensor((s[0], d), "float", x.batch_dim)
    if len(s) == 1 and isinstance(offsets, Tensor):
        o = shape_of(offsets)
        if len(o) != 1:
            raise Unknowable()
        n = D.sub(o[0], 1) if need(a["include_last_offset"]) else o[0]
        return Tensor((n, d), "float", 0)
    raise Unknowable()
