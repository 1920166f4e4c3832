"""A tensor that an undecided `if` leaves in one of two shapes of one rank keeps that rank and the
dims both agree on; each other dim is one unknown size (and a size of the input set on one path
only is one too). hifi-gan's period discriminator pads the waveform to a multiple of the period
only when it is not one already, then views it as 2-D: the convs after it are checked. A pad sized
by the input (`self.period - t % self.period`) gives the summed size. torch judges, at lengths
that take either path."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

DISC = textwrap.dedent('''\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class DiscriminatorP(nn.Module):
        def __init__(self, period=3):
            super().__init__()
            self.period = period
            self.convs = nn.ModuleList([nn.Conv2d(1, 32, (5, 1), (3, 1), padding=(2, 0)),
                                        nn.Conv2d(WIDTH, 128, (5, 1), (3, 1), padding=(2, 0))])

        def forward(self, x):
            b, c, t = x.shape
            if t % self.period != 0:
                n_pad = self.period - (t % self.period)
                x = F.pad(x, (0, n_pad), "reflect")
                t = t + n_pad
            x = x.view(b, c, t // self.period, self.period)
            for l in self.convs:
                x = F.leaky_relu(l(x), 0.1)
            return torch.flatten(x, 1, -1)
''')
LENGTHS = (8190, 8191, 8192)  # a multiple of 3, and two that are not: both paths


def _fail_lines(code):
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    out = set()
    for t in LENGTHS:
        try:
            ns["DiscriminatorP"]()(torch.randn(2, 1, t))
            out.add(None)
        except RuntimeError as e:
            out.add([f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1])
    return out


@pytest.mark.parametrize("width", [32, 33, 16])
def test_the_convs_after_a_padded_or_unpadded_view_are_checked(width):
    code = DISC.replace("WIDTH", str(width))
    (line,) = _fail_lines(code)
    for shape in ((2, 1, "T"), (2, 1, 8191)):
        got = analyze_source(code, "case.py", {"DiscriminatorP": [shape]}).findings
        assert [(f.code, f.line) for f in got] == ([] if line is None else [("SHP003", line)])


def test_the_merged_shape_keeps_its_rank_and_the_dims_both_paths_agree_on():
    a = analyze_source(DISC.replace("WIDTH", "32"), "case.py", {"DiscriminatorP": [(2, 1, "T")]})
    (run,) = a.runs
    assert run.output.shape is not None and len(run.output.shape) == 2 and run.output.shape[0] == 2


def test_shapes_of_two_ranks_stay_unknown():
    code = textwrap.dedent('''\
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(12, 4)

            def forward(self, x):
                if x.size(-1) == 4:
                    x = x.flatten(1)
                return self.fc(x)
    ''')
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    assert ns["Net"]()(torch.randn(2, 3, 4)).shape == (2, 4)  # flattened: 12 features
    assert ns["Net"]()(torch.randn(2, 3, 12)).shape == (2, 3, 4)  # not flattened: 12 features too
    a = analyze_source(code, "case.py", {"Net": [(2, 3, "W")]})
    assert a.findings == []
