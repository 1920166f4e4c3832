"""The Keras frontend against Keras 3 itself (KERAS_BACKEND=torch, no TensorFlow): every
fixtures/keras_*.py is built in Keras — a clean one builds, a bug fixture raises on the statement
its `# expect:` marker is on — and `shapelint summary` prints the table Keras's
`model.summary()` prints."""
import ast
import os
import re
import sys
import traceback
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ["SHAPELINT_STRICT"] = "1"

import pytest  # noqa: E402

keras = pytest.importorskip("keras")

from shapelint.engine import analyze_source  # noqa: E402
from shapelint.frameworks.keras.summary import build_target, render  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*(SHP\d{3})")
KERAS_FIXTURES = sorted(FIXTURES.glob("keras_*.py"))


def _load(path: Path):
    code = path.read_text().replace("from tensorflow import keras", "import keras") \
        .replace("from tensorflow.keras import", "from keras import")
    mod = type(sys)(path.stem)
    mod.__file__ = str(path)
    exec(compile(code, str(path), "exec"), mod.__dict__)
    return mod


def _statement_lines(path: Path, line: int):
    """The lines of the innermost statement of the file that contains ``line``."""
    best = None
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.ClassDef)) and \
                node.lineno <= line <= node.end_lineno:
            if best is None or node.end_lineno - node.lineno <= best.end_lineno - best.lineno:
                best = node
    return range(best.lineno, best.end_lineno + 1) if best else range(line, line + 1)


@pytest.mark.parametrize("path", KERAS_FIXTURES, ids=lambda p: p.name)
def test_fixture_builds_in_keras_as_marked(path):
    markers = [i for i, l in enumerate(path.read_text().splitlines(), 1) if EXPECT.search(l)]
    keras.backend.clear_session(free_memory=False)
    mod = _load(path)
    if not markers:
        mod.build_model()
        return
    with pytest.raises(ValueError) as info:
        mod.build_model()
    frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename == str(path)]
    assert frames, "Keras did not fail inside the fixture"
    (marker,) = markers
    assert marker in _statement_lines(path, frames[-1].lineno), \
        f"Keras fails on line {frames[-1].lineno}, the marker is on line {marker}"
    # and shapelint reports there, with the marked code
    codes = {(f.line, f.code) for f in analyze_source(path.read_text(), str(path)).findings}
    assert codes == {(marker, EXPECT.search(path.read_text().splitlines()[marker - 1]).group(1))}


def _keras_summary(model, width):
    out = []
    model.summary(line_length=width, print_fn=lambda s, line_break=True: out.append(s))
    return "".join(out)


@pytest.mark.parametrize("path", [p for p in KERAS_FIXTURES if "bug" not in p.name], ids=lambda p: p.name)
@pytest.mark.parametrize("width", [None, 120])
def test_summary_is_keras_own(path, width):
    keras.backend.clear_session(free_memory=False)
    expected = _keras_summary(_load(path).build_model(), width)
    model = build_target(str(path), path.read_text(), "build_model()", strict=True)
    assert model is not None
    assert render(model, width) == expected


def test_summary_lenet_vgg_sequential_add_and_legacy_input_shape():
    code = '''
import keras
from keras import layers


def lenet():
    model = keras.Sequential(name="lenet")
    model.add(layers.Conv2D(6, 5, padding="same", activation="tanh", input_shape=(28, 28, 1)))
    model.add(layers.AveragePooling2D(2))
    model.add(layers.Conv2D(16, 5, activation="tanh"))
    model.add(layers.AveragePooling2D(2))
    model.add(layers.Flatten())
    model.add(layers.Dense(120, activation="tanh"))
    model.add(layers.Dense(84, activation="tanh"))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def vgg():
    model = keras.Sequential([keras.Input(shape=(32, 32, 3))])
    for filters in [32, 64, 128]:
        model.add(layers.Conv2D(filters, 3, padding="same", activation="relu"))
        model.add(layers.BatchNormalization())
        model.add(layers.Conv2D(filters, 3, padding="same", activation="relu"))
        model.add(layers.MaxPooling2D())
    model.add(layers.Flatten())
    model.add(layers.Dense(256, activation="relu"))
    model.add(layers.Dense(10))
    return model
'''
    ns = {}
    exec(compile(code, "<models>", "exec"), ns)
    for fn in ("lenet", "vgg"):
        keras.backend.clear_session(free_memory=False)
        expected = _keras_summary(ns[fn](), None)
        model = build_target("models.py", code, f"{fn}()", strict=True)
        assert render(model) == expected


def test_cli_summary_and_check(capsys):
    from shapelint.cli import main

    path = FIXTURES / "keras_mnist_cnn.py"
    keras.backend.clear_session(free_memory=False)
    expected = _keras_summary(_load(path).build_model(), None)
    assert main(["summary", f"{path}::build_model()"]) == 0
    assert capsys.readouterr().out == expected
    bug = FIXTURES / "keras_mnist_reshape_bug.py"
    try:
        rc = main(["check", str(bug)])
    except SystemExit as e:
        rc = e.code
    out = capsys.readouterr().out
    assert rc != 0 and "SHP001" in out and "7*7*20 = 980" in out and "not 320" in out


def test_lint_path_does_not_import_keras():
    import subprocess

    code = ("import sys, shapelint.cli\n"
            f"try:\n    shapelint.cli.main(['check', {str(FIXTURES / 'keras_unet_bug.py')!r}])\n"
            "except SystemExit:\n    pass\n"
            "print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'torch', 'tensorflow')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in r.stdout, r.stdout + r.stderr
    assert "SHP006" in r.stdout


@pytest.mark.parametrize("name", ["keras_two_input.py", "keras_mnist_cnn.py"])
def test_cli_summary_json_is_keras_figures(name, capsys):
    """--format json for a Keras model: the torch styles' keys, Keras's own figures."""
    import json

    from shapelint.cli import main

    path = FIXTURES / name
    keras.backend.clear_session(free_memory=False)
    model = _load(path).build_model()
    assert main(["summary", f"{path}::build_model()", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"model", "style", "input_shapes", "output_shapes", "layers", "totals", "memory",
                        "admissible_inputs", "notes"}
    tr = sum(int(w.numpy().size) for w in model.trainable_weights)
    nt = sum(int(w.numpy().size) for w in model.non_trainable_weights)
    assert doc["totals"]["params"] == model.count_params() == tr + nt
    assert (doc["totals"]["trainable"], doc["totals"]["non_trainable"]) == (tr, nt)

    def shape(s):
        return [None if d == "N" else d for d in s]

    assert [shape(s) for s in doc["input_shapes"]] == [list(t.shape) for t in model.inputs]
    assert [shape(s) for s in doc["output_shapes"]] == [list(t.shape) for t in model.outputs]
    layers = model.layers  # a Sequential's leave its InputLayer out, as shapelint's JSON does
    assert [(d["name"], d["type"], d["params"]) for d in doc["layers"]] == \
        [(l.name, type(l).__name__, l.count_params()) for l in layers]
    assert all(shape(d["output_shape"]) == list(l.output.shape) for d, l in zip(doc["layers"], layers))
    # and an explicit torch style on a Keras model is refused with one line
    assert main(["summary", f"{path}::build_model()", "--style", "torchinfo"]) == 2
