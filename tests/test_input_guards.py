"""Issue 12, input side: sizes, non-regular files, encodings, bad paths, deep but valid code --
never a traceback, never another file's findings lost."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
BUG = FIX / "mnist_net_56.py"
ENV = dict(os.environ, SHAPELINT_STRICT="1")
BUG_LINE = "mnist_net_56.py:19:13: SHP001"

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"
DEEP = {
    # the four shapes of issue 12, each a RecursionError traceback before
    "strings.py": HEAD + "S = (\n" + "".join(f"    'line{i}'\n" for i in range(350)) + ")\n",
    "plus.py": HEAD + "X = " + "+".join(["1"] * 340) + "\n",
    "ors.py": HEAD + "a = 0\nY = " + " or ".join(["a"] * 400) + "\n",
    "relu.py": HEAD + "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                      "        self.fc = nn.Linear(4, 4)\n\n    def forward(self, x):\n        return "
                      + "F.relu(" * 150 + "self.fc(x)" + ")" * 150 + "\n",
}
# deeper than even the guarded stack: reported once as not analysed
BEYOND = {
    "plus_5000.py": HEAD + "X = " + "+".join(["1"] * 5000) + "\n",  # libcst's parse is cubic in this
}
# 20,000 chained `or` at module level: not analysed (a RecursionError) while the planner walked the
# tree with libcst's recursive visitor; its walk has no recursion since (lint/core/cstwalk.py), and
# the file is analysed like any other: no note, no finding
ORS = {"ors_20000.py": HEAD + "a = 0\nY = " + " or ".join(["a"] * 20000) + "\n"}


def shapelint(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "shapelint", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=ENV, timeout=300)


def write(folder: Path, files: dict) -> list:
    out = []
    for name, text in files.items():
        (folder / name).write_text(text)
        out.append(folder / name)
    return out


def test_deep_valid_code_is_analysed_without_traceback(tmp_path):
    import torch  # the oracle: each file is valid Python, and the nested relus run

    for name, text in DEEP.items():
        exec(compile(text, name, "exec"), {"__name__": "deep"})
    ns = {"__name__": "deep"}
    exec(compile(DEEP["relu.py"], "relu.py", "exec"), ns)
    assert ns["Net"]()(torch.randn(2, 4)).shape == (2, 4)
    paths = write(tmp_path, DEEP)
    r = shapelint("check", *paths, BUG, "-j", "1")
    assert r.returncode == 1, r.stderr
    assert r.stderr == ""
    assert r.stdout.count("SHP") == 1 and BUG_LINE in r.stdout


def test_beyond_the_guard_one_note_and_the_rest_stands(tmp_path):
    paths = write(tmp_path, {**BEYOND, **ORS})
    for jobs in ("1", "2"):
        r = shapelint("check", *paths, BUG, "-j", jobs)
        assert r.returncode == 1 and BUG_LINE in r.stdout, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "plus_5000.py: not analysed" in lines[0], r.stderr
        assert r.stdout.count("SHP") == 1 and "Traceback" not in r.stderr


def flake8(*args, cwd):
    return subprocess.run([sys.executable, "-m", "flake8", "--select=SHP", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=ENV, timeout=300)


def test_flake8_j2_over_deep_files_keeps_the_good_files_finding(tmp_path):
    # plus.py is left out: pyflakes (flake8's own F checks) itself dies on 340 chained `+`
    files = {k: v for k, v in DEEP.items() if k != "plus.py"}
    files.update(ORS)
    write(tmp_path, files)
    (tmp_path / "good.py").write_text(BUG.read_text())
    r = flake8("-j", "2", ".", cwd=tmp_path)
    out = r.stdout.splitlines()
    assert len(out) == 1 and out[0].startswith("./good.py:19:13: SHP001 [*] x.view(-1, 320)"), r.stdout
    assert "SHP000" not in r.stdout
    assert r.stderr.strip() == "", r.stderr


def test_flake8_max_file_size(tmp_path):
    p = tmp_path / "big.py"
    p.write_text(BUG.read_text() + "# " + "x" * 3000 + "\n")
    r = flake8("--shapelint-max-file-size=2kB", p.name, cwd=tmp_path)
    assert r.stdout == "" and "skipped" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "SHP001" in flake8(p.name, cwd=tmp_path).stdout


def test_files_over_the_size_limit_are_skipped_with_one_line(tmp_path):
    big = tmp_path / "big.py"
    big.write_text(BUG.read_text() + "# padding\n" * 300)
    r = shapelint("check", big, "--max-file-size", "2kB")
    assert r.returncode == 0 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "skipped" in r.stderr and "max-file-size" in r.stderr
    assert shapelint("check", big).returncode == 1  # default 2 MB
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\nmax-file-size = 2048\n')
    r = shapelint("check", big.name, cwd=tmp_path)
    assert r.returncode == 0 and "skipped" in r.stderr
    r = shapelint("check", big, "--max-file-size", "lots")
    assert r.returncode == 2 and "'lots'" in r.stderr


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_non_regular_files_are_refused(tmp_path):
    zero = tmp_path / "zero.py"
    zero.symlink_to("/dev/zero")
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    r = shapelint("check", zero, fifo, BUG)
    assert r.returncode == 2 and BUG_LINE in r.stdout
    assert "character device" in r.stderr and "FIFO" in r.stderr and "Traceback" not in r.stderr
    r = shapelint("check", tmp_path)  # found by the directory walk: refused the same way
    assert r.returncode == 2 and "refused" in r.stderr


def test_pep263_encoding(tmp_path):
    src = "# -*- coding: latin-1 -*-\n# Modèle\n" + BUG.read_text().replace('"""MNIST', '"""Réseau MNIST')
    p = tmp_path / "latin.py"
    p.write_bytes(src.encode("latin-1"))
    r = shapelint("check", p)
    assert r.returncode == 1 and ":21:13: SHP001" in r.stdout, r.stderr


def test_one_bad_path_never_hides_the_others(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_bytes(b"import torch\nx = '\xff\xfe'\n")  # not UTF-8, no coding cookie
    r = shapelint("check", BUG, tmp_path / "missing.py", bad, FIX / "rule_shp005_batch_fold.py")
    assert r.returncode == 2
    assert BUG_LINE in r.stdout and "SHP005" in r.stdout
    assert "missing.py: no such file" in r.stderr and "bad.py: cannot read" in r.stderr
    assert "Traceback" not in r.stderr


def test_libcst_limits_on_valid_python_are_a_note(tmp_path):
    # 4,000 implicitly concatenated strings: valid Python that libcst's parser refuses
    p = tmp_path / "s.py"
    p.write_text(HEAD + "S = (\n" + "".join(f"    'l{i}'\n" for i in range(4000)) + ")\n")
    compile(p.read_text(), str(p), "exec")
    r = shapelint("check", p, BUG)
    assert r.returncode == 1 and BUG_LINE in r.stdout
    assert "not analysed" in r.stderr and "syntax error" not in r.stderr
