"""Ground truth for issue 16's library targets (bench/libs_targets.json): build each target in
real torch (random init, no downloads), run it once and record its output shape and total
parameters, with the libraries' versions.

Needs transformers, timm and diffusers (and what they import) in a separate virtualenv, e.g.
`pip install --no-deps transformers timm diffusers` plus huggingface_hub, safetensors, tokenizers,
regex, pyyaml, importlib_metadata and torchvision (timm imports it):

    /path/to/lib-venv/bin/python bench/libs_truth.py > bench/libs_truth.json

The JSON is committed, so tests/test_libs.py compares without those libraries.
"""
import importlib
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def module_name(path):
    return path[:-3].replace("/", ".")


def build(spec):
    mod = importlib.import_module(module_name(spec["file"]))
    return eval(spec["target"], vars(mod))  # the same expression shapelint summary is given


def first_tensor(out, key):
    if isinstance(out, torch.Tensor):
        return out
    if key is not None and hasattr(out, key):
        return getattr(out, key)
    if isinstance(out, (tuple, list)):
        return out[0]
    return out[0]


def truth(spec):
    torch.manual_seed(0)
    model = build(spec).eval()
    inputs = []
    for s in spec["inputs"]:
        if s == "timestep":
            inputs.append(torch.tensor(10))
        elif spec.get("dtype") == "long" and not inputs:
            inputs.append(torch.randint(0, 100, tuple(s)))
        else:
            inputs.append(torch.randn(*s))
    with torch.no_grad():
        out = model(*inputs)
    t = first_tensor(out, spec.get("output"))
    return {"output": list(t.shape), "params": sum(p.numel() for p in model.parameters()),
            "output_class": type(out).__name__}


def main():
    import diffusers
    import timm
    import transformers

    with open(os.path.join(HERE, "libs_targets.json")) as f:
        targets = json.load(f)
    result = {"torch": torch.__version__, "transformers": transformers.__version__, "timm": timm.__version__,
              "diffusers": diffusers.__version__, "targets": {}}
    for name, spec in targets.items():
        try:
            result["targets"][name] = truth(spec)
        except Exception as e:  # recorded, not hidden
            result["targets"][name] = {"error": f"{type(e).__name__}: {e}"}
        print(name, result["targets"][name], file=sys.stderr)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
