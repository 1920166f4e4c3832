"""The `shapelint` command: exit codes, formats, noqa, config, readable errors."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
ENV = dict(os.environ, SHAPELINT_STRICT="1")


def shapelint(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "shapelint.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=ENV, timeout=120)


def test_clean_file_exits_0():
    r = shapelint("check", FIX / "mnist_net.py")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""


def test_finding_exits_1_with_flake8_style_line():
    r = shapelint("check", FIX / "mnist_net_56.py")
    assert r.returncode == 1
    line = r.stdout.strip()
    assert line.startswith(f"{FIX / 'mnist_net_56.py'}:19:13: SHP001 [*] x.view(-1, 320)")  # [*]: --fix fixes it


def test_json_and_directory_walk():
    r = shapelint("check", FIX, "--format", "json", "--select", "SHP005")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert {Path(d["path"]).name for d in out} == {"rule_shp005_batch_fold.py", "rule_shp005_reshape_fold.py"}
    assert set(out[0]) - {"fix"} == {"path", "line", "col", "code", "message"}  # fix: --fix can fix it


def test_ignore_and_input_shape_option():
    r = shapelint("check", FIX / "mnist_net.py", "--input-shape", "Net=1,1,56,56")
    assert r.returncode == 1 and "SHP001" in r.stdout
    r = shapelint("check", FIX / "mnist_net.py", "--input-shape", "Net=1,1,56,56", "--ignore", "SHP001")
    assert r.returncode == 0


@pytest.mark.parametrize("args,needle", [
    (["check", "does/not/exist.py"], "no such file"),
    (["check", "fixtures/mnist_net.py", "--input-shape", "Net"], "malformed input shape"),
    (["check", "fixtures/mnist_net.py", "--input-shape", "Net=1,0,28"], "must be >= 1"),
    (["explain", "SHP999"], "unknown rule"),
])
def test_bad_input_is_one_readable_line(args, needle):
    r = shapelint(*args)
    assert r.returncode == 2
    assert needle in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_syntax_error(tmp_path):
    p = tmp_path / "broken.py"
    p.write_text("import torch\n\ndef f(:\n    pass\n")
    r = shapelint("check", p)
    assert r.returncode == 2 and "syntax error" in r.stderr and "Traceback" not in r.stderr


def test_noqa(tmp_path):
    src = (FIX / "mnist_net_56.py").read_text().replace("# expect: SHP001", "# noqa: SHP001")
    p = tmp_path / "m.py"
    p.write_text(src)
    assert shapelint("check", p).returncode == 0
    p.write_text(src.replace("# noqa: SHP001", "# noqa: SHP002"))
    assert shapelint("check", p).returncode == 1


def test_pyproject_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\ninput-shape = ["Net=1,1,56,56"]\n')
    p = tmp_path / "m.py"
    p.write_text((FIX / "mnist_net.py").read_text())
    r = shapelint("check", p, cwd=tmp_path)
    assert r.returncode == 1 and "2420" in r.stdout
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\ninput-shape = ["Net=1,1,56,56"]\nignore = ["SHP001"]\n')
    assert shapelint("check", p, cwd=tmp_path).returncode == 0


def test_explain_prints_the_rule_doc():
    r = shapelint("explain", "shp001")
    assert r.returncode == 0
    for section in ("## What it catches", "## Why it matters", "## Example", "## Use instead"):
        assert section in r.stdout


def test_explain_says_what_fix_does():
    assert "## Fix (`check --fix`)\nSafe" in shapelint("explain", "SHP002").stdout
    assert "## Fix (`check --fix`)\nNone: the repair is new code" in shapelint("explain", "SHP006").stdout


def test_every_rule_says_whether_it_fixes():
    from shapelint.rules_registry import all_rules, fix_doc

    for rule in all_rules():
        assert fix_doc(rule), rule.CODE  # a documented fix() hook, or NO_FIX with the reason


def test_every_rule_documents_bad_and_good_examples():
    from shapelint.rules_registry import all_rules

    for rule in all_rules():
        assert rule.CODE and rule.NAME and rule.SUMMARY
        if rule.CODE not in ("SHP000", "SHP100"):
            assert "```python" in rule.DOC.split("## Use instead")[0], rule.CODE
            assert "## Use instead" in rule.DOC, rule.CODE
