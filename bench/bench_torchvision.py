"""The torchvision classification zoo, statically: for every builder, shapelint's output shape,
total parameters and every named layer's output shape against the ground truth recorded in
bench/torchvision_truth.json (see bench/torchvision_truth.py).

    python bench/bench_torchvision.py --src PATH/TO/torchvision [--only resnet50,vgg11] [--markdown]

PATH/TO/torchvision is the package folder (an installed torchvision, or the `torchvision/` folder
of its wheel unpacked: `pip download --no-deps torchvision==0.29.1 && unzip ...`).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRUTH = HERE / "torchvision_truth.json"

# The builders issue #5 lists (the classification zoo without the transformers).
FAMILIES = ("alexnet", "vgg", "resnet", "resnext", "wide_resnet", "squeezenet", "densenet", "inception_v3",
            "googlenet", "mobilenet_v2", "mobilenet_v3", "shufflenet_v2", "mnasnet", "efficientnet", "regnet",
            "convnext")


def builder_files(src: Path):
    out = {}
    for f in sorted((src / "models").glob("*.py")):
        for m in re.finditer(r"^def ([a-z][a-z0-9_]*)\(", f.read_text(), re.M):
            out.setdefault(m.group(1), f)
    return out


def compare(name, truth, files):
    from shapelint.engine import analyze_target
    from shapelint.commands.summary import Model

    f = files.get(name)
    if f is None:
        return {"name": name, "status": "no builder found"}
    t0 = time.perf_counter()
    try:
        run = analyze_target(str(f), f"{name}()", [tuple(truth["input"])], strict=False)
    except Exception as e:
        return {"name": name, "status": f"error: {type(e).__name__}: {e}"}
    dt = time.perf_counter() - t0
    out = getattr(run.output, "shape", None)
    out = list(out) if out is not None else None
    params = Model(run).totals()[0] if run.root is not None else None
    first = {}
    for c in run.calls:
        shape = getattr(c.output, "shape", None)
        if shape is None and isinstance(c.output, tuple) and c.output:
            shape = getattr(c.output[0], "shape", None)
        first.setdefault(c.module.name, list(shape) if shape is not None else None)
    layers = truth["layers"]
    exact = sum(1 for k, v in layers.items() if v is not None and first.get(k) == v)
    wrong = [k for k, v in layers.items() if first.get(k) is not None and v is not None and first.get(k) != v]
    # a layer whose static shape is unknown (or that the static run never called) is not exact
    unknown = [k for k, v in layers.items() if v is not None and first.get(k) is None]
    counted = sum(1 for v in layers.values() if v is not None)
    ok = out == truth["output"] and params == truth["params"]
    return {"name": name, "status": "exact" if ok and not wrong and not unknown else "differs", "output": out,
            "truth_output": truth["output"], "params": params, "truth_params": truth["params"],
            "layers_exact": exact, "layers": counted, "layers_wrong": wrong[:5],
            "layers_unknown": unknown[:5], "seconds": round(dt, 2),
            "error": run.error}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="the torchvision package folder")
    ap.add_argument("--only", default="", help="comma-separated builder names")
    ap.add_argument("--all", action="store_true", help="also the transformers (vit, swin, maxvit)")
    ap.add_argument("--json", help="write the per-builder results here")
    args = ap.parse_args()
    truth = json.loads(TRUTH.read_text())
    files = builder_files(Path(args.src))
    names = [n for n in sorted(truth["models"]) if args.all or n.startswith(FAMILIES)]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    results = [compare(n, truth["models"][n], files) for n in names]
    exact = [r for r in results if r["status"] == "exact"]
    print(f"torchvision {truth['torchvision']}: {len(exact)}/{len(results)} builders exact "
          f"(output shape, total parameters and every named layer's output shape)\n")
    print("| builder | status | output | params (static / torch) | layers exact | s |")
    print("|---|---|---|---|---|---|")
    for r in results:
        if "output" not in r:
            print(f"| {r['name']} | {r['status']} | | | | |")
            continue
        print(f"| {r['name']} | {r['status']} | {r['output']} | {r['params']} / {r['truth_params']} | "
              f"{r['layers_exact']}/{r['layers']} | {r['seconds']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
