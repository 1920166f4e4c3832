"""Reach on project-style code (issue 9): model zoos built from argparse defaults, networks picked
by name in a helper, stochastic-depth blocks with random draws in forward.

Every expectation is checked against torch: the project's own script runs in a child process
(eval mode, CPU); a finding must sit on the line torch fails on, and a project torch runs cleanly
(or rejects while building) gives no finding at all.
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

PROJECTS = FIXTURES / "projects"


def _lint(path: Path, shapes=None):
    return analyze_source(path.read_text(), str(path), shapes, strict=True)


def _torch_run(project: Path, *argv):
    """(returncode, stderr, deepest frame inside the project) of the project's script."""
    pytest.importorskip("torch")
    r = subprocess.run([sys.executable, *map(str, argv)], cwd=project, capture_output=True, text=True, timeout=300)
    frames = [(Path(f).resolve(), int(n)) for f, n in re.findall(r'File "([^"]+)", line (\d+)', r.stderr)
              if Path(f).resolve().is_relative_to(project.resolve())]
    return r.returncode, r.stderr, (frames[-1] if frames else None)


def _line_of(path: Path, text: str) -> int:
    (n,) = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return n


def _copy(name: str, tmp_path: Path) -> Path:
    dst = tmp_path / name
    shutil.copytree(PROJECTS / name, dst)
    return dst


# -- a CIFAR model zoo: `models.__dict__[args.arch](...)` under `if args.arch.startswith(...)` branches


def test_zoo_defaults_that_fail_the_constructors_assert_give_no_finding():
    """cifar.py's defaults (arch resnet, depth 29) fail ResNet's `assert (depth - 2) % 6 == 0`:
    torch stops there while building. shapelint reports nothing and lists ResNet as not analysed,
    naming the construction (the one branch `args.arch.endswith('resnet')` selects, not the
    resnext/densenet/wrn calls with keywords ResNet does not take) and the assert."""
    root = PROJECTS / "cifar_zoo"
    model = root / "models" / "cifar" / "resnet.py"
    a = _lint(model)
    assert a.findings == []
    (cov,) = [c for c in a.coverage if c["class"] == "ResNet"]
    assert not cov["analysed"]
    assert "resnet(num_classes=10, depth=29, block_name='BasicBlock')" in cov["reason"]
    assert "cifar.py:53" in cov["reason"] and "assert (depth - 2) % 6 == 0" in cov["reason"]
    rc, err, where = _torch_run(root, "cifar.py")
    assert rc != 0 and "AssertionError" in err
    assert where == (model.resolve(), _line_of(model, "assert (depth - 2) % 6 == 0"))
    for other in ("vgg.py", "alexnet.py"):
        assert _lint(root / "models" / "cifar" / other).findings == []


def test_zoo_with_a_depth_that_fits_is_analysed(tmp_path):
    """The same project with --depth defaulting to 20: ResNet is built from cifar.py and analysed,
    no finding; torch runs it."""
    root = _copy("cifar_zoo", tmp_path)
    script = root / "cifar.py"
    script.write_text(script.read_text().replace("default=29, help='Model depth.'", "default=20, help='Model depth.'"))
    model = root / "models" / "cifar" / "resnet.py"
    a = _lint(model)
    assert a.findings == []
    (cov,) = [c for c in a.coverage if c["class"] == "ResNet"]
    assert cov["analysed"]
    assert any(r.ctor_text == "resnet(num_classes=10, depth=20, block_name='BasicBlock')" for r in a.runs)
    rc, err, _ = _torch_run(root, "cifar.py")
    assert rc == 0, err


def test_zoo_bug_found_through_the_selected_branch(tmp_path):
    """depth 20 and a head too narrow (Linear(32) after 64 channels): found for any input size,
    on the line torch fails on."""
    root = _copy("cifar_zoo", tmp_path)
    script = root / "cifar.py"
    script.write_text(script.read_text().replace("default=29, help='Model depth.'", "default=20, help='Model depth.'"))
    model = root / "models" / "cifar" / "resnet.py"
    model.write_text(model.read_text().replace("nn.Linear(64 * block.expansion", "nn.Linear(32 * block.expansion"))
    (f,) = _lint(model).findings
    assert f.code == "SHP002" and "cifar.py:53" in f.message
    rc, err, where = _torch_run(root, "cifar.py")
    assert rc != 0 and "cannot be multiplied" in err
    assert where == (model.resolve(), f.line)


@pytest.mark.parametrize("choices,found", [
    ("choices=model_names", True),  # the comprehension's test (islower, not __, callable) lets vgg11 in
    ("", True),  # no choices: any name
    ("choices=['resnet', 'alexnet']", False),  # a literal list without vgg: argparse refuses --arch vgg11
    ("choices=sorted(n for n in models.__dict__ if n.startswith('res'))", False),
])
def test_zoo_any_arch_the_flag_accepts_is_built(tmp_path, choices, found):
    """vgg11 is not the default --arch, but ``python cifar.py --arch vgg11`` builds it through
    ``models.__dict__[args.arch](num_classes=...)`` (the else branch the name selects): a head too
    wide for VGG's 512 features is reported where torch fails, naming the flag's value. Only names
    the option's choices accept are built."""
    root = _copy("cifar_zoo", tmp_path)
    script = root / "cifar.py"
    script.write_text(script.read_text().replace("choices=model_names", choices).replace("default='resnet', )",
                                                                                         "default='resnet')"))
    model = root / "models" / "cifar" / "vgg.py"
    model.write_text(model.read_text().replace("nn.Linear(512, num_classes)", "nn.Linear(1024, num_classes)"))
    a = _lint(model)
    got = a.findings
    # the class VGG (in __all__, but a class: `--arch VGG` is no command line) is not built bare
    assert all(c["analysed"] for c in a.coverage), a.coverage
    if not found:
        assert got == []
        return
    (f,) = got
    assert f.code == "SHP002" and "cifar.py:59 builds it with arch='vgg11'" in f.message, f.message
    rc, err, where = _torch_run(root, "cifar.py", "--arch", "vgg11")
    assert rc != 0 and "cannot be multiplied" in err
    assert where == (model.resolve(), f.line)


IMAGENET_NET = '''
import torch.nn as nn

__all__ = ["inet"]


class INet(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 7, stride=2, padding=3), nn.MaxPool2d(2))
        self.fc = nn.Linear(8 * 56 * 56, num_classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


def inet(**kwargs):
    return INet(**kwargs)
'''


@pytest.mark.parametrize("where", ["imagenet/inet.py", "cifar/inet.py"])
def test_zoo_name_of_another_package_is_not_selected(tmp_path, where):
    """An ImageNet net (224x224) beside the CIFAR zoo: in models/imagenet/ (cifar.py's
    ``models.__dict__`` is models.cifar's) or in models/cifar/ but not imported by its __init__,
    ``--arch inet`` cannot select it: it is not fed CIFAR's 32x32 (torch: KeyError)."""
    root = _copy("cifar_zoo", tmp_path)
    path = root / "models" / where
    path.parent.mkdir(exist_ok=True)
    (path.parent / "__init__.py").touch()
    path.write_text(IMAGENET_NET)
    assert _lint(path).findings == []
    rc, err, _ = _torch_run(root, "cifar.py", "--arch", "inet")
    assert rc != 0 and "invalid choice: 'inet'" in err, err
    if where.startswith("cifar/"):  # imported: then --arch inet builds it, and 32x32 breaks its head
        init = root / "models" / "cifar" / "__init__.py"
        init.write_text(init.read_text() + "from .inet import *\n")
        (f,) = _lint(path).findings
        assert "with arch='inet'" in f.message
        rc, err, where_ = _torch_run(root, "cifar.py", "--arch", "inet")
        assert rc != 0 and "cannot be multiplied" in err and where_ == (path.resolve(), f.line), err


def test_zoo_dataset_branch_gives_num_classes(tmp_path):
    """`num_classes = 10` / `num_classes = 100` under `if args.dataset == 'cifar10'`: the default
    dataset decides which; a dataset default the branch does not decide leaves it unknown."""
    root = _copy("cifar_zoo", tmp_path)
    script = root / "cifar.py"
    text = script.read_text().replace("default=29, help='Model depth.'", "default=20, help='Model depth.'")
    script.write_text(text.replace("default='cifar10', type=str", "default='cifar100', type=str"))
    a = _lint(root / "models" / "cifar" / "resnet.py")
    assert any(r.ctor_text == "resnet(num_classes=100, depth=20, block_name='BasicBlock')" for r in a.runs)
    script.write_text(text.replace("args.dataset == 'cifar10'", "args.dataset.startswith(prefix)"))
    a = _lint(root / "models" / "cifar" / "resnet.py")
    # undecided: built with num_classes a hole (unknown), never with one branch's value
    built = {r.ctor_text for r in a.runs if (r.built_at or "").startswith("../../cifar.py")}
    assert built == {"resnet(num_classes=..., depth=20, block_name='BasicBlock')"}, built


# -- networks picked by name in a helper, stochastic depth


@pytest.mark.parametrize("net,model", [("vgg16", "vgg.py"), ("resnet18", "resnet.py"),
                                       ("stochasticdepth18", "stochasticdepth.py")])
def test_net_by_name_is_clean(net, model):
    root = PROJECTS / "net_by_name"
    path = root / "models" / model
    a = _lint(path)
    assert a.findings == [] and all(c["analysed"] for c in a.coverage)
    cls = {"vgg.py": "VGG", "resnet.py": "ResNet", "stochasticdepth.py": "StochasticDepthResNet"}[model]
    assert _lint(path, {cls: [(2, 3, 32, 32)]}).findings == []
    rc, err, _ = _torch_run(root, "train.py", "-net", net)
    assert rc == 0, err


@pytest.mark.parametrize("model,old,new,net", [
    ("resnet.py", "kernel_size=1, stride=stride, bias=False", "kernel_size=1, bias=False", "resnet18"),
    ("stochasticdepth.py", "nn.Conv2d(out_channels, out_channels * self.expansion, kernel_size=3, padding=1)",
     "nn.Conv2d(out_channels, out_channels * self.expansion, kernel_size=3, padding=2)", "stochasticdepth18"),
    ("stochasticdepth.py", "self.conv = nn.Conv2d(channels, channels, 3, padding=1)",
     "self.conv = nn.Conv2d(channels, channels, 3, padding=0)", "stochasticdepth18"),
])
def test_net_by_name_bug_is_found_where_torch_fails(tmp_path, model, old, new, net):
    """A one-number bug in a residual block (a shortcut without its stride, a padding that grows
    the map, a conv that shrinks it before `+ x`): reported on the line torch fails on, in eval
    mode (the `self.training` / `torch.rand(1) < p` / `random.random()` branches undecided or
    false), with the input shape given."""
    root = _copy("net_by_name", tmp_path)
    path = root / "models" / model
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    cls = {"resnet.py": "ResNet", "stochasticdepth.py": "StochasticDepthResNet"}[model]
    got = _lint(path, {cls: [(2, 3, 32, 32)]}).findings
    rc, err, where = _torch_run(root, "train.py", "-net", net)
    assert rc != 0 and "must match the size" in err
    assert {(path.resolve(), f.line) for f in got} == {where}


