"""A model built by a classmethod (EfficientNet-PyTorch's ``EfficientNet.from_name('efficientnet-b0')``)
from block settings kept in namedtuples (``block._replace(stride=1)``), with a subclass of
``nn.Conv2d`` that pads statically in a forward of its own as its first layer: the classmethod is
a construction in ``--construct``, in another file of the project and in the README's Python
examples; the subclass tells the input with no input shape. torch judges the failing line."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from conftest import check_cli  # noqa: E402

torch = pytest.importorskip("torch")

MODEL = textwrap.dedent('''\
    import collections
    import math

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    BlockArgs = collections.namedtuple('BlockArgs', ['repeat', 'stride', 'inp', 'out'])
    PLANS = {'small': ['r1_s1_i16_o24', 'r2_s2_i24_o32'], 'wide': ['r1_s1_i16_o48', 'r1_s2_i48_o64']}


    def decode(text):
        opts = dict((p[0], int(p[1:])) for p in text.split('_'))
        return BlockArgs(repeat=opts['r'], stride=opts['s'], inp=opts['i'], out=opts['o'])


    class SameConv(nn.Conv2d):
        def __init__(self, in_channels, out_channels, kernel_size, stride=1, image_size=None, **kwargs):
            super().__init__(in_channels, out_channels, kernel_size, stride, **kwargs)
            self.stride = self.stride if len(self.stride) == 2 else [self.stride[0]] * 2
            kh, kw = self.weight.size()[-2:]
            oh = math.ceil(image_size / self.stride[0])
            pad = max((oh - 1) * self.stride[0] + kh - image_size, 0)
            self.pad = nn.ZeroPad2d((pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))

        def forward(self, x):
            return F.conv2d(self.pad(x), self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


    class Net(nn.Module):
        def __init__(self, blocks, image_size=32, num_classes=10):
            super().__init__()
            self.stem = SameConv(3, 16, kernel_size=3, stride=2, image_size=image_size)
            layers = []
            for b in blocks:
                layers.append(nn.Conv2d(b.inp, b.out, 3, b.stride, 1))
                b = b._replace(inp=b.REPL, stride=1)
                for _ in range(b.repeat - 1):
                    layers.append(nn.Conv2d(b.inp, b.out, 3, b.stride, 1))
            self.blocks = nn.Sequential(*layers)
            self.fc = nn.Linear(blocks[-1].out * 4, num_classes)

        def forward(self, x):
            x = self.blocks(self.stem(x))
            x = F.adaptive_avg_pool2d(x, 2)
            return self.fc(x.flatten(1))

        @classmethod
        def from_name(cls, name, **kwargs):
            model = cls([decode(t) for t in PLANS[name]], **kwargs)
            return model

        @classmethod
        def from_pretrained(cls, name, weights=None):
            model = cls.from_name(name)
            if weights is not None:
                model.load_state_dict(torch.load(weights))
            return model
''')

README = textwrap.dedent('''\
    # Net

    ```python
    from net.model import Net
    model = Net.from_pretrained('small')
    ```
''')


def _project(tmp_path, field):
    (tmp_path / ".git").mkdir()
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "__init__.py").write_text("")
    path = tmp_path / "net" / "model.py"
    path.write_text(MODEL.replace("REPL", field))
    return path


def _torch_line(path, side=32):
    ns: dict = {"__name__": "case_model"}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    try:
        ns["Net"].from_name("small")(torch.randn(2, 3, side, side))
    except RuntimeError as e:
        return [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == str(path)][-1]
    return None


def test_the_clean_model_is_silent_everywhere(tmp_path):
    path = _project(tmp_path, "out")
    (tmp_path / "README.md").write_text(README)
    assert _torch_line(path) is None and _torch_line(path, 64) is None
    for extra in ([], ["--input-shape", "Net=2,3,32,32"],
                  ["--construct", "Net.from_name('wide')", "--input-shape", "Net=2,3,32,32"]):
        rc, out, err = check_cli(path, *extra)
        assert (rc, out) == (0, ""), (out, err)


def test_construct_names_the_classmethod(tmp_path):
    path = _project(tmp_path, "inp")
    line = _torch_line(path)
    assert line == 44  # x = self.blocks(self.stem(x))
    rc, out, err = check_cli(path, "--construct", "Net.from_name('small')", "--input-shape", "Net=2,3,32,32")
    assert rc == 1, (out, err)
    (got,) = out.splitlines()
    assert got.startswith(f"{path}:{line}:") and "SHP003" in got and "Net.from_name('small')" in got, got


@pytest.mark.parametrize("where", ["readme", "script"])
def test_the_project_builds_it_by_the_classmethod(tmp_path, where):
    path = _project(tmp_path, "inp")
    line = _torch_line(path)
    if where == "readme":
        (tmp_path / "README.md").write_text(README)
    else:
        (tmp_path / "train.py").write_text("from net.model import Net\n\nmodel = Net.from_name('small')\n")
    for extra in ([], ["--input-shape", "Net=2,3,32,32"]):
        rc, out, err = check_cli(path, *extra)
        assert rc == 1, (extra, out, err)
        (got,) = out.splitlines()
        assert got.startswith(f"{path}:{line}:") and "SHP003" in got, got
        assert ("README.md:5" if where == "readme" else "train.py:3") in got, got
