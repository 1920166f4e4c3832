"""A finding whose failure lies in another module names the frames torch's traceback shows past
the linted file's own call, outermost first: a driver building a discriminator whose conv is
wrapped in a project's SpectralNorm (pytorch-spectral-normalization-gan) fails inside the wrapper's
``self.module.forward(*args)``, reached from the model file's line; both are named, as torch names
them."""
import os
import re
import subprocess
import sys

WRAPPER = '''\
import torch.nn as nn


class SpectralNorm(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, *args):
        return self.module.forward(*args)
'''

MODEL = '''\
import torch.nn as nn
from wrapper import SpectralNorm


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = SpectralNorm(nn.Conv2d(3, 64, 3, padding=1))
        self.conv2 = SpectralNorm(nn.Conv2d(32, 64, 3, padding=1))

    def forward(self, x):
        x = self.conv1(x)
        return self.conv2(x)
'''

DRIVER = '''\
import torch
from model import Discriminator

model = Discriminator()
model(torch.randn(2, 3, 32, 32))
'''


def test_the_frames_past_the_linted_file_are_named_as_torch_names_them(tmp_path):
    for name, text in (("wrapper.py", WRAPPER), ("model.py", MODEL), ("driver.py", DRIVER)):
        (tmp_path / name).write_text(text)
    run = subprocess.run([sys.executable, "driver.py"], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode != 0 and "expected input[2, 64, 32, 32] to have 32 channels" in run.stderr, run.stderr
    frames = [(os.path.basename(p), int(n)) for p, n in re.findall(r'File "([^"]+)", line (\d+)', run.stderr)
              if os.path.dirname(p) == str(tmp_path)]
    assert frames[0] == ("driver.py", 5)
    want = ", ".join(f"{name}:{line}" for name, line in frames[1:])  # model.py:13, wrapper.py:10
    assert want == "model.py:13, wrapper.py:10"
    env = dict(os.environ, SHAPELINT_STRICT="1")
    out = subprocess.run([sys.executable, "-m", "shapelint", "check", "--no-cache", "driver.py"], cwd=tmp_path,
                         capture_output=True, text=True, env=env)
    assert out.returncode == 1, out.stdout + out.stderr
    (line,) = out.stdout.splitlines()
    assert line.startswith("driver.py:5:1: SHP003") and line.endswith(f"(in {want})"), line
