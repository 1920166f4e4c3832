"""Command lines a project documents (README code blocks, shell scripts) as the options that build
its models (issue 9, reach): ``lint/cmdlines.py`` and the constructions they give.

Two oracles: argparse itself (the option values ``cmdlines.world`` reads from a command line must be
the ones ``parser.parse_args`` gives, and a line argparse refuses must give nothing), and torch (the
documented command line, run for real on tiny CIFAR files, fails on the line shapelint reports; the
fixed model runs).
"""
from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from conftest import FIXTURES

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint import cmdlines  # noqa: E402
from shapelint.engine import analyze_source  # noqa: E402

from test_datapipe import oracle  # noqa: E402

PROJECT = FIXTURES / "projects" / "cmdline_readme"
README_ARGV = "--model densenet -b 8 cifar10 --stages 2-2 --growth 4-8"
FIX = ("nn.AvgPool2d(8)", "nn.AvgPool2d(16)")


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "cmdline_readme"
    shutil.copytree(PROJECT, dst)
    return dst


def _lint(path: Path):
    return analyze_source(path.read_text(), str(path), strict=True)


def _marker(path: Path) -> int:
    return [i for i, t in enumerate(path.read_text().splitlines(), 1) if "# expect: SHP002" in t][0]


def test_the_readmes_command_line_builds_the_model(tmp_path):
    """DenseNet's stages and growth have no defaults (``--stages 14-14-14`` is the only way to
    give them), ``args.stages`` is rewritten from that string at module level, ``--model densenet``
    picks the class through ``models/__init__.py``'s alias, and the dataset is a positional: the
    README's line gives all of it, and the bug only that configuration has is found there."""
    root = _copy(tmp_path)
    dense = root / "models" / "dense.py"
    (f,) = _lint(dense).findings
    assert (f.line, f.code) == (_marker(dense), "SHP002"), f.message
    assert "stages=[2, 2]" in f.message and "(README.md:6)" in f.message, f.message
    assert "input from ../main.py:35 (CIFAR10)" in f.message, f.message
    assert " ".join(README_ARGV.split()[:4]) in (root / "README.md").read_text()


def test_torch_agrees_with_the_documented_run(tmp_path):
    root = _copy(tmp_path)
    dense = root / "models" / "dense.py"
    rc, err, seen = oracle(root, "main.py " + README_ARGV)
    assert rc != 0, err
    frames = [(Path(p).resolve(), int(n)) for p, n in re.findall(r'File "([^"]+)", line (\d+)', err)]
    inside = [fr for fr in frames if fr[0].is_relative_to(root.resolve())]
    assert inside[-1] == (dense.resolve(), _marker(dense)), err
    assert seen["DenseNet"] == "8x3x32x32"
    dense.write_text(dense.read_text().replace(*FIX))
    assert _lint(dense).findings == []
    rc, err, _ = oracle(root, "main.py " + README_ARGV)
    assert rc == 0, err
    rc, err, _ = oracle(root, "main.py --model densenet --batch-size=8 cifar10 --stages 3-3 --growth 8-8 --epochs 2")
    assert rc == 0, err  # run.sh's line, fixed, runs too


def test_without_the_docs_the_model_is_listed_not_guessed(tmp_path):
    root = _copy(tmp_path)
    (root / "README.md").unlink()
    (root / "run.sh").unlink()
    a = _lint(root / "models" / "dense.py")
    assert a.findings == []
    # no configuration is guessed: DenseNet(args) is analysed with its options unknown (sizes
    # symbolic), where the documented stages' bug cannot be told
    runs = [r for r in a.runs if r.cls is not None and r.cls.name == "DenseNet" and r.root is not None]
    assert runs and all(r.ctor is None and r.ctor_kwargs is not None for r in runs), \
        [(r.ctor_text, r.built_at) for r in runs]
    assert all(not getattr(v, "attrs", {}).get("stages") for r in runs for v in r.ctor_kwargs.values())


