"""A model file whose own ``__main__`` parses options and builds the model from them
(SCINet's ``model = SCINet(output_len=args.horizon, input_len=args.window_size, ...)`` after
``args = parser.parse_args()``): the construction gets the parser's defaults, read statically, and
runs on the input the block feeds. torch judges the failing line."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

CODE = textwrap.dedent('''\
    import argparse

    import torch
    import torch.nn as nn


    class Forecaster(nn.Module):
        def __init__(self, output_len, input_len, input_dim=9, hid_size=2, kernel=3):
            super().__init__()
            self.conv = nn.Conv1d(input_dim, input_dim * hid_size, kernel, padding=PAD)
            self.back = nn.Conv1d(input_dim * hid_size, input_dim, 1)
            self.proj = nn.Conv1d(input_len, output_len, kernel_size=1)

        def forward(self, x):
            y = self.back(torch.relu(self.conv(x.permute(0, 2, 1)))).permute(0, 2, 1)
            return self.proj(x + y)


    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--window_size", type=int, default=96)
        parser.add_argument("--horizon", type=int, default=12)
        parser.add_argument("--hidden-size", default=2, type=int)
        parser.add_argument("--kernel", default=3, type=int)
        args = parser.parse_args()
        model = Forecaster(output_len=args.horizon, input_len=args.window_size, input_dim=9,
                           hid_size=args.hidden_size, kernel=args.kernel)
        x = torch.randn(4, 96, 9)
        print(model(x).shape)
''')


def _torch(code):
    ns: dict = {}
    exec(compile(code.split('if __name__ == "__main__":')[0], "case.py", "exec"), ns)
    model = ns["Forecaster"](output_len=12, input_len=96, input_dim=9, hid_size=2, kernel=3)
    try:
        return tuple(model(torch.randn(4, 96, 9)).shape), None
    except RuntimeError as e:
        return None, [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1]


def test_the_clean_file_is_followed_to_its_output():
    code = CODE.replace("PAD", "1")
    shape, _ = _torch(code)
    a = analyze_source(code, "case.py")
    assert a.findings == []
    outs = [r.output.shape for r in a.runs if r.cls is not None and r.cls.name == "Forecaster" and r.concrete]
    assert outs == [shape]


def test_a_wrong_padding_is_reported_at_the_main_blocks_input():
    code = CODE.replace("PAD", "0")
    _, line = _torch(code)
    got = analyze_source(code, "case.py").findings
    assert [(f.code, f.line) for f in got] == [("SHP006", line)], [f.message for f in got]
    assert "for input 4x96x9" in got[0].message
