"""The Keras layer table against Keras 3 itself (KERAS_BACKEND=torch, no TensorFlow): output
shape, trainable and non-trainable parameter counts, and whether Keras raises, for every layer
over hypothesis-generated configurations and the classic named cases."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ["SHAPELINT_STRICT"] = "1"

import pytest  # noqa: E402

keras = pytest.importorskip("keras")
from hypothesis import HealthCheck, Phase, given, settings, strategies as st  # noqa: E402

from shapelint.core.interpreter import Interpreter  # noqa: E402
from shapelint.core.source import SourceModule  # noqa: E402
from shapelint.core.values import Tensor  # noqa: E402
from shapelint.frameworks.keras import model as KM  # noqa: E402

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                    phases=[Phase.explicit, Phase.generate])


def keras_result(name, kwargs, shapes, call_kwargs=None, inner=None):
    """(output shape(s) with None batch, trainable, non-trainable) or 'error'."""
    keras.backend.clear_session(free_memory=False)
    try:
        inputs = [keras.Input(shape=s) for s in shapes]
        if inner is not None:
            kwargs = dict(kwargs, layer=getattr(keras.layers, inner[0])(**inner[1]))
        layer = getattr(keras.layers, name)(**kwargs)
        if name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"):
            out = layer(inputs)
        else:
            out = layer(*inputs, **(call_kwargs or {}))
    except (ValueError, TypeError, RuntimeError, IndexError):
        return "error"
    outs = out if isinstance(out, (list, tuple)) else [out]
    shapes_out = [tuple(o.shape) for o in outs]
    tr = sum(int(w.numpy().size) for w in layer.trainable_weights)
    nt = sum(int(w.numpy().size) for w in layer.non_trainable_weights)
    return (shapes_out if len(shapes_out) > 1 else shapes_out[0]), tr, nt


def static_result(name, kwargs, shapes, call_kwargs=None, inner=None):
    interp = Interpreter(SourceModule("", "<keras>"), strict=True)
    inputs = [KM.make_input(interp, [tuple(s)], {}, None) for s in shapes]
    if inner is not None:
        kwargs = dict(kwargs, layer=KM.call_qual(interp, "keras.layers." + inner[0], [], inner[1], None))
    layer = KM.call_qual(interp, "keras.layers." + name, [], kwargs, None)
    if interp.facts:
        return "error"
    assert isinstance(layer, KM.KLayer), f"{name}({kwargs}) not modelled"
    if name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"):
        out = KM.call_layer(interp, layer, [inputs], {}, None)
    else:
        out = KM.call_layer(interp, layer, inputs, dict(call_kwargs or {}), None)
    if [f for f in interp.facts if f.kind == "violation"]:
        return "error"
    outs = out if isinstance(out, list) else [out]
    assert all(isinstance(o, Tensor) and o.shape is not None for o in outs), f"{name}({kwargs}): unknown output"
    fmt = [tuple(d if isinstance(d, int) else None for d in o.shape) for o in outs]
    return (fmt if len(fmt) > 1 else fmt[0]), layer.count(True), layer.count(False)


def check(name, kwargs, shapes, call_kwargs=None, inner=None):
    k = keras_result(name, kwargs, shapes, call_kwargs, inner)
    s = static_result(name, kwargs, shapes, call_kwargs, inner)
    assert s == k, f"{name}({kwargs}) on {shapes}: shapelint {s}, keras {k}"
    return k


# ------------------------------------------------------------------------------------------------
# named cases (the arithmetic as people learn it)
# ------------------------------------------------------------------------------------------------

def test_conv_valid_28_to_26_and_param_count():
    assert check("Conv2D", {"filters": 32, "kernel_size": 3}, [(28, 28, 1)]) == ((None, 26, 26, 32), (3 * 3 * 1 + 1) * 32, 0)


def test_conv_same_stride2_on_7_is_4():
    assert check("Conv2D", {"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"}, [(7, 7, 3)])[0] == \
        (None, 4, 4, 8)


def test_upsampling_and_pooling():
    assert check("UpSampling2D", {}, [(7, 5, 3)])[0] == (None, 14, 10, 3)
    assert check("MaxPooling2D", {}, [(7, 7, 3)])[0] == (None, 3, 3, 3)
    assert check("MaxPooling2D", {"padding": "same"}, [(7, 7, 3)])[0] == (None, 4, 4, 3)


def test_batchnorm_moving_stats_are_non_trainable():
    assert check("BatchNormalization", {}, [(5, 5, 16)]) == ((None, 5, 5, 16), 32, 32)


def test_collapse_and_bad_reshape_are_errors():
    assert check("Conv2D", {"filters": 4, "kernel_size": 3}, [(2, 2, 1)]) == "error"
    assert check("Reshape", {"target_shape": (320,)}, [(7, 7, 20)]) == "error"
    assert check("Concatenate", {}, [(4, 4, 3), (5, 4, 3)]) == "error"


# ------------------------------------------------------------------------------------------------
# generated configurations
# ------------------------------------------------------------------------------------------------

pad = st.sampled_from(["valid", "same"])


@SETTINGS
@given(n=st.sampled_from([1, 2, 3]), k=st.integers(1, 5), s=st.integers(1, 3), d=st.integers(1, 3),
       size=st.integers(1, 12), c=st.integers(1, 4), f=st.integers(1, 5), p=pad, bias=st.booleans(),
       first=st.booleans())
def test_conv(n, k, s, d, size, c, f, p, bias, first):
    if s > 1:
        d = 1
    shape = (c,) + (size,) * n if first else (size,) * n + (c,)
    kw = {"filters": f, "kernel_size": k, "strides": s, "dilation_rate": d, "padding": p, "use_bias": bias}
    if first:
        kw["data_format"] = "channels_first"
    check(f"Conv{n}D", kw, [shape])


@SETTINGS
@given(n=st.sampled_from([1, 2, 3]), k=st.integers(1, 4), s=st.integers(1, 3), size=st.integers(1, 8),
       c=st.integers(1, 4), f=st.integers(1, 5), p=pad, op=st.sampled_from([None, 0]))
def test_conv_transpose(n, k, s, size, c, f, p, op):
    check(f"Conv{n}DTranspose", {"filters": f, "kernel_size": k, "strides": s, "padding": p, "output_padding": op},
          [(size,) * n + (c,)])


@SETTINGS
@given(kind=st.sampled_from(["SeparableConv2D", "DepthwiseConv2D", "SeparableConv1D", "DepthwiseConv1D"]),
       k=st.integers(1, 4), s=st.integers(1, 3), size=st.integers(1, 10), c=st.integers(1, 4),
       m=st.integers(1, 3), p=pad)
def test_separable_depthwise(kind, k, s, size, c, m, p):
    n = int(kind[-2])
    kw = {"kernel_size": k, "strides": s, "padding": p, "depth_multiplier": m}
    if kind.startswith("Separable"):
        kw["filters"] = 3
    check(kind, kw, [(size,) * n + (c,)])


@SETTINGS
@given(n=st.sampled_from([1, 2, 3]), op=st.sampled_from(["Max", "Average"]), k=st.integers(1, 4),
       s=st.sampled_from([None, 1, 2, 3]), size=st.integers(1, 10), p=pad)
def test_pooling(n, op, k, s, size, p):
    check(f"{op}Pooling{n}D", {"pool_size": k, "strides": s, "padding": p}, [(size,) * n + (3,)])


@SETTINGS
@given(n=st.sampled_from([1, 2, 3]), op=st.sampled_from(["Max", "Average"]), keep=st.booleans(),
       first=st.booleans())
def test_global_pooling(n, op, keep, first):
    kw = {"keepdims": keep}
    if first:
        kw["data_format"] = "channels_first"
    check(f"Global{op}Pooling{n}D", kw, [(5,) * n + (3,)])


@SETTINGS
@given(n=st.sampled_from([1, 2, 3]), f=st.integers(1, 3), size=st.integers(1, 6),
       pads=st.lists(st.integers(0, 3), min_size=6, max_size=6))
def test_upsampling_padding_cropping(n, f, size, pads):
    shape = (size,) * n + (2,)
    check(f"UpSampling{n}D", {"size": f}, [shape])
    pairs = tuple((pads[2 * i], pads[2 * i + 1]) for i in range(n))
    check(f"ZeroPadding{n}D", {"padding": pairs if n > 1 else pairs[0]}, [shape])
    check(f"Cropping{n}D", {"cropping": pairs if n > 1 else pairs[0]}, [shape])


@SETTINGS
@given(dims=st.lists(st.integers(1, 5), min_size=1, max_size=3), t=st.lists(st.integers(-1, 12), min_size=1,
                                                                             max_size=3))
def test_flatten_reshape(dims, t):
    check("Flatten", {}, [tuple(dims)])
    if 0 not in t and t.count(-1) <= 1:
        check("Reshape", {"target_shape": tuple(t)}, [tuple(dims)])


@SETTINGS
@given(u=st.integers(1, 6), f=st.integers(1, 5), seq=st.booleans(), state=st.booleans(),
       kind=st.sampled_from(["LSTM", "GRU", "SimpleRNN"]), bias=st.booleans())
def test_recurrent(u, f, seq, state, kind, bias):
    check(kind, {"units": u, "return_sequences": seq, "return_state": state, "use_bias": bias}, [(7, f)])


@SETTINGS
@given(u=st.integers(1, 5), kind=st.sampled_from(["LSTM", "GRU", "SimpleRNN"]), seq=st.booleans(),
       mode=st.sampled_from(["concat", "sum", "mul", "ave"]))
def test_bidirectional(u, kind, seq, mode):
    check("Bidirectional", {"merge_mode": mode}, [(6, 3)], inner=(kind, {"units": u, "return_sequences": seq}))


@SETTINGS
@given(u=st.integers(1, 5), extra=st.lists(st.integers(1, 4), min_size=1, max_size=2))
def test_time_distributed_dense_embedding(u, extra):
    check("TimeDistributed", {}, [(5, *extra)], inner=("Dense", {"units": u}))
    check("Dense", {"units": u}, [tuple(extra)])
    check("Embedding", {"input_dim": 11, "output_dim": u}, [tuple(extra)])


@SETTINGS
@given(kind=st.sampled_from(["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]),
       a=st.lists(st.integers(1, 3), min_size=1, max_size=3), b=st.lists(st.integers(1, 3), min_size=1, max_size=3))
def test_merge(kind, a, b):
    if len(a) != len(b):
        b = a[:-1] + [b[-1]] if len(a) > 1 else [b[-1]]
    check(kind, {}, [tuple(a), tuple(b)])


@SETTINGS
@given(h=st.integers(1, 3), kd=st.integers(1, 4), dq=st.integers(1, 6), dv=st.integers(1, 6), tq=st.integers(1, 4),
       tv=st.integers(1, 4))
def test_multi_head_attention(h, kd, dq, dv, tq, tv):
    check("MultiHeadAttention", {"num_heads": h, "key_dim": kd}, [(tq, dq), (tv, dv)])


@SETTINGS
@given(dims=st.lists(st.integers(1, 4), min_size=1, max_size=3), axis=st.integers(-3, 2))
def test_normalization_and_shape_preserving(dims, axis):
    check("BatchNormalization", {"axis": axis}, [tuple(dims)])
    check("LayerNormalization", {"axis": axis}, [tuple(dims)])
    check("Dropout", {"rate": 0.5}, [tuple(dims)])
    check("Activation", {"activation": "relu"}, [tuple(dims)])
    check("ReLU", {}, [tuple(dims)])
    if len(dims) >= 2:
        check("Permute", {"dims": tuple(range(len(dims), 0, -1))}, [tuple(dims)])
