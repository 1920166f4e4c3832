"""A factory that builds the layers and hands them to a model class of another file (SSD's
``create_vgg_ssd`` building the VGG base, extras and heads for ``ssd.SSD``): a layer that fails in
the other file's forward is reported where the factory builds it, the line torch's traceback shows
in the factory's file. ``--input-shape SSD=...`` is accepted while checking the factory's file alone
(it imports the class), and applies to the factory's construction. torch judges."""
from __future__ import annotations

import contextlib
import io
import os
import sys
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.cli import main  # noqa: E402

torch = pytest.importorskip("torch")

MODEL = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Detector(nn.Module):
        def __init__(self, num_classes, base, extras, heads):
            super().__init__()
            self.num_classes = num_classes
            self.base = base
            self.extras = extras
            self.heads = heads

        def forward(self, x):
            for layer in self.base:
                x = layer(x)
            outs = []
            for extra, head in zip(self.extras, self.heads):
                x = extra(x)
                c = head(x).permute(0, 2, 3, 1).contiguous()
                outs.append(c.view(c.size(0), -1, self.num_classes))
            return torch.cat(outs, 1)
''')

FACTORY = textwrap.dedent('''\
    import torch.nn as nn

    from .detector import Detector


    def create_detector(num_classes):
        base = nn.ModuleList([nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU()])
        extras = nn.ModuleList([
            nn.Sequential(nn.Conv2d(32, 32, 1), nn.ReLU()),
            nn.Sequential(nn.Conv2d(EXTRA_IN, 64, 3, stride=2, padding=1), nn.ReLU()),
        ])
        heads = nn.ModuleList([nn.Conv2d(32, 4 * num_classes, 3, padding=1),
                               nn.Conv2d(64, 4 * num_classes, 3, padding=1)])
        return Detector(num_classes, base, extras, heads)
''')

TEST = textwrap.dedent('''\
    import torch

    from pkg.factory import create_detector

    model = create_detector(5)
    model(torch.randn(1, 3, 32, 32))
''')


def _project(tmp_path, extra_in, with_test):
    (tmp_path / ".git").mkdir()  # the repository's top: the project scan stops here
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "detector.py").write_text(MODEL)
    (pkg / "factory.py").write_text(FACTORY.replace("EXTRA_IN", str(extra_in)))
    if with_test:
        (tmp_path / "test_detector.py").write_text(TEST)
    return pkg / "factory.py"


def _torch_line(tmp_path):
    sys.path.insert(0, str(tmp_path))
    try:
        for m in [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]:
            del sys.modules[m]
        from pkg.factory import create_detector
        try:
            create_detector(5)(torch.randn(2, 3, 32, 32))
        except RuntimeError as e:
            frames = [f for f in traceback.extract_tb(e.__traceback__)]
            return [f.lineno for f in frames if f.filename.endswith("factory.py")], frames[-2].lineno
        return None, None
    finally:
        sys.path.remove(str(tmp_path))
        for m in [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]:
            del sys.modules[m]


def _check(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["check", "--no-cache", *map(str, argv)])
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("with_test,shape", [(True, False), (False, True), (False, False)])
def test_a_layer_the_factory_builds_is_reported_where_it_is_built(tmp_path, with_test, shape):
    path = _project(tmp_path, 33, with_test)
    in_factory, _ = _torch_line(tmp_path)
    # torch's traceback passes through detector.py only: the layer's line is in the factory
    assert in_factory == []
    args = [path] + (["--input-shape", "Detector=2,3,32,32"] if shape else [])
    rc, out, err = _check(*args)
    assert rc == 1, (out, err)
    (line,) = out.splitlines()
    assert line.startswith(f"{path}:11:") and "SHP003" in line and "(in detector.py:18)" in line, line


def test_the_clean_factory_is_silent(tmp_path):
    path = _project(tmp_path, 32, True)
    assert _torch_line(tmp_path) == (None, None)
    rc, out, err = _check(path, "--input-shape", "Detector=2,3,32,32")
    assert (rc, out) == (0, ""), err
