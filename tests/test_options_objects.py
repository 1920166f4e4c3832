"""Models built from an options object (issue 9, reach): ``Net(argparse.Namespace(...))``,
``Net(args)`` with the script's whole argparse namespace, ``--construct 'Net(argparse.Namespace(...))'``;
and the Python such models lean on: a property with a setter assigned on an undecided branch, a
layer whose output size is unknown while its input size is checked, a repository whose top
folder is itself a package.

torch is the oracle: each file (or project script) runs in a child process; a finding must sit on
the line torch fails on, and the variants torch runs give none.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402


def _lint(path: Path, shapes=None, constructions=None):
    return analyze_source(path.read_text(), str(path), shapes, strict=True, constructions=constructions)


def _torch(cwd: Path, *argv):
    """(returncode, deepest (file, line) inside cwd) of a script run in torch."""
    pytest.importorskip("torch")
    r = subprocess.run([sys.executable, *map(str, argv)], cwd=cwd, capture_output=True, text=True, timeout=300)
    frames = [(Path(f).resolve(), int(n)) for f, n in re.findall(r'File "([^"]+)", line (\d+)', r.stderr)
              if Path(f).resolve().is_relative_to(cwd.resolve())]
    return r.returncode, (frames[-1] if frames else None), r.stderr


NET = '''import argparse
import types

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, args):
        super().__init__()
        self.conv = nn.Conv2d(3, args.width, 3)
        self.fc = nn.Linear(args.width * {side} * {side}, args.num_classes)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


{build}
net(torch.randn(2, 3, 32, 32))
'''


@pytest.mark.parametrize("build", ["net = Net(argparse.Namespace(width=8, num_classes=10))",
                                   "net = Net(types.SimpleNamespace(width=8, num_classes=10))",
                                   "opts = argparse.Namespace(width=8)\nopts.num_classes = 10\nnet = Net(opts)"])
@pytest.mark.parametrize("side,bug", [(30, False), (29, True)])
def test_a_namespace_of_options_builds_the_model(tmp_path, build, side, bug):
    path = tmp_path / "m.py"
    path.write_text(NET.format(side=side, build=build))
    a = _lint(path)
    rc, frame, err = _torch(tmp_path, path)
    assert (rc != 0) == bug, err
    if bug:
        (f,) = a.findings
        assert (path.resolve(), f.line) == frame and f.code == "SHP002"
        assert "features (shape [2, 7200]" in f.message
    else:
        assert a.findings == [] and a.runs and a.runs[0].output is not None


def test_an_attribute_the_namespace_lacks_is_unknown_not_an_error(tmp_path):
    """Python raises AttributeError for ``args.width`` on a namespace without it; shapelint has no
    rule for that and must not guess a value: nothing is reported."""
    path = tmp_path / "m.py"
    path.write_text(NET.format(side=29, build="net = Net(argparse.Namespace(num_classes=10))"))
    assert _lint(path).findings == []


TRAIN = '''import argparse

import torch

from net import Net

parser = argparse.ArgumentParser()
parser.add_argument("--width", type=int, default=8)
parser.add_argument("--num-classes", type=int, default=10)
parser.add_argument("--lr", type=float, default=0.1)
args = parser.parse_args()
{after}
model = Net(args)
model(torch.randn(2, 3, 32, 32))
'''

NET_FILE = NET.split("\n\n\n{build}")[0] + "\n"


@pytest.mark.parametrize("after,reported", [
    ("", "width=8"),
    ("args.width = 16", "width=16"),  # set after parsing, at module level: replayed in order
    ("if args.lr > 1:\n    args.width = 16", "width=8"),  # on a branch the values decide against
    ("if unknown():\n    args.width = 16", None),  # on one they do not decide: unknown
    ("def setup(a):\n    a.width = 16\n\n\nsetup(args)", None),  # by a helper, on its parameter
    ("setattr(args, 'width', 16)", None),
    ("vars(args).update(width=16)", None),
])
def test_the_scripts_namespace_passed_whole(tmp_path, after, reported):
    """``model = Net(args)``: the options the model reads at their argparse defaults, then as the
    script's own module-level statements set them (in order, on the branches their values decide);
    none set anywhere else (a helper's ``a.width = 16`` on its parameter, ``setattr``)."""
    (tmp_path / "net.py").write_text(NET_FILE.format(side=29))
    (tmp_path / "train.py").write_text(TRAIN.format(after=after))
    a = _lint(tmp_path / "net.py")
    rc, frame, err = _torch(tmp_path, "train.py")
    assert rc != 0, err  # the bug is real in every variant (29 != 30 or 14)
    if reported:
        (f,) = a.findings
        assert (f.line, f.code) == (frame[1], "SHP002") and frame[0].name == "net.py"
        assert f"Net(argparse.Namespace(num_classes=10, {reported})) (as train.py:" in f.message, f.message
        if "16" in reported:
            assert "13456x10" in err  # torch built it 16 wide too (16 * 29 * 29 = 13456)
    else:
        assert a.findings == []


def test_construct_option_takes_a_namespace_and_confirm_runs_it(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "net.py").write_text(NET_FILE.format(side=29))
    ctor = "Net(argparse.Namespace(width=8, num_classes=10))"
    r = subprocess.run([sys.executable, "-m", "shapelint", "check", "net.py", "--construct", ctor,
                        "--input-shape", "Net=2,3,32,32", "--confirm", "--device", "cpu", "--no-cache"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    assert "net.py:15:16: SHP002" in r.stdout and ctor in r.stdout
    assert "confirmed by torch (cpu): RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x7200 and 6728x10)" \
        in r.stdout
    bad = subprocess.run([sys.executable, "-m", "shapelint", "check", "net.py", "--construct",
                          "Net(argparse.Namespace(width=len('abc')))"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 2 and "arguments must be literals or names" in bad.stderr


PROPERTY = '''import torch
import torch.nn as nn


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 16, 1)
        self.register_buffer("_stage", torch.zeros(1))

    @property
    def stage(self):
        return int(self._stage[0])

    @stage.setter
    def stage(self, value):
        self._stage.fill_(value)

    def _advance(self, stage):
        if not (self._stage >= stage).all():  # a buffer's value: undecided statically
            self.stage = stage
            self.note = "advanced"

    def forward(self, x):
        self._advance(2)
        return self.conv(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = Gate()
        self.fc = nn.Linear(16 * 8 * 8 + {extra}, 10)

    def forward(self, x):
        return self.fc(self.gate(x).flatten(1))


net = Net()
out = net(torch.randn(2, 8, 8, 8))
assert net.gate.stage == 2
'''


@pytest.mark.parametrize("extra,bug", [(0, False), (1, True)])
def test_a_property_setter_on_an_undecided_branch_keeps_the_layout(tmp_path, extra, bug):
    """CondenseNet's LearnedGroupConv: ``self.stage = stage`` calls the property's setter, and a
    plain value set on a branch that may not run leaves the module's layers known; before, the
    whole module became unknown and the bug after it went unseen."""
    path = tmp_path / "m.py"
    path.write_text(PROPERTY.format(extra=extra))
    rc, frame, err = _torch(tmp_path, path)
    assert (rc != 0) == bug, err
    a = _lint(path)
    if bug:
        (f,) = a.findings
        assert (path.resolve(), f.line) == frame and f.code == "SHP002"
    else:
        assert a.findings == [] and a.runs[0].output.shape == (2, 10)


UNKNOWN_OUT = '''import os

import torch
import torch.nn as nn

classes = int(os.environ["CLASSES"])  # not known statically


class Net(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.mid = nn.Conv2d({cin}, classes, 1)
        self.fc = nn.Linear(8 * 30 * 30 + {extra}, n)

    def forward(self, x):
        x = self.conv(x)
        y = self.mid(x)
        return self.fc(x.flatten(1)), y


Net(10)(torch.randn(2, 3, 32, 32))
'''


@pytest.mark.parametrize("cin,extra,line", [(8, 0, None), (8, 1, 19), (9, 0, 18)])
def test_an_unknown_output_size_still_checks_the_input_size(tmp_path, cin, extra, line):
    """``nn.Linear(K, num_classes)`` / ``nn.Conv2d(C, out, 1)`` with the output size unknown: the
    input size is checked all the same (the output is unknown)."""
    path = tmp_path / "m.py"
    path.write_text(UNKNOWN_OUT.format(cin=cin, extra=extra))
    pytest.importorskip("torch")
    r = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "CLASSES": "7"})
    frames = [int(n) for f, n in re.findall(r'File "([^"]+)", line (\d+)', r.stderr) if f == str(path)]
    assert (r.returncode != 0) == (line is not None), r.stderr
    found = [(f.line, f.code) for f in _lint(path).findings]
    if line is None:
        assert found == []
    else:
        assert frames[-1] == line and [ln for ln, _ in found] == [line]


def test_a_repository_whose_top_folder_is_a_package(tmp_path):
    """CondenseNet's layout: the repository's own folder has an ``__init__.py``, the models live
    in ``models/`` and import ``layers`` from the top; a driver in ``models/`` imports
    ``models.net`` as the project runs it, from its top folder."""
    pytest.importorskip("torch")
    top = tmp_path / "repo"
    (top / "models").mkdir(parents=True)
    (top / "__init__.py").write_text("")
    (top / "models" / "__init__.py").write_text("from .net import Net as net\n")
    (top / "layers.py").write_text("import torch.nn as nn\n\n\ndef Conv(cin, cout):\n    return nn.Conv2d(cin, cout, 3)\n")
    (top / "models" / "net.py").write_text(
        "import torch.nn as nn\nfrom layers import Conv\n\n\nclass Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.conv = Conv(3, 8)\n"
        "        self.fc = nn.Linear(8 * 29 * 29, 10)\n\n"
        "    def forward(self, x):\n        return self.fc(self.conv(x).flatten(1))\n")
    drv = top / "models" / "_driver.py"
    drv.write_text("import torch\nfrom models.net import Net\n\nmodel = Net()\nmodel(torch.randn(2, 3, 32, 32))\n")
    (f,) = _lint(drv).findings
    assert f.code == "SHP002" and "(in net.py:12)" in f.message
    r = subprocess.run([sys.executable, "-c", "import runpy; runpy.run_path('models/_driver.py')"], cwd=top,
                       capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(top)})
    assert r.returncode != 0 and re.search(r'models/net.py", line 12', r.stderr), r.stderr


ZOO_NET = '''import torch.nn as nn

__all__ = ["wide", "narrow"]


class Net(nn.Module):
    def __init__(self, width, num_classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)
        self.fc = nn.Linear(width * 30 * {side}, num_classes)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


def wide(**kwargs):
    return Net(16, **kwargs)


def narrow(**kwargs):
    return Net(4, **kwargs)
'''

ZOO_TRAIN = '''import argparse

import torch

import {pkg} as zoo

parser = argparse.ArgumentParser()
parser.add_argument("--arch", default="wide", choices=["wide", "narrow"])
args = parser.parse_args()
model = getattr(zoo, args.arch)(num_classes=10)
model(torch.randn(2, 3, 32, 32))
'''


@pytest.mark.parametrize("pkg,side,reported", [("models", 29, True), ("models", 30, False),
                                                ("other", 29, False)])
def test_a_factory_picked_by_getattr_on_the_models_package(tmp_path, pkg, side, reported):
    """``getattr(models, args.arch)(...)`` picks a factory of the package by the option, like
    ``models.__dict__[args.arch]``; a getattr on another module (which happens to hold a function
    of the same name) builds nothing of the model file."""
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("from .net import *\n")
    (tmp_path / "models" / "net.py").write_text(ZOO_NET.format(side=side))
    (tmp_path / "other.py").write_text("import torch.nn as nn\n\n\ndef wide(**kwargs):\n    return nn.Identity()\n")
    (tmp_path / "train.py").write_text(ZOO_TRAIN.format(pkg=pkg))
    a = _lint(tmp_path / "models" / "net.py")
    rc, frame, err = _torch(tmp_path, "train.py")
    assert (rc != 0) == (side == 29 and pkg == "models"), err
    if reported:
        (f,) = a.findings
        assert frame == ((tmp_path / "models" / "net.py").resolve(), f.line) and f.code == "SHP002"
        assert "wide(num_classes=10) (as ../train.py:10 builds it)" in f.message
    else:
        assert a.findings == []


DICT_NET = '''import torch.nn as nn


class Net(nn.Module):
    def __init__(self, width, num_classes):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)
        self.fc = nn.Linear(width * 30 * {side}, num_classes)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))
'''

DICT_TRAIN = '''import argparse

import torch

from net import Net

WIDTHS = {{"small": 8, "big": 16, "huge": [32, 64][1]}}
parser = argparse.ArgumentParser()
parser.add_argument("--size", default="small")
parser.add_argument("--dataset", default="cifar10")
args = parser.parse_args()
{after}
num_classes = {{"cifar10": 10, "cifar100": 100}}[args.dataset]
model = Net(WIDTHS[args.size], num_classes)
model(torch.randn(2, 3, 32, 32))
'''


@pytest.mark.parametrize("after,reported", [
    ("", True),
    ('WIDTHS["small"] = 12', False),  # the literal is changed before the lookup
    ("WIDTHS.update(small=12)", False),
    ("tune(WIDTHS)", False),  # handed to a function that may change it
    ('args.size = "big"', "Net(16, 10)"),  # set at module level before the lookup: that key
])
def test_a_config_dict_looked_up_by_an_option(tmp_path, after, reported):
    """``num_classes = {'cifar10': 10, 'cifar100': 100}[args.dataset]``, ``WIDTHS[args.size]``: a
    literal dict (or list) indexed by a static key gives that element, unless the file changes the
    container anywhere (then the width is unknown: a hole, for which the bug still holds)."""
    (tmp_path / "net.py").write_text(DICT_NET.format(side=29))
    (tmp_path / "train.py").write_text(DICT_TRAIN.format(
        after=after if "tune" not in after else "def tune(d):\n    d['small'] = 12\n\n\n" + after))
    a = _lint(tmp_path / "net.py")
    rc, frame, err = _torch(tmp_path, "train.py")
    assert rc != 0, err  # 29 is wrong for every width
    (f,) = a.findings
    # a changed container is not read: the width is a hole, and 29 is wrong for every width
    ctor = reported if isinstance(reported, str) else "Net(8, 10)" if reported else "Net(..., 10)"
    assert frame == ((tmp_path / "net.py").resolve(), f.line) and f"of {ctor} (as train.py:" in f.message, \
        f.message


def _oracle(project: Path, script: str):
    """tests/datapipe_oracle.py (test_datapipe.oracle): the script in torch + torchvision on tiny data
    files; with the deepest frame inside the project."""
    from test_datapipe import oracle

    rc, err, seen = oracle(project, script)
    frames = [(Path(f).resolve(), int(n)) for f, n in re.findall(r'File "([^"]+)", line (\d+)', err)
              if Path(f).resolve().is_relative_to(project.resolve())]
    return rc, (frames[-1] if frames else None), seen, err


@pytest.mark.parametrize("head,reported", [("129 * ds_size ** 2", True), ("128 * ds_size ** 2", False)])
def test_a_gan_script_sized_by_its_own_options(tmp_path, head, reported):
    """PyTorch-GAN's scripts: sizes from ``opt = parser.parse_args()`` read at module level at
    their defaults, the batch cast by ``imgs.type(Tensor)``, the generator fed numpy noise sized by
    the batch. Both models are fed what torch feeds them, and the wrong head is found where torch
    fails (before: every size unknown, nothing said)."""
    root = tmp_path / "data_gan_script"
    shutil.copytree(FIXTURES / "projects" / "data_gan_script", root)
    path = root / "gan.py"
    path.write_text(path.read_text().replace("129 * ds_size ** 2", head))
    a = _lint(path)
    fed = {c["class"]: c.get("input") for c in a.coverage}
    assert fed == {"Generator": "4x16 from gan.py:92 (np.random.normal)",
                   "Discriminator": "4x1x32x32 from gan.py:72 (MNIST, Resize(32))"}
    rc, frame, seen, err = _oracle(root, "gan.py")
    assert seen == {"Generator": "4x16", "Discriminator": "4x1x32x32"}, err
    assert (rc != 0) == reported, err
    if reported:
        (f,) = a.findings
        assert frame == (path.resolve(), f.line) and f.code == "SHP002"
    else:
        assert a.findings == []


@pytest.mark.parametrize("change", ["opt.latent_dim = 8", "setattr(opt, 'latent_dim', 8)"])
def test_an_option_the_script_changes_is_not_its_default(tmp_path, change):
    """``opt.latent_dim = 8`` right after parsing: the engine and the data pipeline both read 8
    (the generator is fed 4x8 noise, as in torch), the discriminator's bug is still found.
    ``setattr(opt, ...)`` may change any option: none is read, and nothing is said."""
    root = tmp_path / "data_gan_script"
    shutil.copytree(FIXTURES / "projects" / "data_gan_script", root)
    path = root / "gan.py"
    path.write_text(path.read_text().replace("opt = parser.parse_args()\n", f"opt = parser.parse_args()\n{change}\n"))
    a = _lint(path)
    fed = {c["class"]: c.get("input") for c in a.coverage}
    if change.startswith("setattr"):
        assert fed == {"Generator": None, "Discriminator": None} and a.findings == []
    else:
        assert fed["Generator"].startswith("4x8 from") and fed["Discriminator"].startswith("4x1x32x32 from")
        assert [(f.line, f.code) for f in a.findings] == [(64, "SHP002")]
        rc, frame, seen, err = _oracle(root, "gan.py")
        assert seen["Generator"] == "4x8" and frame == (path.resolve(), 64), err


DCGAN = '''import argparse

import torch
import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--dataset", required=True, help="cifar10 | mnist")
parser.add_argument("--ndf", type=int, default=8)
opt = parser.parse_args()
if opt.dataset == "mnist":
    nc = 1
else:
    nc = 3
ndf = int(opt.ndf)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 2, 1, {kernel}, 1, 0))

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


netD = Discriminator()
if __name__ == "__main__":
    netD(torch.randn(2, nc, 16, 16))
'''


@pytest.mark.parametrize("kernel,bug", [(4, False), (5, True)])
def test_channels_set_on_branches_of_a_required_flag(tmp_path, kernel, bug):
    """pytorch/examples' DCGAN: ``nc`` is 1 or 3 by a required ``--dataset``: unknown, never the first
    branch's value (that read 3-channel images as a mismatch, a false positive); the first conv takes
    what it is fed and the rest of the model is followed at the input given (``ndf`` from its
    argparse default): a last kernel larger than the 4x4 map is found where torch fails."""
    path = tmp_path / "dcgan.py"
    path.write_text(DCGAN.format(kernel=kernel))
    a = _lint(path, {"Discriminator": [(2, 3, 16, 16)]})
    for dataset in ("cifar10", "mnist"):
        rc, frame, err = _torch(tmp_path, path, "--dataset", dataset)
        assert (rc != 0) == bug, err
    if bug:
        (f,) = a.findings
        assert (path.resolve(), f.line) == frame and f.code == "SHP004"
    else:
        assert a.findings == []
        assert _lint(path, {"Discriminator": [(2, 1, 16, 16)]}).findings == []


_CONFIG = '''"""The project's options: a plain class's attributes (``from config import opt``)."""


class DefaultConfig(object):
    model = 'SmallNet'
    width = 8
    num_classes = 10
    use_gpu = False

    def _parse(self, kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)


opt = DefaultConfig()
'''
_MODEL = '''import torch.nn as nn


class SmallNet(nn.Module):
    def __init__(self, opt):
        super().__init__()
        self.conv = nn.Conv2d(3, opt.width, 3, padding=1)
        self.pool = nn.MaxPool2d(4)
        self.fc = nn.Linear(opt.width * 8 * 8, opt.num_classes)

    def forward(self, x):
        x = self.pool(self.conv(x)).flatten(1)
        return self.fc(x)
'''
_TRAIN = '''import torch

from config import opt
from models import SmallNet


def train(**kwargs):
    opt._parse(kwargs)
    model = SmallNet(opt)
    model(torch.randn(2, 3, 28, 28))


if __name__ == "__main__":
    train()
'''


def test_options_of_an_imported_config_object(tmp_path):
    """``from config import opt`` with ``opt = DefaultConfig()`` there (chenyuntc/pytorch-book's
    Chapter 9 layout): the model built with the class's attributes, fed the script's input."""
    (tmp_path / "config.py").write_text(_CONFIG)
    (tmp_path / "models.py").write_text(_MODEL)
    (tmp_path / "train.py").write_text(_TRAIN)
    (f,) = _lint(tmp_path / "models.py").findings
    assert f.code == "SHP002" and f.line == 13, f.message
    assert "SmallNet(argparse.Namespace(num_classes=10, width=8))" in f.message and "train.py:9" in f.message
    rc, where, err = _torch(tmp_path, "train.py")
    assert rc != 0 and where == ((tmp_path / "models.py").resolve(), 13), err
    # 32x32 images fit the 8 * 8 the layer expects: nothing to say, and torch agrees
    (tmp_path / "train.py").write_text(_TRAIN.replace("28, 28", "32, 32"))
    assert _lint(tmp_path / "models.py").findings == []
    assert _torch(tmp_path, "train.py")[0] == 0
    # an attribute the scripts set is not the class's any more: no construction with it
    (tmp_path / "train.py").write_text(_TRAIN.replace("    opt._parse(kwargs)", "    opt.width = 16"))
    assert _lint(tmp_path / "models.py").findings == []


# -- a trainer class keeping the options (StarGAN's Solver: self.c_dim = config.c_dim, build_model())

SOLVER_MODEL = '''import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self, c_dim=4):
        super().__init__()
        self.conv1 = nn.Conv2d(3, c_dim * 4, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 8, 3, padding=1)  # fits c_dim=4 only

    def forward(self, x):
        return self.conv2(self.conv1(x))
'''
SOLVER = '''import torch

from model import Discriminator


class Solver(object):
    def __init__(self, config):
{before}        self.c_dim = config.c_dim
        self.image_size = config.image_size
{after}
    def build_model(self):
        self.D = Discriminator(self.c_dim)

    def train(self):
        self.D(torch.randn(2, 3, self.image_size, self.image_size))
'''
SOLVER_MAIN = '''import argparse

from solver import Solver


def main(config):
    solver = Solver(config)
    solver.train()


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--c_dim', type=int, default={c_dim})
    parser.add_argument('--image_size', type=int, default=16)
    config = parser.parse_args()
    main(config)
'''


@pytest.mark.parametrize("c_dim,order", [(5, "after"), (4, "after"), (5, "before")])
def test_a_trainer_class_builds_from_the_options_it_keeps(tmp_path, c_dim, order):
    """``self.D = Discriminator(self.c_dim)`` in ``build_model``, called by ``__init__`` after
    ``self.c_dim = config.c_dim`` (config: main(config)'s, the script's namespace): built with the
    option's default (5: conv2 expects 16 channels, conv1 gives 20, where torch fails). Called before
    the attribute is set, Python raises AttributeError: nothing is built from it."""
    (tmp_path / "model.py").write_text(SOLVER_MODEL)
    call = "        self.build_model()\n"
    (tmp_path / "solver.py").write_text(SOLVER.format(before=call if order == "before" else "",
                                                      after=call if order == "after" else ""))
    (tmp_path / "main.py").write_text(SOLVER_MAIN.format(c_dim=c_dim))
    a = _lint(tmp_path / "model.py")
    rc, frame, err = _torch(tmp_path, "main.py")
    got = [(f.line, f.code) for f in a.findings]
    if order == "before":
        assert rc != 0 and "AttributeError" in err and got == [], (got, err)
    elif c_dim == 4:
        assert rc == 0 and got == [], (got, err)
    else:
        assert rc != 0 and got == [(frame[1], "SHP003")], (got, err)
        assert "Discriminator(5) (as solver.py:" in a.findings[0].message, a.findings[0].message


TWO_CONFIG_MODEL = '''import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self, c_dim=5):
        super().__init__()
        self.conv = nn.Conv2d(3 + c_dim, 8, 3, padding=1)

    def forward(self, x):
        return self.conv(x)
'''
TWO_CONFIG_SOLVER = '''import torch

from model import Discriminator


class Solver(object):
    def __init__(self, config):
        self.dataset = config.dataset
        self.c_dim = config.c_dim
        self.build_model()

    def build_model(self):
        if self.dataset == 'CelebA':
            self.D = Discriminator(self.c_dim)
        elif self.dataset == 'Both':
            self.D = Discriminator(self.c_dim + 10)

    def train(self):
        self.D(torch.randn(2, 3 + self.c_dim, 16, 16))
'''


def test_a_declared_shape_is_not_given_to_another_configurations_construction(tmp_path):
    """StarGAN's Solver builds ``Discriminator(self.c_dim)`` for the default --dataset and
    ``Discriminator(self.c_dim + 10)`` for 'Both'. The input declared for Discriminator is the default
    run's (8 channels, torch runs it): the 'Both' construction keeps its own (symbolic) input, and
    nothing is reported; the 'Both' model is still analysed."""
    from shapelint.options import input_shapes

    (tmp_path / "model.py").write_text(TWO_CONFIG_MODEL)
    (tmp_path / "solver.py").write_text(TWO_CONFIG_SOLVER)
    (tmp_path / "main.py").write_text(SOLVER_MAIN.format(c_dim=5).replace(
        "    parser.add_argument('--image_size', type=int, default=16)",
        "    parser.add_argument('--dataset', type=str, default='CelebA', choices=['CelebA', 'Both'])"))
    rc, frame, err = _torch(tmp_path, "main.py")
    assert rc == 0, err
    a = analyze_source((tmp_path / "model.py").read_text(), str(tmp_path / "model.py"),
                       input_shapes(["Discriminator=2,8,16,16"]), strict=True)
    assert a.findings == [], [f.message for f in a.findings]
    texts = {r.ctor_text: r.input_origin for r in a.runs}
    assert texts.get("Discriminator(5)") == "option" and texts.get("Discriminator(15)") == "symbolic", texts
