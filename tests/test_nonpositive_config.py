"""Zero or negative stride / kernel size / dilation, negative padding, no output channels: torch
refuses them at the first forward; shapelint reports SHP007 on that line (it used to end in an
internal error, SHP000, or to accept them). Each case runs in torch first."""
import os
import traceback

import pytest
import torch

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

TEMPLATE = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = {layer}

    def forward(self, x):
        return self.layer(x)


model = Net()
model(torch.randn({shape}))
'''

CASES = [
    ("nn.Conv2d(4, 4, 3, stride=0)", "1, 4, 8, 8"), ("nn.Conv2d(4, 4, 3, stride=(1, 0))", "1, 4, 8, 8"),
    ("nn.Conv2d(4, 4, 0)", "1, 4, 8, 8"), ("nn.Conv2d(4, 4, (3, 0))", "1, 4, 8, 8"),
    ("nn.Conv2d(4, 4, 3, dilation=0)", "1, 4, 8, 8"), ("nn.Conv2d(4, 4, 3, padding=-1)", "1, 4, 8, 8"),
    ("nn.Conv1d(4, 4, 3, stride=0)", "1, 4, 8"), ("nn.Conv3d(4, 4, 0)", "1, 4, 6, 6, 6"),
    ("nn.ConvTranspose2d(4, 4, 3, stride=0)", "1, 4, 8, 8"), ("nn.ConvTranspose2d(4, 4, 0)", "1, 4, 8, 8"),
    ("nn.ConvTranspose2d(4, 4, 3, dilation=0)", "1, 4, 8, 8"),
    ("nn.MaxPool2d(3, stride=0)", "1, 4, 8, 8"), ("nn.MaxPool2d(0)", "1, 4, 8, 8"),
    ("nn.MaxPool2d(3, dilation=0)", "1, 4, 8, 8"), ("nn.MaxPool2d(2, -1)", "1, 4, 8, 8"),
    ("nn.MaxPool2d(3, 1, -1)", "1, 4, 8, 8"), ("nn.MaxPool1d(2, 0)", "1, 4, 8"),
    ("nn.AvgPool2d(3, stride=0)", "1, 4, 8, 8"), ("nn.AvgPool2d(0)", "1, 4, 8, 8"),
    ("nn.AvgPool3d(3, stride=0)", "1, 4, 8, 8, 8"), ("nn.AvgPool2d(-1)", "1, 4, 8, 8"),
    ("nn.MaxPool2d(2, 0, ceil_mode=True)", "1, 4, 8, 8"),
    # no output channels: built (torch warns), refused at the first forward
    ("nn.Conv2d(4, 0, 3)", "1, 4, 8, 8"), ("nn.Conv1d(4, 0, 3)", "1, 4, 8"),
    ("nn.Conv2d(4, 0, 1, groups=2)", "1, 4, 8, 8"), ("nn.Conv3d(4, 0, 1)", "1, 4, 6, 6, 6"),
]


@pytest.mark.parametrize("layer,shape", CASES)
def test_nonpositive_config_is_shp007_where_torch_fails(layer, shape):
    src = TEMPLATE.format(layer=layer, shape=shape)
    with pytest.raises(RuntimeError) as e:
        exec(compile(src, "case.py", "exec"), {})
    torch_line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "case.py"][-1]
    a = analyze_source(src, "case.py")
    assert not [r.error for r in a.runs if r.error]
    assert [(f.code, f.line) for f in a.findings] == [("SHP007", torch_line)], str(e.value)


@pytest.mark.parametrize("layer,shape", [("nn.Conv2d(4, 4, 1, stride=1, padding=0)", "1, 4, 8, 8"),
                                         ("nn.MaxPool2d(1)", "1, 4, 8, 8"), ("nn.AvgPool2d(2, 1, 1)", "1, 4, 8, 8"),
                                         ("nn.ConvTranspose2d(4, 4, 1, dilation=1)", "1, 4, 8, 8"),
                                         ("nn.Conv2d(4, 1, 3)", "1, 4, 8, 8"), ("nn.Linear(4, 0)", "1, 4")])
def test_smallest_valid_values_stay_silent(layer, shape):
    src = TEMPLATE.format(layer=layer, shape=shape)
    exec(compile(src, "case.py", "exec"), {})
    assert analyze_source(src, "case.py").findings == []
