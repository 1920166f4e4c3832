"""SHP008 for unpacking a tensor's sizes into the wrong number of names, and the inputs it must not
be reported on: an input whose rank the analysis would only guess (a GAN-style ``forward(self, z)``
before a Linear, a conv's batched image) when the forward itself unpacks another number of sizes
from it. torch judges: the clean models run at the rank they state, and shapelint is silent."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

PATCHES = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Encoder(nn.Module):
        def __init__(self, patch_len=12, d_model=16):
            super().__init__()
            self.W_P = nn.Linear(patch_len, d_model)

        def forward(self, z):
            bs, num_patch, n_vars, patch_len = z.shape
            z = self.W_P(z)
            return z.transpose(1, 2).reshape(bs * n_vars, num_patch, -1)


    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = Encoder()

        def forward(self, z):
            return self.backbone(z)
''')

UNBATCHED = textwrap.dedent('''\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)

        def forward(self, x):
            c, h, w = x.shape
            return self.conv(x).view(8, -1)
''')


@pytest.mark.parametrize("code,cls,x", [(PATCHES, "Model", (2, 5, 3, 12)), (PATCHES, "Encoder", (2, 5, 3, 12)),
                                        (UNBATCHED, "Net", (3, 8, 8))])
def test_a_stated_rank_beats_a_guessed_one(code, cls, x):
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    ns[cls]()(torch.randn(*x))  # runs at the rank the forward states
    a = analyze_source(code, "case.py")
    assert a.findings == [], [f.message for f in a.findings]


def test_unpacking_after_a_layer_that_changed_the_rank():
    code = textwrap.dedent('''\
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(4, 8, 3)

            def forward(self, x):
                x = self.conv(x)
                n, c, h, w = x.shape
                return x.view(n, c, h * w)
    ''')
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    with pytest.raises(ValueError) as e:
        ns["Net"]()(torch.randn(2, 4, 16))
    line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "case.py"][-1]
    for shapes in (None, {"Net": [(2, 4, 16)]}):
        got = analyze_source(code, "case.py", shapes).findings
        assert [(f.code, f.line) for f in got] == [("SHP008", line)], [f.message for f in got]
