"""A block whose constructor takes a list read only item by item (RawNet's
``Residual_block(nb_filts)`` with ``nb_filts[0]``, ``nb_filts[1]`` as channel counts), which no
code in sight builds: each item used as a size is a symbol, so what fails for every value is
reported. Its forward applies a ``BatchNorm1d`` (any rank) and then a ``Conv1d`` to the same
input: the conv tells the input's rank. torch judges at several list values."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

BLOCK = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Residual_block(nn.Module):
        def __init__(self, nb_filts, first=False):
            super().__init__()
            self.first = first
            if not self.first:
                self.bn1 = nn.BatchNorm1d(num_features=nb_filts[0])
            self.conv1 = nn.Conv1d(nb_filts[0], nb_filts[1], kernel_size=KERNEL, padding=1)
            self.bn2 = nn.BatchNorm1d(num_features=nb_filts[1])
            self.conv2 = nn.Conv1d(nb_filts[1], nb_filts[0], padding=1, kernel_size=3)
            self.mp = nn.MaxPool1d(3)

        def forward(self, x):
            identity = x
            if not self.first:
                out = self.bn1(x)
            else:
                out = x
            out = self.conv1(out)
            out = self.bn2(out)
            out = self.conv2(out)
            out += identity
            return self.mp(out)
''')

LISTS = [(16, 32), (8, 8), (3, 64)]


def _line(code, filts, length=40):
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    try:
        ns["Residual_block"](list(filts))(torch.randn(2, filts[0], length))
    except RuntimeError as e:
        return [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1]
    return None


@pytest.mark.parametrize("kernel", [2, 4])
def test_a_bug_for_every_list_is_reported(kernel):
    code = BLOCK.replace("KERNEL", str(kernel))
    (line,) = {_line(code, f) for f in LISTS}
    assert line == 25
    got = analyze_source(code, "case.py").findings
    assert [(f.code, f.line) for f in got] == [("SHP006", line)], [f.message for f in got]
    assert "nb_filts[0], nb_filts[1]" in got[0].message


def test_the_clean_block_is_silent_and_analysed():
    code = BLOCK.replace("KERNEL", "3")
    assert {_line(code, f) for f in LISTS} == {None}
    a = analyze_source(code, "case.py")
    assert a.findings == []
    entry = next(c for c in a.coverage if c["class"] == "Residual_block")
    assert entry["analysed"], entry


def test_a_list_used_whole_is_not_guessed():
    # `len(nb_filts)` and iteration depend on the list's length: no items are invented
    code = BLOCK.replace("KERNEL", "2").replace("self.mp = nn.MaxPool1d(3)",
                                               "self.mp = nn.MaxPool1d(len(nb_filts) + 1)")
    assert _line(code, (16, 32)) == 25
    a = analyze_source(code, "case.py")
    assert a.findings == []
