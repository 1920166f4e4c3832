"""Embedding, the recurrent layers (LSTM, GRU, RNN) and MultiheadAttention."""
from __future__ import annotations

from ....core import dims as D
from ....core.facts import Unknowable, Violation
from ....core.values import Tensor
from ....rules import shp007_invalid_config as C
from ....rules.shp002_feature_mismatch import Features
from ....rules.shp008_wrong_rank import RankBatchedOrNot
from .table import DEVICE, LayerInput, R, functional, layer, need, need_int, shape_of


@layer("Embedding", (R("num_embeddings"), R("embedding_dim"), R("padding_idx", None), R("max_norm", None),
                     R("norm_type", 2.0), R("scale_grad_by_freq", False), R("sparse", False), R("_weight", None),
                     R("_freeze", False), *DEVICE),
       params=lambda a: {"weight": (need_int(a["num_embeddings"]), need_int(a["embedding_dim"]))})
def _embedding(a, x):
    s = shape_of(x)
    return Tensor((*s, need_int(a["embedding_dim"])), "float", x.batch_dim)


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
            out = Tensor((*s[:2], dirs * hout), "float", x.batch_dim)
            hn = Tensor((dirs * layers, n, hout), "float", 1)
            cn = Tensor((dirs * layers, n, h), "float", 1)
        else:
            out = Tensor((s[0], dirs * hout), "float", None)
            hn = Tensor((dirs * layers, hout), "float", None)
            cn = Tensor((dirs * layers, h), "float", None)
        return (out, (hn, cn)) if kind == "LSTM" else (out, hn)
    return rule


for _k in ("LSTM", "GRU"):
    layer(_k, _RNN_SIG, params=_rnn_params(_k), implies=LayerInput("sequence", channels="input_size"))(_rnn_rule(_k))
layer("RNN", (R("input_size"), R("hidden_size"), R("num_layers", 1), R("nonlinearity", "tanh"), R("bias", True),
              R("batch_first", False), R("dropout", 0.0), R("bidirectional", False), *DEVICE),
      params=_rnn_params("RNN"), implies=LayerInput("sequence", channels="input_size"))(_rnn_rule("RNN"))


def _mha_check(a):
    e, h = a["embed_dim"], a["num_heads"]
    if isinstance(e, int) and isinstance(h, int) and h > 0 and e % h:
        raise Violation(C.HeadsNotDivisible(e, h))


def _mha_params(a):
    e = need_int(a["embed_dim"])
    k = need(a["kdim"]) or e
    v = need(a["vdim"]) or e
    p = {}
    if k == e and v == e:
        p["in_proj_weight"] = (3 * e, e)
    else:
        p.update(q_proj_weight=(e, e), k_proj_weight=(e, k), v_proj_weight=(e, v))
    if need(a["bias"]):
        p["in_proj_bias"] = (3 * e,)
    if need(a["add_bias_kv"]):
        p.update(bias_k=(1, 1, e), bias_v=(1, 1, e))
    # the output projection is a child module (`out_proj`, a Linear) that forward calls directly
    p["out_proj.weight"] = (e, e)
    if need(a["bias"]):
        p["out_proj.bias"] = (e,)
    return p


@layer("MultiheadAttention", (R("embed_dim"), R("num_heads"), R("dropout", 0.0), R("bias", True),
                              R("add_bias_kv", False), R("add_zero_attn", False), R("kdim", None), R("vdim", None),
                              R("batch_first", False), *DEVICE), params=_mha_params, check=_mha_check)
def _mha(a, q, k, v, key_padding_mask=None, need_weights=True, attn_mask=None, average_attn_weights=True,
         is_causal=False):
    sq, sk = shape_of(q), shape_of(k)
    e = need_int(a["embed_dim"])
    if D.equal(sq[-1], e) == D.NEVER:
        raise Violation(Features(layer="MultiheadAttention", param="embed_dim", expected=e, got=sq[-1], shape=sq))
    if len(sq) != 3:
        raise Unknowable()
    bf = need(a["batch_first"])
    n, L = (sq[0], sq[1]) if bf else (sq[1], sq[0])
    S = sk[1] if bf else sk[0]
    S = D.add(S, int(bool(need(a["add_bias_kv"]))) + int(bool(need(a["add_zero_attn"]))))
    out = Tensor(sq, "float", q.batch_dim)
    need_weights, average = need(need_weights), need(average_attn_weights)
    if need_weights is False:
        return (out, None)
    if need_weights is not True or average not in (True, False):
        raise Unknowable()
    weights = (n, L, S) if average else (n, need_int(a["num_heads"]), L, S)
    return (out, Tensor(weights, "float", 0))
