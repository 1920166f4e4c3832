"""A model built from an options object nobody in sight gives (PatchTST's ``Model(configs)``,
``configs`` coming from ``run_longExp.py``'s argparse through an experiment class): a namespace
whose size-named attributes are symbols, every other attribute unknown. What holds for every
value is reported (a wrong padding in the decomposition does not depend on ``configs``); an
attribute the module compares with text stays unknown, whatever its name. torch is the oracle:
the bug fails for several configurations, and the clean model runs for them."""
from __future__ import annotations

import argparse
import os
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402
from shapelint.options import InputSpec  # noqa: E402

torch = pytest.importorskip("torch")

DLINEAR = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class moving_avg(nn.Module):
        def __init__(self, kernel_size, stride):
            super().__init__()
            self.kernel_size = kernel_size
            self.avg = nn.AvgPool1d(kernel_size=kernel_size, stride=stride, padding=0)

        def forward(self, x):
            front = x[:, 0:1, :].repeat(1, (self.kernel_size - 1) // 2, 1)
            end = x[:, -1:, :].repeat(1, (self.kernel_size - 1) // 2, 1)
            x = torch.cat([front, x, end], dim=1)
            return self.avg(x.permute(0, 2, 1)).permute(0, 2, 1)


    class Model(nn.Module):
        def __init__(self, configs):
            super().__init__()
            self.seq_len = configs.seq_len
            self.pred_len = configs.pred_len
            self.decomp = moving_avg(25, stride=1)
            self.individual = configs.individual
            self.channels = configs.enc_in
            if configs.embed == 'timeF':
                self.scale = nn.Identity()
            else:
                self.scale = nn.Linear(configs.enc_in, configs.enc_in)
            self.linear = nn.Linear(self.seq_len, self.pred_len)

        def forward(self, x):
            trend = self.decomp(x)
            seasonal = x - trend
            return self.linear(self.scale(seasonal).permute(0, 2, 1)).permute(0, 2, 1)
''')

CONFIGS = [dict(seq_len=336, pred_len=96, enc_in=7, individual=0, embed="timeF"),
           dict(seq_len=96, pred_len=24, enc_in=21, individual=0, embed="fixed")]


def _torch(code, cfg):
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    x = torch.randn(2, cfg["seq_len"], cfg["enc_in"])
    return ns["Model"](argparse.Namespace(**cfg))(x)


def test_the_clean_model_runs_and_is_analysed_silently():
    for cfg in CONFIGS:
        assert _torch(DLINEAR, cfg).shape == (2, cfg["pred_len"], cfg["enc_in"])
    a = analyze_source(DLINEAR, "case.py")
    assert a.findings == []
    model = next(c for c in a.coverage if c["class"] == "Model")
    assert model["analysed"], model
    (run,) = [r for r in a.runs if r.cls is not None and r.cls.name == "Model"]
    # enc_in, seq_len and pred_len are sizes by their names; embed ("embed": a size word) is
    # compared with text: unknown; individual says nothing of being a size: unknown
    assert sorted(run.ctor_kwargs["configs"].attrs) == ["enc_in", "pred_len", "seq_len"]


def test_a_bug_that_holds_for_every_configuration_is_reported_where_torch_fails():
    bug = DLINEAR.replace("padding=0)", "padding=1)")
    lines = set()
    for cfg in CONFIGS:
        with pytest.raises(RuntimeError) as e:
            _torch(bug, cfg)
        lines.add([f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "case.py"][-1])
    (line,) = lines
    got = analyze_source(bug, "case.py", {"Model": [InputSpec((2, 336, 7))]}).findings
    assert [(f.code, f.line) for f in got] == [("SHP006", line)]
    assert "for any value of configs.seq_len, configs.pred_len, configs.enc_in" in got[0].message
