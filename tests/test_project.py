"""Cross-module resolution: a model spread over the modules of a package."""
import os
import textwrap

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

PARTS = '''
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x):
        return self.conv(x)
'''

MODEL = '''
import torch
import torch.nn as nn
{imp}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Block(3, 16)
        self.b = Block({cin}, 8)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        x = self.b(self.a(x))
        return self.fc(x.mean([2, 3]))


if __name__ == "__main__":
    model = Net()
    model(torch.randn(1, 3, 8, 8))
'''


def write_pkg(tmp_path, imp, cin, extra=None):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "parts.py").write_text(PARTS)
    for name, text in (extra or {}).items():
        (pkg / name).write_text(textwrap.dedent(text))
    model = pkg / "model.py"
    model.write_text(MODEL.format(imp=imp, cin=cin))
    return model


def findings(path):
    return analyze_source(path.read_text(), str(path)).findings


def test_relative_import_is_followed_and_clean(tmp_path):
    m = write_pkg(tmp_path, "from .parts import Block", 16)
    a = analyze_source(m.read_text(), str(m))
    assert a.findings == []
    (run,) = [r for r in a.runs if r.concrete]
    assert run.output.shape == (1, 2)


def test_violation_inside_an_imported_module_is_reported_here(tmp_path):
    m = write_pkg(tmp_path, "from .parts import Block", 12)
    (f,) = findings(m)
    assert f.code == "SHP003"
    assert f.line == 15  # `x = self.b(self.a(x))`, the call in this file that leads there
    assert "(in parts.py:11)" in f.message


def test_star_and_absolute_imports(tmp_path):
    m = write_pkg(tmp_path, "from .parts import *", 12)
    assert [f.code for f in findings(m)] == ["SHP003"]
    m.write_text(MODEL.format(imp="from pkg.parts import Block", cin=12))
    assert [f.code for f in findings(m)] == ["SHP003"]


def test_import_cycles_end(tmp_path):
    extra = {"a.py": "from .b import thing\nvalue = 1\n", "b.py": "from .a import thing\n"}
    m = write_pkg(tmp_path, "from .parts import Block\nfrom .a import thing", 16, extra)
    assert findings(m) == []


def test_unknown_module_names_stay_unknown(tmp_path):
    m = write_pkg(tmp_path, "from .missing import Block", 12)
    assert findings(m) == []  # Block is unknown: nothing is said