# -- engine pieces these projects need, each against torch


def _exec_fails_at(src: str, path: Path, expr: str, match: str) -> int:
    """Run ``expr`` on the module's namespace in torch; the line of ``path`` it fails on."""
    torch = pytest.importorskip("torch")
    ns: dict = {"torch": torch}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # `is` with a literal
        exec(compile(src, str(path), "exec"), ns)
    with pytest.raises(Exception, match=match) as e:
        eval(expr, ns)
    return [t for t in e.traceback if str(t.path) == str(path)][-1].lineno + 1


UNDECIDED_AND = '''
import torch
import torch.nn as nn


class D(nn.Module):
    def __init__(self, ngpu):
        super().__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(nn.Linear(12, 4), nn.Linear(4, 1))

    def forward(self, input):
        input = input.view(input.size(0), input.size(1) * input.size(2) * input.size(3))
        if isinstance(input.data, torch.cuda.FloatTensor) and self.ngpu > 1:
            output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        elif not (self.ngpu <= 1 or isinstance(input.data, torch.cuda.FloatTensor)):
            output = input
        else:
            output = self.main(input)
        output = output.mean(0)
        return output.view(2)
'''


def test_an_undecided_operand_and_a_false_one_decide_the_branch(tmp_path):
    """`isinstance(x.data, torch.cuda.FloatTensor) and self.ngpu > 1` with ngpu 1 is false
    whichever way the isinstance goes (WassersteinGAN's discriminators): the else branch runs."""
    p = tmp_path / "d.py"
    p.write_text(UNDECIDED_AND)
    (f,) = analyze_source(UNDECIDED_AND, str(p), {"D": [(2, 3, 2, 2)]}, strict=True,
                          constructions={"D": ["D(1)"]}).findings
    assert f.code == "SHP001"
    assert _exec_fails_at(UNDECIDED_AND, p, "D(1)(torch.randn(2, 3, 2, 2))", "invalid for input of size 1") == f.line


IS_LITERAL = '''
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, chs, block_type='normal'):
        super().__init__()
        if block_type is 'proj':
            self.key_stride = 1
        elif block_type is 'down':
            self.key_stride = 2
        else:
            assert block_type is 'normal'
            self.key_stride = 1
        self.conv = nn.Conv2d(chs, chs, 3, stride=self.key_stride, padding=1)

    def forward(self, x):
        return self.conv(x) + x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Block(8, 'normal')
        self.b = Block(8, 'down')

    def forward(self, x):
        return self.b(self.a(x))
'''


def test_is_with_a_string_literal(tmp_path):
    """`block_type is 'down'` (Cadene's DPN): CPython interns identifier-like constants, so the
    code works as `==`; the downsampling block's residual add is then found to mismatch."""
    p = tmp_path / "blk.py"
    p.write_text(IS_LITERAL)
    (f,) = analyze_source(IS_LITERAL, str(p), {"Net": [(2, 8, 16, 16)]}, strict=True).findings
    assert f.code == "SHP006"
    assert _exec_fails_at(IS_LITERAL, p, "Net()(torch.randn(2, 8, 16, 16))", "must match the size") == f.line


CONFIG_CHECKS = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, depth, kind='basic'):
        super().__init__()
        if kind == 'basic':
            assert (depth - 2) % 6 == 0, 'depth should be 6n+2'
        elif kind != 'wide':
            raise ValueError('unknown kind')
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(self.conv(x).mean([2, 3]))


model = Net(29)
other = Net(20, kind='bottleneck')
'''


def test_a_construction_the_code_rejects_is_not_analysed(tmp_path):
    """Both constructions of the file fail the class's own checks (an assert, a raise) in torch:
    nothing is reported (the Linear(8) after 16 channels is never built), and the class is listed
    as not analysed, with the check that rejects it."""
    p = tmp_path / "net.py"
    p.write_text(CONFIG_CHECKS)
    a = analyze_source(CONFIG_CHECKS, str(p), strict=True)
    assert a.findings == []
    (cov,) = a.coverage
    assert not cov["analysed"] and "raises: assert (depth - 2) % 6 == 0" in cov["reason"]
    pytest.importorskip("torch")
    ns: dict = {}
    with pytest.raises(AssertionError, match="6n"):
        exec(compile(CONFIG_CHECKS, str(p), "exec"), ns)
    with pytest.raises(ValueError, match="unknown kind"):
        exec(compile(CONFIG_CHECKS.replace("model = Net(29)", "model = Net(20)"), str(p), "exec"), ns)


def test_sibling_module_of_a_driver_inside_a_package(tmp_path):
    """`from net import small_net` in pkg/models/_driver.py, run with pkg/models on sys.path,
    where pkg/ and pkg/models/ are packages (Cadene's pretrainedmodels/models): the name is not
    at the repository root, so it is the driver's sibling."""
    models = tmp_path / "pkg" / "models"
    models.mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (models / "__init__.py").write_text("")
    shutil.copy(PROJECTS / "driver_import" / "net.py", models / "net.py")
    drv = models / "_driver.py"
    drv.write_text("import torch\nfrom net import small_net\n\nmodel = small_net()\nmodel(torch.randn(2, 3, 32, 32))\n")
    (f,) = analyze_source(drv.read_text(), str(drv), strict=True).findings
    assert (f.line, f.code) == (5, "SHP002") and f.message.endswith("(in net.py:16)")
    rc, err, where = _torch_run(models, "_driver.py")
    assert rc != 0 and "cannot be multiplied" in err and where == ((models / "net.py").resolve(), 16)


UNKNOWN_BIAS_AND_TRIPLE = '''
import torch
import torch.nn as nn
from torch.nn.modules.utils import _triple

import somelib


