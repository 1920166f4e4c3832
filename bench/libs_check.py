"""Compare `shapelint summary` on issue 16's library targets (bench/libs_targets.json) with the
torch truth (bench/libs_truth.json): output shape and total parameters, one line per target.

    SHAPELINT_LIBS_SRC=/path/to/site-packages python bench/libs_check.py [name ...]

SHAPELINT_LIBS_SRC is the folder holding the packages transformers/, timm/, diffusers/ (their
source only: nothing is imported).
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load():
    with open(os.path.join(HERE, "libs_targets.json")) as f:
        targets = json.load(f)
    with open(os.path.join(HERE, "libs_truth.json")) as f:
        truth = json.load(f)
    return targets, truth


def static(spec, src, timeout=600):
    """(output shape of the target's main output, total params, error text) from shapelint summary."""
    cmd = [sys.executable, "-m", "shapelint", "summary", f"{spec['file']}::{spec['target']}", "--format", "json"]
    for s in spec["inputs"]:
        cmd += ["--input-shape", ",".join(map(str, s)) if isinstance(s, list) else str(spec["inputs"][0][0])]
    p = subprocess.run(cmd, cwd=src, capture_output=True, text=True, timeout=timeout)
    if p.returncode not in (0, 1):
        return None, None, p.stderr.strip()[-300:]
    d = json.loads(p.stdout)
    names = d.get("output_names")
    outs = d["output_shapes"]
    key = spec.get("output")
    out = outs[names.index(key)] if names and key in names else (outs[0] if outs else None)
    return out, d["totals"]["params"], None


def main(argv):
    src = os.environ.get("SHAPELINT_LIBS_SRC")
    if not src:
        sys.exit("set SHAPELINT_LIBS_SRC to the folder holding transformers/, timm/, diffusers/")
    targets, truth = load()
    names = argv or list(targets)
    exact = 0
    for n in names:
        t = truth["targets"][n]
        out, params, err = static(targets[n], src)
        ok = out == t["output"] and params == t["params"]
        exact += ok
        print(f"{n:24s} {'EXACT' if ok else 'differs'}  static {out} {params}  torch {t['output']} {t['params']}"
              + (f"  ({err})" if err else ""), flush=True)
    print(f"{exact} of {len(names)} exact")


if __name__ == "__main__":
    main(sys.argv[1:])
