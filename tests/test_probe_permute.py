"""With no input shape, a model whose input is turned channels-first before its first layer
(a time series (N, L, C): `self.conv(x.permute(0, 2, 1))`, `x.transpose(1, 2)`) takes the input
that layer implies with the permutation undone: (N, L, C_in). torch checks that the clean model
runs at that input for several L, and that a wrong number fails, for each of them, on the line
shapelint reports."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

TCN = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class TCN(nn.Module):
        def __init__(self, enc_in=7, d_model=16):
            super().__init__()
            self.conv = nn.Conv1d(enc_in, d_model, 3, padding=1)
            self.pool = nn.AvgPool1d(4, stride=1, padding=2)
            self.head = nn.Conv1d(d_model, d_model, 3, padding=1)

        def forward(self, x):
            x = self.conv(FIRST)
            y = self.head(self.pool(x)[:, :, :-1])
            return (x + y).transpose(1, 2)
''')

FIRST = ["x.permute(0, 2, 1)", "x.transpose(1, 2)", "x.transpose(-1, -2).contiguous()"]


def _run(code, L):
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    return ns["TCN"]()(torch.randn(2, L, 7))


@pytest.mark.parametrize("first", FIRST)
def test_the_input_is_the_first_layers_with_the_permutation_undone(first):
    code = TCN.replace("FIRST", first)
    for L in (8, 33, 96):
        assert _run(code, L).shape == (2, L, 16)
    a = analyze_source(code, "case.py")
    assert a.findings == []
    (run,) = [r for r in a.runs if r.cls is not None and r.cls.name == "TCN"]
    (x,) = run.input_tensors
    assert [str(d) for d in x.shape] == ["N", "L", "7"] and x.batch_dim == 0


@pytest.mark.parametrize("first", FIRST)
def test_a_wrong_width_is_reported_where_torch_fails_for_every_length(first):
    # (a wrong length would fit where it becomes 1 and broadcasts: channels do not)
    code = TCN.replace("FIRST", first).replace("nn.Conv1d(d_model, d_model, 3, padding=1)",
                                               "nn.Conv1d(d_model, 2 * d_model, 3, padding=1)")
    lines = set()
    for L in (8, 33, 96):
        with pytest.raises(RuntimeError) as e:
            _run(code, L)
        lines.add([f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "case.py"][-1])
    (line,) = lines
    got = analyze_source(code, "case.py").findings
    assert [(f.code, f.line) for f in got] == [("SHP006", line)]


def test_a_permutation_the_first_layer_cannot_take_tells_nothing():
    code = TCN.replace("FIRST", "x.permute(0, 3, 1, 2).flatten(2)")  # not a pure permutation of its input
    a = analyze_source(code, "case.py")
    assert a.findings == []
    (run,) = [r for r in a.runs if r.cls is not None and r.cls.name == "TCN"]
    assert all(t.shape is None for t in run.input_tensors)
