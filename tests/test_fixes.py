"""``shapelint check --fix/--diff/--unsafe-fixes`` (lint/fixes.py), with torch as the judge: every
bug fixture that gets a safe fix becomes a file that lints clean and that torch runs, on the
fixture's own input, without error (fixtures/verify_with_torch.py on the fixed file, its
``# expect`` markers removed); formatting and comments outside the edited spans are unchanged."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from conftest import FIXTURES
from shapelint.engine import analyze_source
from shapelint.fixes import fix_source

# the bug fixtures --fix repairs (the test below fails if one is added or lost without saying so)
SAFE = ["cifar_tutorial_bug", "confirm_trains_at_import", "construct_channel_shuffle_bug",
        "construct_checkpoint_bug", "construct_hasattr_shortcut_bug", "construct_index_gather_bug",
        "conv1d_net_bug", "lenet5_bug", "mnist_linear_mismatch", "mnist_net_56", "model_kind_lightning_bug",
        "model_kind_sequential_bug", "rule_shp001_view_size0",
        "rule_shp002_flatten_linear", "rule_shp002_sequential", "rule_shp003_batchnorm",
        "rule_shp005_batch_fold", "rule_shp005_reshape_fold", "seq_bert_encoder_bug", "vgg_cfg_bug"]
MARK = re.compile(r"\s*#\s*expect:.*$")


def _verify():
    torch = pytest.importorskip("torch")  # noqa: F841
    spec = importlib.util.spec_from_file_location("verify_with_torch", FIXTURES / "verify_with_torch.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["verify_with_torch"] = mod
    spec.loader.exec_module(mod)
    return mod


def _bug_fixtures():
    """The fixtures with a marked bug that torch can run (not those marked ``verify: skip``)."""
    return sorted(p for p in FIXTURES.glob("*.py") if p.name != "verify_with_torch.py"
                  and "# expect:" in p.read_text() and "verify: skip" not in p.read_text())


def _only_numbers_changed(before: str, after: str, allowed=r"[\d\s*+()/-]*") -> None:
    """Same lines; a changed line differs from the original in one span that held and holds a
    constant (safe fixes); every comment is kept byte for byte."""
    a, b = before.splitlines(True), after.splitlines(True)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if x == y:
            continue
        i = 0
        while i < min(len(x), len(y)) and x[i] == y[i]:
            i += 1
        j = 0
        while j < min(len(x), len(y)) - i and x[-1 - j] == y[-1 - j]:
            j += 1
        assert re.fullmatch(allowed, x[i:len(x) - j]) and re.fullmatch(allowed, y[i:len(y) - j]), (x, y)
        if "#" in x:
            assert x[x.index("#"):] == y[y.index("#"):]


def test_the_fixtures_with_safe_fixes():
    got = [p.stem for p in _bug_fixtures() if fix_source(p.read_text(), str(p)).changed]
    assert got == SAFE


@pytest.mark.parametrize("name", SAFE)
def test_safe_fix_lints_clean_and_runs_under_torch(name, tmp_path):
    verify = _verify()
    path = FIXTURES / f"{name}.py"
    before = path.read_text()
    out = fix_source(before, str(path))
    assert out.changed and out.fixed
    _only_numbers_changed(before, out.after)
    assert analyze_source(out.after, str(path), strict=True).findings == []
    # torch judges the fixed file: the same constructions and inputs, no marker left to excuse an error
    fixed = tmp_path / f"{name}.py"
    fixed.write_text("\n".join(MARK.sub("", line) for line in out.after.splitlines()) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = verify.check_file(fixed.resolve())
    assert res.ok and not res.skipped, "; ".join(res.reasons)
    # and the original fails there (the fix is what made the difference)
    broken = tmp_path / "broken" / f"{name}.py"
    broken.parent.mkdir()
    broken.write_text("\n".join(MARK.sub("", line) for line in before.splitlines()) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not verify.check_file(broken.resolve()).ok


FLAT = '''\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 20, 5)  # twenty maps
        self.fc = nn.Linear(330,   10)   # odd spacing, kept outside the edit

    def forward(self, x):
        x = F.relu(self.conv(x))
        x = x.view(-1, 330)  # hand-computed
        return self.fc(x)
'''

FOLD = '''\
import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, width=32):
        super().__init__()
        self.width = width
        self.conv = nn.Conv2d(3, 64, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(self.conv(x))
        x = x.view(-1, self.width)   # two rows per sample
        return self.fc(x)


if __name__ == "__main__":
    Head()(torch.randn(2, 3, 8, 8))
'''


def _run(code: str, cls: str, *shapes):
    torch = pytest.importorskip("torch")
    ns: dict = {"__name__": "fixed"}
    exec(compile(code, "fixed.py", "exec"), ns)
    model = ns[cls]().eval()
    with torch.no_grad():
        return [model(torch.randn(*s)).shape for s in shapes]


def test_unsafe_fixes_flatten_and_lazy_linear():
    """A flatten size wrong for every input: no safe fix; the unsafe one is torch.flatten + LazyLinear."""
    assert not fix_source(FLAT, "flat.py").changed
    out = fix_source(FLAT, "flat.py", unsafe=True)
    assert "x = torch.flatten(x, 1)  # hand-computed\n" in out.after
    assert "self.fc = nn.LazyLinear(10)   # odd spacing, kept outside the edit\n" in out.after
    assert [x for x in out.after.splitlines() if x not in FLAT.splitlines()] == [
        "        self.fc = nn.LazyLinear(10)   # odd spacing, kept outside the edit",
        "        x = torch.flatten(x, 1)  # hand-computed"]
    assert analyze_source(out.after, "flat.py", strict=True).findings == []
    with pytest.raises(RuntimeError):
        _run(FLAT, "Net", (2, 1, 28, 28))
    assert _run(out.after, "Net", (2, 1, 28, 28)) == [(2, 10)]


def test_unsafe_fix_keeps_the_batch():
    assert not fix_source(FOLD, "fold.py").changed  # the view's size is not a literal: no safe fix
    out = fix_source(FOLD, "fold.py", unsafe=True)
    assert "        x = x.view(x.size(0), -1)   # two rows per sample\n" in out.after
    assert "self.fc = nn.Linear(64, 10)" in out.after
    assert analyze_source(out.after, "fold.py", strict=True).findings == []
    assert _run(FOLD, "Head", (2, 3, 8, 8)) == [(4, 10)]  # the bug: a batch of 2 became 4
    assert _run(out.after, "Head", (2, 3, 8, 8)) == [(2, 10)]


def test_no_fix_when_the_chain_stays_broken():
    """Fixing the view leaves a Linear whose size comes from an argument: no consistent safe fix."""
    code = FLAT.replace("def __init__(self):", "def __init__(self, k=330):").replace(
        "nn.Linear(330,   10)", "nn.Linear(k, 10)") + "\n\nif __name__ == '__main__':\n    Net()(torch.randn(2, 1, 28, 28))\n"
    assert analyze_source(code, "m.py", strict=True).findings
    assert not fix_source(code, "m.py").changed


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "shapelint", *args], cwd=cwd, capture_output=True, text=True)


def test_cli_diff_fix_and_marks(tmp_path):
    src = (FIXTURES / "mnist_net_56.py").read_text()
    (tmp_path / "m.py").write_text(src)
    r = _cli("check", "m.py", cwd=tmp_path)
    assert r.returncode == 1 and " SHP001 [*] x.view(-1, 320)" in r.stdout
    r = _cli("check", "--diff", "m.py", cwd=tmp_path)
    assert r.returncode == 1
    assert "-        x = x.view(-1, 320)  # expect: SHP001\n+        x = x.view(-1, 2420)  # expect: SHP001" in r.stdout
    assert (tmp_path / "m.py").read_text() == src  # --diff writes nothing
    r = _cli("check", "--fix", "m.py", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr
    assert "fixed 1 finding in 1 file" in r.stderr
    assert (tmp_path / "m.py").read_text() == fix_source(src, "m.py").after
    r = _cli("check", "--diff", "m.py", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == ""


def test_cli_unsafe_mark_in_json(tmp_path):
    (tmp_path / "flat.py").write_text(FLAT)
    r = _cli("check", "--format", "json", "flat.py", cwd=tmp_path)
    assert '"fix"' not in r.stdout
    r = _cli("check", "--format", "json", "--unsafe-fixes", "flat.py", cwd=tmp_path)
    assert '"fix": "unsafe"' in r.stdout
    r = _cli("check", "--fix", "flat.py", cwd=tmp_path)
    assert r.returncode == 1 and (tmp_path / "flat.py").read_text() == FLAT  # unsafe: not without the flag
    r = _cli("check", "--fix", "--unsafe-fixes", "flat.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_flake8_marks_fixable(tmp_path):
    (tmp_path / "m.py").write_text((FIXTURES / "mnist_net_56.py").read_text())
    (tmp_path / "g.py").write_text((FIXTURES / "rule_shp007_groups.py").read_text())
    r = subprocess.run([sys.executable, "-m", "flake8", "--select=SHP", "m.py", "g.py"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert "m.py:19:13: SHP001 [*] x.view(-1, 320)" in r.stdout
    assert "g.py:13:22: SHP007 nn.Conv2d" in r.stdout  # no fix offered
