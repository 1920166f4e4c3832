"""Notebooks: code cells as one module, magics and shell lines skipped, nbqa-style positions;
the fixture's bug (third code cell) is checked against a real torch run of the cells."""
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from shapelint.notebook import load_source, notebook_source

ROOT = Path(__file__).resolve().parent.parent
NB = ROOT / "fixtures" / "notebooks" / "mnist_cell3_bug.ipynb"
ENV = dict(os.environ, SHAPELINT_STRICT="1")


def shapelint(*args):
    return subprocess.run([sys.executable, "-m", "shapelint", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, env=ENV, timeout=300)


def torch_failure():
    """Run the notebook's code cells (magics skipped) in torch; (cell, line) where torch raises."""
    import torch  # noqa: F401 - the oracle

    code, mapper = load_source(str(NB))
    ns = {"__name__": "__notebook__"}
    with pytest.raises(RuntimeError) as info:
        exec(compile(code, "<notebook>", "exec"), ns)
    frames = [f for f in traceback.extract_tb(info.value.__traceback__) if f.filename == "<notebook>"]
    return mapper.cell_line(frames[-1].lineno), str(info.value)


def test_bug_in_the_third_code_cell_matches_torch():
    (cell, line), message = torch_failure()
    assert cell == 3 and "320" in message
    r = shapelint("check", NB)
    assert r.returncode == 1, r.stderr
    text = r.stdout.strip()
    assert text.startswith(f"{NB}:cell_{cell}:{line}:13: SHP001 x.view(-1, 320)"), text
    cell_src = "".join([c for c in json.loads(NB.read_text())["cells"] if c["cell_type"] == "code"][2]["source"])
    assert cell_src.splitlines()[line - 1].index("x.view") + 1 == 13
    d = json.loads(shapelint("check", NB, "--format", "json").stdout)[0]
    assert (d["cell"], d["line"], d["col"]) == (3, line, 13)


def test_directory_walk_finds_notebooks():
    r = shapelint("check", NB.parent)
    assert r.returncode == 1 and "cell_3:" in r.stdout


def nb(*cells):
    return json.dumps({"cells": [{"cell_type": t, "source": s, "metadata": {}} for t, s in cells],
                       "nbformat": 4, "nbformat_minor": 5, "metadata": {}})


def test_magics_shell_and_help_lines_are_skipped_in_place():
    code, mapper = notebook_source(nb(
        ("code", "%load_ext autoreload\nimport os\n!ls\nfiles = !ls\nos?\nif True:\n    %time x = 1\n    y = 2"),
        ("markdown", "# not code"),
        ("code", "%%bash\necho hi"),
        ("code", "%%time\nz = 3"),
    ))
    lines = code.splitlines()
    compile(code, "nb", "exec")
    assert lines[1] == "import os" and lines[0] == "pass" and lines[2] == "pass" and lines[3] == "pass"
    assert lines[6] == "    pass" and lines[7] == "    y = 2"
    assert "echo" not in code and "z = 3" in code
    assert mapper.cell_line(lines.index("z = 3") + 1) == (3, 2)  # markdown cells are not counted
    assert mapper.position(8, 5) == "cell_1:8:5"


def test_not_a_notebook_is_one_error(tmp_path):
    p = tmp_path / "broken.ipynb"
    p.write_text("{not json")
    r = shapelint("check", p)
    assert r.returncode == 2 and "not a notebook" in r.stderr and "Traceback" not in r.stderr


def test_syntax_error_in_a_cell_is_placed_in_the_cell(tmp_path):
    p = tmp_path / "s.ipynb"
    p.write_text(nb(("code", "import torch"), ("code", "x = 1\ny = torch.zeros(1,\n")))
    r = shapelint("check", p)
    assert r.returncode == 2 and f"{p}:cell_2:" in r.stderr and "syntax error" in r.stderr


def test_summary_of_a_notebook_class_equals_the_same_code_as_a_file(tmp_path, capsys):
    from shapelint.cli import main
    from shapelint.notebook import load_source

    nb = Path(__file__).resolve().parent.parent / "fixtures" / "notebooks" / "mnist_cell3_bug.ipynb"
    as_py = tmp_path / "nb.py"
    as_py.write_text(load_source(str(nb))[0])
    outs = []
    for target in (f"{nb}::Net", f"{as_py}::Net"):
        rc = main(["summary", target, "--input-shape", "2,1,28,28", "--format", "json"])
        outs.append((rc, json.loads(capsys.readouterr().out)))
    assert outs[0][0] == outs[1][0] == 0
    for _, j in outs:
        j.pop("model", None)
        j["graph"].pop("model", None)
    assert outs[0][1] == outs[1][1] and outs[0][1]["output_shapes"] == [[2, 10]]
