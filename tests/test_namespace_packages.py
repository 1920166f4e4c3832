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


# a package inside a namespace folder, whose __init__ re-exports a factory named as its own module
# (d-li14/mobilenetv2.pytorch: models/imagenet/__init__.py `from .mobilenetv2 import *`, the
# module's __all__ = ['mobilenetv2']): `from models.imagenet import mobilenetv2` is the function
NET = textwrap.dedent('''\
    import torch.nn as nn

    __all__ = ["mobilenet"]


    class Net(nn.Module):
        def __init__(self, width=1.0):
            super().__init__()
            self.conv = nn.Conv2d(3, int(16 * width), 3, padding=1)
            self.pool = nn.AdaptiveAvgPool2d(POOL)
            self.fc = nn.Linear(int(16 * width), 10)

        def forward(self, x):
            return self.fc(self.pool(self.conv(x)).flatten(1))


    def mobilenet(**kwargs):
        return Net(**kwargs)
''')
DRIVER = textwrap.dedent('''\
    import torch
    from models.imagenet import mobilenet

    model = mobilenet(width=1.0)
    out = model(torch.randn(2, 3, 32, 32))
''')


@pytest.mark.parametrize("pool,bad", [("(1, 1)", False), ("(1, 2)", True)])
def test_a_package_in_a_namespace_folder_re_exporting_a_factory(tmp_path, pool, bad):
    pkg = tmp_path / "models" / "imagenet"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .mobilenet import *\n")
    (pkg / "mobilenet.py").write_text(NET.replace("POOL", pool))
    driver = pkg / "_driver.py"  # beside the model, run with the repository on sys.path
    driver.write_text(DRIVER)
    ran = subprocess.run([sys.executable, str(driver)], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)})
    got = analyze_source(DRIVER, str(driver)).findings
    if not bad:
        assert ran.returncode == 0, ran.stderr
        assert got == []
        return
    assert "mat1 and mat2 shapes cannot be multiplied" in ran.stderr and 'mobilenet.py", line 14' in ran.stderr
    assert [(f.code, f.line) for f in got] == [("SHP002", 5)], [f.message for f in got]
    assert "(in mobilenet.py:14)" in got[0].message
