"""The legacy constructor ``x.new(...)``: sizes as ints or a torch.Size (FactorVAE's
reparametrisation ``eps = std.data.new(std.size()).normal_()``), data for a list or tuple
(unknown). torch judges the shapes, and a decoder fed the sample is checked."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

VAE = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class VAE(nn.Module):
        def __init__(self, z_dim=10):
            super().__init__()
            self.encode = nn.Linear(64, 2 * z_dim)
            self.decode = nn.Linear(WIDTH, 64)
            self.z_dim = z_dim

        def forward(self, x):
            stats = self.encode(x)
            mu, logvar = stats[:, :self.z_dim], stats[:, self.z_dim:]
            std = logvar.div(2).exp()
            eps = std.data.new(std.size()).normal_()
            z = mu + std * eps
            return self.decode(z), std.new(3, 4), std.new((3, 4)), std.new(std.shape)
''')


def test_sizes_from_ints_or_a_size_and_data_from_a_tuple():
    code = VAE.replace("WIDTH", "10")
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    outs = ns["VAE"]()(torch.randn(2, 64))
    a = analyze_source(code, "case.py", {"VAE": [(2, 64)]})
    assert a.findings == []
    (run,) = a.runs
    got = [t.shape for t in run.output]
    assert got[0] == tuple(outs[0].shape) and got[1] == tuple(outs[1].shape) and got[3] == tuple(outs[3].shape)
    assert tuple(outs[2].shape) == (2,) and got[2] is None  # data, not sizes: left unknown


def test_a_decoder_fed_the_sample_is_checked():
    code = VAE.replace("WIDTH", "11")
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    with pytest.raises(RuntimeError) as e:
        ns["VAE"]()(torch.randn(2, 64))
    line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "case.py"][-1]
    got = analyze_source(code, "case.py", {"VAE": [(2, 64)]}).findings
    assert [(f.code, f.line) for f in got] == [("SHP002", line)]


SEGMENT = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Chunker(nn.Module):
        def __init__(self, K=10):
            super().__init__()
            self.K = K
            self.gate = nn.Conv1d(8, 8, 1)
            self.out = nn.Conv1d(8, 8, KERNEL)

        def _padding(self, x, K):
            B, N, L = x.shape
            P = K // 2
            gap = K - (P + L % K) % K
            if gap > 0:
                pad = torch.Tensor(torch.zeros(B, N, gap)).type(x.type())
                x = torch.cat([x, pad], dim=2)
            _pad = torch.Tensor(torch.zeros(B, N, P)).type(x.type())
            return torch.cat([_pad, x, _pad], dim=2), gap

        def forward(self, x):
            y, gap = self._padding(x, self.K)
            return self.out(y) * self.gate(y)
''')


@pytest.mark.parametrize("kernel,bad", [(1, False), (2, True)])
def test_a_legacy_constructor_of_a_tensor_keeps_its_shape(kernel, bad):
    """Dual-Path-RNN's padding: ``torch.Tensor(torch.zeros(B, N, gap)).type(x.type())``."""
    code = SEGMENT.replace("KERNEL", str(kernel))
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    got = analyze_source(code, "case.py", {"Chunker": [(2, 8, 37)]})
    if not bad:
        out = ns["Chunker"]()(torch.randn(2, 8, 37))
        (run,) = got.runs
        assert got.findings == [] and run.output.shape == tuple(out.shape)
        return
    with pytest.raises(RuntimeError) as e:
        ns["Chunker"]()(torch.randn(2, 8, 37))
    line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "case.py"][-1]
    assert [(f.code, f.line) for f in got.findings] == [("SHP006", line)]
