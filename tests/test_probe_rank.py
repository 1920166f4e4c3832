"""With no input shape, a model that unpacks its input's shape before any layer (`B, T, C =
x.size()`, `b, c, t = x.shape`) states its rank: Python raises for any other. Each dim is then a
size of its own (the batch first), the last one `in_features` when a Linear meets the input first
(nanoGPT's attention block), token ids when an Embedding does (`b, t = idx.size()`). torch judges:
the clean models run at several sizes with shapelint silent; a wrong number fails, at every size,
on the line shapelint reports."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

ATTN = textwrap.dedent('''\
    import math
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class CausalSelfAttention(nn.Module):
        def __init__(self, n_embd=48, n_head=4):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)
            self.c_proj = nn.Linear(n_embd, n_embd)
            self.n_head = n_head
            self.n_embd = n_embd

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = F.softmax(att, dim=-1)
            y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)
''')
PERIOD = textwrap.dedent('''\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class DiscriminatorP(nn.Module):
        def __init__(self, period=3):
            super().__init__()
            self.period = period
            self.convs = nn.ModuleList([nn.Conv2d(1, 32, (5, 1), (3, 1), padding=(2, 0)),
                                        nn.Conv2d(32, 128, (5, 1), (3, 1), padding=(2, 0))])

        def forward(self, x):
            b, c, t = x.shape
            if t % self.period != 0:
                n_pad = self.period - (t % self.period)
                x = F.pad(x, (0, n_pad), "reflect")
                t = t + n_pad
            x = x.view(b, c, t // self.period, self.period)
            for l in self.convs:
                x = F.leaky_relu(l(x), 0.1)
            return torch.flatten(x, 1, -1)
''')
GPT = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class TinyGPT(nn.Module):
        def __init__(self, vocab=64, block=16, d=32):
            super().__init__()
            self.wte = nn.Embedding(vocab, d)
            self.wpe = nn.Embedding(block, d)
            self.ln = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab, bias=False)

        def forward(self, idx):
            b, t = idx.size()
            pos = torch.arange(0, t, dtype=torch.long).unsqueeze(0)
            x = self.wte(idx) + self.wpe(pos)
            x = self.ln(x).view(b * t, -1)
            return self.head(x).view(b, t, -1)
''')
CASES = {"attn": (ATTN, "CausalSelfAttention", lambda: [torch.randn(2, 5, 48), torch.randn(3, 9, 48)],
                  [("self.c_proj = nn.Linear(n_embd, n_embd)", "self.c_proj = nn.Linear(n_embd + 1, n_embd)")]),
         "period": (PERIOD, "DiscriminatorP", lambda: [torch.randn(2, 1, 8190), torch.randn(2, 1, 8191)],
                    [("nn.Conv2d(32, 128,", "nn.Conv2d(33, 128,")]),
         "gpt": (GPT, "TinyGPT", lambda: [torch.randint(0, 64, (2, 7)), torch.randint(0, 64, (3, 16))],
                 [("self.head = nn.Linear(d, vocab", "self.head = nn.Linear(2 * d, vocab"),
                  ("self.ln = nn.LayerNorm(d)", "self.ln = nn.LayerNorm(d + 1)")])}


def _fail_lines(code, cls, inputs):
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    out = set()
    for x in inputs():
        try:
            ns[cls]()(x)
            out.add(None)
        except RuntimeError as e:
            out.add([f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1])
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_clean_model_runs_and_gets_an_input_of_the_stated_rank(case):
    code, cls, inputs, _ = CASES[case]
    assert _fail_lines(code, cls, inputs) == {None}
    a = analyze_source(code, "case.py")
    assert a.findings == []
    (run,) = [r for r in a.runs if r.cls is not None and r.cls.name == cls]
    (x,) = run.input_tensors
    want = {"attn": ["N", "T", "48"], "period": ["N", "C", "L"], "gpt": ["N", "T"]}[case]
    assert [str(d) for d in x.shape] == want and x.batch_dim == 0
    assert x.dtype == ("long" if case == "gpt" else "float")


@pytest.mark.parametrize("case,k", [(c, k) for c in sorted(CASES) for k in range(len(CASES[c][3]))])
def test_a_wrong_number_is_reported_where_torch_fails_at_every_size(case, k):
    code, cls, inputs, bugs = CASES[case]
    code = code.replace(*bugs[k])
    (line,) = _fail_lines(code, cls, inputs)
    assert line is not None
    got = analyze_source(code, "case.py").findings
    assert [f.line for f in got] == [line]


def test_an_unpack_on_one_branch_only_states_nothing():
    code = textwrap.dedent('''\
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 4)

            def forward(self, x, flag):
                if flag:
                    b, t, c = x.shape
                return self.fc(x)
    ''')
    a = analyze_source(code, "case.py")
    (run,) = [r for r in a.runs if r.cls is not None]
    assert run.input_tensors[0].shape is None
