"""`--input-shape Net=...` while linting a file of blocks that Net's file assembles (Pytorch-UNet's
`unet_parts.py`, whose UNet lives in `unet_model.py`): the declaration names a class of the project,
not a typo, and it reaches the blocks through that importer (lint/importers.py). torch says where a
declared input fails."""
import os
import subprocess
import sys
import traceback

import torch

BLOCKS = '''\
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.fc = nn.Linear(channels * 4 * 4, 10)

    def forward(self, x):
        return self.fc(x.flatten(1))  # bug
'''

MODEL = '''\
import torch.nn as nn
from blocks import Head


class Net(nn.Module):
    def __init__(self, channels=16):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = Head(channels)

    def forward(self, x):
        return self.head(self.features(x))
'''


def _project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "blocks.py").write_text(BLOCKS)
    (tmp_path / "model.py").write_text(MODEL)
    return tmp_path


def _torch_line(root, shape):
    sys.path.insert(0, str(root))
    try:
        for m in ("blocks", "model"):
            sys.modules.pop(m, None)
        import model
        try:
            model.Net()(torch.randn(*shape))
        except RuntimeError as e:
            frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename.endswith("blocks.py")]
            return frames[-1].lineno
        return None
    finally:
        sys.path.remove(str(root))
        for m in ("blocks", "model"):
            sys.modules.pop(m, None)


def _check(root, *args):
    env = dict(os.environ, SHAPELINT_STRICT="1")
    p = subprocess.run([sys.executable, "-m", "shapelint", "check", "--no-cache", str(root / "blocks.py"), *args],
                       capture_output=True, text=True, cwd=root, env=env)
    return p.returncode, p.stdout, p.stderr


def test_a_declared_class_of_an_importer_reaches_the_blocks_it_assembles(tmp_path):
    root = _project(tmp_path)
    line = _torch_line(root, (2, 3, 16, 16))  # 16x8x8 features; Head takes 16x4x4
    assert line == BLOCKS.splitlines().index("        return self.fc(x.flatten(1))  # bug") + 1
    rc, out, err = _check(root)
    assert (rc, out) == (0, ""), out + err  # the blocks alone: the input size is not known
    rc, out, err = _check(root, "--input-shape", "Net=2,3,16,16")
    assert rc == 1, out + err
    assert f"blocks.py:{line}:" in out and "reached through Net() of model.py" in out, out + err
    assert _torch_line(root, (2, 3, 8, 8)) is None
    rc, out, err = _check(root, "--input-shape", "Net=2,3,8,8")
    assert (rc, out) == (0, ""), out + err


def test_a_class_no_importer_defines_is_still_refused(tmp_path):
    root = _project(tmp_path)
    rc, out, err = _check(root, "--input-shape", "Nett=2,3,16,16")
    assert rc == 2 and "no class 'Nett' in the checked files" in err, out + err
    assert "Traceback" not in err


def test_a_declared_importer_model_gets_a_file_budget_of_its_own(tmp_path, monkeypatch):
    """CurveNet's curvenet_util.py: the file's own symbolic runs of its blocks spent the file's
    budget, and the importer's CurveNet, the model the declared input is for, was never analysed.
    Declared for an importer's class, the importers' analysis starts a budget of its own; with no
    such declaration it shares what the file left."""
    from shapelint import engine, importers
    from shapelint.core import limits
    from shapelint.options import InputSpec

    root = _project(tmp_path)
    seen = []
    real = importers.importer_findings

    def spy(*args, **kwargs):
        seen.append(limits.current_deadline().file_end)
        return real(*args, **kwargs)

    monkeypatch.setattr(importers, "importer_findings", spy)
    path = str(root / "blocks.py")
    outer = []
    real_budget = limits.time_budget

    def budget(seconds):
        cm = real_budget(seconds)
        outer.append(seconds)
        return cm

    monkeypatch.setattr(limits, "time_budget", budget)
    a = engine.analyze_source(BLOCKS, path, {"Net": [InputSpec((2, 3, 16, 16))]}, time_budget=5.0)
    assert [f.line for f in a.findings] == [_torch_line(root, (2, 3, 16, 16))]
    assert outer.count(5.0) == 2 and len(seen) == 1  # the file's budget, then the importers' own
    outer.clear()
    engine.analyze_source(BLOCKS, path, time_budget=5.0)
    assert outer.count(5.0) == 1 and len(seen) > 1  # no declaration: one budget for both