@pytest.mark.parametrize("line,why", [
    ("python main.py --model densenet cifar10 --stages <STAGES> --growth 4-8", "a placeholder"),
    ("python main.py --model densenet cifar10 --stages $STAGES --growth 4-8", "a shell variable"),
    ("python main.py --model densenet cifar10 --stages 2-2 --growth 4-8 --lr 0.1", "an option argparse refuses"),
    ("python main.py --model densenet --stages 2-2 --growth 4-8", "the positional missing"),
    ("python main.py --model densenet cifar10 --stages 2-2 --growth 4-8 --help", "--help"),
    ("python other.py --model densenet cifar10 --stages 2-2 --growth 4-8", "another script"),
])
def test_lines_argparse_would_not_run_build_nothing(tmp_path, line, why):
    root = _copy(tmp_path)
    (root / "run.sh").unlink()
    (root / "README.md").write_text(f"```\n{line}\n```\n")
    assert _lint(root / "models" / "dense.py").findings == [], why


def test_argparse_refuses_the_refused_lines(tmp_path):
    root = _copy(tmp_path)
    for argv in ("--model densenet cifar10 --stages 2-2 --growth 4-8 --lr 0.1",
                 "--model densenet --stages 2-2 --growth 4-8"):
        rc, err, _ = oracle(root, "main.py " + argv)
        assert rc == 2 and "usage:" in err, err


def test_module_level_reads_before_the_script_sets_an_option_are_unknown(tmp_path):
    """A model built at module level above ``args.stages = list(...)`` gets the string argparse
    gave (here DenseNet would fail in Python), never the value the script sets later; built below
    the settings, it gets the list."""
    from shapelint.constructions import find_constructions

    root = _copy(tmp_path)
    main = root / "main.py"
    text = main.read_text()

    def built():
        line = main.read_text().splitlines().index("model = getattr(models, args.model)(args)") + 1
        found = find_constructions(str(root / "models" / "dense.py"), str(root), ["DenseNet"])
        return [c.text for c in found.get("DenseNet", []) if c.where.endswith(f"main.py:{line}")]

    main.write_text(text.replace("\n\ndef main():", "\nmodel = getattr(models, args.model)(args)\n\ndef main():"))
    assert any("stages=[2, 2]" in t for t in built()), built()
    early = "model = getattr(models, args.model)(args)\nargs.stages = list("
    main.write_text(text.replace("args.stages = list(", early))
    assert built() and not any("stages=[" in t for t in built()), built()


# ------------------------------------------------------------------ argparse as the oracle

PARSER = '''
import argparse
parser = argparse.ArgumentParser()
parser.add_argument('data')
parser.add_argument('--model', default='plain', choices=['plain', 'densenet'])
parser.add_argument('-b', '--batch-size', default=64, type=int)
parser.add_argument('--lr', type=float, default=0.1)
parser.add_argument('--stages', type=str)
parser.add_argument('--resume', action='store_true')
parser.add_argument('--no-bias', dest='bias', action='store_false')
parser.add_argument('--sizes', nargs='+', type=int)
parser.add_argument('--crop', nargs=2, type=int)
parser.add_argument('--pretrained', nargs='?', const='imagenet', default=None)
parser.add_argument('-net', type=str, default='vgg')
parser.add_argument('--verbose', '-v', action='count', default=0)
parser.add_argument('--act', type=str2bool, default=True)
'''
TOKENS = ["cifar10", "mnist", "--model", "densenet", "plain", "other", "-b", "8", "-b8", "--batch-size=16",
          "--batch", "--lr", "0.5", "-3", "--stages", "2-2", "--resume", "--res", "--no-bias", "--sizes", "1",
          "2", "--crop", "-net", "resnet", "-v", "--verbose", "--", "--unknown", "x", "--pretrained", "--act",
          "yes", "--model=densenet", "--lr=1e-3", "-vv"]


def _argparse(argv):
    ns = {"str2bool": lambda s: s.lower() in ("yes", "true", "1")}
    exec(PARSER, ns)
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            return vars(ns["parser"].parse_args(argv))
        except SystemExit:
            return None


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=8))
def test_world_agrees_with_argparse(argv):
    want = _argparse(argv)
    got = cmdlines.world(ast.parse(PARSER), argv)
    if want is None:
        assert got is None, (argv, got)  # a line argparse refuses builds nothing
        return
    if got is None:
        return  # not read (short-option clusters): nothing built, never a wrong value
    for dest, v in got.items():
        if not isinstance(v, cmdlines.Unknown):
            assert want[dest] == v, (argv, dest, v, want[dest])
    assert isinstance(got.get("act", cmdlines.UNKNOWN), cmdlines.Unknown)  # a project's type= function


