"""Reach (issue 9): models built outside the linted file, and coverage.

Each project under fixtures/projects/ is a small repository: a model file, and the script that
builds and runs the model (a sibling ``train.py``, a ``main.py`` with argparse defaults and a
``models.__dict__[arch]`` registry, a ``**kwargs`` factory, a driver importing the model). torch is
the oracle: the script runs in a child process and the line torch fails on (the deepest frame
inside the project) must be exactly the ``# expect: SHPnnn`` marker, and shapelint must report that
marker and nothing else, linting the file named.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

PROJECTS = FIXTURES / "projects"
EXPECT = re.compile(r"#\s*expect:\s*(SHP\d{3})")

# (project, file linted, script torch runs)
CASES = [
    ("sibling_train", "wideresnet.py", "train.py"),
    ("argparse_registry", "models/generator.py", "main.py"),
    ("kwargs_factory", "resnet.py", "train.py"),
    ("driver_import", "driver.py", "driver.py"),
    # models passed to the construction: `net.Net(vgg, decoder)` with net.py's own Sequentials
    ("model_args", "net.py", "train.py"),
]


def markers(project: Path):
    out = set()
    for p in project.rglob("*.py"):
        for i, line in enumerate(p.read_text().splitlines(), 1):
            m = EXPECT.search(line)
            if m:
                out.add((p.resolve(), i, m.group(1)))
    return out


def torch_failure(project: Path, script: str):
    """(file, line) of the deepest traceback frame inside the project when torch runs the script."""
    pytest.importorskip("torch")
    r = subprocess.run([sys.executable, script], cwd=project, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0, f"{script} ran cleanly in torch:\n{r.stdout}"
    frames = re.findall(r'File "([^"]+)", line (\d+)', r.stderr)
    inside = [(Path(f).resolve(), int(n)) for f, n in frames if Path(f).resolve().is_relative_to(project.resolve())]
    assert inside, r.stderr
    return inside[-1]


@pytest.mark.parametrize("project,linted,script", CASES, ids=[c[0] for c in CASES])
def test_found_through_a_construction_elsewhere(project, linted, script):
    root = PROJECTS / project
    path = root / linted
    got = analyze_source(path.read_text(), str(path), strict=True).findings
    # shapelint reports exactly the markers (in the linted file)
    assert {(Path(f.path).resolve(), f.line, f.code) for f in got} == markers(root), [f.message for f in got]
    (f,) = got
    where = (path.resolve(), f.line)
    m = re.search(r"\(in ([^:()]+):(\d+)\)$", f.message)
    if m:  # reported at the call in the linted file that leads there, naming where torch fails
        where = ((path.parent / m.group(1)).resolve(), int(m.group(2)))
    assert torch_failure(root, script) == where  # torch fails exactly there


def test_a_function_returning_a_sequential_is_built_as_train_py_calls_it():
    """ConvMixer is a function returning an nn.Sequential; train.py builds it with its options. The
    classifier's size is checked at train.py's configuration, on the Linear's line (torch's traceback
    has no frame of the model file there: the Sequential's forward is torch's own)."""
    root = PROJECTS / "container_factory"
    path = root / "convmixer.py"
    got = analyze_source(path.read_text(), str(path), strict=True).findings
    assert {(Path(f.path).resolve(), f.line, f.code) for f in got} == markers(root), [f.message for f in got]
    (f,) = got
    assert "ConvMixer(64, 2, kernel_size=5, patch_size=2, n_classes=10)" in f.message and "train.py:12" in f.message
    # its input shape is declared by the function's name, as for a class
    r = _cli("check", "--no-cache", "--input-shape", "ConvMixer=2,3,32,32", str(path))
    assert r.returncode == 1 and ":32:" in r.stdout and "for input 2x3x32x32" in r.stdout, r.stdout + r.stderr
    pytest.importorskip("torch")
    r = subprocess.run([sys.executable, "train.py"], cwd=root, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "mat1 and mat2 shapes cannot be multiplied (2x64 and 128x10)" in r.stderr, r.stderr


def test_construction_is_named_in_the_message():
    path = PROJECTS / "argparse_registry" / "models" / "generator.py"
    (f,) = analyze_source(path.read_text(), str(path), strict=True).findings
    assert "dcgan_g(100, 64)" in f.message and "main.py:16" in f.message and "input 2x100" in f.message


def test_the_model_file_alone_is_analysed_symbolically(tmp_path):
    """The same model file copied alone: nobody builds WideStem, so it is built with symbolic
    depth and num_classes (widen_factor keeps its default 1: 16 channels, correct): no finding,
    and it counts as analysed."""
    src = (PROJECTS / "sibling_train" / "wideresnet.py").read_text()
    p = tmp_path / "wideresnet.py"
    p.write_text(src)
    a = analyze_source(src, str(p), strict=True)
    assert a.findings == []
    (c,) = a.coverage
    assert c["analysed"]
    (r,) = a.runs
    assert r.ctor_text == "WideStem(depth=depth, num_classes=num_classes)"


SYMBOLIC = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, depth, num_classes):
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 3)
        self.conv2 = nn.Conv2d(64, 64, 3)
        self.blocks = nn.Sequential(*[nn.Conv2d(64, 64, 3, padding=1) for _ in range(depth)])
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.conv2(self.conv(x))
        x = self.blocks(x)
        return self.fc(x.mean([2, 3]))


class Fine(nn.Module):
    def __init__(self, in_channels, latent_dim, block):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 32, 3)
        self.fc = nn.Linear(32, latent_dim)
        self.fc2 = nn.Linear(latent_dim, 10)

    def forward(self, x):
        x = self.conv(x).mean([2, 3])
        return self.fc2(self.fc(x))
"""


