"""Subclassed Keras models and layers (``class Net(keras.Model)`` with ``__init__``/``call``, a
``keras.layers.Layer`` with ``build``/``add_weight``/``call``) against Keras 3 itself
(KERAS_BACKEND=torch): parameter counts, output shapes, the summary of a Sequential holding a
custom layer, and a shape error reported on the line Keras fails on."""
import os
import traceback

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ["SHAPELINT_STRICT"] = "1"

import pytest  # noqa: E402

keras = pytest.importorskip("keras")

from shapelint.core.interpreter import Interpreter  # noqa: E402
from shapelint.core.source import SourceModule  # noqa: E402
from shapelint.core.values import FunctionValue  # noqa: E402
from shapelint.engine import analyze_source  # noqa: E402
from shapelint.frameworks.keras.summary import build_target, render  # noqa: E402

CODE = '''
import keras
from keras import layers


class Dense2(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=False)

    def call(self, x):
        return keras.ops.relu(keras.ops.matmul(x, self.w) + self.b)


class Net(keras.Model):
    def __init__(self, classes=10):
        super().__init__()
        self.conv = layers.Conv2D(16, 3, activation="relu")
        self.bn = layers.BatchNormalization()
        self.pool = layers.MaxPooling2D()
        self.flat = layers.Flatten()
        self.blocks = [Dense2(32), Dense2(16)]
        self.out = layers.Dense(classes)

    def call(self, x):
        x = self.pool(self.bn(self.conv(x)))
        x = self.flat(x)
        for b in self.blocks:
            x = b(x)
        return self.out(x)


def subclassed():
    model = Net()
    model(keras.Input(shape=(28, 28, 1)))
    return model


def built():
    model = Net(5)
    model.build((None, 12, 12, 3))  # Keras 3 marks it built without tracing call(): no weights
    return model


def sequential_with_custom_layer():
    return keras.Sequential([keras.Input(shape=(20,)), Dense2(8, name="custom"), layers.Dense(3)])


def functional_with_custom_layer():
    inp = keras.Input(shape=(6,))
    x = Dense2(4)(inp)
    return keras.Model(inp, layers.Dense(2)(x))
'''

BAD = '''
import keras
from keras import layers


class Tiny(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = layers.Conv2D(8, 3)
        self.conv2 = layers.Conv2D(8, 3)

    def call(self, x):
        x = self.conv(x)
        return self.conv2(x)


def build():
    model = Tiny()
    model(keras.Input(shape=(4, 4, 1)))
    return model
'''


def _keras_ns(code):
    ns = {}
    exec(compile(code, "<keras-subclass>", "exec"), ns)
    return ns


def _static(code, fn):
    src = SourceModule(code, "models.py")
    interp = Interpreter(src, strict=True)
    out = interp.call_function(FunctionValue(src.functions[fn], src), [], {}, None)
    assert not interp.facts, interp.facts
    return out


def _counts(model):
    tr = sum(int(w.numpy().size) for w in model.trainable_weights)
    nt = sum(int(w.numpy().size) for w in model.non_trainable_weights)
    return tr, nt


@pytest.mark.parametrize("fn", ["subclassed", "built", "functional_with_custom_layer"])
def test_counts_and_output_shape_are_keras_own(fn):
    keras.backend.clear_session(free_memory=False)
    model = _keras_ns(CODE)[fn]()
    static = _static(CODE, fn)
    assert (static.count(True), static.count(False)) == _counts(model)
    # each layer the model tracks: its parameter count
    static_layers = static.tracked() if hasattr(static, "tracked") else static.layers
    assert [(l.name, l.count()) for l in static_layers] == \
        [(l.name, l.count_params() if l.built else 0) for l in model.layers]


def test_output_shapes_of_a_subclassed_model():
    keras.backend.clear_session(free_memory=False)
    ns = _keras_ns(CODE)
    inp = keras.Input(shape=(28, 28, 1))
    expected = tuple(ns["Net"]()(inp).shape)
    code = CODE + "\n\ndef probe():\n    return Net()(keras.Input(shape=(28, 28, 1)))\n"
    out = _static(code, "probe")
    assert tuple(d if isinstance(d, int) else None for d in out.shape) == expected


def test_summary_of_a_sequential_holding_a_custom_layer():
    keras.backend.clear_session(free_memory=False)
    model = _keras_ns(CODE)["sequential_with_custom_layer"]()
    out = []
    model.summary(print_fn=lambda s, line_break=True: out.append(s))
    static = build_target("models.py", CODE, "sequential_with_custom_layer()", strict=True)
    assert static is not None and render(static) == "".join(out)


def test_a_collapse_inside_call_is_reported_where_keras_fails():
    keras.backend.clear_session(free_memory=False)
    with pytest.raises(ValueError) as info:
        _keras_ns(BAD)["build"]()
    frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename == "<keras-subclass>"]
    line = frames[-1].lineno
    findings = analyze_source(BAD, "bad.py").findings
    assert [(f.line, f.code) for f in findings] == [(line, "SHP004")]


def test_an_unused_subclass_is_not_reported_and_unknown_bases_stay_unknown():
    code = BAD[:BAD.index("def build():")] + '''

class Custom(layers.Dense):
    def call(self, x):
        return x[:, :3]


def other():
    return keras.Sequential([keras.Input(shape=(4,)), Custom(3)])
'''
    assert analyze_source(code, "m.py").findings == []



def test_a_subclassed_model_is_not_summarised():
    """Keras's own table for one depends on which layer classes mark themselves built at
    construction and on the backend's tracing batch (83 under torch): shapelint refuses it."""
    assert build_target("models.py", CODE, "subclassed()", strict=True) is None
