"""A script importing a model through folders without ``__init__.py`` (PEP 420 namespace packages:
Point-Transformers' ``from models.Menghao.model import PointTransformerCls``) builds and checks that
model, as Python imports it; torch runs the script from the project root and fails on the line
shapelint reports."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

pytest.importorskip("torch")

MODEL = textwrap.dedent('''\
    import torch.nn as nn
    from pointnet_util import doubled


    class Net(nn.Module):
        def __init__(self, k=10):
            super().__init__()
            self.fc1 = nn.Linear(6, 32)
            self.fc2 = nn.Linear(WIDTH, k)

        def forward(self, x):
            return self.fc2(doubled(self.fc1(x).relu()))
''')
# a module at the repository's top that the model file imports by its bare name, as the scripts
# there run it (Point-Transformers' models/Menghao/model.py: `from pointnet_util import index_points`)
UTIL = textwrap.dedent('''\
    import torch


    def doubled(x):
        return torch.cat([x, x], dim=-1)
''')
SCRIPT = textwrap.dedent('''\
    import torch
    from models.Menghao.model import Net

    model = Net(k=40)
    out = model(torch.randn(2, 1024, 6))
''')


def _project(tmp_path, width):
    (tmp_path / "models" / "Menghao").mkdir(parents=True)
    (tmp_path / "models" / "Menghao" / "model.py").write_text(MODEL.replace("WIDTH", str(width)))
    (tmp_path / "train.py").write_text(SCRIPT)
    (tmp_path / "pointnet_util.py").write_text(UTIL)
    return subprocess.run([sys.executable, "train.py"], cwd=tmp_path, capture_output=True, text=True)


def test_a_model_in_a_namespace_package_is_checked_from_the_script(tmp_path):
    ran = _project(tmp_path, 65)
    assert "mat1 and mat2 shapes cannot be multiplied" in ran.stderr
    assert 'model.py", line 12' in ran.stderr
    got = analyze_source(SCRIPT, str(tmp_path / "train.py")).findings
    assert [(f.code, f.line) for f in got] == [("SHP002", 5)]
    assert "(in models/Menghao/model.py:12)" in got[0].message and "Net(k=40)" in got[0].message
    # the model file alone, with the input shape: the helper above it is followed
    model = tmp_path / "models" / "Menghao" / "model.py"
    got = analyze_source(model.read_text(), str(model), {"Net": [(2, 1024, 6)]}, scan_project=False).findings
    assert [(f.code, f.line) for f in got] == [("SHP002", 12)] and "has 64 features" in got[0].message


def test_the_clean_model_runs_and_nothing_is_reported(tmp_path):
    assert _project(tmp_path, 64).returncode == 0
    a = analyze_source(SCRIPT, str(tmp_path / "train.py"))
    assert a.findings == [] and [r.cls.name for r in a.runs if r.cls is not None] == ["Net"]
