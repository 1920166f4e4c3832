"""The Keras layer table, continued: recurrent layers, wrappers (Bidirectional, TimeDistributed),
merge layers and MultiHeadAttention."""
from __future__ import annotations

from ...core import dims as D
from ...core.facts import Unknowable, Violation
from ...rules.shp006_broadcast_mismatch import KerasConcat, KerasShapes
from ...rules.shp007_invalid_config import KerasConfig
from ...rules.shp008_wrong_rank import KerasRank
from .layers import KSpec, REQUIRED, _reg, need, need_int

# ------------------------------------------------------------------------------------------------
# Recurrent layers
# ------------------------------------------------------------------------------------------------

_GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
_STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}


def _rnn_rule(kind):
    def rule(a, s):
        if len(s) != 3:
            raise Violation(KerasRank(layer=kind, expects="3D (batch, timesteps, features)", got=len(s), shape=s))
        u = need_int(a["units"])
        out = (s[0], s[1], u) if need(a["return_sequences"]) else (s[0], u)
        if need(a["return_state"]):
            return [out] + [(s[0], u)] * _STATES[kind]
        return out
    return rule


def _rnn_weights(kind):
    def weights(a, s):
        f = s[-1]
        if not isinstance(f, int):
            raise Unknowable()
        u, g = need_int(a["units"]), _GATES[kind]
        w = [("kernel", (f, g * u), True), ("recurrent_kernel", (u, g * u), True)]
        if need(a["use_bias"]):
            if kind == "GRU" and need(a["reset_after"]):
                w.append(("bias", (2, g * u), True))
            else:
                w.append(("bias", (g * u,), True))
        return w
    return weights


_RNN_TAIL = (("return_sequences", False), ("return_state", False), ("go_backwards", False), ("stateful", False),
             ("unroll", False))
_reg(KSpec("SimpleRNN", (("units", REQUIRED), ("activation", "tanh"), ("use_bias", True)),
           {"dropout": 0.0, "recurrent_dropout": 0.0, "seed": None, **dict(_RNN_TAIL)},
           _rnn_rule("SimpleRNN"), _rnn_weights("SimpleRNN"), lambda a: _units_positive(a)))
_reg(KSpec("LSTM", (("units", REQUIRED), ("activation", "tanh"), ("recurrent_activation", "sigmoid"),
                    ("use_bias", True)),
           {"unit_forget_bias": True, "dropout": 0.0, "recurrent_dropout": 0.0, "seed": None, "use_cudnn": "auto",
            **dict(_RNN_TAIL)},
           _rnn_rule("LSTM"), _rnn_weights("LSTM"), lambda a: _units_positive(a)))
_reg(KSpec("GRU", (("units", REQUIRED), ("activation", "tanh"), ("recurrent_activation", "sigmoid"),
                   ("use_bias", True)),
           {"dropout": 0.0, "recurrent_dropout": 0.0, "seed": None, "reset_after": True, "use_cudnn": "auto",
            **dict(_RNN_TAIL)},
           _rnn_rule("GRU"), _rnn_weights("GRU"), lambda a: _units_positive(a)))


def _units_positive(a):
    u = a.get("units")
    if isinstance(u, int) and not isinstance(u, bool) and u <= 0:
        raise Violation(KerasConfig(arg="units", text=f"units must be a positive integer, got units={u}"))


# Wrappers: the wrapped layer is a KerasLayer value (frontend); their rules get it in a["layer"] and
# apply its spec (see frontend.apply_spec), so they are registered with wrapper=True and handled there.
_reg(KSpec("Bidirectional", (("layer", REQUIRED), ("merge_mode", "concat"), ("weights", None),
                             ("backward_layer", None)), {}, None, wrapper=True))
_reg(KSpec("TimeDistributed", (("layer", REQUIRED),), {}, None, wrapper=True))


def bidirectional_output(a, inner_out, inner_name):
    """Bidirectional's output from the forward layer's output (a shape, or [out, *states])."""
    mode = need(a["merge_mode"])
    if mode not in ("concat", "sum", "mul", "ave", None):
        raise Violation(KerasConfig(arg="merge_mode", text=f"Bidirectional merge_mode={mode!r} is not one of "
                                                           "'concat', 'sum', 'mul', 'ave', None"))
    states = []
    if isinstance(inner_out, list):
        inner_out, states = inner_out[0], inner_out[1:]
    if mode is None:
        outs = [inner_out, inner_out]
    elif mode == "concat":
        outs = [(*inner_out[:-1], D.mul(inner_out[-1], 2))]
    else:
        outs = [inner_out]
    if states:
        return outs + states + states
    return outs[0] if len(outs) == 1 else outs


# ------------------------------------------------------------------------------------------------
# Merge layers
# ------------------------------------------------------------------------------------------------

