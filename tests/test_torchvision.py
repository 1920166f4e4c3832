"""torchvision's classification zoo, statically, against the ground truth recorded from real
torch (bench/torchvision_truth.json, made by bench/torchvision_truth.py).

Needs torchvision's *source* (no torch import): the installed torchvision package, or the
`torchvision/` folder of its wheel named by SHAPELINT_TORCHVISION_SRC. Skipped otherwise.
SHAPELINT_TORCHVISION_ALL=1 checks every builder instead of one per family.
"""
import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
TRUTH = json.loads((ROOT / "bench" / "torchvision_truth.json").read_text())


def _source():
    env = os.environ.get("SHAPELINT_TORCHVISION_SRC")
    if env:
        return Path(env)
    spec = importlib.util.find_spec("torchvision")
    return Path(spec.origin).parent if spec and spec.origin else None


SRC = _source()
needs_torchvision = pytest.mark.skipif(
    SRC is None or not (SRC / "models").is_dir(),
    reason="torchvision source not available (install torchvision or set SHAPELINT_TORCHVISION_SRC to the "
           "torchvision/ folder of its wheel)")

ONE_PER_FAMILY = ["alexnet", "vgg11_bn", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "squeezenet1_1",
                  "densenet121", "inception_v3", "googlenet", "mobilenet_v2", "mobilenet_v3_small",
                  "shufflenet_v2_x1_0", "mnasnet1_0", "efficientnet_b0", "efficientnet_v2_s", "regnet_y_400mf",
                  "convnext_tiny"]


def builders():
    if os.environ.get("SHAPELINT_TORCHVISION_ALL"):
        from bench_torchvision import FAMILIES

        return [n for n in sorted(TRUTH["models"]) if n.startswith(FAMILIES)]
    return ONE_PER_FAMILY


@needs_torchvision
@pytest.mark.parametrize("name", builders())
def test_builder_is_exact(name):
    from bench_torchvision import builder_files, compare

    r = compare(name, TRUTH["models"][name], builder_files(SRC))
    assert r["status"] == "exact", r
    # exact means every layer's static shape is known and equal to torch's, not merely "none wrong"
    assert r["layers_exact"] == r["layers"] and not r["layers_unknown"], r


def _package_files(folder: Path):
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _no_findings(files):
    from shapelint.engine import analyze_source

    spoken = []
    for f in files:
        a = analyze_source(f.read_text(encoding="utf-8"), str(f), strict=True)
        spoken += [f"{f}:{x.line}: {x.code} {x.message}" for x in a.findings]
    return spoken


def test_torch_nn_package_is_silent():
    """torch/nn is correct code: shapelint must say nothing on any of its files (strict mode:
    an internal error would raise instead of becoming SHP000)."""
    spec = importlib.util.find_spec("torch")
    folder = Path(spec.origin).parent / "nn"
    files = _package_files(folder)
    assert len(files) > 100
    assert _no_findings(files) == []


@needs_torchvision
@pytest.mark.skipif(not os.environ.get("SHAPELINT_TORCHVISION_ALL"), reason="slow (~90 s): set SHAPELINT_TORCHVISION_ALL=1")
def test_torchvision_models_package_is_silent():
    assert _no_findings(_package_files(SRC / "models")) == []