class Factored(nn.Module):
    def __init__(self, cin, cout, kernel_size, stride=1, padding=0):
        super().__init__()
        kernel_size, stride, padding = _triple(kernel_size), _triple(stride), _triple(padding)
        self.spatial = nn.Conv3d(cin, 8, (1, kernel_size[1], kernel_size[2]), stride=(1, stride[1], stride[2]),
                                 padding=(0, padding[1], padding[2]), bias=False or somelib.Norm == nn.Identity)
        self.temporal = nn.Conv3d(8, cout, (kernel_size[0], 1, 1), stride=(stride[0], 1, 1), padding=(padding[0], 0, 0))

    def forward(self, x):
        return self.temporal(self.spatial(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Factored(3, 16, 3, padding=1)
        self.b = Factored(16, 16, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool3d(1)

    def forward(self, x):
        x = self.b(self.a(x))
        return self.pool(x).view(-1, 15)
'''


def test_unknown_bias_and_torch_ntuple_helpers(tmp_path):
    """`_triple(kernel_size)` from torch.nn.modules.utils (R(2+1)D's factored convs) and a bias
    the analysis cannot decide (a GAN's `bias=False or Norm == Identity`): the shapes still
    follow, and the view after global pooling is found where torch fails."""
    p = tmp_path / "r21d.py"
    p.write_text(UNKNOWN_BIAS_AND_TRIPLE)
    a = analyze_source(UNKNOWN_BIAS_AND_TRIPLE, str(p), {"Net": [(1, 3, 8, 16, 16)]}, strict=True)
    (f,) = a.findings
    assert f.code == "SHP001"
    (tmp_path / "somelib.py").write_text("Norm = None\n")
    import sys as _sys
    _sys.path.insert(0, str(tmp_path))
    try:
        assert _exec_fails_at(UNKNOWN_BIAS_AND_TRIPLE, p, "Net()(torch.randn(1, 3, 8, 16, 16))", "invalid for input") == f.line
        ok = UNKNOWN_BIAS_AND_TRIPLE.replace("view(-1, 15)", "view(-1, 16)")
        assert analyze_source(ok, str(p), {"Net": [(1, 3, 8, 16, 16)]}, strict=True).findings == []
        assert [r.output.shape for r in analyze_source(ok, str(p), {"Net": [(1, 3, 8, 16, 16)]}, strict=True).runs] == [(1, 16)]
        ns: dict = {}
        exec(compile(ok, str(p), "exec"), ns)
        assert tuple(ns["Net"]()(__import__("torch").randn(1, 3, 8, 16, 16)).shape) == (1, 16)
    finally:
        _sys.path.remove(str(tmp_path))
        _sys.modules.pop("somelib", None)


# -- a 3-D ResNet built by generate_model(opt), opt from parse_opts() in opts.py


def test_video_model_from_options_parsed_in_another_module():
    """main.py: `opt = parse_opts()` (opts.py) then `generate_model(opt)` (model.py), which calls
    `resnet.resnet18(sample_size=opt.sample_size, sample_duration=opt.sample_duration, ...)`: the
    constructions carry opts.py's defaults, and with the clip shape given the model runs to torch's
    output shape, no finding (the weight-init loop's `isinstance(m, nn.Conv3d)` on the model
    itself is false: nothing becomes uncertain)."""
    root = PROJECTS / "video3d"
    model = root / "models" / "resnet.py"
    a = _lint(model, {"ResNet": [(1, 3, 16, 112, 112)]})
    assert a.findings == []
    built = {r.ctor_text: r for r in a.runs if (r.built_at or "").startswith("../model.py")}
    text = "resnet18(num_classes=400, shortcut_type='B', sample_size=112, sample_duration=16)"
    assert text in built and built[text].output.shape == (1, 400)
    rc, err, _ = _torch_run(root, "main.py")
    assert rc == 0 and "torch.Size([1, 400])" in _torch_stdout(root)


def _torch_stdout(root: Path) -> str:
    return subprocess.run([sys.executable, "main.py"], cwd=root, capture_output=True, text=True, timeout=300).stdout


def test_video_model_pool_window_bug(tmp_path):
    """`math.ceil(sample_duration / 8)`: a temporal window of 2 over the last map's 1 frame, found
    on the line torch fails on (with the clip shape given)."""
    root = _copy("video3d", tmp_path)
    model = root / "models" / "resnet.py"
    model.write_text(model.read_text().replace("math.ceil(sample_duration / 16)", "math.ceil(sample_duration / 8)"))
    got = _lint(model, {"ResNet": [(1, 3, 16, 112, 112)]}).findings
    rc, err, where = _torch_run(root, "main.py")
    assert rc != 0 and "smaller than kernel size" in err
    assert {(model.resolve(), f.line) for f in got} == {where}
    assert all(f.code == "SHP004" for f in got)


def test_an_option_the_script_reassigns_is_not_its_default(tmp_path):
    """main.py sets `opt.sample_size = 64` after parsing: model.py's constructions cannot take
    opts.py's default 112 for it, so none is built from there."""
    root = _copy("video3d", tmp_path)
    main = root / "main.py"
    main.write_text(main.read_text().replace("    opt.no_cuda = True\n", "    opt.no_cuda = True\n    opt.sample_size = 64\n"))
    a = _lint(root / "models" / "resnet.py")
    built = [r.ctor_text for r in a.runs if (r.built_at or "").startswith("../model.py")]
    # built with sample_size a hole (a symbolic size), never with the default 112
    assert built and all("sample_size=...," in t for t in built), built


OPTION_NET = '''import torch.nn as nn


class Net(nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.widths = (16, 32, 64, 128)
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.head = nn.Linear(self.widths[depth // 10], 10)

    def forward(self, x):
        return self.head(self.conv(x).mean([2, 3]))
'''

OPTION_TRAIN = '''import argparse

import torch

from net import Net

parser = argparse.ArgumentParser()
parser.add_argument('--depth', type=int, default=40)
args = parser.parse_args()

if __name__ == '__main__':
    model = Net(DEPTH)
    model.eval()
    model(torch.randn(2, 3, 8, 8))
'''


@pytest.mark.parametrize("depth,reported", [("args.depth", False), ("40", True)])
def test_a_construction_error_under_argparse_defaults_is_not_reported(tmp_path, depth, reported):
    """`Net(args.depth)` with the default 40 indexes past the widths tuple (IndexError in torch):
    one configuration of the script, not necessarily the one it is run with, so no SHP009 — the
    class is listed as not analysed with the error. Written as `Net(40)`, it is the project's own
    construction and SHP009 stands."""
    (tmp_path / "net.py").write_text(OPTION_NET)
    (tmp_path / "train.py").write_text(OPTION_TRAIN.replace("DEPTH", depth))
    a = _lint(tmp_path / "net.py")
    if reported:
        (f,) = a.findings
        assert f.code == "SHP009" and f.line == 9
    else:
        assert a.findings == []
        (cov,) = a.coverage
        assert not cov["analysed"] and "Net(40) (train.py:12) raises: " in cov["reason"]
    rc, err, where = _torch_run(tmp_path, "train.py")
    assert rc != 0 and "IndexError" in err and where == ((tmp_path / "net.py").resolve(), 9)


XAVIER = '''import torch
import torch.nn as nn
from torch.nn import init


class Net(nn.Module):
    def __init__(self, k=1):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, kernel_size=k)
        self.fc = nn.Linear(8, 2)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                init.xavier_normal_(m.weight)
            elif isinstance(m, nn.Linear):
                init.xavier_uniform_(m.weight)

    def forward(self, x):
        return self.fc(self.conv(x).mean([2, 3]))


model = Net(K)
model(torch.randn(1, 3, 8, 8))
'''


def test_xavier_init_of_a_zero_kernel_raises_while_building(tmp_path):
    """xavier init divides by fan_in + fan_out, 0 for a conv weight with a 0 kernel: torch raises
    ZeroDivisionError in the init loop (unet-pytorch's `init.xavier_normal(m.weight)`), SHP009
    there; with a 1x1 kernel nothing."""
    torch = pytest.importorskip("torch")  # noqa: F841
    p = tmp_path / "x.py"
    bad = XAVIER.replace("K)", "0)")
    p.write_text(bad)
    (f,) = analyze_source(bad, str(p), strict=True).findings
    assert f.code == "SHP009"
    with pytest.raises(ZeroDivisionError) as e:
        exec(compile(bad, str(p), "exec"), {})
    assert [t for t in e.traceback if str(t.path) == str(p)][-1].lineno + 1 == f.line
    ok = XAVIER.replace("K)", "1)")
    assert analyze_source(ok, str(p), strict=True).findings == []
    exec(compile(ok, str(p), "exec"), {})


FLOAT_SIZE = '''import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, feature_scale=4):
        super().__init__()
        filters = [x OP feature_scale for x in [64, 128]]
        self.conv = nn.Conv2d(3, filters[0], 3, padding=1)
        self.bn = nn.BatchNorm2d(filters[0])
        self.fc = nn.Linear(filters[0], 10)

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).mean([2, 3]))


model = Net()
model(torch.randn(2, 3, 8, 8))
'''


@pytest.mark.parametrize("layer", ["Conv2d", "BatchNorm2d", "Linear"])
def test_a_float_layer_size_raises_while_building(tmp_path, layer):
    """`64 / feature_scale` is 16.0: torch cannot allocate a weight of float size (TypeError at
    the layer, pytorch-semseg's linknet); `//` builds. The first float-sized layer is reported."""
    torch = pytest.importorskip("torch")  # noqa: F841
    src = FLOAT_SIZE.replace("x OP feature_scale", "x / feature_scale")
    if layer != "Conv2d":  # the float reaches only this layer
        src = src.replace("nn.Conv2d(3, filters[0], 3", "nn.Conv2d(3, 16, 3")
    if layer == "Linear":
        src = src.replace("nn.BatchNorm2d(filters[0])", "nn.BatchNorm2d(16)")
    p = tmp_path / "f.py"
    p.write_text(src)
    (f,) = analyze_source(src, str(p), strict=True).findings
    assert f.code == "SHP009" and f"{layer} " in f.message
    with pytest.raises(TypeError) as e:
        exec(compile(src, str(p), "exec"), {})
    assert [t for t in e.traceback if str(t.path) == str(p)][-1].lineno + 1 == f.line
    ok = FLOAT_SIZE.replace("x OP feature_scale", "x // feature_scale")
    assert analyze_source(ok, str(p), strict=True).findings == []
    exec(compile(ok, str(p), "exec"), {})


MAP_KEYS = '''import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.specs = [[2, 8], [1, 16]]
        prev = 3
        for n_blocks, channels in self.specs:
            for block in range(n_blocks):
                key = "_".join(map(str, ["enc", n_blocks, channels, block]))
                setattr(self, key, nn.Conv2d(prev, channels, 3, padding=1))
                prev = channels
        self.head = nn.Linear(WIDTH, 4)

    def forward(self, x):
        for n_blocks, channels in self.specs:
            for block in range(n_blocks):
                x = getattr(self, "_".join(map(str, ["enc", n_blocks, channels, block])))(x)
        return self.head(x.mean([2, 3]))


model = Net()
model(torch.randn(2, 3, 8, 8))
'''


def test_layers_named_by_map_and_join(tmp_path):
    """`setattr(self, "_".join(map(str, [...])), layer)` then `getattr(self, same)` (pytorch-semseg's
    FRRN): the layers are followed by name, a head of the wrong width is found where torch fails."""
    _head_width_found_where_torch_fails(tmp_path, MAP_KEYS.replace("WIDTH", "8"), MAP_KEYS.replace("WIDTH", "16"))


def _head_width_found_where_torch_fails(tmp_path, bad: str, ok: str) -> None:
    """``bad``'s one finding is SHP002 on the line torch fails on; ``ok`` is clean, its (2, 4)
    output the one torch gives."""
    torch = pytest.importorskip("torch")  # noqa: F841
    p = tmp_path / "m.py"
    p.write_text(bad)
    (f,) = analyze_source(bad, str(p), strict=True).findings
    assert f.code == "SHP002"
    with pytest.raises(RuntimeError, match="cannot be multiplied") as e:
        exec(compile(bad, str(p), "exec"), {})
    assert [t for t in e.traceback if str(t.path) == str(p)][-1].lineno + 1 == f.line
    a = analyze_source(ok, str(p), strict=True)
    assert a.findings == [] and [r.output.shape for r in a.runs if r.input_origin == "call"] == [(2, 4)]
    exec(compile(ok, str(p), "exec"), {})  # its own model(torch.randn(...)) runs in torch


def test_summary_says_which_check_rejects_the_construction():
    """`shapelint summary FILE::resnet(depth=29)`: no model (torch raises AssertionError while
    building, as test_zoo_defaults... shows); the error names the assert, not a generic failure."""
    model = PROJECTS / "cifar_zoo" / "models" / "cifar" / "resnet.py"
    r = subprocess.run([sys.executable, "-m", "shapelint.cli", "summary", f"{model}::resnet(depth=29)",
                        "--input-shape", "1,3,32,32"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "raises: assert (depth - 2) % 6 == 0" in r.stderr and "Traceback" not in r.stderr


# -- a model changed after it is built (a new head for fine-tuning): the built model is not the one called

HEAD_NET = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8 * 222 * 222, 1000)  # for 224x224 images

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))
'''

PATCHES = {
    "attribute": "model.fc = nn.Linear(8 * 30 * 30, 10)\n",
    "setattr": "setattr(model, 'fc', nn.Linear(8 * 30 * 30, 10))\n",
    "function": "def new_head(m, n):\n    m.fc = nn.Linear(8 * 30 * 30, n)\n\n\nnew_head(model, 10)\n",
}


@pytest.mark.parametrize("patch", sorted(PATCHES))
@pytest.mark.parametrize("where", ["same file", "driver"])
def test_a_head_replaced_after_the_build_is_not_the_built_model(tmp_path, patch, where):
    """Net's head expects 224x224 images; the script replaces it for 32x32 ones and torch runs.
    shapelint must not report the built head at the script's 32x32 input; without the
    replacement it does, where torch fails."""
    driver = "model = Net()\n" + PATCHES[patch] + "model(torch.randn(2, 3, 32, 32))\n"
    unpatched = "model = Net()\nmodel(torch.randn(2, 3, 32, 32))\n"
    net = tmp_path / "net.py"
    for body, clean in ((driver, True), (unpatched, False)):
        if where == "same file":
            net.write_text(HEAD_NET + "\n\n" + body)
            script = net
        else:
            net.write_text(HEAD_NET)
            script = tmp_path / "train.py"
            script.write_text("import torch\nimport torch.nn as nn\n\nfrom net import Net\n\n" + body)
        got = _lint(net).findings
        rc, err, where_ = _torch_run(tmp_path, script.name)
        if clean:
            assert rc == 0, err
            assert got == [], [f.message for f in got]
        else:
            assert rc != 0 and "cannot be multiplied" in err
            assert [(net.resolve(), f.line) for f in got] == [where_]


# -- module-level models called inside the training loop (GAN tutorials)

GAN_LOOP = '''
import torch
import torch.nn as nn

device = torch.device("cpu")
latent_size = 64
hidden_size = 256
image_size = 784
batch_size = 100

D = nn.Sequential(nn.Linear(image_size, hidden_size), nn.LeakyReLU(0.2), nn.Linear(hidden_size, 1), nn.Sigmoid())
G = nn.Sequential(nn.Linear(latent_size, hidden_size), nn.ReLU(), nn.Linear(hidden_size, image_size), nn.Tanh())
D = D.to(device)
G = G.to(device)

for epoch in range(2):
    for i in range(3):
        z = torch.randn(batch_size, latent_size).to(device)
        fake_images = G(z)
        outputs = D(fake_images)
'''


@pytest.mark.parametrize("old,new", [(None, None),
                                     ("nn.Linear(image_size, hidden_size)", "nn.Linear(image_size + 1, hidden_size)"),
                                     ("nn.Linear(hidden_size, image_size)", "nn.Linear(hidden_size, image_size - 1)"),
                                     ("nn.Linear(latent_size, hidden_size)", "nn.Linear(latent_size * 2, hidden_size)")])
def test_module_level_models_in_the_training_loop(tmp_path, old, new):
    """``z`` bound once inside the loop, ``fake_images = G(z)``, ``D(fake_images)``, the models
    re-bound by ``.to(device)``: each call gets its input; a one-number bug is reported on the
    line torch fails on, and the correct script gives nothing."""
    path = tmp_path / "gan.py"
    path.write_text(GAN_LOOP if old is None else GAN_LOOP.replace(old, new))
    got = _lint(path).findings
    rc, err, where = _torch_run(tmp_path, "gan.py")
    if old is None:
        assert rc == 0 and got == [], err
        return
    assert rc != 0 and "cannot be multiplied" in err
    assert [(path.resolve(), f.line) for f in got] == [where]


def test_a_factorys_own_model_variable_is_not_the_scripts(tmp_path):
    """Cadene's layout: the factory sets attributes on its own local ``model`` (``model.mean =
    ...``), the file's __main__ builds and calls another ``model``: that one is unchanged, so it
    gets its input and its bug is reported where torch fails. A function patching the global
    ``model`` (no local of that name) does change it: then nothing is fed."""
    body = HEAD_NET + '''

def net(pretrained=None):
    model = Net()
    if pretrained is not None:
        model.mean = [0.5, 0.5, 0.5]
    return model


if __name__ == "__main__":
    model = Net()
    model(torch.randn(2, 3, 32, 32))
'''
    path = tmp_path / "net.py"
    path.write_text(body)
    got = _lint(path).findings
    rc, err, where = _torch_run(tmp_path, "net.py")
    assert rc != 0 and "cannot be multiplied" in err
    assert [(path.resolve(), f.line) for f in got] == [where]
    patched = body.replace("    model = Net()\n    model(", "    model = Net()\n    adapt()\n    model(").replace(
        "def net(", "def adapt():\n    model.fc = nn.Linear(8 * 30 * 30, 10)\n\n\ndef net(")
    path.write_text(patched)
    assert _lint(path).findings == []
    rc, err, _ = _torch_run(tmp_path, "net.py")
    assert rc == 0, err


# -- a model that declares its input size (pretrained-models' settings: model.input_size = [3, 299, 299])

DECLARED = '''
import torch
import torch.nn as nn

pretrained_settings = {
    "tinynet": {"imagenet": {"input_size": [3, 99, 99], "num_classes": 10}},
}


class TinyNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2)
        self.left = nn.MaxPool2d(3, stride=2)
        self.right = nn.Conv2d(8, 8, 3, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.stem(x)
        x = torch.cat((self.left(x), self.right(x)), 1)
        return self.fc(torch.flatten(self.pool(x), 1))


def tinynet(num_classes=10, pretrained="imagenet"):
    model = TinyNet(num_classes=num_classes)
    if pretrained is not None:
        settings = pretrained_settings["tinynet"][pretrained]
        assert num_classes == settings["num_classes"]
        model.input_size = settings["input_size"]
    return model
'''


@pytest.mark.parametrize("old,new,found", [(None, None, False),
                                           ("nn.MaxPool2d(3, stride=2)", "nn.MaxPool2d(5, stride=2)", True),
                                           ("nn.Conv2d(8, 8, 3, stride=2)", "nn.Conv2d(8, 8, 3, stride=1)", True),
                                           ('"input_size": [3, 99, 99]', '"input_size": [1, 99, 99]', False)])
def test_a_declared_input_size_is_the_models_input(tmp_path, old, new, found):
    """The factory sets ``model.input_size`` from its settings: the model is checked at that size
    (batch symbolic) and a one-number bug is reported where torch fails at it; a declared size
    whose channels disagree with the first layer is not used."""
    src = DECLARED if old is None else DECLARED.replace(old, new)
    path = tmp_path / "tiny.py"
    path.write_text(src)
    got = _lint(path).findings
    ns: dict = {}
    exec(compile(src, str(path), "exec"), ns)
    m = ns["tinynet"]().eval()
    x = torch_randn(2, *m.input_size) if found or old is None else None
    if old is None:
        m(x)
        assert got == []
        return
    if not found:
        assert got == []
        return
    with pytest.raises(RuntimeError) as e:
        m(x)
    line = [t for t in e.traceback if str(t.path) == str(path)][-1].lineno + 1
    assert [(f.line, f.code) for f in got] == [(line, "SHP006")]
    assert "for input Nx3x99x99" in got[0].message and "input_size [3, 99, 99]" in got[0].message


def torch_randn(*shape):
    torch = pytest.importorskip("torch")
    return torch.randn(*shape)


LOWER_CLASS_NET = '''
import torch.nn as nn

__all__ = ["slim", "wide"]


class slim(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 32 * 32, num_classes)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


class wide(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        self.fc = nn.Linear(16 * 32 * 32, num_classes)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))
'''


def test_a_lower_case_class_is_what_arch_names(tmp_path):
    """network-slimming's models are lower-case classes (``vgg``, ``resnet``) picked by
    ``models.__dict__[args.arch](num_classes=10)``: ``--arch wide`` builds ``wide`` (its 3x3 conv
    without padding leaves 30x30, the head expects 32x32), reported where torch fails; the
    default ``slim`` is clean."""
    root = tmp_path / "proj"
    (root / "models").mkdir(parents=True)
    (root / "models" / "__init__.py").write_text("from .nets import *\n")
    (root / "models" / "nets.py").write_text(LOWER_CLASS_NET)
    (root / "train.py").write_text(
        "import argparse\n\nimport torch\n\nimport models\n\n"
        "parser = argparse.ArgumentParser()\nparser.add_argument('--arch', default='slim')\n"
        "args = parser.parse_args()\nmodel = models.__dict__[args.arch](num_classes=10)\n"
        "model(torch.randn(2, 3, 32, 32))\n")
    path = root / "models" / "nets.py"
    (f,) = _lint(path).findings
    assert "with arch='wide'" in f.message
    rc, err, where = _torch_run(root, "train.py", "--arch", "wide")
    assert rc != 0 and "cannot be multiplied" in err and where == (path.resolve(), f.line)
    rc, err, _ = _torch_run(root, "train.py")
    assert rc == 0, err


def test_the_summary_of_a_model_with_a_declared_input_equals_torchsummarys(tmp_path):
    """No --input-shape: the summary runs at the declared size and prints what torchsummary
    prints for that size, line for line."""
    import contextlib
    import io
    import warnings

    torchsummary = pytest.importorskip("torchsummary")
    from shapelint.cli import main

    path = tmp_path / "tiny.py"
    path.write_text(DECLARED)
    ns: dict = {}
    exec(compile(DECLARED, str(path), "exec"), ns)
    peer = io.StringIO()
    with contextlib.redirect_stdout(peer), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torchsummary.summary(ns["tinynet"](), (3, 99, 99), device="cpu")
    mine = io.StringIO()
    with contextlib.redirect_stdout(mine):
        assert main(["summary", f"{path}::tinynet", "--style", "torchsummary"]) == 0
    ours = [ln for ln in mine.getvalue().rstrip("\n").split("\n") if not ln.startswith(("Note: ", "Admissible"))]
    assert ours == peer.getvalue().rstrip("\n").split("\n")


CHR_NAMES = '''
import torch
import torch.nn as nn


def block(prefix, c):
    layer = nn.Sequential()
    layer.add_module(prefix + "_conv", nn.Conv2d(c, c, 3, stride=2, padding=1))
    layer.add_module("bn_" + prefix, nn.BatchNorm2d(c))
    return layer


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        stages = []
        for i in range(3):
            stages.append(block(str(1) + chr(ord("a") + i), 8))
        self.features = nn.Sequential(*stages)
        self.fc = nn.Linear(8 * WIDTH, 4)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


model = Net()
model(torch.randn(2, 8, 16, 16))
'''


def test_layers_named_with_chr_and_ord(tmp_path):
    """``prefix = str(stage) + chr(ord('a') + i)`` naming layers added by ``add_module`` (megvii's
    ShuffleNet-Series): the names are computed, the layers followed, a head of the wrong width
    found where torch fails."""
    _head_width_found_where_torch_fails(tmp_path, CHR_NAMES.replace("WIDTH", "2 * 3"),
                                        CHR_NAMES.replace("WIDTH", "2 * 2"))


KWARGS_WRAPPER = '''
import torch
import torch.nn as nn


class UNet(nn.Module):
    def __init__(self, in_channels=1, n_classes=2, wf=4):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 2 ** wf, 3, padding=1)
        self.last = nn.Conv2d(2 ** wf, n_classes, 1)

    def forward(self, x):
        return self.last(torch.relu(self.conv(x)))


class UNetWrapper(nn.Module):
    def __init__(self, **kwargs):
        super().__init__()
        self.input_batchnorm = nn.BatchNorm2d(kwargs['in_channels'])
        self.unet = UNet(**kwargs)

    def forward(self, x):
        return self.unet(self.input_batchnorm(x))
'''


def test_a_missing_key_of_kwargs_is_a_construction_error(tmp_path):
    """dlwpt-code's ``UNetWrapper(**kwargs)`` reads ``kwargs['in_channels']``: built with no
    arguments it raises KeyError, so its defaults are no construction to feed a given input to
    (the default UNet's one channel against a 7-channel input was a false finding); the project's
    own ``UNetWrapper(in_channels=7, ...)`` is analysed and clean. A file that does build it bare
    gets SHP009 where Python raises."""
    torch = pytest.importorskip("torch")
    p = tmp_path / "model.py"
    p.write_text(KWARGS_WRAPPER)
    (tmp_path / "train.py").write_text("from model import UNetWrapper\n\n\ndef init_model():\n"
                                       "    return UNetWrapper(in_channels=7, n_classes=1, wf=3)\n")
    a = _lint(p, {"UNetWrapper": [(2, 7, 16, 16)]})
    assert a.findings == [], [f.message for f in a.findings]
    assert any(r.ctor_text.startswith("UNetWrapper(in_channels=7") and r.output is not None and
               r.output.shape == (2, 1, 16, 16) for r in a.runs)
    ns: dict = {}
    exec(compile(KWARGS_WRAPPER, str(p), "exec"), ns)
    assert ns["UNetWrapper"](in_channels=7, n_classes=1, wf=3)(torch.randn(2, 7, 16, 16)).shape == (2, 1, 16, 16)
    bare = KWARGS_WRAPPER + "\n\nmodel = UNetWrapper()\n"
    p.write_text(bare)
    (f,) = analyze_source(bare, str(p), strict=True).findings
    assert f.code == "SHP009" and "KeyError: 'in_channels'" in f.message, f.message
    with pytest.raises(KeyError) as e:
        exec(compile(bare, str(p), "exec"), {})
    assert [t for t in e.traceback if str(t.path) == str(p)][-1].lineno + 1 == f.line


SOFTMAX_HEAD = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)
        self.sm = nn.Softmax(dim=LAYER)

    def forward(self, x):
        y = self.fc(x)
        return self.sm(y), F.log_softmax(y, dim=FUNC), torch.softmax(y, 1)


Head()(torch.randn(2, 8))
'''


@pytest.mark.parametrize("layer,func,line", [("1", "-1", None), ("2", "-1", 15), ("1", "-3", 15), ("-1", "1", None)])
def test_softmax_over_a_dim_the_tensor_lacks(tmp_path, layer, func, line):
    """dlwpt-code's LunaModel head: ``nn.Softmax(dim=2)`` on (N, 2) logits raises IndexError
    "Dimension out of range" (the layer and F.softmax / log_softmax / torch.softmax alike)."""
    torch = pytest.importorskip("torch")  # noqa: F841
    code = SOFTMAX_HEAD.replace("LAYER", layer).replace("FUNC", func)
    p = tmp_path / "head.py"
    p.write_text(code)
    got = [(f.line, f.code) for f in analyze_source(code, str(p), strict=True).findings]
    if line is None:
        assert got == []
        exec(compile(code, str(p), "exec"), {})
        return
    assert got == [(line, "SHP007")]
    with pytest.raises(IndexError, match="Dimension out of range") as e:
        exec(compile(code, str(p), "exec"), {})
    assert [t for t in e.traceback if str(t.path) == str(p)][-1].lineno + 1 == line


GLOBAL_CFGS = '''
import torch
import torch.nn as nn

model_cfgs = dict(
    small=dict(width=8),
    large=dict(width=16),
)
for k in ('small', 'large'):
    model_cfgs[k + '_gap'] = dict(model_cfgs[k], pool=True)


class Net(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.conv = nn.Conv2d(3, cfg['width'], 3, padding=1)

    def forward(self, x):
        return self.conv(x)


def _create(variant, **kwargs):
    return Net(model_cfgs[variant], **kwargs)


def small_gap(**kwargs):
    return _create('small_gap', **kwargs)


small_gap()(torch.randn(2, 3, 8, 8))
'''


def test_a_global_dict_filled_later_is_not_taken_as_complete(tmp_path):
    """timm's byobnet adds ``model_cfgs[k + '_gap']`` in a module-level loop after the dict's
    literal; the global, computed lazily from its binding, lacks those keys, so a missing key there
    proves nothing (the gate's one finding while only the dict's known keys decided): no SHP009."""
    torch = pytest.importorskip("torch")  # noqa: F841
    p = tmp_path / "byob.py"
    p.write_text(GLOBAL_CFGS)
    assert analyze_source(GLOBAL_CFGS, str(p), strict=True).findings == []
    exec(compile(GLOBAL_CFGS, str(p), "exec"), {})  # and Python builds and runs it


# -- containers filled by keyword (`block.add_module(name="conv", module=conv)`, MobileViT's ConvLayer)

ADD_MODULE = '''import torch
import torch.nn as nn


class ConvLayer(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        block = nn.Sequential()
        block.add_module({call})
        block.add_module("act", nn.ReLU())
        self.block = block

    def forward(self, x):
        return self.block(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = ConvLayer(3, 8)
        self.norm = nn.LayerNorm({width})

    def forward(self, x):
        return self.norm(self.conv(x))


Net()(torch.randn(2, 3, 16, 16))
'''


@pytest.mark.parametrize("call", ['name="conv", module=nn.Conv2d(cin, cout, 3, padding=1)',
                                  '"conv", module=nn.Conv2d(cin, cout, 3, padding=1)',
                                  'module=nn.Conv2d(cin, cout, 3, padding=1), name="conv"'])
@pytest.mark.parametrize("width", [16, 15])
def test_add_module_by_keyword_holds_the_child(tmp_path, call, width):
    """The keyword form adds the conv like the positional one; it was ignored, the block passed its
    input through, and a LayerNorm over the last dim was checked against the wrong tensor."""
    f = tmp_path / "m.py"
    f.write_text(ADD_MODULE.format(call=call, width=width))
    got = [(x.line, x.code) for x in _lint(f).findings]
    rc, err, frame = _torch_run(tmp_path, f)
    if width == 16:
        assert got == [] and rc == 0, (got, err)
    else:
        assert rc != 0 and got == [(frame[1], "SHP003")], (got, err)


def test_a_module_changed_by_a_method_not_followed_is_unknown(tmp_path):
    f = tmp_path / "m.py"
    f.write_text(ADD_MODULE.format(call='"conv", nn.Conv2d(cin, cout, 3, padding=1)', width=15)
                 .replace('block.add_module("act", nn.ReLU())', 'block.add_module("act", nn.ReLU(), "extra")'))
    assert _lint(f).findings == []  # add_module with three arguments: a TypeError in torch, unknown here


# -- a declared input shape and the constructions a file feeds itself (MobileNetV3's __main__ test)

OWN_FED = '''import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, in_channels=3):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 8, 3)

    def forward(self, x):
        return self.conv(x)


if __name__ == "__main__":
    print(Net())
    model = Net(in_channels=2)
    model(torch.randn(1, 2, 32, 32))
'''


def test_a_declared_input_shape_leaves_the_files_own_fed_construction_alone(tmp_path):
    """`--input-shape Net=1,3,32,32` is for the constructions the file does not feed (`Net()`):
    Net(in_channels=2) is fed its own 2-channel input there (torch runs it), not the declared one.
    A file that feeds every construction of the class (here one) gets the declared shape for them."""
    from shapelint.options import input_shapes

    f = tmp_path / "m.py"
    f.write_text(OWN_FED)
    rc, err, _ = _torch_run(tmp_path, f)
    assert rc == 0, err
    a = _lint(f, input_shapes(["Net=1,3,32,32"]))
    assert a.findings == [], [x.message for x in a.findings]
    assert any(r.concrete and "in_channels=2" in r.ctor_text for r in a.runs)
    assert any(r.concrete and r.ctor_text == "Net()" and r.input_origin == "option" for r in a.runs)
    f.write_text(OWN_FED.replace("    print(Net())\n", ""))
    (x,) = _lint(f, input_shapes(["Net=1,3,32,32"])).findings
    assert x.code == "SHP003" and "in_channels=2" in x.message, x.message


LEGACY = '''import torch
import torch.nn as nn


class Norm(nn.Module):
    def __init__(self):
        super().__init__()
        self.data = {ctor}({arg}).view({shape})

    def forward(self, x):
        return x


Norm()
'''


@pytest.mark.parametrize("ctor,arg,shape", [
    ("torch.Tensor", "[0.5, 0.25, 0.125]", "1, 3, 1, 1"), ("torch.Tensor", "[0.5, 0.25, 0.125]", "1, 2, 1, 1"),
    ("torch.FloatTensor", "(1, 2, 3, 4)", "2, 2"), ("torch.FloatTensor", "(1, 2, 3, 4)", "3, -1"),
    ("torch.LongTensor", "[1, 2, 3, 4, 5, 6]", "2, 3"), ("torch.LongTensor", "[1, 2, 3, 4, 5, 6]", "4, 2"),
    ("torch.Tensor", "3", "3, 1"), ("torch.Tensor", "3", "2, 2"),  # an int is a size, not data
])
def test_legacy_constructors_of_a_list_hold_its_data(tmp_path, ctor, arg, shape):
    f = tmp_path / "m.py"
    f.write_text(LEGACY.format(ctor=ctor, arg=arg, shape=shape))
    got = [(x.line, x.code) for x in _lint(f).findings]
    rc, err, frame = _torch_run(tmp_path, f)
    assert got == ([] if rc == 0 else [(frame[1], "SHP001")]), (got, err)


POOL_AFTER_UNKNOWN = '''import torch
import torch.nn as nn


class Down(nn.Module):
    def __init__(self, c_in):
        super().__init__()
        padding = 1 if torch.__version__ >= "1.5.0" else 2  # Informer's ConvLayer: not static here
        self.conv = nn.Conv1d(c_in, c_in, 3, padding=padding)
        self.pool = nn.{pool}(kernel_size=3, stride=2, padding={pad})

    def forward(self, x):
        x = self.conv(x.permute(0, 2, 1))
        return self.pool(x).transpose(1, 2)


Down(8)(torch.randn(2, 96, 8))
'''


@pytest.mark.parametrize("pool", ["MaxPool1d", "AvgPool1d"])
@pytest.mark.parametrize("pad", [1, 2])
def test_a_pools_own_arguments_are_checked_whatever_its_input(tmp_path, pool, pad):
    """The conv before the pool has a padding shapelint cannot know, so the pool's input shape is
    unknown; a padding over half the kernel fails in torch whatever that shape is."""
    f = tmp_path / "m.py"
    f.write_text(POOL_AFTER_UNKNOWN.format(pool=pool, pad=pad))
    got = [(x.line, x.code) for x in _lint(f).findings]
    rc, err, frame = _torch_run(tmp_path, f)
    assert got == ([] if rc == 0 else [(frame[1], "SHP007")]), (got, err)
    assert (rc == 0) == (pad == 1)


VERSIONED = '''import torch
import torch.nn as nn


class Embed(nn.Module):
    def __init__(self):
        super().__init__()
        padding = 1 if {test} else 2
        self.conv = nn.Conv1d(7, 16, kernel_size=3, padding=padding)
        self.fc = nn.Linear(16 * {length}, 10)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


Embed()(torch.randn(2, 7, 96))
'''


@pytest.mark.parametrize("test,decided", [
    ("torch.__version__ >= '1.5.0'", True), ("'1.5.0' <= torch.__version__", True),
    ("torch.__version__ < '1.5'", True), ("torch.__version__ >= '2.9'", False),
    ("torch.version.__version__ > '1.10.0'", True),
])
@pytest.mark.parametrize("length", [96, 98])
@pytest.mark.parametrize("installed", [True, False])
def test_torch_version_compares_as_a_version(tmp_path, test, decided, length, installed, monkeypatch):
    """``torch.__version__`` is a TorchVersion. With torch installed beside shapelint its version is
    the installed one (core.values.torch_version) and every comparison is decided as torch decides
    it; with none, against a version before 2.0 the comparison is still known (the engine models
    torch 2.x), against a later one it is not, and nothing is said."""
    from shapelint.core import values

    if not installed:
        monkeypatch.setattr(values, "_TORCH_VERSION", [None])
    f = tmp_path / "m.py"
    f.write_text(VERSIONED.format(test=test, length=length))
    got = [(x.line, x.code) for x in _lint(f).findings]
    rc, err, frame = _torch_run(tmp_path, f)
    if rc != 0 and (decided or installed):
        assert got == [(frame[1], "SHP002")], (got, err)
    else:
        assert got == [], (got, err)


SEPARATION = '''import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, N=256, L=20):
        super().__init__()
        self.conv1d_U = nn.Conv1d(1, N, kernel_size=L, stride=L // 2, bias=False)

    def forward(self, mixture):
        return self.conv1d_U(mixture.unsqueeze(1))


if __name__ == "__main__":
    M, T = 2, 12
    net = Net(3, 4)
    print(net)
'''


def test_a_declared_shape_is_for_the_files_own_constructions(tmp_path):
    """Conv-TasNet's model file tests Net(3, 4) on 12 samples in its __main__; train.py builds
    Net(256, 20) for 4-second mixtures. ``--input-shape Net=2,12`` describes the file's own test,
    not train.py's configuration (a 20-sample kernel on 12 samples): nothing is said of the latter,
    which still runs at its own (here symbolic) input."""
    from shapelint.options import input_shapes

    f = tmp_path / "conv_tasnet.py"
    f.write_text(SEPARATION)
    (tmp_path / "train.py").write_text("import torch\nfrom conv_tasnet import Net\n\nmodel = Net(256, 20)\n")
    a = _lint(f, input_shapes(["Net=2,12"]))
    assert a.findings == [], [x.message for x in a.findings]
    runs = {r.ctor_text: r.input_origin for r in a.runs}
    assert runs.get("Net(3, 4)") == "option" and runs.get("Net(256, 20)") == "symbolic", runs
    (tmp_path / "train.py").write_text("import torch\nfrom conv_tasnet import Net\n\nmodel = Net(256, 20)\n"
                                       "model(torch.randn(2, 12))\n")
    rc, err, frame = _torch_run(tmp_path, tmp_path / "train.py")
    assert rc != 0 and "Kernel size can't be greater than actual input size" in err, err
    (x,) = _lint(f).findings  # fed in train.py itself: reported there, as torch fails
    assert x.code == "SHP004" and "Net(256, 20) (as train.py:4 builds it)" in x.message, x.message


UNSQUEEZED = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self, L=20, N=16):
        super().__init__()
        self.conv = nn.CONV(IN, N, kernel_size=L, stride=L // 2, bias=False)

    def forward(self, mixture):
        mixture = STEP
        return F.relu(self.conv(mixture))
'''


@pytest.mark.parametrize("conv,step,shape", [
    ("Conv1d", "torch.unsqueeze(mixture, 1)", (2, 400)),
    ("Conv1d", "mixture.float().unsqueeze(dim=1)", (2, 400)),
    ("Conv1d", "mixture.unsqueeze(-2)", (2, 400)),
    ("Conv2d", "mixture.unsqueeze(1)", (2, 60, 60)),
])
@pytest.mark.parametrize("channels", [1, 2])
def test_an_input_unsqueezed_before_its_first_layer(tmp_path, conv, step, shape, channels):
    """Conv-TasNet's encoder: the waveform batch [M, T] becomes [M, 1, T] by ``unsqueeze(1)`` before
    its first Conv1d. With no input given, the input is what that layer takes with the inserted
    dim taken out again ([N, L]), so a first layer expecting 2 channels is reported; 1 is clean.
    torch agrees on a batch of that shape."""
    torch = pytest.importorskip("torch")
    code = UNSQUEEZED.replace("CONV", conv).replace("IN", str(channels)).replace("STEP", step)
    f = tmp_path / "enc.py"
    f.write_text(code)
    found = _lint(f).findings
    ns: dict = {}
    exec(compile(code, str(f), "exec"), ns)
    try:
        ns["Encoder"]().eval()(torch.randn(*shape))
        crashed = None
    except RuntimeError as e:
        crashed = str(e)
    if channels == 1:
        assert found == [] and crashed is None, [x.message for x in found]
    else:
        assert crashed is not None and "channels" in crashed
        (x,) = found
        assert (x.code, x.line) == ("SHP003", _line_of(f, "return F.relu(self.conv(mixture))")), x.message


MISFIT_MODEL = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, size, in_ch=3):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, 8, 3, padding=1)
        self.background = nn.Parameter(torch.zeros(1, 8, size, size))

    def forward(self, x):
        return self.conv(x) + self.background
