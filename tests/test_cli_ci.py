"""CI-facing behaviour of `shapelint check`: typos are errors naming the fix, output formats
(SARIF against the official schema, GitHub annotations), --output-file, --jobs, python -m."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
BUG = FIX / "mnist_net_56.py"
ENV = dict(os.environ, SHAPELINT_STRICT="1")


def shapelint(*args, cwd=None, module="shapelint.cli", env=None):
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=env or ENV, timeout=300)


def one_error(r, *needles):
    """Exit 2, nothing on stdout, one line on stderr holding every needle."""
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    assert "Traceback" not in r.stderr


# ------------------------------------------------------------------------------------------------
# typos
# ------------------------------------------------------------------------------------------------

# SHP999: SHP009 (two edits) is closer than SHP100 (three) since both codes exist
@pytest.mark.parametrize("flag,bad,near", [
    ("--select", "SHP999", "SHP009"), ("--select", "XYZ", "SHP"), ("--ignore", "SHP0001", "SHP001"),
    ("--select", "SHP001,SPH002", "SHP002"),
])
def test_unknown_codes_are_errors_naming_the_closest(flag, bad, near):
    r = shapelint("check", BUG, flag, bad)
    token = bad.split(",")[-1]
    one_error(r, flag, repr(token), "did you mean", near)


def test_code_prefixes_stay_valid():
    r = shapelint("check", BUG, "--select", "SHP00")
    assert r.returncode == 1 and "SHP001" in r.stdout


def test_unknown_input_shape_class_names_the_closest(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(BUG.read_text().replace("class Net(", "class TinyResNet(").replace("Net()", "TinyResNet()")
                 .replace("super(Net", "super(TinyResNet"))
    one_error(shapelint("check", p, "--input-shape", "TinyResnet=1,1,28,28"),
              "TinyResnet", "did you mean 'TinyResNet'")
    one_error(shapelint("check", p, "--input-shape", "Nope=1,2"), "'Nope'", "'TinyResNet'")


def test_malformed_dims_are_errors():
    one_error(shapelint("check", BUG, "--input-shape", "Net=1,,28"), "Net=1,,28", "empty dimension")
    r = shapelint("check", FIX / "mnist_net.py", "--input-shape", "Net=1,1,56,56,")  # a trailing comma is fine
    assert r.returncode == 1 and "2420" in r.stdout


def test_duplicate_input_for_a_one_input_model(tmp_path):
    r = shapelint("check", BUG, "--input-shape", "Net=1,1,56,56", "--input-shape", "Net=1,1,28,28")
    one_error(r, "Net", "given 2 times", "takes 1 input")
    # a model whose forward takes two inputs takes two
    two = tmp_path / "two.py"
    two.write_text("import torch\nimport torch.nn as nn\n\n\nclass Two(nn.Module):\n"
                   "    def __init__(self):\n        super().__init__()\n        self.a = nn.Linear(4, 3)\n"
                   "        self.b = nn.Linear(5, 3)\n\n    def forward(self, x, y):\n"
                   "        return self.a(x) + self.b(y)\n")
    r = shapelint("check", two, "--input-shape", "Two=2,4", "--input-shape", "Two=2,6")
    assert r.returncode == 1 and "SHP002" in r.stdout, (r.stdout, r.stderr)
    import torch  # the oracle: the second input's 6 features do not fit Linear(5, 3)

    from conftest import load_fixture_module
    mod = load_fixture_module(two)
    with pytest.raises(RuntimeError):
        mod.Two()(torch.randn(2, 4), torch.randn(2, 6))
    assert shapelint("check", two, "--input-shape", "Two=2,4", "--input-shape", "Two=2,5").returncode == 0


def test_unknown_config_key_names_the_closest(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\ninput-shapes = ["Net=1,1,56,56"]\n')
    p = tmp_path / "m.py"
    p.write_text((FIX / "mnist_net.py").read_text())
    one_error(shapelint("check", p.name, cwd=tmp_path), "'input-shapes'", "did you mean 'input-shape'")
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\nselect = ["SHP02"]\n')
    one_error(shapelint("check", p.name, cwd=tmp_path), "select in [tool.shapelint]", "'SHP02'")
    # underscores are accepted for dashes, and max-file-size is a key
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\ninput_shape = ["Net=1,1,56,56"]\nmax-file-size = "1MB"\n')
    r = shapelint("check", p.name, cwd=tmp_path)
    assert r.returncode == 1 and "2420" in r.stdout


def test_config_input_shape_may_name_classes_of_other_files(tmp_path):
    # the config is project-wide and pre-commit passes only the changed files: no error there
    (tmp_path / "pyproject.toml").write_text('[tool.shapelint]\ninput-shape = ["Other=1,3,32,32", "Net=1,1,56,56"]\n')
    p = tmp_path / "m.py"
    p.write_text((FIX / "mnist_net.py").read_text())
    r = shapelint("check", p.name, cwd=tmp_path)
    assert r.returncode == 1 and "2420" in r.stdout and r.stderr == ""


@pytest.mark.parametrize("value,strict", [("0", False), ("false", False), ("No", False), ("off", False),
                                          ("", False), ("1", True), ("true", True), ("yes", True)])
def test_strict_env_is_a_boolean(value, strict, monkeypatch):
    from shapelint.engine import strict_mode

    monkeypatch.setenv("SHAPELINT_STRICT", value)
    assert strict_mode() is strict


def test_tomli_is_a_dependency_for_old_pythons():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'tomli>=1.1; python_version < "3.11"' in text


# ------------------------------------------------------------------------------------------------
# formats
# ------------------------------------------------------------------------------------------------

def test_reporter_per_format():
    from shapelint.cli import FORMATS
    from shapelint.reporters import REPORTERS

    assert set(FORMATS) == set(REPORTERS)


def test_json_col_is_one_based_like_text():
    text = shapelint("check", BUG).stdout.strip()
    doc = json.loads(shapelint("check", BUG, "--format", "json").stdout)
    assert len(doc) == 1
    d = doc[0]
    assert text.startswith(f"{d['path']}:{d['line']}:{d['col']}: {d['code']} ")
    src = BUG.read_text().splitlines()[d["line"] - 1]
    assert d["col"] == src.index("x.view") + 1


def test_sarif_is_valid_against_the_official_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text())
    r = shapelint("check", BUG, FIX / "rule_shp005_batch_fold.py", FIX / "notebooks", "--format", "sarif")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, schema)
    results = doc["runs"][0]["results"]
    assert {x["ruleId"] for x in results} == {"SHP001", "SHP005"} and len(results) == 3
    first = results[0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"]["uri"] == "fixtures/mnist_net_56.py"
    assert first["region"] == {"startLine": 19, "startColumn": 13}
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[x["ruleIndex"]]["id"] == x["ruleId"] for x in results)
    nb = [x for x in results if x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(".ipynb")]
    assert nb and nb[0]["properties"]["cell"] == 3
    # a clean run is a valid, empty report
    clean = json.loads(shapelint("check", FIX / "mnist_net.py", "--format", "sarif").stdout)
    jsonschema.validate(clean, schema)
    assert clean["runs"][0]["results"] == []


def test_github_annotations():
    r = shapelint("check", BUG, "--format", "github")
    assert r.returncode == 1
    line = r.stdout.strip()
    assert line.startswith(f"::error file={BUG},line=19,col=13,title=SHP001::x.view(-1, 320): ")
    assert "\n" not in line


def test_github_escapes_workflow_command_syntax():
    from io import StringIO

    from shapelint.reporters import Item, get_reporter

    out = StringIO()
    get_reporter("github")(out, StringIO()).report([Item("a,b:c.py", 1, 2, "SHP001", "50% of\nit")], [])
    assert out.getvalue() == "::error file=a%2Cb%3Ac.py,line=1,col=2,title=SHP001::50%25 of%0Ait\n"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_output_file(tmp_path, fmt):
    out = tmp_path / "report.out"
    r = shapelint("check", BUG, "--format", fmt, "--output-file", out)
    assert r.returncode == 1 and r.stdout == "" and r.stderr == ""
    assert out.read_text() == shapelint("check", BUG, "--format", fmt).stdout


def test_output_file_unwritable(tmp_path):
    one_error(shapelint("check", BUG, "--output-file", tmp_path / "no" / "such" / "dir.txt"), "--output-file")


# ------------------------------------------------------------------------------------------------
# --jobs, python -m
# ------------------------------------------------------------------------------------------------

def test_jobs_output_is_byte_identical(tmp_path):
    args = ["check", FIX, "--format", "json"]
    one = shapelint(*args, "--jobs", "1")
    two = shapelint(*args, "--jobs", "2")
    assert one.returncode == two.returncode == 1
    assert len(json.loads(one.stdout)) > 10
    assert one.stdout == two.stdout and one.stderr == two.stderr
    # the text format prints the same records (its own ordering shown on a sample: a whole second
    # pass over the fixtures would only repeat the JSON comparison's analyses)
    sample = sorted(FIX.glob("*_bug.py"))[::6] + [BUG]
    text1 = shapelint("check", *sample, "-j", "1").stdout
    assert text1.count("SHP") >= 3 and text1 == shapelint("check", *sample, "-j", "2").stdout
    r = shapelint("check", BUG, "--jobs", "0")
    assert r.returncode == 2 and "--jobs" in r.stderr and "Traceback" not in r.stderr


def test_no_progress_bar_when_not_a_tty():
    r = shapelint("check", FIX / "mnist_net.py", FIX / "mnist_net_56.py", "-j", "1")
    assert r.stderr == ""


def test_cli_import_stays_cheap():
    code = ("import sys, shapelint.cli; shapelint.cli.build_parser(); "
            "print(sorted(m for m in ('libcst', 'torch', 'tqdm', 'shapelint.engine') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_python_dash_m_shapelint():
    r = shapelint("check", BUG, module="shapelint")
    assert r.returncode == 1 and "SHP001" in r.stdout
    assert shapelint("--version", module="shapelint").stdout.startswith("shapelint ")


def test_license_file_matches_pyproject():
    assert 'license = { text = "MIT" }' in (ROOT / "pyproject.toml").read_text()
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_readme_has_no_unpublished_install_advice():
    from shapelint.commands import confirm

    assert "shapelint[torch]" not in (ROOT / "README.md").read_text()
    assert "shapelint[torch]" not in confirm.NO_TORCH


# ------------------------------------------------------------------------------------------------
# positions
# ------------------------------------------------------------------------------------------------

def test_syntax_error_at_pythons_position(tmp_path):
    src = "import torch\n\n\ndef f(x):\n    return torch.cat([x, x]\n\n"
    p = tmp_path / "bad.py"
    p.write_text(src)
    try:
        compile(src, str(p), "exec")
    except SyntaxError as e:
        want = f"{e.lineno}:{e.offset}"
    r = shapelint("check", p)
    one_error(r, f"{p}:{want}: syntax error")


def test_progress_bar_only_on_a_terminal(monkeypatch):
    import io

    from shapelint import cli

    class Tty(io.StringIO):
        def isatty(self):
            return True

    items = list(range(5))
    monkeypatch.setattr(cli.sys, "stderr", io.StringIO())
    assert cli._progress(items, 5) is items  # not a terminal: no bar, tqdm not even imported
    monkeypatch.setattr(cli.sys, "stderr", Tty())
    bar = cli._progress(iter(items), 5)
    assert type(bar).__name__ == "tqdm" and list(bar) == items
    assert cli._progress(items, 1) is items  # one file: nothing to show