def _elementwise(name):
    def rule(a, shapes):
        if not isinstance(shapes, list) or len(shapes) < 2:
            raise Violation(KerasConfig(arg="inputs", text=f"a {name} layer should be called on a list of at least "
                                                           f"2 inputs"))
        if name == "Subtract" and len(shapes) != 2:
            raise Violation(KerasConfig(arg="inputs", text="a Subtract layer should be called on exactly 2 inputs"))
        out = list(shapes[0][1:])
        for s in shapes[1:]:
            rest = list(s[1:])
            if len(rest) != len(out):
                raise Unknowable()
            for i, (x, y) in enumerate(zip(out, rest)):
                if x == 1:
                    out[i] = y
                elif y == 1:
                    continue
                elif D.equal(x, y) == D.NEVER:
                    raise Violation(KerasShapes(layer=name, left=shapes[0], right=s, axis=i + 1, a=x, b=y))
        return (shapes[0][0], *out)
    return rule


for _nm in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
    _reg(KSpec(_nm, (), {}, _elementwise(_nm), merge=True))


def _concat_rule(a, shapes):
    if not isinstance(shapes, list) or len(shapes) < 2:
        raise Violation(KerasConfig(arg="inputs", text="a Concatenate layer should be called on a list of at least "
                                                       "1 input"))
    axis = need_int(a["axis"])
    r = len(shapes[0])
    if any(len(s) != r for s in shapes):
        raise Violation(KerasConcat(shapes=tuple(shapes), axis=axis))
    if not -r <= axis < r:
        raise Violation(KerasConfig(arg="axis", text=f"Concatenate axis={axis} is out of range for {r}D inputs"))
    ax = axis % r
    out = list(shapes[0])
    for s in shapes[1:]:
        for i in range(1, r):
            if i == ax:
                continue
            if D.equal(out[i], s[i]) == D.NEVER:
                raise Violation(KerasConcat(shapes=tuple(shapes), axis=axis, bad=i, a=out[i], b=s[i]))
    out[ax] = D.add(out[ax], 0)
    for s in shapes[1:]:
        out[ax] = D.add(out[ax], s[ax])
    return tuple(out)


_reg(KSpec("Concatenate", (("axis", -1),), {}, _concat_rule, merge=True))


# ------------------------------------------------------------------------------------------------
# MultiHeadAttention: called as mha(query, value, key=None)
# ------------------------------------------------------------------------------------------------

def mha_rule(a, q, v, k=None, return_attention_scores=False):
    k = v if k is None else k
    for nm, s in (("query", q), ("value", v), ("key", k)):
        if len(s) < 3:
            raise Violation(KerasRank(layer="MultiHeadAttention", expects=f"at least 3D {nm}", got=len(s), shape=s))
    if D.equal(v[1], k[1]) == D.NEVER:
        raise Violation(KerasShapes(layer="MultiHeadAttention", left=v, right=k, axis=1, a=v[1], b=k[1],
                                    what="value and key"))
    out_shape = a["output_shape"]
    if out_shape is None:
        out = (*q[:-1], q[-1])
    else:
        out_shape = need(out_shape)
        out = (*q[:-1], *(out_shape if isinstance(out_shape, (list, tuple)) else (out_shape,)))
    if return_attention_scores:
        h = need_int(a["num_heads"])
        return [out, (q[0], h, *q[1:-1], *k[1:-1])]
    return out


def mha_weights(a, q, v, k=None):
    k = v if k is None else k
    h, kd = need_int(a["num_heads"]), need_int(a["key_dim"])
    vd = kd if a["value_dim"] is None else need_int(a["value_dim"])
    dq, dk, dv = q[-1], k[-1], v[-1]
    if not all(isinstance(x, int) for x in (dq, dk, dv)):
        raise Unknowable()
    bias = need(a["use_bias"])
    out_shape = a["output_shape"]
    dout = dq if out_shape is None else need_int(out_shape if isinstance(out_shape, int) else out_shape[-1])
    w = []
    for nm, d, kk in (("query", dq, kd), ("key", dk, kd), ("value", dv, vd)):
        w.append((f"{nm}/kernel", (d, h, kk), True))
        if bias:
            w.append((f"{nm}/bias", (h, kk), True))
    w.append(("attention_output/kernel", (h, vd, dout), True))
    if bias:
        w.append(("attention_output/bias", (dout,), True))
    return w


_reg(KSpec("MultiHeadAttention", (("num_heads", REQUIRED), ("key_dim", REQUIRED), ("value_dim", None),
                                  ("dropout", 0.0), ("use_bias", True), ("output_shape", None),
                                  ("attention_axes", None)),
           {"flash_attention": None, "seed": None, "sliding_window": None, "use_gate": False},
           mha_rule, mha_weights))