'''


@pytest.mark.parametrize("in_ch", [3, 4])
def test_a_declared_shape_breaking_another_configuration_is_not_its_input(tmp_path, in_ch):
    """PixelSNAIL's layout: train.py builds Net(32), the MNIST script Net(28), each for its own
    image size. ``--input-shape Net=2,3,32,32`` runs through Net(32) cleanly and breaks Net(28),
    which is clean at its own (symbolic) input: the declared shape is not Net(28)'s, and nothing is
    said. A bug every configuration meets (a first conv taking 4 channels) is still reported.
    torch: the declared input runs through Net(32), fails Net(28) (and both with in_ch=4)."""
    torch = pytest.importorskip("torch")
    from shapelint.options import input_shapes

    f = tmp_path / "model.py"
    code = MISFIT_MODEL.replace("in_ch=3", f"in_ch={in_ch}")
    f.write_text(code)
    (tmp_path / "train.py").write_text("from model import Net\n\nmodel = Net(32)\n")
    (tmp_path / "mnist.py").write_text("from model import Net\n\nmodel = Net(28)\n")
    found = _lint(f, input_shapes(["Net=2,3,32,32"])).findings
    ns: dict = {}
    exec(compile(code, str(f), "exec"), ns)
    fails = {}
    for size in (32, 28):
        try:
            ns["Net"](size)(torch.randn(2, 3, 32, 32))
            fails[size] = False
        except RuntimeError:
            fails[size] = True
    if in_ch == 3:
        assert fails == {32: False, 28: True}
        assert found == [], [x.message for x in found]
    else:
        assert fails == {32: True, 28: True}
        assert [x.code for x in found] == ["SHP003"], [x.message for x in found]


INVENTED = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, d, num_channels=3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(num_channels, d, 4, 2, 1), nn.ReLU(),
                                     nn.Conv2d(d, d, 4, 2, 1))

    def forward(self, x):
        return self.encoder(x)
'''


