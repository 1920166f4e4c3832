"""transformers, timm and diffusers targets (issue 16), statically, against torch: the output
shape and total parameters of each target in bench/libs_targets.json equal those recorded from a
real torch run (random init, no downloads) in bench/libs_truth.json by bench/libs_truth.py.

Needs each library's *source* only (nothing is imported): SHAPELINT_LIBS_SRC names the folder
holding transformers/, timm/ and diffusers/ (an unpacked wheel), else the installed packages are
used. A library whose source is not found skips its targets, saying so.

The default run checks a representative subset, one target or two per library (DEFAULT below,
about a minute on two cores); SHAPELINT_LIBS_ALL=1 checks every target, the summary's
determinism and `check` over the target files too (several minutes).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from libs_check import library_root, load, static  # noqa: E402

TARGETS, TRUTH = load()
ALL = os.environ.get("SHAPELINT_LIBS_ALL") == "1"
DEFAULT = {"bert", "llama", "timm_resnet18", "timm_vit_tiny", "unet2d", "unet2d_condition"}
FULL_ONLY = pytest.mark.skipif(not ALL, reason="slow: set SHAPELINT_LIBS_ALL=1")
# what shapelint does not follow yet, and why (the test fails once it does: remove the entry)
NOT_YET: dict = {}


def _params():
    out = []
    for name, spec in TARGETS.items():
        marks = [pytest.mark.skipif(library_root(spec["library"]) is None,
                                    reason=f"{spec['library']} source not found: set SHAPELINT_LIBS_SRC to the folder "
                                           f"holding {spec['library']}/ (an unpacked wheel) or install it")]
        if name not in DEFAULT:
            marks.append(FULL_ONLY)
        if name in NOT_YET:
            marks.append(pytest.mark.xfail(reason=NOT_YET[name], strict=True))
        out.append(pytest.param(name, marks=marks, id=name))
    return out


@pytest.mark.parametrize("name", _params())
def test_target_is_exact(name):
    spec, truth = TARGETS[name], TRUTH["targets"][name]
    out, params, names = static(spec, library_root(spec["library"]))
    assert out == truth["output"], (out, truth)
    assert params == truth["params"], (params, truth)
    if spec.get("output"):  # the output dataclass's field the summary names
        assert spec["output"] in names, names


def test_truth_records_versions():
    for key in ("torch", "transformers", "timm", "diffusers"):
        assert TRUTH[key]
    assert set(TRUTH["targets"]) == set(TARGETS)
    assert all("error" not in t for t in TRUTH["targets"].values())


@pytest.mark.skipif(library_root("transformers") is None, reason="transformers source not found (SHAPELINT_LIBS_SRC)")
def test_summary_names_output_fields():
    """`shapelint summary --format json` on BERT names last_hidden_state, with torch's shape."""
    import json

    root = library_root("transformers")
    spec = TARGETS["bert"]
    p = subprocess.run([sys.executable, "-m", "shapelint", "summary", f"{spec['file']}::{spec['target']}",
                        "--input-shape", "2,16", "--format", "json"], cwd=root, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["output_names"][0] == "last_hidden_state"
    assert d["output_shapes"][0] == TRUTH["targets"]["bert"]["output"]
    assert d["totals"]["params"] == TRUTH["targets"]["bert"]["params"]


@FULL_ONLY
@pytest.mark.parametrize("library", ["transformers", "timm", "diffusers"])
def test_check_target_files_clean(library):
    """`shapelint check` on the target files of a library reports no finding (the whole model
    folders: bench/gate.py, slow)."""
    root = library_root(library)
    if root is None:
        pytest.skip(f"{library} source not found (SHAPELINT_LIBS_SRC)")
    files = sorted({s["file"] for s in TARGETS.values() if s["library"] == library})
    p = subprocess.run([sys.executable, "-m", "shapelint", "check", "--no-cache", "--jobs", "1", *files], cwd=root,
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.strip() == ""


@FULL_ONLY
@pytest.mark.skipif(library_root("transformers") is None, reason="transformers source not found (SHAPELINT_LIBS_SRC)")
def test_bert_summary_is_deterministic():
    """The same command gives the same answer under different hash seeds (issue 16: BERT exited 2 on
    some runs and 0 on others)."""
    import os

    root = library_root("transformers")
    spec = TARGETS["bert"]
    outs = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        p = subprocess.run([sys.executable, "-m", "shapelint", "summary", f"{spec['file']}::{spec['target']}",
                            "--input-shape", "2,16", "--format", "json"], cwd=root, capture_output=True, text=True,
                           timeout=600, env=env)
        outs.add((p.returncode, p.stdout))
    assert len(outs) == 1, [o[0] for o in outs]
    assert next(iter(outs))[0] == 0


def test_library_root_never_imports(tmp_path, monkeypatch):
    """An installed library is located without running its __init__ (find_spec would)."""
    pkg = tmp_path / "shapelint_fake_lib"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise RuntimeError('imported')\n")
    monkeypatch.delenv("SHAPELINT_LIBS_SRC", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert library_root("shapelint_fake_lib") == tmp_path
    assert "shapelint_fake_lib" not in sys.modules
    assert library_root("shapelint_no_such_lib") is None
