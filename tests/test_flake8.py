"""The flake8 plugin, through real flake8 in a subprocess: columns as flake8 prints them,
noqa, selection, the torch-free gate, SHP000 containment."""
import os
import re
import subprocess
import sys
from pathlib import Path

FIX = Path(__file__).resolve().parent.parent / "fixtures"


def flake8(*args, strict=True, cwd=None):
    env = dict(os.environ)
    env.pop("SHAPELINT_STRICT", None)
    if strict:
        env["SHAPELINT_STRICT"] = "1"
    return subprocess.run([sys.executable, "-m", "flake8", "--select=SHP", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def expected_lines(path):
    out = set()
    for i, line in enumerate(path.read_text().splitlines(), 1):
        m = re.search(r"#\s*expect:\s*(SHP\d{3})", line)
        if m:
            out.add((i, m.group(1)))
    return out


def test_flake8_reports_markers_with_flake8_columns():
    files = [FIX / n for n in ("mnist_net_56.py", "mnist_linear_mismatch.py", "rule_shp006_se_block.py",
                               "rule_shp007_same_stride.py", "mnist_net.py", "resnet_blocks.py")]
    r = flake8(*files)
    assert r.stderr == ""
    got = {}
    for line in r.stdout.splitlines():
        path, lno, col, rest = line.split(":", 3)
        got.setdefault(Path(path).name, set()).add((int(lno), rest.split()[0]))
        if Path(path).name == "mnist_net_56.py":
            text = (FIX / "mnist_net_56.py").read_text().splitlines()[int(lno) - 1]
            assert int(col) == text.index("x.view") + 1  # flake8 prints 1-based columns
    for f in files:
        assert got.get(f.name, set()) == expected_lines(f), f.name


def test_noqa_and_ignore(tmp_path):
    src = (FIX / "mnist_net_56.py").read_text().replace("# expect: SHP001", "# noqa: SHP001")
    p = tmp_path / "m.py"
    p.write_text(src)
    assert flake8(p).stdout == ""
    p.write_text(src.replace("# noqa: SHP001", ""))
    assert "SHP001" in flake8(p).stdout
    assert flake8(p, "--extend-ignore=SHP001").stdout == ""


def test_input_shape_from_flake8_config(tmp_path):
    (tmp_path / "setup.cfg").write_text("[flake8]\ninput-shape = Net=1,1,56,56\n")
    p = tmp_path / "m.py"
    p.write_text((FIX / "mnist_net.py").read_text())
    r = flake8(p.name, cwd=tmp_path)
    assert "SHP001" in r.stdout and "2420" in r.stdout


def test_engine_error_becomes_shp000_and_other_files_survive(tmp_path, monkeypatch):
    # A plugin that crashes inside the analysis must not lose other files' results.
    boom = tmp_path / "sitecustomize.py"
    boom.write_text(
        "import shapelint.engine as e\n"
        "_orig = e.execute\n"
        "def execute(src, run, *args, **kwargs):\n"
        "    if 'BOOM' in src.code:\n"
        "        raise ZeroDivisionError('injected')\n"
        "    return _orig(src, run, *args, **kwargs)\n"
        "e.execute = execute\n")
    bad = tmp_path / "bad.py"
    bad.write_text("# BOOM\n" + (FIX / "mnist_net.py").read_text())
    good = tmp_path / "good.py"
    good.write_text((FIX / "mnist_net_56.py").read_text())
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    env.pop("SHAPELINT_STRICT", None)
    r = subprocess.run([sys.executable, "-m", "flake8", "--select=SHP", str(bad), str(good)], capture_output=True,
                       text=True, env=env, timeout=300)
    assert "SHP000" in r.stdout and "ZeroDivisionError" in r.stdout
    assert "good.py:19:13: SHP001" in r.stdout
    env["SHAPELINT_STRICT"] = "1"
    r = subprocess.run([sys.executable, "-m", "flake8", "--select=SHP", str(bad)], capture_output=True, text=True,
                       env=env, timeout=300)
    assert "ZeroDivisionError" in r.stderr + r.stdout and "SHP000" not in r.stdout


def test_file_without_torch_is_not_parsed(tmp_path):
    p = tmp_path / "plain.py"
    p.write_text("def f(:\n")  # would be a libcst parse error if shapelint parsed it
    r = flake8(p)
    assert "SHP" not in r.stdout
