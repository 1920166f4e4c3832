"""A residual block nobody builds in the file (``Block(in_channels, out_channels, stride, add_bn)``,
assembled by a network elsewhere) is checked alone: its sizes symbolic, its stride run at 1 and at 2,
a flag it only tests (``if add_bn:``) at False and at True, and what fails in every one of those
runs is reported (engine._agreed). Its input is a feature map of any size, so an add that fits only
where one side is 1 (a padded branch, H+2, against its input H at H = 1) is still reported
(tensor_ops._narrow). torch decides: a finding is reported exactly when every stride and flag, with
equal and with different channel counts, fails at that line at input sizes from 8 to 20, odd and even."""
from __future__ import annotations

import os
import textwrap

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from conftest import torch_fails_at  # noqa: E402
from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

BLOCK = textwrap.dedent('''\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Block(nn.Module):
        def __init__(self, in_channels, out_channels, stride, add_bn):
            super().__init__()
            self.add_bn = add_bn
            self.conv1 = nn.Conv2d(in_channels, out_channels, K1, stride=stride, padding=P1)
            self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=P2)
            if add_bn:
                self.bn = nn.BatchNorm2d(out_channels)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_channels != out_channels:
                self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride))

        def forward(self, x):
            y = self.conv2(F.relu(self.conv1(x)))
            if self.add_bn:
                y = self.bn(y)
            return F.relu(y + self.shortcut(x))
''')


def _torch_lines(code):
    lines = set()
    for stride in (1, 2):
        for flag in (False, True):
            for cin, cout in ((16, 16), (16, 32)):
                for h in (8, 9, 10, 15, 16, 20):
                    lines.add(torch_fails_at(code, lambda ns: ns["Block"](cin, cout, stride, flag)(
                        torch.randn(2, cin, h, h))))
    return lines


@pytest.mark.parametrize("k1, p1, p2", [
    (3, 1, 1),  # clean
    (3, 2, 1),  # H+2 against H at stride 1: fits only where the input is 1x1
    (3, 1, 0),  # H-2 against H
    (2, 1, 1),  # at stride 2, H//2+1 against (H+1)//2: equal for odd H, so not every stride fails
    (1, 0, 1),  # clean
    (3, 0, 1),
    (5, 2, 1),  # clean
    (5, 1, 1),
])
def test_block_checked_at_each_stride_and_flag(k1, p1, p2):
    code = BLOCK.replace("K1", str(k1)).replace("P1", str(p1)).replace("P2", str(p2))
    lines = _torch_lines(code)
    res = analyze_source(code, "case.py")
    got = [(f.code, f.line) for f in res.findings]
    everywhere = len(lines) == 1 and None not in lines
    assert got == ([("SHP006", lines.pop())] if everywhere else []), ([f.message for f in res.findings], lines)
    if got:
        msg = res.findings[0].message
        assert "each of stride = 1 or 2, add_bn = False or True" in msg, msg


def test_a_block_that_only_downsamples_is_not_reported_for_stride_1():
    # the shortcut always pools: at stride 1 it cannot fit, at stride 2 it does; no report
    code = textwrap.dedent('''\
        import torch.nn as nn


        class Down(nn.Module):
            def __init__(self, channels, stride):
                super().__init__()
                self.conv = nn.Conv2d(channels, channels, 3, stride=stride, padding=1)
                self.pool = nn.AvgPool2d(2)

            def forward(self, x):
                return self.conv(x) + self.pool(x)
    ''')
    assert torch_fails_at(code, lambda ns: ns["Down"](8, 2)(torch.randn(2, 8, 16, 16))) is None
    assert torch_fails_at(code, lambda ns: ns["Down"](8, 1)(torch.randn(2, 8, 16, 16))) == 11
    assert analyze_source(code, "case.py").findings == []