@pytest.mark.parametrize("argv", [
    ["cifar10", "-b", "8", "--stages", "2-2", "--resume", "--sizes", "1", "2", "--lr=1e-3", "-net", "resnet"],
    ["mnist", "-b8", "--batch", "16", "--no-bias", "--crop", "1", "2", "--pretrained", "-v", "-v"],
    ["--pretrained", "x", "cifar10", "--model=densenet", "--lr", "-3"],
])
def test_worlds_of_typical_lines(argv):
    want = _argparse(argv)
    got = cmdlines.world(ast.parse(PARSER), argv)
    assert want is not None and got is not None
    assert {k: want[k] for k in got} == got


def test_documented_lines_are_found_in_readmes_and_scripts(tmp_path):
    (tmp_path / "tools").mkdir()
    (tmp_path / "train.py").write_text("")
    (tmp_path / "tools" / "test.py").write_text("")
    (tmp_path / "README.md").write_text(
        "Run `python train.py --depth 20` or\n\n```bash\nCUDA_VISIBLE_DEVICES=0,1 python3 -u train.py \\\n"
        "   --depth 56 --data cifar100 2>&1 | tee log\n```\n")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "eval.sh").write_text("#!/bin/bash\npython tools/test.py --ckpt best.pth # eval\n"
                                                  "python missing.py --x 1\n")
    paths = [str(tmp_path / "train.py"), str(tmp_path / "tools" / "test.py")]
    got = cmdlines.documented(str(tmp_path), paths)
    assert got[paths[0]] == [(["--depth", "20"], "README.md:1"),
                             (["--depth", "56", "--data", "cifar100"], "README.md:4")]
    assert got[paths[1]] == [(["--ckpt", "best.pth"], os.path.join("scripts", "eval.sh") + ":2")]


# -- a parser defined in an options module the script imports (WDSR's core/option.py)

OPTION_PY = '''import argparse

parser = argparse.ArgumentParser()
parser.add_argument('--width', type=int, default=8)
parser.add_argument('--n-blocks', type=int, default=2)
'''
MODEL_PY = '''import torch.nn as nn


class Net(nn.Module):
    def __init__(self, args):
        super().__init__()
        self.body = nn.Sequential(*[nn.Conv2d(3 if i == 0 else args.width, args.width, 3, padding=1)
                                    for i in range(args.n_blocks)])
        self.fc = nn.Linear(8 * 16 * 16, 10)

    def forward(self, x):
        x = self.body(x)
        return self.fc(x.flatten(1))  # fails when --width is not 8
'''
TRAIN_PY = '''import torch

from core.option import parser
from core.model import Net

if __name__ == '__main__':
    parser.add_argument('--output-dir', type=str, required=True)
    args = parser.parse_args()
    model = Net(args)
    model(torch.randn(2, 3, 16, 16))
'''


def _options_project(tmp_path: Path, readme: str) -> Path:
    root = tmp_path / "proj"
    (root / "core").mkdir(parents=True)
    (root / "core" / "__init__.py").write_text("")
    (root / "core" / "option.py").write_text(OPTION_PY)
    (root / "core" / "model.py").write_text(MODEL_PY)
    (root / "train.py").write_text(TRAIN_PY)
    (root / "README.md").write_text(readme)
    return root


def test_a_parser_imported_from_an_options_module(tmp_path):
    """``from core.option import parser``, more options added, then ``parse_args()``: the options
    module's defaults are the namespace's (a clean model at --width 8), and the README's line is
    parsed with both parsers' options (--width 16: the hard-coded Linear fails, where torch fails)."""
    from test_options_objects import _torch

    readme = "```\npython train.py --output-dir out \\\n    --width 16 --n-blocks 3\n```\n"
    root = _options_project(tmp_path, readme)
    model = root / "core" / "model.py"
    (f,) = _lint(model).findings
    assert f.code == "SHP002" and "width=16" in f.message and "(README.md:2)" in f.message, f.message
    rc, frame, err = _torch(root, "train.py", "--output-dir", "out", "--width", "16", "--n-blocks", "3")
    assert rc != 0 and frame == (model.resolve(), f.line), err
    rc, frame, err = _torch(root, "train.py", "--output-dir", "out")
    assert rc == 0, err  # the defaults run
    (root / "README.md").write_text("```\npython train.py --output-dir out --n-blocks 3\n```\n")
    assert _lint(model).findings == []
    a = _lint(model)
    assert any("n_blocks=3" in r.ctor_text and "width=8" in r.ctor_text for r in a.runs), [r.ctor_text for r in a.runs]


