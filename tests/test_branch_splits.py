"""A block that nobody builds in sight decides part of its structure on its symbolic sizes
(`if nb_filts[0] != nb_filts[1]:` adds a projection shortcut; `self.project = in_ch != out_ch`
read by forward). Running both branches merged leaves the shortcut unknown, so a bug on the main
path that breaks the residual whichever way the test goes went unreported. The engine now runs
each branch on its own (engine._split_branches) and reports what fails in every one; a branch
taken false on `a != b` has ``a`` replaced by ``b``. torch judges each case with sizes that take
each branch."""
from __future__ import annotations

import os
import textwrap

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from conftest import torch_fails_at  # noqa: E402
from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

# RawNet2's Residual_block_wFRM, reduced: a projection only when the two sizes differ
RAWNET = textwrap.dedent('''\
    import torch.nn as nn


    class Block(nn.Module):
        def __init__(self, nb_filts):
            super().__init__()
            self.conv1 = nn.Conv1d(nb_filts[0], nb_filts[1], kernel_size=KERNEL, padding=1)
            self.bn = nn.BatchNorm1d(nb_filts[1])
            self.conv2 = nn.Conv1d(nb_filts[1], nb_filts[1], kernel_size=3, padding=1)
            if nb_filts[0] != nb_filts[1]:
                self.downsample = True
                self.conv_downsample = nn.Conv1d(nb_filts[0], nb_filts[1], kernel_size=1)
            else:
                self.downsample = False
            self.mp = nn.MaxPool1d(3)

        def forward(self, x):
            identity = x
            out = self.conv2(self.bn(self.conv1(x)))
            if self.downsample:
                identity = self.conv_downsample(identity)
            out += identity
            return self.mp(out)
''')
RAWNET_ADD = 22
LISTS = [(16, 32), (8, 8), (3, 64), (5, 5)]

# the flag form: a comparison stored by __init__, tested by forward; a 2-D concat
CONCAT = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Dense(nn.Module):
        def __init__(self, in_ch, out_ch):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 3, padding=PAD),
                nn.ReLU(),
            )
            self.project = in_ch != out_ch
            if self.project:
                self.skip = nn.Conv2d(in_ch, out_ch, 1, stride=SKIP_STRIDE)

        def forward(self, x):
            y = self.body(x)
            s = self.skip(x) if self.project else x
            return torch.cat([y, s], 1)
''')
CONCAT_CAT = 19
CHANNELS = [(3, 16), (16, 16), (8, 32), (32, 32)]


def _fails_at(code, cls, args, shape):
    return torch_fails_at(code, lambda ns: ns[cls](*args)(torch.randn(*shape)))


@pytest.mark.parametrize("kernel", [2, 4])
def test_a_residual_broken_on_both_branches_is_reported(kernel):
    code = RAWNET.replace("KERNEL", str(kernel))
    # torch: every list, whether it takes the projection or not, fails at the add
    assert {_fails_at(code, "Block", (list(f),), (2, f[0], 40)) for f in LISTS} == {RAWNET_ADD}
    got = analyze_source(code, "case.py").findings
    assert [(f.code, f.line) for f in got] == [("SHP006", RAWNET_ADD)], [f.message for f in got]
    assert "nb_filts[0], nb_filts[1]" in got[0].message


def test_the_clean_residual_is_silent():
    code = RAWNET.replace("KERNEL", "3")
    assert {_fails_at(code, "Block", (list(f),), (2, f[0], 40)) for f in LISTS} == {None}
    assert analyze_source(code, "case.py").findings == []


def test_a_flag_the_forward_tests_is_split_too():
    code = CONCAT.replace("PAD", "2").replace("SKIP_STRIDE", "1")
    for size in (8, 17, 32):
        assert {_fails_at(code, "Dense", c, (2, c[0], size, size)) for c in CHANNELS} == {CONCAT_CAT}
    got = analyze_source(code, "case.py").findings
    assert [(f.code, f.line) for f in got] == [("SHP006", CONCAT_CAT)], [f.message for f in got]


def test_a_bug_on_one_branch_only_is_not_reported():
    # the projection's stride breaks the concat only when the channel counts differ: with equal
    # counts (no projection) torch runs, so the block is not broken for every size
    code = CONCAT.replace("PAD", "1").replace("SKIP_STRIDE", "2")
    fails = {c: _fails_at(code, "Dense", c, (2, c[0], 16, 16)) for c in CHANNELS}
    assert fails[(3, 16)] == CONCAT_CAT and fails[(16, 16)] is None
    assert analyze_source(code, "case.py").findings == []


def test_the_clean_concat_is_silent():
    code = CONCAT.replace("PAD", "1").replace("SKIP_STRIDE", "1")
    assert {_fails_at(code, "Dense", c, (2, c[0], 16, 16)) for c in CHANNELS} == {None}
    assert analyze_source(code, "case.py").findings == []