def test_symbolic_constructor_arguments(tmp_path):
    """A bug that holds for every depth and num_classes is reported with both symbolic; a correct
    class with symbolic sizes gives nothing. torch agrees at a few values."""
    torch = pytest.importorskip("torch")
    p = tmp_path / "net.py"
    p.write_text(SYMBOLIC)
    a = analyze_source(SYMBOLIC, str(p), strict=True)
    assert [(f.line, f.code) for f in a.findings] == [(15, "SHP003")]
    assert "(for any value of depth, num_classes)" in a.findings[0].message
    assert all(c["analysed"] for c in a.coverage)
    ns: dict = {}
    exec(compile(SYMBOLIC, str(p), "exec"), ns)
    for depth, k in ((1, 2), (3, 10)):
        with pytest.raises(RuntimeError, match="to have 64 channels") as e:
            ns["Net"](depth, k)(torch.randn(2, 3, 16, 16))
        ours = [t for t in e.traceback if str(t.path) == str(p)]
        assert ours[-1].lineno + 1 == 15  # the deepest frame in the model file is the reported line
        ns["Fine"](4, k, None)(torch.randn(2, 4, 16, 16))


def test_construct_option_builds_the_class(tmp_path):
    src = (PROJECTS / "sibling_train" / "wideresnet.py").read_text()
    p = tmp_path / "wideresnet.py"
    p.write_text(src)
    a = analyze_source(src, str(p), strict=True, constructions={"WideStem": ["WideStem(16, 10, widen_factor=2)"]})
    assert [(f.line, f.code) for f in a.findings] == [(15, "SHP003")]
    assert a.coverage[0]["analysed"]
    # with widen_factor=1 (16 channels) the model is correct: no finding, and it counts as analysed
    a = analyze_source(src, str(p), strict=True, constructions={"WideStem": ["WideStem(16, 10)"]})
    assert a.findings == [] and a.coverage[0]["analysed"]


def test_input_shape_applies_to_factory_built_classes(tmp_path):
    """--input-shape CLASS reaches a class built only through a factory of the file."""
    pytest.importorskip("torch")
    src = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 16 * 16, num_classes)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