def test_a_declared_input_does_not_blame_the_channels_of_an_invented_construction(tmp_path):
    """VQ-VAE's layout: nobody in the file builds Net(d, num_channels=3); its symbolic construction
    Net(d=d) keeps num_channels=3, a default the project's scripts replace (num_channels=1 for
    MNIST). ``--input-shape Net=2,1,28,28`` then says nothing of the first conv's channels: torch
    runs that input through Net(d, num_channels=1)."""
    torch = pytest.importorskip("torch")
    from shapelint.options import input_shapes

    f = tmp_path / "auto_encoder.py"
    f.write_text(INVENTED)
    a = _lint(f, input_shapes(["Net=2,1,28,28"]))
    assert a.findings == [], [x.message for x in a.findings]
    assert any(r.input_origin == "option" and r.ctor_kwargs is not None for r in a.runs)
    ns: dict = {}
    exec(compile(INVENTED, str(f), "exec"), ns)
    assert tuple(ns["Net"](8, num_channels=1)(torch.randn(2, 1, 28, 28)).shape) == (2, 8, 7, 7)


SHIFTED = '''
import torch
import torch.nn as nn


class ShiftMean(nn.Module):
    def __init__(self, rgb_mean):
        super(ShiftMean, self).__init__()
        self.rgb_mean = torch.Tensor(rgb_mean).view(1, 3, 1, 1)

    def forward(self, x, mode):
        if mode == 'sub':
            return (x - self.rgb_mean.to(x.device) * 255.0) / 127.5
        return x * 127.5 + self.rgb_mean.to(x.device) * 255.0


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.shift_mean = ShiftMean((0.4488, 0.4371, 0.4040))
        self.head = nn.Conv2d(HEAD, 8, 3, padding=1)
        self.body = nn.Conv2d(BODY, 8, 3, padding=1)

    def forward(self, x):
        x = self.shift_mean(x, mode='sub')
        x = self.head(x)
        return self.body(x)
'''


