"""Ground truth for the torchvision zoo benchmark: run every classification builder in real
torch and record its output shape, total parameters and every named module's output shape.

Needs torchvision (in a separate virtualenv: `pip install torch==2.14.1 torchvision==0.29.1`):

    /path/to/tv-venv/bin/python bench/torchvision_truth.py > bench/torchvision_truth.json

The JSON is committed, so the comparison (bench/bench_torchvision.py, tests/test_torchvision.py)
runs without torchvision.
"""
import json
import sys

import torch
import torchvision
from torchvision import models


def shape_of(out):
    if isinstance(out, torch.Tensor):
        return list(out.shape)
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return list(out[0].shape)
    return None


def truth(name):
    size = 299 if name == "inception_v3" else 224
    model = models.get_model(name, weights=None)
    model.eval()
    shapes = {}
    hooks = []
    for mname, mod in model.named_modules():
        def hook(m, i, o, mname=mname):
            shapes.setdefault(mname, shape_of(o))
        hooks.append(mod.register_forward_hook(hook))
    x = torch.randn(1, 3, size, size, device="meta")
    model = model.to("meta")
    with torch.no_grad():
        out = model(x)
    return {
        "input": [1, 3, size, size],
        "output": shape_of(out),
        "params": sum(p.numel() for p in model.parameters()),
        "layers": shapes,
    }


def main():
    names = sorted(models.list_models(module=models))
    result = {"torchvision": torchvision.__version__, "torch": torch.__version__, "models": {}}
    for n in names:
        try:
            result["models"][n] = truth(n)
        except Exception as e:  # recorded, not hidden
            result["models"][n] = {"error": f"{type(e).__name__}: {e}"}
        print(n, file=sys.stderr)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
