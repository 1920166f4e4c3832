"""An ``nn.Sequential`` block a model calls with a tensor the analysis knows nothing about (autovc's
encoder: its input is squeezed, transposed and joined to an expanded speaker embedding before the
first conv, which the input probe does not follow) is run once more on the input its own first
layer implies; what fails for every such input (a BatchNorm sized for another channel count) is
reported at the forward's call of the block (engine._containers_on_unknown_input). torch decides."""
from __future__ import annotations

import os
import textwrap

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from conftest import line_of, torch_fails_at  # noqa: E402
from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

ENCODER = textwrap.dedent('''\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class ConvNorm(nn.Module):
        def __init__(self, in_channels, out_channels, kernel_size=1, padding=0):
            super().__init__()
            self.conv = nn.Conv1d(in_channels, out_channels, kernel_size=kernel_size, padding=padding)

        def forward(self, signal):
            return self.conv(signal)


    class Encoder(nn.Module):
        def __init__(self, dim_neck=16, dim_emb=32):
            super().__init__()
            convolutions = []
            for i in range(3):
                convolutions.append(nn.Sequential(
                    ConvNorm(80 + dim_emb if i == 0 else 64, 64, kernel_size=5, padding=PAD),
                    nn.BatchNorm1d(BN)))
            self.convolutions = nn.ModuleList(convolutions)
            self.lstm = nn.LSTM(64, dim_neck, 1, batch_first=True)

        def forward(self, x, c_org):
            x = x.squeeze(1).transpose(2, 1)
            c_org = c_org.unsqueeze(-1).expand(-1, -1, x.size(-1))
            x = torch.cat((x, c_org), dim=1)
            for conv in self.convolutions:
                x = F.relu(conv(x))
            outputs, _ = self.lstm(x.transpose(1, 2))
            return outputs
''')


@pytest.mark.parametrize("pad, bn", [(2, 64), (2, 65), (2, 32), (1, 64), (3, 128)])
def test_a_block_on_an_input_nothing_tells_is_checked_on_its_own(pad, bn):
    code = ENCODER.replace("PAD", str(pad)).replace("BN", str(bn))
    lines = {torch_fails_at(code, lambda ns: ns["Encoder"]()(torch.randn(2, t, 80), torch.randn(2, 32)))
             for t in (24, 57)}
    assert len(lines) == 1
    line = lines.pop()
    res = analyze_source(code, "case.py")
    run = next(r for r in res.runs if r.cls is not None and r.cls.name == "Encoder")
    assert run.input_tensors[0].shape is None  # the probe does not build this input
    got = [(f.code, f.line) for f in res.findings]
    if bn != 64:  # a channel count no input changes: found on the block's own input
        assert line == line_of(code, "x = F.relu(conv(x))")
        assert got == [("SHP003", line)], [f.message for f in res.findings]
    else:  # the padding changes only the length, which the LSTM takes whatever it is
        assert line is None and got == []


def test_a_block_called_after_a_failure_is_not_checked_again():
    code = textwrap.dedent('''\
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.head = nn.Linear(10, 20)
                self.a = nn.Sequential(nn.Conv1d(4, 8, 3), nn.BatchNorm1d(9))

            def forward(self, x, y):
                z = self.head(torch.zeros(2, 7))
                return self.a(y[:, 0]), z
    ''')
    line = torch_fails_at(code, lambda ns: ns["Net"]()(torch.randn(2, 1, 10), torch.randn(2, 1, 4, 16)))
    assert line == 12  # the Linear fails first, torch never gets to the block
    res = analyze_source(code, "case.py")
    assert [(f.code, f.line) for f in res.findings] == [("SHP002", 12)], [f.message for f in res.findings]
    # without that failure, torch gets to the block, and so does the analysis
    fixed = code.replace("torch.zeros(2, 7)", "torch.zeros(2, 10)")
    assert torch_fails_at(fixed, lambda ns: ns["Net"]()(torch.randn(2, 1, 10), torch.randn(2, 1, 4, 16))) == 13
    assert [(f.code, f.line) for f in analyze_source(fixed, "case.py").findings] == [("SHP003", 13)]


NET = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Block(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, padding=PAD)
            self.bn = nn.BatchNorm2d(channels)

        def forward(self, x):
            out = self.bn(self.conv1(x))
            return torch.relu(out + x)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, padding=1)
            self.blocks = nn.ModuleList([Block(16), Block(16)])

        def forward(self, x):
            x = self.stem(x[:, 0])
            for b in self.blocks:
                x = b(x)
            return x
''')


@pytest.mark.parametrize("pad", [0, 1, 2])
def test_a_project_block_on_an_input_nothing_tells_is_checked_on_its_own(pad):
    code = NET.replace("PAD", str(pad))
    line = torch_fails_at(code, lambda ns: ns["Net"]()(torch.randn(2, 1, 3, 32, 32)))
    assert line == (None if pad == 1 else line_of(code, "return torch.relu(out + x)"))
    res = analyze_source(code, "case.py")
    run = next(r for r in res.runs if r.cls is not None and r.cls.name == "Net")
    assert run.input_tensors[0].shape is None  # x[:, 0] first: the probe does not build it
    assert [(f.code, f.line) for f in res.findings] == ([("SHP006", line)] if line else []), \
        [f.message for f in res.findings]
