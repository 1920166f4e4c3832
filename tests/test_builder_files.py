"""A file of model classes assembled only by another file's builder functions (DeepLabV3Plus:
``network/_deeplab.py``'s ``DeepLabV3`` and heads, put together with a backbone from
``network/backbone/`` by ``network/modeling.py``'s ``deeplabv3plus_mobilenet()``): linting the
classes' file alone follows the builders (reverse reach), with or without a declared input, and the
package's own ``from . import mbnet`` is its submodule. torch judges the failing line."""
from __future__ import annotations

import os
import sys
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from conftest import check_cli  # noqa: E402

torch = pytest.importorskip("torch")

HEADS = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Head(nn.Module):
        def __init__(self, in_channels, low_channels, num_classes):
            super().__init__()
            self.project = nn.Conv2d(low_channels, 8, 1)
            self.classifier = nn.Conv2d(CAT_IN, num_classes, 1)

        def forward(self, feature):
            low = self.project(feature["low"])
            return self.classifier(torch.cat([low, feature["out"]], dim=1))


    class Segmenter(nn.Module):
        def __init__(self, backbone, head):
            super().__init__()
            self.backbone = backbone
            self.head = head

        def forward(self, x):
            f = self.backbone(x)
            return self.head({"low": f[0], "out": f[1]})
''')

BACKBONE = textwrap.dedent('''\
    import torch.nn as nn


    class Backbone(nn.Module):
        def __init__(self, width=16):
            super().__init__()
            self.low = nn.Conv2d(3, width, 3, padding=1)
            self.high = nn.Conv2d(width, 2 * width, 3, padding=1)

        def forward(self, x):
            low = self.low(x)
            return low, self.high(low)


    def mbnet(**kwargs):
        return Backbone(**kwargs)
''')

MODELING = textwrap.dedent('''\
    from .heads import Head, Segmenter
    from .backbones import (
        mbnet,
    )


    def segmenter_mbnet(num_classes=5, width=16):
        backbone = mbnet.mbnet(width=width)
        return Segmenter(backbone, Head(2 * width, width, num_classes))
''')


def _project(tmp_path, cat_in):
    (tmp_path / ".git").mkdir()
    pkg = tmp_path / "net"
    (pkg / "backbones").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "heads.py").write_text(HEADS.replace("CAT_IN", str(cat_in)))
    (pkg / "backbones" / "__init__.py").write_text("from . import mbnet\n")
    (pkg / "backbones" / "mbnet.py").write_text(BACKBONE)
    (pkg / "modeling.py").write_text(MODELING)
    return pkg / "heads.py"


def _torch_line(tmp_path):
    sys.path.insert(0, str(tmp_path))
    try:
        for m in [m for m in sys.modules if m == "net" or m.startswith("net.")]:
            del sys.modules[m]
        from net.modeling import segmenter_mbnet
        try:
            segmenter_mbnet()(torch.randn(2, 3, 16, 16))
        except RuntimeError as e:
            return [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename.endswith("heads.py")][-1]
        return None
    finally:
        sys.path.remove(str(tmp_path))
        for m in [m for m in sys.modules if m == "net" or m.startswith("net.")]:
            del sys.modules[m]


@pytest.mark.parametrize("declared", [False, True])
def test_the_classes_file_is_checked_through_its_builders(tmp_path, declared):
    path = _project(tmp_path, 24)
    line = _torch_line(tmp_path)
    assert line == 13
    rc, out, err = check_cli(path, *(["--input-shape", "Segmenter=2,3,16,16"] if declared else []))
    assert rc == 1, (out, err)
    (got,) = out.splitlines()
    assert got.startswith(f"{path}:{line}:") and "SHP003" in got and "of modeling.py" in got, got


def test_the_clean_classes_file_is_silent(tmp_path):
    path = _project(tmp_path, 40)
    assert _torch_line(tmp_path) is None
    for extra in ([], ["--input-shape", "Segmenter=2,3,16,16"]):
        rc, out, err = check_cli(path, *extra)
        assert (rc, out) == (0, ""), err