@pytest.mark.parametrize("head,body,found", [(3, 8, None), (3, 9, "return self.body(x)"), (4, 8, None)])
def test_an_input_shifted_by_a_constant_before_its_first_layer(tmp_path, head, body, found):
    """WDSR's mean shift: `(x - self.rgb_mean * 255.0) / 127.5` with a (1, 3, 1, 1) mean before the
    first conv. With no input given, the input is what that conv takes when the constant broadcasts
    into it unchanged (N x 3 x H x W), so a later conv's channels are checked; when it would not
    (a 4-channel head), the input stays unknown and nothing is said. torch agrees on a 3-channel
    batch (and the 4-channel head fails for any input)."""
    torch = pytest.importorskip("torch")
    code = SHIFTED.replace("HEAD", str(head)).replace("BODY", str(body))
    f = tmp_path / "wdsr.py"
    f.write_text(code)
    a = _lint(f)
    ns: dict = {}
    exec(compile(code, str(f), "exec"), ns)
    try:
        ns["Net"]()(torch.randn(2, 3, 16, 16))
        crashed = False
    except RuntimeError:
        crashed = True
    assert crashed == (found is not None or head != 3)
    if found is None:
        assert a.findings == [], [x.message for x in a.findings]
    else:
        (x,) = a.findings
        assert (x.code, x.line) == ("SHP003", _line_of(f, found)), x.message
    if head == 3:
        assert [r.input_text() for r in a.runs if r.cls and r.cls.name == "Net"] == ["Nx3xHxW"]


