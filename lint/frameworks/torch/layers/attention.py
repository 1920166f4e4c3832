"""Attention: ``nn.MultiheadAttention`` (every form: kdim/vdim, batch_first, unbatched inputs,
need_weights, average_attn_weights, add_bias_kv/add_zero_attn, masks), ``F.scaled_dot_product_attention``,
and the composite transformer layers (``TransformerEncoderLayer``/``DecoderLayer``,
``TransformerEncoder``/``Decoder``, ``Transformer``), whose children are built and called in torch's
order so that the module tree, parameter counts and call records are torch's own.

The checks follow ``torch.nn.functional.multi_head_attention_forward`` (``_mha_shape_check``, the
``embed_dim_to_check`` assertion, the mask shape assertions and the projections' matmuls) and
``nn.Transformer.forward``'s d_model and batch checks.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

from ....core import dims as D
from ....core.facts import Unknowable, Violation
from ....core.values import UNKNOWN, ModuleValue, Tensor
from ....rules import shp007_invalid_config as C
from ....rules.shp002_feature_mismatch import Features
from ....rules.shp006_broadcast_mismatch import Broadcast, MaskShape
from ....rules.shp008_wrong_rank import RankOneOf
from .table import DEVICE, LAYERS, R, broadcast_tail, functional, layer, need, need_int, shape_of


def _never(a: Any, b: Any) -> bool:
    return D.equal(a, b) == D.NEVER


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
    # the output projection is a child module (`out_proj`, a Linear) that forward never calls
    p["out_proj.weight"] = (e, e)
    if need(a["bias"]):
        p["out_proj.bias"] = (e,)
    return p


def _mask(m: Any) -> Optional[Tuple[Any, ...]]:
    """A mask argument's shape; None for no mask, or one we cannot see (its shape is not the output's)."""
    if isinstance(m, Tensor):
        return m.shape
    return None


@layer("MultiheadAttention", (R("embed_dim"), R("num_heads"), R("dropout", 0.0), R("bias", True),
                              R("add_bias_kv", False), R("add_zero_attn", False), R("kdim", None), R("vdim", None),
                              R("batch_first", False), *DEVICE), params=_mha_params, check=_mha_check)
def _mha(a, q, k, v, key_padding_mask=None, need_weights=True, attn_mask=None, average_attn_weights=True,
         is_causal=False):
    name = "MultiheadAttention"
    sq, sk, sv = shape_of(q), shape_of(k), shape_of(v)
    e, heads = need_int(a["embed_dim"]), need_int(a["num_heads"])
    kdim, vdim = need(a["kdim"]) or e, need(a["vdim"]) or e
    bf = need(a["batch_first"])
    if len(sq) not in (2, 3):
        raise Violation(RankOneOf(layer=name, got=len(sq), shape=sq, ranks=(2, 3)))
    batched = len(sq) == 3
    for s in (sk, sv):
        if len(s) != len(sq):
            raise Violation(RankOneOf(layer=name, got=len(s), shape=s, ranks=(len(sq),)))
    kpm, am = _mask(key_padding_mask), _mask(attn_mask)
    if kpm is not None and len(kpm) != (2 if batched else 1):
        raise Violation(RankOneOf(layer=name, got=len(kpm), shape=kpm, ranks=(2 if batched else 1,)))
    if am is not None and len(am) not in (2, 3):
        raise Violation(RankOneOf(layer=name, got=len(am), shape=am, ranks=(2, 3)))
    if batched and bf:
        (n, L), (nk, S) = sq[:2], sk[:2]
    elif batched:
        (L, n), (S, nk) = sq[:2], sk[:2]
    else:
        L, S, n, nk = sq[0], sk[0], 1, 1
    if _never(sq[-1], e):
        raise Violation(Features(layer=name, param="embed_dim", expected=e, got=sq[-1], shape=sq))
    separate = kdim != e or vdim != e
    # key and value agree on (sequence, batch) (on their whole shape without kdim/vdim)
    for i in range(len(sk) - (1 if separate else 0)):
        if _never(sk[i], sv[i]):
            raise Violation(Broadcast(op="MultiheadAttention key/value", left=sk, right=sv,
                                      dim=i - len(sk), a=sk[i], b=sv[i]))
    if _never(sk[-1], kdim):
        raise Violation(Features(layer=name, param="kdim", expected=kdim, got=sk[-1], shape=sk))
    if _never(sv[-1], vdim):
        raise Violation(Features(layer=name, param="vdim", expected=vdim, got=sv[-1], shape=sv))
    if batched and _never(nk, n):
        raise Violation(Broadcast(op="MultiheadAttention query/key batch", left=sq, right=sk,
                                  dim=(0 if bf else 1) - 3, a=n, b=nk))
    if kpm is not None:
        want = (n, S) if batched else (S,)
        if any(_never(g, w) for g, w in zip(kpm, want)):
            raise Violation(MaskShape(layer=name, mask="key_padding_mask", got=kpm, expected=want))
    if am is not None:
        want = (L, S) if len(am) == 2 else (D.mul(n, heads), L, S)
        if any(_never(g, w) for g, w in zip(am, want)):
            raise Violation(MaskShape(layer=name, mask="attn_mask", got=am, expected=want))
    elif need(is_causal) is True:
        raise Unknowable()  # torch wants a mask with is_causal here
    S2 = D.add(S, int(bool(need(a["add_bias_kv"]))) + int(bool(need(a["add_zero_attn"]))))
    out = Tensor(sq, "float", q.batch_dim)
    need_weights, average = need(need_weights), need(average_attn_weights)
    if need_weights is False:
        return (out, None)
    if need_weights is not True or average not in (True, False):
        raise Unknowable()
    w = (L, S2) if average else (heads, L, S2)
    if batched:
        return (out, Tensor((n, *w), "float", 0))
    return (out, Tensor(w, "float", None))


def _last(t: Any) -> Any:
    if not isinstance(t, Tensor):
        return None
    if t.shape is not None:
        return t.shape[-1] if t.shape else None
    return t.tail[-1] if t.tail else None


def _mha_tail(a, q, k, v, key_padding_mask=None, need_weights=True, attn_mask=None, average_attn_weights=True,
              is_causal=False):
    """MultiheadAttention where an input's rank is unknown (token ids of unknown rank, embedded):
    the query, key and value still end in embed_dim, kdim, vdim, and the output has the query's
    shape (its last dim is out_proj's embed_dim); the weights are unknown."""
    name = "MultiheadAttention"
    e = need_int(a["embed_dim"])
    kdim, vdim = need(a["kdim"]) or e, need(a["vdim"]) or e
    for t, want, param in ((q, e, "embed_dim"), (k, kdim, "kdim"), (v, vdim, "vdim")):
        got = _last(t)
        if got is not None and _never(got, want):
            shape = t.shape if t.shape is not None else (Ellipsis, *t.tail)
            raise Violation(Features(layer=name, param=param, expected=want, got=got, shape=shape))
    if q.shape is not None and len(q.shape) not in (2, 3):
        raise Unknowable()
    out = q if q.shape is not None else Tensor(None, "float", tail=q.tail or (e,))
    return (out, None if need(need_weights) is False else Tensor(None))


LAYERS["MultiheadAttention"].tail = _mha_tail


# ------------------------------------------------------------------ scaled_dot_product_attention

def _broadcast(a: Tuple[Any, ...], b: Tuple[Any, ...], op: str, left, right) -> Tuple[Any, ...]:
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif _never(x, y):
            raise Violation(Broadcast(op=op, left=left, right=right, dim=-i, a=x, b=y))
        elif D.equal(x, y) == D.ALWAYS:
            out.append(x)
        else:
            raise Unknowable()
    return tuple(reversed(out))


def _sdpa(a, q, k, v):
    sq, sk, sv = shape_of(q), shape_of(k), shape_of(v)
    op = "scaled_dot_product_attention"
    if min(len(sq), len(sk), len(sv)) < 2 or need(a["enable_gqa"]) is not False:
        raise Unknowable()
    if _never(sq[-1], sk[-1]):
        raise Violation(Broadcast(op=op + " query/key", left=sq, right=sk, dim=-1, a=sq[-1], b=sk[-1]))
    if _never(sk[-2], sv[-2]):
        raise Violation(Broadcast(op=op + " key/value", left=sk, right=sv, dim=-2, a=sk[-2], b=sv[-2]))
    if len({len(sq), len(sk), len(sv)}) != 1:
        raise Unknowable()
    lead = _broadcast(_broadcast(sq[:-2], sk[:-2], op, sq, sk), sv[:-2], op, sk, sv)
    m = _mask(a["attn_mask"])
    if m is not None:
        _broadcast(m, (*lead, sq[-2], sk[-2]), op + " attn_mask", m, (*lead, sq[-2], sk[-2]))
    return Tensor((*lead, sq[-2], sv[-1]), q.dtype, q.batch_dim)


functional(["torch.nn.functional.scaled_dot_product_attention"],
           (R("query"), R("key"), R("value"), R("attn_mask", None), R("dropout_p", 0.0), R("is_causal", False),
            R("scale", None), R("enable_gqa", False)), _sdpa, ("query", "key", "value"))


# ------------------------------------------------------------------ transformer layers (composites)

def _first(o: Any) -> Any:
    return o[0] if isinstance(o, tuple) and o else o


def _add(x: Any, y: Any) -> Tensor:
    """``x + y`` where torch's sublayer gives back x's shape (of unknown rank: the last dims both
    sides are sure of, :func:`broadcast_tail`)."""
    y = _first(y)
    if isinstance(x, Tensor) and isinstance(y, Tensor) and (x.shape is None or y.shape is None):
        out = broadcast_tail(x, y)
        if not out.tail:
            raise Unknowable()
        return out
    sx, sy = shape_of(x), shape_of(y)
    if len(sx) != len(sy) or any(_never(p, q) for p, q in zip(sx, sy)):
        raise Unknowable()
    return x


_LAYER_SIG = (R("d_model"), R("nhead"), R("dim_feedforward", 2048), R("dropout", 0.1), R("activation", "relu"),
              R("layer_norm_eps", 1e-5), R("batch_first", False), R("norm_first", False), R("bias", True), *DEVICE)


def _layer_children(a, kit, cross: bool):
    d, h, ff = a["d_model"], a["nhead"], a["dim_feedforward"]
    mha = dict(dropout=a["dropout"], bias=a["bias"], batch_first=a["batch_first"])
    out = {"self_attn": kit.make("MultiheadAttention", d, h, **mha)}
    if cross:
        out["multihead_attn"] = kit.make("MultiheadAttention", d, h, **mha)
    out["linear1"] = kit.make("Linear", d, ff, bias=a["bias"])
    out["dropout"] = kit.make("Dropout", a["dropout"])
    out["linear2"] = kit.make("Linear", ff, d, bias=a["bias"])
    for i in range(1, 4 if cross else 3):
        out[f"norm{i}"] = kit.make("LayerNorm", d, eps=a["layer_norm_eps"], bias=a["bias"])
    for i in range(1, 4 if cross else 3):
        out[f"dropout{i}"] = kit.make("Dropout", a["dropout"])
    if isinstance(a["activation"], ModuleValue):
        out["activation"] = a["activation"]
    return out


def _ff(a, kit, x, last: str):
    h = kit.call("linear1", x)
    if isinstance(a["activation"], ModuleValue):
        h = kit.call("activation", h)
    return kit.call(last, kit.call("linear2", kit.call("dropout", h)))


def _enc_layer_fwd(a, kit, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
    def sa(x):
        o = kit.call("self_attn", x, x, x, attn_mask=src_mask, key_padding_mask=src_key_padding_mask,
                     need_weights=False)
        return kit.call("dropout1", _first(o))
    x = src
    if need(a["norm_first"]):
        x = _add(x, sa(kit.call("norm1", x)))
        return _add(x, _ff(a, kit, kit.call("norm2", x), "dropout2"))
    x = kit.call("norm1", _add(x, sa(x)))
    return kit.call("norm2", _add(x, _ff(a, kit, x, "dropout2")))


def _dec_layer_fwd(a, kit, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                   memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
    def sa(x):
        o = kit.call("self_attn", x, x, x, attn_mask=tgt_mask, key_padding_mask=tgt_key_padding_mask,
                     need_weights=False)
        return kit.call("dropout1", _first(o))

    def ca(x):
        o = kit.call("multihead_attn", x, memory, memory, attn_mask=memory_mask,
                     key_padding_mask=memory_key_padding_mask, need_weights=False)
        return kit.call("dropout2", _first(o))
    x = tgt
    if need(a["norm_first"]):
        x = _add(x, sa(kit.call("norm1", x)))
        x = _add(x, ca(kit.call("norm2", x)))
        return _add(x, _ff(a, kit, kit.call("norm3", x), "dropout3"))
    x = kit.call("norm1", _add(x, sa(x)))
    x = kit.call("norm2", _add(x, ca(x)))
    return kit.call("norm3", _add(x, _ff(a, kit, x, "dropout3")))


layer("TransformerEncoderLayer", _LAYER_SIG, build=lambda a, kit: _layer_children(a, kit, False))(_enc_layer_fwd)
layer("TransformerDecoderLayer", _LAYER_SIG, build=lambda a, kit: _layer_children(a, kit, True))(_dec_layer_fwd)


def _stack_children(a, kit, key):
    copies = kit.clones(a[key], need_int(a["num_layers"]))
    out = {"layers": copies}
    if a["norm"] is not None:
        out["norm"] = a["norm"]
    return out


def _encoder_fwd(a, kit, src, mask=None, src_key_padding_mask=None, is_causal=None):
    x = src
    for i in range(need_int(a["num_layers"])):
        x = kit.call(f"layers.{i}", x, src_mask=mask, src_key_padding_mask=src_key_padding_mask)
    if a["norm"] is not None:
        x = kit.call("norm", x)
    return x


def _decoder_fwd(a, kit, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                 memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
    x = tgt
    for i in range(need_int(a["num_layers"])):
        x = kit.call(f"layers.{i}", x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                     tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask)
    if a["norm"] is not None:
        x = kit.call("norm", x)
    return x


layer("TransformerEncoder", (R("encoder_layer"), R("num_layers"), R("norm", None), R("enable_nested_tensor", True),
                             R("mask_check", True)),
      build=lambda a, kit: _stack_children(a, kit, "encoder_layer"))(_encoder_fwd)
layer("TransformerDecoder", (R("decoder_layer"), R("num_layers"), R("norm", None)),
      build=lambda a, kit: _stack_children(a, kit, "decoder_layer"))(_decoder_fwd)


def _transformer_children(a, kit):
    if a["custom_encoder"] is not None or a["custom_decoder"] is not None:
        raise Unknowable()
    d, eps, bias = a["d_model"], a["layer_norm_eps"], a["bias"]
    common = dict(dim_feedforward=a["dim_feedforward"], dropout=a["dropout"], activation=a["activation"],
                  layer_norm_eps=eps, batch_first=a["batch_first"], norm_first=a["norm_first"], bias=bias)
    enc = kit.make("TransformerEncoder", kit.make("TransformerEncoderLayer", d, a["nhead"], **common),
                   a["num_encoder_layers"], kit.make("LayerNorm", d, eps=eps, bias=bias))
    dec = kit.make("TransformerDecoder", kit.make("TransformerDecoderLayer", d, a["nhead"], **common),
                   a["num_decoder_layers"], kit.make("LayerNorm", d, eps=eps, bias=bias))
    return {"encoder": enc, "decoder": dec}


@layer("Transformer", (R("d_model", 512), R("nhead", 8), R("num_encoder_layers", 6), R("num_decoder_layers", 6),
                       R("dim_feedforward", 2048), R("dropout", 0.1), R("activation", "relu"),
                       R("custom_encoder", None), R("custom_decoder", None), R("layer_norm_eps", 1e-5),
                       R("batch_first", False), R("norm_first", False), R("bias", True), *DEVICE),
       build=_transformer_children)
def _transformer_fwd(a, kit, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                     tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None,
                     tgt_is_causal=None, memory_is_causal=False):
    ss, st = shape_of(src), shape_of(tgt)
    d = need_int(a["d_model"])
    if len(ss) == 3 and len(st) == 3:
        b = 0 if need(a["batch_first"]) else 1
        if _never(ss[b], st[b]):
            raise Violation(Broadcast(op="Transformer src/tgt batch", left=ss, right=st, dim=b - 3,
                                      a=ss[b], b=st[b]))
    for s in (ss, st):
        if s and _never(s[-1], d):
            raise Violation(Features(layer="Transformer", param="d_model", expected=d, got=s[-1], shape=s))
    memory = kit.call("encoder", src, mask=src_mask, src_key_padding_mask=src_key_padding_mask)
    return kit.call("decoder", tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                    tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask)


__all__ = ["UNKNOWN"]
