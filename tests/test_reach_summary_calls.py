"""A script that prints a summary of the model (torchinfo's ``summary(model, input_size=(1, C, H,
W))``, torchsummary's ``summary(model, (C, H, W))``, run at a batch of 2) runs its forward on that
input: the model file is checked at it (lint/constructions.py ``_summary_input``). torch runs each
script: where it fails in model.py is where the finding must be."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from shapelint.engine import analyze_source

pytest.importorskip("torch")
pytest.importorskip("torchinfo")
pytest.importorskip("torchsummary")

MODEL = textwrap.dedent('''\
    import math

    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Encoder(nn.Module):
        def __init__(self, latent, channels, filters, size=64):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, filters // 4, 3, stride=2, padding=1)
            self.conv2 = nn.Conv2d(filters // 4, filters, 3, stride=2, padding=1)
            self.mu = nn.Linear(math.prod([filters, size // 4, size // 4]), latent)

        def forward(self, x):
            x = F.relu(self.conv2(F.relu(self.conv1(x))))
            return self.mu(torch.flatten(x, 1))
''')

TORCHINFO = textwrap.dedent('''\
    from torchinfo import summary

    from model import Encoder


    def main(channels=3):
        size = ({s}, {s})
        net = Encoder(16, channels, 32)
        summary(net, input_size=(1, channels, size[0], size[1]), verbose=0)


    if __name__ == "__main__":
        main()
''')

TORCHSUMMARY = textwrap.dedent('''\
    from torchsummary import summary

    from model import Encoder

    net = Encoder(16, 1, 32)
    summary(net, (1, {s}, {s}), device="cpu")
''')


def _torch_line(tmp_path, script: str):
    r = subprocess.run([sys.executable, script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    if r.returncode == 0:
        return None
    lines = re.findall(r'model\.py", line (\d+)', r.stderr)
    assert lines, r.stderr
    return int(lines[-1])


@pytest.mark.parametrize("template", [TORCHINFO, TORCHSUMMARY], ids=["torchinfo", "torchsummary"])
@pytest.mark.parametrize("size", [64, 48])
def test_a_summary_call_is_an_input(tmp_path, template, size):
    (tmp_path / "pyproject.toml").write_text("")
    model = tmp_path / "model.py"
    model.write_text(MODEL)
    (tmp_path / "train.py").write_text(template.format(s=size))
    line = _torch_line(tmp_path, "train.py")
    assert (line is None) == (size == 64)
    a = analyze_source(MODEL, str(model), strict=True)
    assert [(f.line, f.code) for f in a.findings] == ([] if line is None else [(line, "SHP002")])
    if line is None:  # the summary's input is a concrete run of the model, not a symbolic one
        assert any(r.concrete and r.output is not None and r.output.shape[1:] == (16,) for r in a.runs)