COMMON_PY = '''import torch
import torch.nn as nn


class ShiftMean(nn.Module):
    def __init__(self, rgb_mean):
        super().__init__()
        self.rgb_mean = torch.Tensor(rgb_mean).view(1, {c}, 1, 1)

    def forward(self, x):
        return x - self.rgb_mean
'''


@pytest.mark.parametrize("c", [3, 4])
def test_a_block_built_from_the_models_own_options(tmp_path, c):
    """``ShiftMean(args.rgb_mean)`` inside ``Net.__init__(self, args)``: ``args`` is what every
    construction of Net passes (train.py's namespace, the options module's defaults), so the block
    is built with the list and ``torch.Tensor(list).view(1, 4, 1, 1)`` fails where torch fails."""
    from test_options_objects import _torch

    root = _options_project(tmp_path, "")
    (root / "core" / "option.py").write_text(OPTION_PY + "parser.add_argument('--rgb-mean', type=list, "
                                             "default=[0.4488, 0.4371, 0.4040])\n")
    (root / "core" / "common.py").write_text(COMMON_PY.format(c=c))
    model = root / "core" / "model.py"
    model.write_text(MODEL_PY.replace("import torch.nn as nn\n", "import torch.nn as nn\nfrom .common import ShiftMean\n")
                     .replace("        super().__init__()\n", "        super().__init__()\n"
                              "        self.shift = ShiftMean(args.rgb_mean)\n")
                     .replace("        x = self.body(x)", "        x = self.body(self.shift(x))"))
    common = root / "core" / "common.py"
    got = [(f.line, f.code) for f in _lint(common).findings]
    rc, frame, err = _torch(root, "train.py", "--output-dir", "out")
    if c == 3:
        assert got == [] and rc == 0, (got, err)
    else:
        assert rc != 0 and got == [(frame[1], "SHP001")] and frame[0] == common.resolve(), (got, err)


SMALL_NET = '''import torch.nn as nn


class Net(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.fc = nn.Linear(WIDTH * 8 * 8, 10)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))
'''

SMALL_TRAIN = '''import argparse

import torch

from model import Net

parser = argparse.ArgumentParser()
parser.add_argument('--net', default='big', choices=['big', 'small'])
args = parser.parse_args()
if args.net == 'small':
    model = Net(8)
else:
    model = Net(16)
model(torch.randn(2, 3, 8, 8))
'''


@pytest.mark.parametrize("width", [8, 16])
def test_a_documented_line_giving_an_option_worlds_construction_again(tmp_path, width):
    """`if args.net == 'small': Net(8)` is built under the option's value, then again under the
    README's `--net small`: the documented construction replaces the first (its message names the
    line) and the analysis goes on to the end (it once looped there forever). torch: the small net
    fails in its head when the head is sized for the big one."""
    torch = pytest.importorskip("torch")
    import subprocess
    import sys

    code = SMALL_NET.replace("WIDTH", str(width))
    (tmp_path / "model.py").write_text(code)
    (tmp_path / "train.py").write_text(SMALL_TRAIN)
    (tmp_path / "README.md").write_text("Train the small one:\n\n```\npython train.py --net small\n```\n")
    out = subprocess.run([sys.executable, "-m", "shapelint", "check", "--no-cache", "--format", "json", "model.py"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    import json

    found = json.loads(out.stdout or "[]")
    ns: dict = {}
    exec(compile(code, str(tmp_path / "model.py"), "exec"), ns)
    x = torch.randn(2, 3, 8, 8)
    if width == 8:
        ns["Net"](8)(x)
        with pytest.raises(RuntimeError):
            ns["Net"](16)(x)
    else:
        ns["Net"](16)(x)
        with pytest.raises(RuntimeError):
            ns["Net"](8)(x)
    lines = {f["line"] for f in (found if isinstance(found, list) else found.get("findings", []))}
    assert lines == {11}, out.stdout
