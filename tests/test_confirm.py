"""`shapelint check --confirm`: each finding proved (or not) by the real torch forward pass.

CPU only, except the CUDA test at the end (skipped without a GPU). The bug fixtures run once, in
one `shapelint check --confirm --device cpu` over all of them (the CLI confirms files in
parallel); several tests read that run.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ["SHAPELINT_STRICT"] = "1"

import pytest  # noqa: E402

from conftest import FIXTURES, fixture_files, has_markers  # noqa: E402

torch = pytest.importorskip("torch")

ROOT = FIXTURES.parent
ENV = dict(os.environ, SHAPELINT_STRICT="1")
HANGS = FIXTURES / "confirm_hangs.py"
TRAINS = FIXTURES / "confirm_trains_at_import.py"

# (fixture, code, text torch's evidence must contain)
CORE = [
    ("mnist_net_56.py", "SHP001", "RuntimeError: shape '[-1, 320]' is invalid for input of size 2420"),
    ("mnist_linear_mismatch.py", "SHP002", "mat1 and mat2 shapes cannot be multiplied (4x320 and 500x50)"),
    ("rule_shp003_batchnorm.py", "SHP003", "running_mean should contain 16 elements not 32"),
    ("rule_shp005_batch_fold.py", "SHP005", "output batch 6 for input batch 3"),
]


def shapelint(*args, env=None, timeout=600):
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "shapelint.cli", *map(str, args)], capture_output=True, text=True,
                       cwd=ROOT, env=env or ENV, timeout=timeout)
    r.seconds = time.monotonic() - t0
    return r


def bug_fixtures():
    return [p for p in fixture_files() if has_markers(p) and p != HANGS]


@pytest.fixture(scope="module")
def confirmed_all(tmp_path_factory):
    """One CLI run over every bug fixture (the hanging one aside), on CPU, in JSON."""
    marker = tmp_path_factory.mktemp("confirm") / "trained.pt"
    # the child's environment is scrubbed: the marker's name is passed through explicitly
    env = dict(ENV, SHAPELINT_CONFIRM_MARKER=str(marker), SHAPELINT_CONFIRM_ENV="SHAPELINT_CONFIRM_MARKER")
    r = shapelint("check", *bug_fixtures(), "--confirm", "--device", "cpu", "--format", "json", env=env)
    assert r.returncode == 1, r.stderr
    return {"findings": json.loads(r.stdout), "stderr": r.stderr, "marker": marker, "seconds": r.seconds}


def by_file(findings, name):
    return [d for d in findings if Path(d["path"]).name == name]


# ------------------------------------------------------------------------------------------------
# Confirmed bugs
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,code,evidence", CORE)
def test_cli_confirms_core_bugs(confirmed_all, name, code, evidence):
    (d,) = by_file(confirmed_all["findings"], name)
    assert d["code"] == code
    assert d["confirmed"] is True, d
    assert evidence in d["evidence"]
    assert d["device"] == "cpu"


def test_no_bug_fixture_is_refuted_and_every_marked_line_is_confirmed(confirmed_all):
    findings = confirmed_all["findings"]
    assert len({d["path"] for d in findings}) >= 30  # (which lines are flagged is test_fixtures' business)
    refuted = [d for d in findings if d.get("confirmed") is False]
    assert not refuted, refuted
    # stronger: every fixture was checked in torch when it was written, so torch agrees on each,
    # unless the analysis had no concrete input to give it
    unconfirmed = [d for d in findings if d.get("confirmed") is not True and "free sizes" not in d["evidence"]]
    assert not unconfirmed, unconfirmed
    for d in findings:
        if d["code"] != "SHP005" and "free sizes" not in d["evidence"]:  # (a symbolic-only model: no run)
            assert d["torch_line"] == d["line"]
    assert "shapelint defect" not in confirmed_all["stderr"]


NO_SERVER = dict(ENV, SHAPELINT_CONFIRM_NO_SERVER="1")  # one fresh `python` per file, no fork server


@pytest.mark.parametrize("env", [ENV, NO_SERVER], ids=["fork-server", "no-server"])
def test_text_format_prints_the_evidence_under_the_finding(env):
    r = shapelint("check", FIXTURES / "mnist_linear_mismatch.py", "--confirm", "--device", "cpu", env=env)
    assert r.returncode == 1
    first, second = r.stdout.splitlines()[:2]
    assert ":20:20: SHP002 " in first
    assert second == ("    confirmed by torch (cpu): RuntimeError: mat1 and mat2 shapes cannot be multiplied "
                      "(4x320 and 500x50)")


def test_api_confirms_core_bugs():
    from shapelint.commands.confirm import confirm_findings
    from shapelint.engine import analyze_source

    def one(item):
        name, code, evidence = item
        path = str(FIXTURES / name)
        analysis = analyze_source(Path(path).read_text(), path)
        got = confirm_findings(analysis, analysis.findings, device="cpu", timeout=120)
        return item, analysis.findings, got

    with ThreadPoolExecutor(4) as pool:
        for (name, code, evidence), findings, got in pool.map(one, CORE):
            (f,) = findings
            assert f.code == code
            c = got[id(f)]
            assert c["confirmed"] is True and evidence in c["evidence"], (name, c)
            assert got["defects"] == []


# ------------------------------------------------------------------------------------------------
# Safety: definitions only, a timeout, no torch
# ------------------------------------------------------------------------------------------------

def test_module_level_training_does_not_run(confirmed_all):
    (d,) = by_file(confirmed_all["findings"], TRAINS.name)
    assert d["confirmed"] is True and "mat1 and mat2" in d["evidence"]
    assert not confirmed_all["marker"].exists()


def test_the_training_fixture_really_trains_when_imported(tmp_path):
    """The check above means something: importing the fixture does write the checkpoint."""
    marker = tmp_path / "trained.pt"
    code = ("import importlib.util, sys; s = importlib.util.spec_from_file_location('m', sys.argv[1]); "
            "m = importlib.util.module_from_spec(s); s.loader.exec_module(m)")
    subprocess.run([sys.executable, "-c", code, str(TRAINS)], check=True, timeout=120,
                   env=dict(ENV, SHAPELINT_CONFIRM_MARKER=str(marker)))
    assert marker.exists()


@pytest.mark.parametrize("env", [ENV, NO_SERVER], ids=["fork-server", "no-server"])
def test_hanging_forward_is_stopped_by_the_timeout(env):
    r = shapelint("check", HANGS, "--confirm", "--device", "cpu", "--timeout", "5", "--format", "json", env=env)
    assert r.returncode == 1, r.stderr
    (d,) = json.loads(r.stdout)
    assert d["code"] == "SHP002"
    assert d["confirmed"] is None  # unconfirmed, never refuted
    assert "timed out after 5 s" in d["evidence"]
    assert r.seconds < 90


def test_no_torch_gives_one_clear_message(tmp_path):
    shim = tmp_path / "torch"
    shim.mkdir()
    (shim / "__init__.py").write_text("raise ImportError('No module named torch (hidden by the test)')\n")
    env = dict(ENV, PYTHONPATH=os.pathsep.join([str(tmp_path)] + [p for p in sys.path if p]))
    r = shapelint("check", FIXTURES / "mnist_net_56.py", "--confirm", env=env, timeout=120)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.strip() == "shapelint: --confirm needs torch (any 2.x): pip install torch"


def test_definitions_only_keeps_definitions_and_constants():
    from shapelint.commands._confirm_runner import definitions_only

    code = textwrap.dedent('''
        """doc"""
        import os
        import functools
        import torch
        import torch.nn as nn
        try:
            import torchvision
        except ImportError:
            torchvision = None
        CFG = {"VGG11": [64, "M", 128], "n": len(range(3))}
        Norm = functools.partial(nn.BatchNorm2d, eps=1e-3)
        ACT = nn.ReLU()
        DEVICE = torch.device("cpu")
        ROOT = os.path.join(os.path.dirname(__file__), "data")
        act = lambda x: torch.relu(x)
        class Net(nn.Module):
            pass
        def train(model):
            pass
        model = Net()
        data = torch.load("data.pt")
        SIZE = compute_size()
        train(model)
        torch.manual_seed(0)
        for epoch in range(10):
            train(model)
        with open("log.txt", "w") as f:
            f.write("x")
        if torch.cuda.is_available():
            DEVICE = torch.device("cuda")
        if __name__ == "__main__":
            train(Net())
    ''')
    kept, dropped = definitions_only(ast.parse(code))
    names = {n.id for s in kept.body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names |= {s.name for s in kept.body if isinstance(s, (ast.FunctionDef, ast.ClassDef))}
    assert names == {"torchvision", "CFG", "Norm", "ACT", "DEVICE", "ROOT", "act", "Net", "train"}
    assert len(kept.body) == 14
    assert {"model", "data", "SIZE", "epoch", "f"} <= dropped
    assert "DEVICE" not in dropped


def test_failed_construction_is_reported_as_such(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent('''
        import torch
        import torch.nn as nn


        def hidden():
            return 320


        HIDDEN = hidden()


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(1, 10, 5)
                self.fc = nn.Linear(HIDDEN, 10)

            def forward(self, x):
                return self.fc(self.conv(x).flatten(1))


        if __name__ == "__main__":
            model = Net()
            model(torch.randn(2, 1, 28, 28))
    '''))
    r = shapelint("check", path, "--confirm", "--device", "cpu", "--format", "json")
    (d,) = json.loads(r.stdout)
    assert d["code"] == "SHP002" and d["confirmed"] is None
    assert d["evidence"].startswith("the model could not be built: `Net()` raised NameError: name 'HIDDEN'")
    assert "does not execute" in d["evidence"]


# ------------------------------------------------------------------------------------------------
# Refutations and shapelint defects (findings and static shapes tampered with on purpose)
# ------------------------------------------------------------------------------------------------

def test_a_wrong_finding_is_refuted_on_cpu_but_only_unconfirmed_on_meta():
    from shapelint.commands.confirm import confirm_findings
    from shapelint.engine import Finding, analyze_source

    path = str(FIXTURES / "mnist_net.py")  # clean; its summary(model, (1, 28, 28)) gives N x 1 x 28 x 28
    analysis = analyze_source(Path(path).read_text(), path)
    assert analysis.findings == []
    run = next(r for r in analysis.runs if r.inputs and r.input_tensors)
    view_line = next(i for i, ln in enumerate(Path(path).read_text().splitlines(), 1) if ".view(" in ln)
    wrong = [Finding(path, view_line, 12, "SHP001", "invented", run),
             Finding(path, view_line, 12, "SHP005", "invented", run)]
    with ThreadPoolExecutor(2) as pool:
        cpu, meta = pool.map(lambda dev: confirm_findings(analysis, wrong, device=dev, timeout=120), ["cpu", "meta"])
    raised, folded = (cpu[id(f)] for f in wrong)
    assert raised["confirmed"] is False and raised["evidence"].startswith(f"torch ran line {view_line} without error")
    assert folded["confirmed"] is False and "kept the batch of 2" in folded["evidence"]
    for f in wrong:
        assert meta[id(f)]["confirmed"] is None and "meta device" in meta[id(f)]["evidence"]
    assert cpu["defects"] == [] and meta["defects"] == []


def test_a_wrong_static_shape_is_a_shapelint_defect():
    from shapelint.commands.confirm import confirm_findings
    from shapelint.engine import analyze_source

    path = str(FIXTURES / "mnist_linear_mismatch.py")
    analysis = analyze_source(Path(path).read_text(), path)
    (f,) = analysis.findings
    rec = next(c for c in f.run.calls if c.module.name == "conv1")
    rec.output = rec.output.with_shape((4, 11, 24, 24))  # what a shapelint bug would look like
    got = confirm_findings(analysis, analysis.findings, device="cpu", timeout=120)
    assert got[id(f)]["confirmed"] is True  # the user's bug is still the user's bug
    (defect,) = got["defects"]
    assert defect["message"].startswith("shapelint defect: static shape of conv1 was [4, 11, 24, 24], "
                                        "torch gives [4, 10, 24, 24]")


def test_an_error_shapelint_missed_is_a_shapelint_defect(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent('''
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class WideNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
                self.conv2 = nn.Conv2d(10, 40, kernel_size=5)
                self.w = nn.Parameter(torch.randn(5, 321))
                self.fc = nn.Linear(320, 10)

            def forward(self, x):
                x = F.relu(F.max_pool2d(self.conv1(x), 2))
                x = F.relu(F.max_pool2d(self.conv2(x), 2))
                x = x.view(-1, 320)
                y = self.fc(x)
                torch.cdist(x, self.w)  # not modelled by shapelint: it cannot see this one fail
                return y


        if __name__ == "__main__":
            model = WideNet()
            model(torch.randn(3, 1, 28, 28))
    '''))
    r = shapelint("check", path, "--confirm", "--device", "cpu", "--select", "SHP005")
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"{path}:18:13: SHP005 ")
    assert lines[1] == "    confirmed by torch (cpu): output batch 6 for input batch 3 (line 18 gave [6, 320])"
    missed = f"{path}: shapelint defect: torch raised RuntimeError: X1 and X2 must have the same number of columns"
    assert lines[2].startswith(missed)
    assert lines[2].endswith("at line 20, where shapelint reported nothing "
                             "(class WideNet, `WideNet()`, input 3x1x28x28)")
    r = shapelint("check", path, "--confirm", "--device", "cpu", "--format", "json")
    assert [d["confirmed"] for d in json.loads(r.stdout)] == [True]
    assert r.stderr.startswith(missed)


# ------------------------------------------------------------------------------------------------
# CUDA
# ------------------------------------------------------------------------------------------------

@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_confirms_core_bugs():
    files = [FIXTURES / name for name, _, _ in CORE]
    r = shapelint("check", *files, "--confirm", "--device", "cuda", "--format", "json")
    assert r.returncode == 1, r.stderr
    findings = json.loads(r.stdout)
    for name, code, evidence in CORE:
        (d,) = by_file(findings, name)
        assert d["code"] == code and d["confirmed"] is True and d["device"] == "cuda", d
        assert evidence in d["evidence"]
    assert "shapelint defect" not in r.stderr
