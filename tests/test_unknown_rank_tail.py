"""An input of unknown rank (a model whose first layer is a Linear: (N, F), (N, T, F) and more all
fit it, so no input is guessed) still has a known last dim after a Linear: out_features, whatever
the rank. Shape-keeping layers and functions pass it on; a Linear or LayerNorm after them is
checked against it. torch judges: each clean model runs at rank 2, 3 and 4 with shapelint
silent; each wrong number fails, at every rank, on the line shapelint reports. And in-place
methods that change a shape (`y.unsqueeze_(-1)`, `y.data = ...`) rebind the name, so what follows
is not checked against the old shape."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

MLP = textwrap.dedent('''\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class MLP(nn.Module):
        def __init__(self, d=32):
            super().__init__()
            self.fc1 = nn.Linear(d, 64)
            self.drop = nn.Dropout(0.1)
            self.norm = nn.LayerNorm(64)
            self.fc2 = nn.Linear(64, 48)
            self.head = nn.Sequential(nn.GELU(), nn.Linear(48, 16), nn.Tanh(), nn.Linear(16, 2))

        def forward(self, x):
            x = F.relu(self.fc1(x))
            x = self.norm(self.drop(x))
            x = torch.sigmoid(self.fc2(x)).relu()
            return self.head(x)
''')

# (what to replace, by what): each makes one later layer disagree with the last dim it is fed
BUGS = [("self.norm = nn.LayerNorm(64)", "self.norm = nn.LayerNorm(65)"),
        ("self.fc2 = nn.Linear(64, 48)", "self.fc2 = nn.Linear(63, 48)"),
        ("nn.Linear(48, 16)", "nn.Linear(24, 16)"),
        ("nn.Linear(16, 2)", "nn.Linear(32, 2)")]
RANKS = [(5, 32), (5, 7, 32), (2, 3, 4, 32)]


def _fail_line(code, shape):
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    try:
        ns["MLP"]()(torch.randn(*shape))
    except RuntimeError as e:
        return [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1]
    return None


def test_the_clean_model_runs_at_every_rank_and_nothing_is_reported():
    assert [_fail_line(MLP, s) for s in RANKS] == [None] * len(RANKS)
    ns: dict = {}
    exec(compile(MLP, "case.py", "exec"), ns)
    lasts = {ns["MLP"]()(torch.randn(*s)).shape[-1] for s in RANKS}  # torch: the last dim at every rank
    a = analyze_source(MLP, "case.py")
    assert a.findings == []
    (run,) = [r for r in a.runs if r.cls is not None and r.cls.name == "MLP"]
    assert run.input_tensors[0].shape is None  # no rank is guessed
    assert run.output.shape is None and list(run.output.tail) == sorted(lasts)


@pytest.mark.parametrize("old,new", BUGS)
def test_a_wrong_size_after_a_linear_is_reported_where_torch_fails_at_every_rank(old, new):
    code = MLP.replace(old, new)
    lines = {_fail_line(code, s) for s in RANKS}
    assert None not in lines and len(lines) == 1
    got = analyze_source(code, "case.py").findings
    assert [(f.code, f.line) for f in got] == [("SHP003" if "Norm" in new else "SHP002", lines.pop())]
    assert "[..., " in got[0].message or "ends in" in got[0].message


INPLACE = textwrap.dedent('''\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(10, 16)
            self.fc2 = nn.Linear(WIDTH, 3)

        def forward(self, x):
            y = self.fc(x)
            STEP
            return self.fc2(y)
''')


@pytest.mark.parametrize("step", ["y.unsqueeze_(-1)", "y.data = y.data.unsqueeze(-1)", "y.squeeze_(0).unsqueeze_(-1)"])
@pytest.mark.parametrize("shape", [None, (4, 10)])
def test_an_in_place_reshape_rebinds_the_name(step, shape):
    code = INPLACE.replace("WIDTH", "1").replace("STEP", step)
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    ns["Net"]()(torch.randn(4, 10))  # torch runs it: the reshaped y ends in 1
    a = analyze_source(code, "case.py", input_shapes={"Net": [shape]} if shape else None)
    assert a.findings == []


def test_a_wrong_size_after_an_in_place_unsqueeze_is_still_reported():
    code = INPLACE.replace("WIDTH", "2").replace("STEP", "y.unsqueeze_(-1)")
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    with pytest.raises(RuntimeError, match="mat1 and mat2"):
        ns["Net"]()(torch.randn(4, 10))
    got = analyze_source(code, "case.py", input_shapes={"Net": [(4, 10)]}).findings
    assert [(f.code, f.line) for f in got] == [("SHP002", 13)]
    assert "[4, 16, 1]" in got[0].message


def test_arithmetic_with_a_number_keeps_the_last_dim():
    code = MLP.replace("return self.head(x)", "return self.head(x * 0.5 + 1)")
    assert [_fail_line(code, s) for s in RANKS] == [None] * len(RANKS)
    assert analyze_source(code, "case.py").findings == []
    bad = code.replace("nn.Linear(48, 16)", "nn.Linear(47, 16)")
    lines = {_fail_line(bad, s) for s in RANKS}
    assert None not in lines and len(lines) == 1
    assert [(f.code, f.line) for f in analyze_source(bad, "case.py").findings] == [("SHP002", lines.pop())]


LM = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class LM(nn.Module):
        def __init__(self, vocab=100, d=32, block=16):
            super().__init__()
            self.tok = nn.Embedding(vocab, d)
            self.pos = nn.Embedding(block, d)
            self.ln = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab)

        def forward(self, idx):
            t = idx.size(-1)
            x = self.tok(idx) + self.pos(torch.arange(0, t, dtype=torch.long))
            return self.head(self.ln(x))
''')


@pytest.mark.parametrize("old,new,code", [(None, None, None), ("nn.Linear(d, vocab)", "nn.Linear(d + 1, vocab)", "SHP002"),
                                          ("self.pos = nn.Embedding(block, d)", "self.pos = nn.Embedding(block, 1)", None),
                                          ("self.ln = nn.LayerNorm(d)", "self.ln = nn.LayerNorm(2 * d)", "SHP003")])
def test_token_indices_of_any_rank_give_embeddings_ending_in_their_width(old, new, code):
    src = LM if old is None else LM.replace(old, new)
    ns: dict = {}
    exec(compile(src, "case.py", "exec"), ns)
    lines = set()
    for shape in ((12,), (2, 12), (3, 2, 12)):
        try:
            ns["LM"]()(torch.randint(0, 100, shape))
            lines.add(None)
        except RuntimeError as e:
            lines.add([f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1])
    (line,) = lines
    got = [(f.code, f.line) for f in analyze_source(src, "case.py").findings]
    assert got == ([] if line is None else [(code, line)])
    assert (code is None) == (line is None)