def net10(**kwargs):
    return Net(10, **kwargs)
'''
    p = tmp_path / "net.py"
    p.write_text(src)
    assert analyze_source(src, str(p), strict=True).findings == []
    (f,) = analyze_source(src, str(p), {"Net": [(2, 3, 32, 32)]}, strict=True).findings
    assert f.code == "SHP002" and f.line == 12
    import torch

    ns: dict = {}
    exec(compile(src, str(p), "exec"), ns)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        ns["net10"]()(torch.randn(2, 3, 32, 32))


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "shapelint.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_coverage_line_and_require_coverage():
    vae = PROJECTS / "out_of_reach" / "models" / "vae.py"
    r = _cli("check", vae)
    assert r.returncode == 0 and r.stdout == ""
    assert r.stderr.strip() == ("shapelint: analysed 0 of 1 model class; not analysed: TinyVAE (constructor needs "
                                "params: pass --construct 'TinyVAE(params=...)')")
    r = _cli("check", vae, "--require-coverage")
    assert r.returncode == 3
    r = _cli("check", vae, "--require-coverage", "--construct", "TinyVAE({'in_channels': 3, 'latent_dim': 8})")
    assert r.returncode == 0 and r.stderr == ""
    r = _cli("check", vae, "--format", "json", "--statistics")
    doc = json.loads(r.stdout)
    assert doc["findings"] == [] and doc["analysed"] == 0 and doc["models"] == 1
    assert doc["coverage"][0]["class"] == "TinyVAE" and doc["coverage"][0]["line"] == 7
    r = _cli("check", vae, "--format", "json")
    assert json.loads(r.stdout) == []  # the default JSON stays a list of findings


def test_construct_is_validated():
    vae = PROJECTS / "out_of_reach" / "models" / "vae.py"
    r = _cli("check", vae, "--construct", "TinyVea(3, 8)")
    assert r.returncode == 2 and "did you mean 'TinyVAE'" in r.stderr and "Traceback" not in r.stderr
    r = _cli("check", vae, "--construct", "TinyVAE(in_channels=open('x'))")
    assert r.returncode == 2 and "literals or names" in r.stderr
    r = _cli("check", vae, "--construct", "TinyVAE(")
    assert r.returncode == 2 and "not a call" in r.stderr


def test_construct_config_key(tmp_path):
    vae = (PROJECTS / "out_of_reach" / "models" / "vae.py").read_text()
    (tmp_path / "vae.py").write_text(vae.replace("32 * 16 * 16", "32 * 15 * 15"))
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\nconstruct = ["TinyVAE({\'in_channels\': 3, \'latent_dim\': 8})"]\n'
                                             'input-shape = "TinyVAE=2,3,32,32"\nrequire-coverage = true\n')
    r = _cli("check", "vae.py", cwd=tmp_path)
    assert r.returncode == 1 and "SHP002" in r.stdout and "of TinyVAE({'in_channels': 3, 'latent_dim': 8})" in r.stdout
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\nrequire-coverage = "yes"\n')
    r = _cli("check", "vae.py", cwd=tmp_path)
    assert r.returncode == 2 and "require-coverage" in r.stderr


def test_flake8_coverage_code_is_opt_in():
    vae = PROJECTS / "out_of_reach" / "models" / "vae.py"
    base = [sys.executable, "-m", "flake8", "--shapelint-no-cache", str(vae)]
    for sel in ([], ["--select", "SHP"], ["--extend-select", "SHP"]):
        r = subprocess.run(base + sel, capture_output=True, text=True, timeout=300)
        assert "SHP100" not in r.stdout, sel
    r = subprocess.run(base + ["--select", "SHP100"], capture_output=True, text=True, timeout=300)
    assert r.stdout.strip().endswith(":7:1: SHP100 model TinyVAE not analysed: constructor needs params "
                                     "(pass --construct 'TinyVAE(params=...)')")


def test_coverage_survives_the_cache(tmp_path):
    vae = PROJECTS / "out_of_reach" / "models" / "vae.py"
    env = dict(os.environ, SHAPELINT_CACHE_DIR=str(tmp_path / "cache"))
    runs = [subprocess.run([sys.executable, "-m", "shapelint.cli", "check", str(vae), "--require-coverage"],
                           capture_output=True, text=True, timeout=300, env=env) for _ in range(2)]
    assert [r.returncode for r in runs] == [3, 3]
    assert runs[0].stderr == runs[1].stderr and "TinyVAE" in runs[1].stderr


WHILE_BUILDER = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, repeat=3):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        layers = []
        while repeat:
            layers.append(nn.Conv2d(16, 16, 3, padding=1))
            repeat -= 1
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.body(self.stem(x))
        return self.fc(x.mean([2, 3]))
'''


