"""``collections.namedtuple`` classes in model code: a detection head's layer plan (SSD's
``GraphPath``, told apart from plain tuples with ``isinstance``) and a block configuration read by
field (EfficientNet's ``BlockArgs``). They are real namedtuples to the analysis, so the loops that
read them are decided. torch judges the outputs and the failing line."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

HEADS = textwrap.dedent('''\
    from collections import namedtuple

    import torch
    import torch.nn as nn

    GraphPath = namedtuple("GraphPath", ["s0", "name", "s1"])
    BlockArgs = namedtuple("BlockArgs", "kernel stride out_ch", defaults=(1, 16))


    class Detector(nn.Module):
        def __init__(self, num_classes=5):
            super().__init__()
            plan = [BlockArgs(3, 1, 16), BlockArgs(3, 2), BlockArgs(kernel=3, stride=2, out_ch=32)]
            layers, c = [], 3
            for b in plan:
                layers += [nn.Conv2d(c, b.out_ch, b.kernel, b.stride, padding=b.kernel // 2), nn.ReLU()]
                c = b.out_ch
            self.base = nn.ModuleList(layers)
            self.sources = [(2, nn.BatchNorm2d(16)), GraphPath(4, "x", 0), len(self.base)]
            self.heads = nn.ModuleList([nn.Conv2d(16, 4 * num_classes, 3, padding=1),
                                        nn.Conv2d(16, 4 * num_classes, 3, padding=1),
                                        nn.Conv2d(HEAD_IN, 4 * num_classes, 3, padding=1)])
            self.num_classes = num_classes

        def forward(self, x):
            outs, start = [], 0
            for i, end in enumerate(self.sources):
                if isinstance(end, GraphPath):
                    end, added = end.s0, None
                elif isinstance(end, tuple):
                    end, added = end
                else:
                    added = None
                for layer in self.base[start:end]:
                    x = layer(x)
                y = added(x) if added else x
                start = end
                c = self.heads[i](y).permute(0, 2, 3, 1).contiguous()
                outs.append(c.view(c.size(0), -1, self.num_classes))
            return torch.cat(outs, 1)
''')


def _torch(code):
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    try:
        return tuple(ns["Detector"]()(torch.randn(2, 3, 32, 32)).shape), None
    except RuntimeError as e:
        return None, [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1]


def test_the_plan_is_followed_as_torch_runs_it():
    code = HEADS.replace("HEAD_IN", "32")
    shape, _ = _torch(code)
    a = analyze_source(code, "case.py", {"Detector": [(2, 3, 32, 32)]})
    assert a.findings == []
    (run,) = [r for r in a.runs if r.cls is not None and r.cls.name == "Detector"]
    assert run.output is not None and run.output.shape == shape


def test_a_head_of_the_wrong_width_is_reported_where_torch_fails():
    code = HEADS.replace("HEAD_IN", "16")
    _, line = _torch(code)
    got = analyze_source(code, "case.py", {"Detector": [(2, 3, 32, 32)]}).findings
    assert [(f.code, f.line) for f in got] == [("SHP003", line)], [f.message for f in got]
