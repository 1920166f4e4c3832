"""The Framework interface: the torch framework is registered by default, a framework registered
first is asked first, and core/ knows no framework by name."""
import re
from pathlib import Path

from shapelint.engine import analyze_source
from shapelint.frameworks import NOT_MINE, Framework, _REGISTRY, register, registered
from shapelint.core.values import ModuleValue

ROOT = Path(__file__).resolve().parent.parent


def test_torch_and_keras_are_registered():
    assert [fw.name for fw in registered()] == ["keras", "torch"]  # Keras first: it claims only its own
    keras_fw, torch_fw = registered()
    assert torch_fw.owns("torch.nn.Conv2d") and not torch_fw.owns("torchvision.ops.X")
    assert keras_fw.owns("keras.layers.Conv2D") and keras_fw.owns("tf.keras.layers.Dense")
    assert not keras_fw.owns("torch.nn.Conv2d")
    # Keras claims no torch value: a ModuleValue or Tensor is torch's alone
    from shapelint.core.values import Tensor

    assert not keras_fw.owns_value(ModuleValue("opaque", "X")) and not keras_fw.owns_value(Tensor((1, 2)))
    assert keras_fw.call_qual(None, "torch.relu", [], {}, None) is NOT_MINE


def test_default_hooks_claim_nothing():
    fw = Framework()
    assert fw.call_qual(None, "torch.relu", [], {}, None) is NOT_MINE
    assert fw.class_base(None, None) is None and fw.aug_assign(None, "Add", None, None) is False
    assert fw.owns_value(object()) is False and fw.call_value(None, None, [], {}, None) is NOT_MINE
    assert fw.file_runs(None, True, lambda: None) == []


def test_a_framework_registered_first_is_asked_first():
    class Fake(Framework):
        name, prefixes = "fake", ("fake.",)

        def call_qual(self, interp, name, args, kwargs, node):
            return ModuleValue("opaque", "FakeLayer") if name == "fake.Layer" else NOT_MINE

    code = "import fake\nimport torch.nn as nn\n\nclass Net(nn.Module):\n    def __init__(self):\n" \
           "        super().__init__()\n        self.f = fake.Layer()\n        self.fc = nn.Linear(3, 4)\n\n" \
           "    def forward(self, x):\n        return self.fc(x)\n"
    register(Fake(), first=True)
    try:
        a = analyze_source(code, strict=True)
        root = a.runs[0].root
        assert root.children["f"].type_name == "FakeLayer" and root.children["fc"].type_name == "Linear"
    finally:
        _REGISTRY.pop(0)


def test_core_names_no_framework():
    """Only the fact imports of interpreter.py (tensor_rule's recorders) may name torch in core/ code."""
    for path in sorted((ROOT / "lint" / "core").glob("*.py")):
        for line in path.read_text().splitlines():
            code = line.split("#")[0]
            if re.search(r"^\s*(from|import) .*frameworks\.torch", code):
                assert path.name == "interpreter.py", line
