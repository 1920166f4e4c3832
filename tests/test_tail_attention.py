"""Known last dims through attention and through operands the analysis cannot see.

A sequence model fed token ids of unknown rank (no input shape: an Embedding first takes (T,),
(T, N), (N, T)...) still ends in d_model after its MultiheadAttention and its transformer layers,
so the head after them is checked. ``x + table`` with a table the analysis could not build (a
helper from a module it cannot read) keeps x's last dims that are never 1. torch judges: each clean
model runs at several ranks with shapelint silent; each wrong number fails, at every rank, on the
line shapelint reports."""
from __future__ import annotations

import os
import sys
import textwrap
import traceback
import types

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

ENCODER = textwrap.dedent('''\
    import math

    import torch
    import torch.nn as nn


    class Classifier(nn.Module):
        def __init__(self, ntoken=50, d_model=32, nhead=4, d_hid=64, nlayers=2):
            super().__init__()
            self.embedding = nn.Embedding(ntoken, d_model)
            layer = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout=0.0)
            self.encoder = nn.TransformerEncoder(layer, nlayers)
            self.attn = nn.MultiheadAttention(d_model, nhead, kdim=KDIM, vdim=d_model)
            self.head = nn.Linear(HEAD_IN, 3)
            self.d_model = d_model

        def forward(self, src):
            x = self.embedding(src) * math.sqrt(self.d_model)
            x = self.encoder(x)
            x, _ = self.attn(x, x, x)
            return self.head(x)
''')

TABLE = textwrap.dedent('''\
    import torch
    import torch.nn as nn
    from position_tables import sinusoids


    class Net(nn.Module):
        def __init__(self, d=24):
            super().__init__()
            self.proj = nn.Linear(8, d)
            self.register_buffer("table", sinusoids(100, d))
            self.norm = nn.LayerNorm(NORM)
            self.out = nn.Linear(d, 2)

        def forward(self, x):
            x = self.proj(x)
            x = x + self.table[:x.size(-2)]
            return self.out(self.norm(x))
''')


def _tables_module():
    mod = types.ModuleType("position_tables")

    def sinusoids(n, d):
        pos = torch.arange(n).unsqueeze(1).float()
        div = torch.exp(torch.arange(0, d, 2).float() * (-9.2 / d))
        t = torch.zeros(n, d)
        t[:, 0::2] = torch.sin(pos * div)
        t[:, 1::2] = torch.cos(pos * div)
        return t

    mod.sinusoids = sinusoids
    return mod


def _torch_line(code: str, cls: str, x):
    """The line of case.py torch fails on (None: it runs)."""
    sys.modules["position_tables"] = _tables_module()
    try:
        ns: dict = {}
        exec(compile(code, "case.py", "exec"), ns)
        model = ns[cls]()
        model.eval()
        try:
            with torch.no_grad():
                model(x)
        except (RuntimeError, AssertionError) as e:  # MultiheadAttention asserts its kdim
            return [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1]
        return None
    finally:
        del sys.modules["position_tables"]


ENCODER_CASES = [
    ({"KDIM": "d_model", "HEAD_IN": "d_model"}, None),
    ({"KDIM": "d_model", "HEAD_IN": "d_model + 1"}, "SHP002"),
    ({"KDIM": "d_model + 2", "HEAD_IN": "d_model"}, "SHP002"),
]


@pytest.mark.parametrize("subs,code", ENCODER_CASES)
def test_encoder_head_checked_without_an_input_shape(subs, code):
    src = ENCODER
    for k, v in subs.items():
        src = src.replace(k, v)
    lines = {_torch_line(src, "Classifier", torch.randint(0, 50, shape)) for shape in ((7,), (7, 2))}
    got = analyze_source(src, "case.py").findings
    assert len(lines) == 1  # the same line (or none) at every rank torch takes
    (line,) = lines
    if code is None:
        assert line is None and got == []
    else:
        assert line is not None
        assert [(f.code, f.line) for f in got] == [(code, line)], [f.message for f in got]


@pytest.mark.parametrize("norm,bad", [("d", False), ("d + 1", True)])
def test_an_operand_the_analysis_cannot_see_keeps_the_last_dim(norm, bad):
    src = TABLE.replace("NORM", norm)
    lines = {_torch_line(src, "Net", torch.randn(*shape)) for shape in ((5, 8), (2, 5, 8), (3, 2, 5, 8))}
    assert len(lines) == 1
    (line,) = lines
    got = analyze_source(src, "case.py").findings
    if not bad:
        assert line is None and got == []
    else:
        assert line is not None
        assert [(f.code, f.line) for f in got] == [("SHP003", line)], [f.message for f in got]


def test_an_unseen_operand_does_not_make_a_size_up():
    """A side whose last dim may be 1 (a symbolic batch, a 1) is not carried: broadcasting with an
    unknown operand could widen it."""
    code = textwrap.dedent('''\
        import torch.nn as nn
        from nowhere import table


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 1)
                self.out = nn.Linear(5, 2)

            def forward(self, x):
                return self.out(self.fc(x) * table())
    ''')
    # torch: fc gives [..., 1]; times a [..., 5] table it is [..., 5], and out runs
    assert analyze_source(code, "case.py").findings == []


RNN = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class TextRNN(nn.Module):
        def __init__(self, vocab=100, emb=24, hidden=16, classes=4):
            super().__init__()
            self.embedding = nn.Embedding(vocab, emb)
            self.rnn = nn.KIND(RNN_IN, hidden, num_layers=2, bidirectional=True, batch_first=True)
            self.fc = nn.Linear(HEAD_IN, classes)

        def forward(self, text):
            x = self.embedding(text)
            out, _ = self.rnn(x)
            return self.fc(out[:, -1, :])
''')


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("rnn_in,head_in,code", [("emb", "hidden * 2", None), ("emb + 1", "hidden * 2", "SHP002"),
                                                 ("emb", "hidden", "SHP002")])
def test_recurrent_layers_pass_the_last_dim_on(kind, rnn_in, head_in, code):
    """An Embedding, a recurrent layer, ``out[:, -1, :]`` and a head: the recurrent layer's
    input_size and the head's in_features are checked without an input shape."""
    src = RNN.replace("KIND", kind).replace("RNN_IN", rnn_in).replace("HEAD_IN", head_in)
    line = _torch_line(src, "TextRNN", torch.randint(0, 100, (2, 7)))
    got = analyze_source(src, "case.py").findings
    if code is None:
        assert line is None and got == []
    else:
        assert line is not None
        assert [(f.code, f.line) for f in got] == [(code, line)], [f.message for f in got]
