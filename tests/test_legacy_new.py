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