OWN_FED_FACTORY = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, image_size, num_classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.pool = nn.AvgPool2d(image_size // 2, 1)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        x = self.pool(self.conv(x))
        return self.fc(x.view(x.size(0), -1))


def net_small(size, ncls):
    return Net(size, ncls)


def net_large():
    size = 64
    return Net(size, 1000)


def net_medium():
    size = 48
    return Net(size, 1000)


if __name__ == "__main__":
    model = net_large()
    out = model(torch.randn(2, 3, 64, 64))
    model = net_medium()
    out = model(torch.randn(2, 3, 48, 48))
'''


def test_a_declared_shape_is_not_blamed_on_a_construction_the_file_feeds_its_own(tmp_path):
    """MobileViT's layout: the file's own __main__ feeds net_large() (64x64 by construction) a
    64x64 image and net_medium() a 48x48 one; `--input-shape Net=2,3,32,32` (for net_small(32, 10),
    which only a training script builds) breaks their pools. Each runs cleanly at the file's own
    input and the class has several configurations, so the declared shape is another one's: nothing
    is reported. torch: net_large() runs at 64, fails at 32; net_small(32, 10) runs at 32."""
    torch = pytest.importorskip("torch")
    from shapelint.options import input_shapes

    f = tmp_path / "mobilevit.py"
    f.write_text(OWN_FED_FACTORY)
    assert _lint(f, input_shapes(["Net=2,3,32,32"])).findings == []
    ns: dict = {}
    exec(compile(OWN_FED_FACTORY, str(f), "exec"), ns)
    ns["net_large"]()(torch.randn(2, 3, 64, 64))
    ns["net_small"](32, 10)(torch.randn(2, 3, 32, 32))
    with pytest.raises(RuntimeError):
        ns["net_large"]()(torch.randn(2, 3, 32, 32))


LABELLED = '''
import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, c_dim=5):
        super().__init__()
        self.main = nn.Sequential(nn.Conv2d(3 + c_dim, 8, 3, padding=1), nn.ReLU())

    def forward(self, x, c):
        c = c.view(c.size(0), c.size(1), 1, 1)
        c = c.repeat(1, 1, x.size(2), x.size(3))
        x = torch.cat([x, c], dim=1)
        return self.main(x)
'''

LABELLED_TRAIN = '''import argparse

from model import Generator

parser = argparse.ArgumentParser()
parser.add_argument('--dataset', type=str, default='CelebA', choices=['CelebA', 'Both'])
args = parser.parse_args()
if args.dataset == 'CelebA':
    G = Generator(5)
else:
    G = Generator(5 + 8 + 2)
'''


def test_a_declared_shape_fitting_only_another_configuration_says_nothing(tmp_path):
    """StarGAN's layout: the default run builds Generator(5) (5 domain labels), `--dataset Both`
    Generator(15). Declared inputs x=2x3x8x8 and c=2x15 (the Both run's) break the default one at
    its first conv (3 + 15 channels for 3 + 5) and run cleanly through Generator(15), which
    went through that same call: the declaration is Both's, and nothing is said. torch agrees."""
    torch = pytest.importorskip("torch")
    from shapelint.options import input_shapes

    f = tmp_path / "model.py"
    f.write_text(LABELLED)
    (tmp_path / "train.py").write_text(LABELLED_TRAIN)
    a = _lint(f, input_shapes(["Generator=2,3,8,8", "Generator=2,15"]))
    assert a.findings == [], [x.message for x in a.findings]
    ns: dict = {}
    exec(compile(LABELLED, str(f), "exec"), ns)
    x, c = torch.randn(2, 3, 8, 8), torch.randn(2, 15)
    assert tuple(ns["Generator"](15)(x, c).shape) == (2, 8, 8, 8)
    with pytest.raises(RuntimeError):
        ns["Generator"](5)(x, c)


# -- joint-vae: the train script builds VAE(img_size=(1, 32, 32), latent_spec={...}) for MNIST

SIZED_VAE = '''
import torch
import torch.nn as nn


class VAE(nn.Module):
    def __init__(self, img_size, latent_spec, hidden_dim=64):
        super(VAE, self).__init__()
        self.img_size = img_size
        self.latent_dim = latent_spec['cont'] + sum(latent_spec['disc'])
        layers = [nn.Conv2d(self.img_size[0], 16, (4, 4), stride=2, padding=1), nn.ReLU()]
        if self.img_size[1:] == (64, 64):
            layers += [nn.Conv2d(16, 16, (4, 4), stride=2, padding=1), nn.ReLU()]
        layers += [nn.Conv2d(16, 32, (4, 4), stride=2, padding=1), nn.ReLU()]
        self.img_to_features = nn.Sequential(*layers)
        self.features_to_hidden = nn.Linear(32 * 8 * 8, hidden_dim)
        self.to_latent = nn.Linear(hidden_dim, LATENT)

    def forward(self, x):
        features = self.img_to_features(x)
        hidden = self.features_to_hidden(features.view(x.size(0), -1))
        return self.to_latent(hidden)
'''

SIZED_VAE_MAIN = '''
import torch
from vae import VAE

img_size = (1, 32, 32)
latent_spec = {'cont': 10, 'disc': [10]}
model = VAE(img_size=img_size, latent_spec=latent_spec)
for data in [torch.randn(2, 1, 32, 32)]:
    model(data)
'''


@pytest.mark.parametrize("latent,found", [("self.latent_dim", False), ("self.latent_dim + 1", True)])
def test_a_dict_literal_argument_is_part_of_the_construction(tmp_path, latent, found):
    """main.py's `latent_spec = {'cont': 10, 'disc': [10]}` is a value like any literal: VAE is
    built with it (latent_dim 20), and a head one wider than the hidden layer gives is found."""
    torch = pytest.importorskip("torch")
    code = SIZED_VAE.replace("LATENT", latent).replace("nn.Linear(hidden_dim, self.latent_dim + 1)",
                                                         "nn.Linear(hidden_dim + 1, self.latent_dim)")
    code = code.replace("self.to_latent = nn.Linear(hidden_dim, self.latent_dim + 1)",
                        "self.to_latent = nn.Linear(hidden_dim + 1, self.latent_dim)")
    f = tmp_path / "vae.py"
    f.write_text(code)
    (tmp_path / "main.py").write_text(SIZED_VAE_MAIN)
    a = _lint(f)
    assert any("latent_spec={'cont': 10, 'disc': [10]}" in r.ctor_text for r in a.runs), [r.ctor_text for r in a.runs]
    assert [x.line for x in a.findings] == ([_line_of(f, "return self.to_latent(hidden)")] if found else []), \
        [x.message for x in a.findings]
    rc, err, where = _torch_run(tmp_path, "main.py")
    assert (rc != 0) == found, err
    if found:
        assert where == (f.resolve(), _line_of(f, "return self.to_latent(hidden)"))


@pytest.mark.parametrize("declared,fits", [("2,3,64,64", False), ("2,1,64,64", False), ("2,1,32,32", True),
                                           ("2,1,40,40", False)])
def test_a_declared_shape_is_not_blamed_on_a_construction_sized_for_another(tmp_path, declared, fits):
    """The only construction the project writes says it is for 1x32x32 images (`img_size=(1, 32,
    32)`); a declared 3x64x64 or 1x64x64 input is another configuration's (VAE builds an extra
    layer for 64x64), not a bug of this one: nothing is said. The matching 1x32x32 declaration is
    checked as usual, and runs cleanly in torch; a declaration that is not another size the
    construction names (1x40x40 with img_size (1, 32, 32): same rank, different) is still not
    blamed on it, as the construction says which input it is for."""
    torch = pytest.importorskip("torch")
    from shapelint.options import input_shapes

    f = tmp_path / "vae.py"
    f.write_text(SIZED_VAE.replace("LATENT", "self.latent_dim"))
    (tmp_path / "main.py").write_text(SIZED_VAE_MAIN)
    a = _lint(f, input_shapes([f"VAE={declared}"]))
    assert a.findings == [], [x.message for x in a.findings]
    ns: dict = {}
    exec(compile(SIZED_VAE.replace("LATENT", "self.latent_dim"), str(f), "exec"), ns)
    assert tuple(ns["VAE"]((1, 32, 32), {'cont': 10, 'disc': [10]})(torch.randn(2, 1, 32, 32)).shape) == (2, 20)
    assert tuple(ns["VAE"]((3, 64, 64), {'cont': 10, 'disc': [10]})(torch.randn(2, 3, 64, 64)).shape) == (2, 20)
    x = torch.randn(*map(int, declared.split(",")))
    if fits:
        assert tuple(ns["VAE"]((1, 32, 32), {'cont': 10, 'disc': [10]})(x).shape) == (2, 20)
    else:
        with pytest.raises(RuntimeError):
            ns["VAE"]((1, 32, 32), {'cont': 10, 'disc': [10]})(x)


KWARGS_FACTORY = '''
import torch.nn as nn


