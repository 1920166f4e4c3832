"""With no input shape, a residual add or a skip concatenation whose two sides agree only as
single-pixel maps of input images smaller than 8x8 (a stride-2 1x1 conv in a residual branch whose
shortcut keeps the size: both are 1x1 maps of a 2x2 to 4x4 image) is reported, naming those sizes;
one that also agrees at some image of 8 pixels or more is left to the declared input (and one that
agrees on larger maps of a small image, tests/test_reach_symbolic.py's EQUAL_FIT, is run there).
torch judges every size."""
from __future__ import annotations

import os
import re
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402
from shapelint.frameworks.torch.tensor_ops import MIN_BROADCAST_IMAGE  # noqa: E402

torch = pytest.importorskip("torch")

NET = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv = nn.Conv2d(c, c, 1, STRIDE, 0)

        def forward(self, x):
            return JOIN


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, 2, 1)
            self.down = DOWN
            self.block = Block(16)

        def forward(self, x):
            return self.block(self.down(self.stem(x)))
''')

ADD = "x + self.conv(x)"
CAT = "torch.cat([x, self.conv(x)], dim=1)"


def _code(join, stride=2, down="nn.Identity()"):
    return NET.replace("JOIN", join).replace("STRIDE", str(stride)).replace("DOWN", down)


def _runs(code, side):
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    try:
        ns["Net"]()(torch.randn(1, 3, side, side))
    except RuntimeError as e:
        return [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1]
    return None


@pytest.mark.parametrize("join", [ADD, CAT])
def test_sides_that_agree_only_under_8_pixels_are_reported(join):
    code = _code(join)
    fits = [s for s in range(2, 40) if _runs(code, s) is None]
    assert fits and max(fits) < MIN_BROADCAST_IMAGE, fits
    (line,) = {_runs(code, s) for s in range(MIN_BROADCAST_IMAGE, 40)}
    got = analyze_source(code, "case.py").findings
    assert [(f.code, f.line) for f in got] == [("SHP006", line)], [f.message for f in got]
    where = ", ".join(str(s) for s in fits)
    assert re.search(rf"fit only for [HW] = {where}, single pixels of an image under {MIN_BROADCAST_IMAGE} pixels\)", got[0].message), \
        got[0].message


def test_sides_that_agree_at_8_pixels_too_are_left_alone():
    # a 2x2 map against a 1x1 one broadcast (an 8x8 image): torch runs there
    code = _code(ADD, down="nn.Conv2d(16, 16, 3, 2, 1)")
    assert _runs(code, 8) is None and _runs(code, 32) is not None
    assert analyze_source(code, "case.py").findings == []


@pytest.mark.parametrize("join", [ADD, CAT])
def test_the_clean_block_is_silent(join):
    code = _code(join, stride=1)
    assert {_runs(code, s) for s in (2, 8, 32)} == {None}
    assert analyze_source(code, "case.py").findings == []
