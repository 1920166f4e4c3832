"""An nn.ModuleList holding None (HRNet's fuse layers: `fuse_layer.append(None)` where a branch
is added to itself, `transition.append(None)` where it passes unchanged). torch keeps the None:
`len()`, indexing and iteration see it, `named_modules()` and the parameters skip it. The list used
to be unknown as a whole, and every fuse after it unchecked. torch judges each case."""
from __future__ import annotations

import contextlib
import io
import os
import textwrap

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from conftest import line_of, torch_fails_at  # noqa: E402
from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

FUSE = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Fuse(nn.Module):
        def __init__(self, channels=(16, 32, 64)):
            super().__init__()
            n = len(channels)
            self.branches = nn.ModuleList([nn.Conv2d(c, c, 3, 1, 1) for c in channels])
            fuse_layers = []
            for i in range(n):
                fuse_layer = []
                for j in range(n):
                    if j > i:
                        fuse_layer.append(nn.Sequential(
                            nn.Conv2d(channels[j], channels[i], 1, 1, 0, bias=False),
                            nn.Upsample(scale_factor=2 ** (j - i), mode='nearest')))
                    elif j == i:
                        fuse_layer.append(None)
                    else:
                        convs = []
                        for k in range(i - j):
                            out = channels[i] if k == i - j - 1 else channels[j]
                            convs.append(nn.Conv2d(channels[j], out, 3, STRIDE, 1, bias=False))
                        fuse_layer.append(nn.Sequential(*convs))
                fuse_layers.append(nn.ModuleList(fuse_layer))
            self.fuse_layers = nn.ModuleList(fuse_layers)
            self.transition = nn.ModuleList([None, nn.Conv2d(16, 32, 3, 2, 1), nn.Conv2d(16, 64, 3, 4, 1)])

        def forward(self, x):
            xs = []
            for i in range(len(self.transition)):
                xs.append(x if self.transition[i] is None else self.transition[i](x))
            for i in range(len(self.branches)):
                xs[i] = self.branches[i](xs[i])
            out = []
            for i in range(len(self.fuse_layers)):
                y = xs[0] if i == 0 else self.fuse_layers[i][0](xs[0])
                for j in range(1, len(self.branches)):
                    if i == j:
                        y = y + xs[j]
                    else:
                        y = y + self.fuse_layers[i][j](xs[j])
                out.append(y)
            return out
''')


def _fails_at(code):
    return torch_fails_at(code, lambda ns: ns["Fuse"]().eval()(torch.randn(2, 16, 32, 32)))


def test_a_fuse_that_downsamples_too_little_is_reported():
    code = FUSE.replace("STRIDE", "1")  # the 3x3 convs keep the size: 32 vs 16 at the add
    line = line_of(code, "y = y + xs[j]")  # row 1: fuse_layers[1][0](xs[0]) is 32x32, xs[1] 16x16
    assert _fails_at(code) == line
    got = analyze_source(code, "case.py", {"Fuse": [(2, 16, 32, 32)]}).findings
    # the first is where torch stops; row 2's own add (32 vs 16 again) fails as well, on its line
    assert [(f.code, f.line) for f in got] == [("SHP006", line), ("SHP006", line + 2)], [f.message for f in got]
    fixed_row1 = code.replace("y = y + xs[j]", "y = y + nn.functional.interpolate(xs[j], size=y.shape[-2:])")
    assert _fails_at(fixed_row1) == line + 2


def test_the_correct_fuse_is_silent_and_its_parameters_count_as_torchs(tmp_path):
    code = FUSE.replace("STRIDE", "2")
    assert _fails_at(code) is None
    assert analyze_source(code, "case.py", {"Fuse": [(2, 16, 32, 32)]}).findings == []
    assert analyze_source(code, "case.py").findings == []
    path = tmp_path / "fuse.py"
    path.write_text(code)
    from shapelint.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["summary", f"{path}::Fuse", "--input-shape", "2,16,32,32"]) == 0
    ns: dict = {}
    exec(compile(code, "fuse.py", "exec"), ns)
    total = sum(p.numel() for p in ns["Fuse"]().parameters())
    assert f"Total params: {total:,}" in out.getvalue(), out.getvalue()