class MobileNet(nn.Module):
    def __init__(self, width=1., num_classes=1000):
        super(MobileNet, self).__init__()
        num_classes = num_classes or 1000
        width = width or 1.
        self.features = nn.Sequential(
            nn.Conv2d(3, int(round(width * 32)), 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(int(round(width * 32)), int(round(width * 64)), 3, stride=2, padding=1), nn.ReLU())
        self.avg_pool = nn.AvgPool2d(POOL)
        self.fc = nn.Linear(int(round(width * 64)), num_classes)

    def forward(self, x):
        x = self.avg_pool(self.features(x))
        return self.fc(x.view(x.size(0), -1))


def mobilenet(**kwargs):
    num_classes, width = map(kwargs.get, ['num_classes', 'width'])
    return MobileNet(width=width, num_classes=num_classes)
'''


@pytest.mark.parametrize("pool,found", [(8, False), (9, True)])
def test_a_declared_shape_reaches_a_kwargs_factorys_defaults(tmp_path, pool, found):
    """quantized.pytorch's factories read their options with `kwargs.get` (None when absent) and
    the class turns None into its default (`width = width or 1.`). The call inside the factory,
    its arguments unknown, builds nothing; the declared 2x3x32x32 goes to the factory's own
    run instead, which builds the defaults: a 9x9 pool over the 8x8 map is found there."""
    torch = pytest.importorskip("torch")
    from shapelint.options import input_shapes

    code = KWARGS_FACTORY.replace("POOL", str(pool))
    f = tmp_path / "mobilenet.py"
    f.write_text(code)
    a = _lint(f, input_shapes(["MobileNet=2,3,32,32"]))
    assert [(x.line, x.code) for x in a.findings] == ([(_line_of(f, "self.avg_pool(self.features(x))"), "SHP004")]
                                                     if found else []), [x.message for x in a.findings]
    ns: dict = {}
    exec(compile(code, str(f), "exec"), ns)
    if found:
        with pytest.raises(RuntimeError, match="Output size is too small"):
            ns["mobilenet"]()(torch.randn(2, 3, 32, 32))
    else:
        assert tuple(ns["mobilenet"]()(torch.randn(2, 3, 32, 32)).shape) == (2, 1000)


WIDTHS_MODEL = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, widths):
        super(Net, self).__init__()
        layers, c = [], 3
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU()]
            c = w
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c, 10)

    def forward(self, x):
        return self.fc(self.features(x).mean((2, 3)))
'''

WIDTHS_TRAIN = '''
import torch
from model import Net

widths = [16]
widths.append(32)
net = Net(widths)
net(torch.randn(2, 3, 8, 8))
'''


def test_a_list_the_script_changes_is_not_its_literal(tmp_path):
    """`widths = [16]; widths.append(32); Net(widths)`: the list the call gets is not the literal
    (a Linear sized for [16] would be blamed for [16, 32]'s 32 channels): the argument is a hole,
    the model built with it unknown, and nothing is reported. torch runs the script cleanly."""
    f = tmp_path / "model.py"
    f.write_text(WIDTHS_MODEL)
    (tmp_path / "train.py").write_text(WIDTHS_TRAIN)
    a = _lint(f)
    assert a.findings == [], [x.message for x in a.findings]
    assert not any("[16]" in r.ctor_text for r in a.runs), [r.ctor_text for r in a.runs]
    rc, err, _ = _torch_run(tmp_path, "train.py")
    assert rc == 0, err


MODEL_ARG_TRAIN = '''
import torch
import torch.nn as nn
import net

helper = object()
decoder = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(128, 3, 3, padding=1))  # the script's own
network = net.Net(nn.Sequential(*list(net.vgg.children())[:5]), decoder)
network(torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32))
'''


def test_a_model_argument_is_code_the_model_file_reads_the_same(tmp_path):
    """`net.Net(nn.Sequential(*list(net.vgg.children())[:5]), decoder)` with `decoder` the
    script's own Sequential: rendered as code net.py evaluates, torch under the alias net.py imports
    it by; the script's 128-channel decoder fits the encoder's 128 channels, as torch agrees."""
    root = _copy("model_args", tmp_path)
    (root / "train.py").write_text(MODEL_ARG_TRAIN)
    a = _lint(root / "net.py")
    want = ("Net(nn.Sequential(*list(vgg.children())[:5]), "
            "nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(128, 3, 3, padding=1)))")
    assert any(r.ctor_text == want for r in a.runs), \
        [r.ctor_text for r in a.runs]
    assert a.findings == [], [x.message for x in a.findings]
    rc, err, _ = _torch_run(root, "train.py")
    assert rc == 0, err


SAGAN_G = '''
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, batch_size, image_size=64, z_dim=100, conv_dim=64):
        super(Generator, self).__init__()
        self.l1 = nn.Sequential(nn.ConvTranspose2d(z_dim, conv_dim * 8, 4), nn.BatchNorm2d(conv_dim * 8), nn.ReLU())
        self.l2 = nn.Sequential(nn.ConvTranspose2d(conv_dim * 8, conv_dim * 4, 4, 2, 1), nn.ReLU())

    def forward(self, z):
        z = z.view(z.size(0), z.size(1), 1, 1)
        return self.l2(self.l1(z))
'''


def test_an_invented_construction_is_not_blamed_when_a_reshape_comes_first(tmp_path):
    """SAGAN's generator: nobody in sight builds Generator(batch_size, ...) (trainer.py does, from
    its own attributes), so it is built for any batch_size with z_dim=100, a default the project's
    parameter.py replaces by 128. The noise is reshaped before the first layer (`z.view(N, z_dim, 1,
    1)`), which the input's probe does not see through; the first layer the forward calls is still
    that construction's guess: a declared 2x128 noise says nothing of it. torch runs 2x128 through
    Generator(2, z_dim=128)."""
    torch = pytest.importorskip("torch")
    from shapelint.options import input_shapes

    f = tmp_path / "sagan_models.py"
    f.write_text(SAGAN_G)
    a = _lint(f, input_shapes(["Generator=2,128"]))
    assert a.findings == [], [x.message for x in a.findings]
    assert any(r.input_origin == "option" and r.ctor_kwargs is not None for r in a.runs)
    ns: dict = {}
    exec(compile(SAGAN_G, str(f), "exec"), ns)
    assert tuple(ns["Generator"](2, z_dim=128)(torch.randn(2, 128)).shape) == (2, 256, 8, 8)


HIDDEN_VAE_MAIN = '''
import torch
from vae import VAE

model = VAE(img_size=(1, 32, 32), latent_spec={'cont': 10, 'disc': [10]}, hidden_dims=[16, 32, 64])
model(torch.randn(2, 1, 32, 32))
'''


def test_a_list_of_hidden_sizes_is_not_an_image_size(tmp_path):
    """`hidden_dims=[16, 32, 64]` is as long as a (C, H, W) input and differs from the declared
    one, but it names no input: the construction still takes the declared 1x32x32 (the one its
    img_size names), and a head one wider than the hidden layer gives is reported there."""
    from shapelint.options import input_shapes

    code = SIZED_VAE.replace("LATENT", "self.latent_dim").replace(
        "def __init__(self, img_size, latent_spec, hidden_dim=64):",
        "def __init__(self, img_size, latent_spec, hidden_dim=64, hidden_dims=None):").replace(
        "self.to_latent = nn.Linear(hidden_dim, self.latent_dim)", "self.to_latent = nn.Linear(hidden_dim + 1, self.latent_dim)")
    f = tmp_path / "vae.py"
    f.write_text(code)
    (tmp_path / "main.py").write_text(HIDDEN_VAE_MAIN)
    a = _lint(f, input_shapes(["VAE=2,1,32,32"]))
    assert [x.line for x in a.findings] == [_line_of(f, "return self.to_latent(hidden)")], [x.message for x in a.findings]
    rc, err, where = _torch_run(tmp_path, "main.py")
    assert rc != 0 and where == (f.resolve(), _line_of(f, "return self.to_latent(hidden)")), err


# -- PyramidNet-PyTorch: train.py builds ResNet(args.dataset, ...) with the default 'imagenet';
# its CIFAR network only with `--dataset cifar10`, the value the script's own branch names

DATASET_MODEL = '''import torch
import torch.nn as nn


class ResNet(nn.Module):
    def __init__(self, dataset, num_classes):
        super().__init__()
        if dataset.startswith('cifar'):
            self.features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
            self.avgpool = nn.AvgPool2d(POOL)
            self.fc = nn.Linear(16, num_classes)
        else:
            self.features = nn.Sequential(nn.Conv2d(3, 16, 7, stride=2, padding=3), nn.ReLU())
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.fc(x.view(x.size(0), -1))
'''

DATASET_TRAIN = '''import argparse

import torch
import torchvision.datasets as datasets
import torchvision.transforms as transforms

import resnet as RN

parser = argparse.ArgumentParser()
parser.add_argument('--dataset', default='imagenet', type=str)
parser.add_argument('--batch_size', default=4, type=int)


def main():
    args = parser.parse_args()
    if args.dataset.startswith('cifar'):
        transform = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.ToTensor()])
        if args.dataset == 'cifar100':
            train_set = datasets.CIFAR100('../data', train=True, download=True, transform=transform)
            numberofclass = 100
        elif args.dataset == 'cifar10':
            train_set = datasets.CIFAR10('../data', train=True, download=True, transform=transform)
            numberofclass = 10
        else:
            raise Exception('unknown dataset')
    elif args.dataset == 'imagenet':
        transform = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor()])
        train_set = datasets.ImageFolder('/data/train', transform)
        numberofclass = 1000
    else:
        raise Exception('unknown dataset')
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    model = RN.ResNet(args.dataset, numberofclass)
    for x, y in train_loader:
        model(x)


if __name__ == '__main__':
    main()
'''


@pytest.mark.parametrize("pool,found", [(16, False), (17, True)])
def test_values_the_script_compares_a_passed_option_with_are_configurations(tmp_path, pool, found):
    """The default `--dataset imagenet` builds the ImageNet network; the CIFAR one, with a pool
    wider than its 16x16 map, is built by `--dataset cifar10`/`cifar100` only, values the script's
    branches name: those runs are analysed with the script's CIFAR crops and the pool is found
    (torch fails there on a 32x32 image); the correct pool is silent."""
    torch = pytest.importorskip("torch")
    code = DATASET_MODEL.replace("POOL", str(pool))
    f = tmp_path / "resnet.py"
    f.write_text(code)
    (tmp_path / "train.py").write_text(DATASET_TRAIN)
    a = _lint(f)
    ns: dict = {}
    exec(compile(code, str(f), "exec"), ns)
    assert tuple(ns["ResNet"]("imagenet", 1000)(torch.randn(2, 3, 224, 224)).shape) == (2, 1000)
    cifar = ns["ResNet"]("cifar10", 10)
    if not found:
        assert tuple(cifar(torch.randn(2, 3, 32, 32)).shape) == (2, 10)
        assert a.findings == [], [x.message for x in a.findings]
        return
    import traceback

    with pytest.raises(RuntimeError) as e:
        cifar(torch.randn(2, 3, 32, 32))
    line = [fr.lineno for fr in traceback.extract_tb(e.tb) if fr.filename == str(f)][-1]
    assert [(x.line, x.code) for x in a.findings] == [(line, "SHP004")], [x.message for x in a.findings]
    assert "dataset='cifar" in a.findings[0].message