def test_summary_totals_are_lower_bounds_when_a_loop_is_not_followed(tmp_path):
    """Whatever shapelint does with the `while` stage builder, it never prints a count below
    torch's as if it were exact: either the exact count, or a lower bound marked ≥ with a note."""
    torch = pytest.importorskip("torch")
    p = tmp_path / "wl.py"
    p.write_text(WHILE_BUILDER)
    ns: dict = {}
    exec(compile(WHILE_BUILDER, str(p), "exec"), ns)
    true = sum(t.numel() for t in ns["Net"]().parameters())
    r = _cli("summary", f"{p}::Net()", "--input-shape", "1,3,32,32", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    shown = doc["totals"]["params"]
    if doc["complete"]:
        assert shown == true
    else:
        assert shown is None or shown < true
        assert any("while repeat:" in n for n in doc["not_followed"])
        text = _cli("summary", f"{p}::Net()", "--input-shape", "1,3,32,32").stdout
        assert f"Total params: ≥ {shown:,}" in text and "lower bounds" in text


def test_cache_follows_the_constructing_file(tmp_path):
    """The result of wideresnet.py depends on train.py (its construction): editing train.py must
    invalidate the cached result."""
    import shutil

    proj = tmp_path / "proj"
    shutil.copytree(PROJECTS / "sibling_train", proj)
    env = dict(os.environ, SHAPELINT_CACHE_DIR=str(tmp_path / "cache"))

    def check():
        return subprocess.run([sys.executable, "-m", "shapelint.cli", "check", str(proj / "wideresnet.py")],
                              capture_output=True, text=True, timeout=300, env=env)
    assert check().returncode == 1
    assert check().returncode == 1  # from the cache
    train = proj / "train.py"
    train.write_text(train.read_text().replace("widen_factor=4", "widen_factor=1"))
    r = check()
    assert r.returncode == 0, r.stdout


def test_driver_in_a_namespace_package(tmp_path):
    """`from models.net import small_net` in models/_driver.py, where models/ has no __init__.py
    and the repository root is on sys.path (how the scripts run): the import is followed."""
    import shutil

    ns_pkg = tmp_path / "models"
    ns_pkg.mkdir()
    shutil.copy(PROJECTS / "driver_import" / "net.py", ns_pkg / "net.py")
    drv = ns_pkg / "_driver.py"
    drv.write_text("import torch\nfrom models.net import small_net\n\nmodel = small_net()\n"
                   "model(torch.randn(2, 3, 32, 32))\n")
    (f,) = analyze_source(drv.read_text(), str(drv), strict=True).findings
    assert (f.line, f.code) == (5, "SHP002") and f.message.endswith("(in net.py:16)")
    pytest.importorskip("torch")
    r = subprocess.run([sys.executable, "-c", f"import runpy; runpy.run_path({str(drv)!r})"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert "cannot be multiplied" in r.stderr
    frames = [(Path(p).name, int(n)) for p, n in re.findall(r'File "([^"]+)", line (\d+)', r.stderr)
              if Path(p).resolve().is_relative_to(tmp_path.resolve())]
    assert frames[-1] == ("net.py", 16) and ("_driver.py", 5) in frames
