"""Constructor parameters the sequence-model code names as sizes (``c_in``, ``d_model``,
``seq_len``, the PyTorch tutorial's ``ntoken``/``nhid``): a class nobody in sight builds is
analysed with them as symbols, and what holds for every value is reported. torch judges: the bug
fails for several values on the reported line, the clean class runs for them."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

EMBEDDING = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class TokenEmbedding(nn.Module):
        def __init__(self, c_in, d_model):
            super().__init__()
            self.conv = nn.Conv1d(c_in, d_model, kernel_size=3, padding=1)

        def forward(self, x):
            return self.conv(x.permute(0, 2, 1)).transpose(1, 2)


    class DataEmbedding(nn.Module):
        def __init__(self, c_in, d_model, seq_len, dropout=0.1):
            super().__init__()
            self.value_embedding = TokenEmbedding(c_in=c_in, d_model=d_model)
            self.norm = nn.LayerNorm(d_model)
            self.dropout = nn.Dropout(p=dropout)
            self.stats = nn.Linear(WIDTH, 1)

        def forward(self, x):
            h = self.dropout(self.norm(self.value_embedding(x)))
            return self.stats(torch.cat([h.mean(-1, keepdim=True), h.amax(-1, keepdim=True)], dim=-1))
''')

VALUES = [(7, 16, 96), (21, 32, 48)]


def _line(code, c_in, d_model, seq_len):
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    try:
        ns["DataEmbedding"](c_in, d_model, seq_len)(torch.randn(2, seq_len, c_in))
    except RuntimeError as e:
        return [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1]
    return None


def test_the_clean_class_is_analysed_silently():
    code = EMBEDDING.replace("WIDTH", "2")
    assert {_line(code, *v) for v in VALUES} == {None}
    a = analyze_source(code, "case.py")
    assert a.findings == []
    entry = next(c for c in a.coverage if c["class"] == "DataEmbedding")
    assert entry["analysed"], entry


def test_a_bug_for_every_value_is_reported():
    code = EMBEDDING.replace("WIDTH", "3")
    (line,) = {_line(code, *v) for v in VALUES}
    got = analyze_source(code, "case.py").findings
    assert [(f.code, f.line) for f in got] == [("SHP002", line)], [f.message for f in got]
    assert "for any value of c_in, d_model, seq_len" in got[0].message
