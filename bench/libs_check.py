"""Compare `shapelint summary` on issue 16's library targets (bench/libs_targets.json) with the
torch truth (bench/libs_truth.json, made by bench/libs_truth.py): the main output's shape and
the total parameters, one line per target.

    SHAPELINT_LIBS_SRC=/path/to/site-packages python bench/libs_check.py [name ...]

SHAPELINT_LIBS_SRC is the folder holding the packages transformers/, timm/, diffusers/ (their
source only: nothing is imported); without it, the folder where those packages are installed.
A target's inputs are --input-shape values; "timestep" is a 1-D tensor of the batch size.
"""
import importlib.metadata
import json
import os
import sys
import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load():
    targets = json.loads((HERE / "libs_targets.json").read_text())
    truth = json.loads((HERE / "libs_truth.json").read_text())
    return targets, truth


def library_root(library):
    """The folder holding ``library/`` (its source), or None. The installed package is located
    without importing it (``importlib.util.find_spec`` would run its ``__init__``): from its
    distribution's metadata, else the first folder of the import path holding the package."""
    env = os.environ.get("SHAPELINT_LIBS_SRC")
    if env:
        return Path(env) if (Path(env) / library).is_dir() else None
    places = []
    try:
        places.append(Path(str(importlib.metadata.distribution(library).locate_file(""))))
    except importlib.metadata.PackageNotFoundError:
        pass
    places += [Path(sysconfig.get_paths()[k]) for k in ("purelib", "platlib")] + [Path(p) for p in sys.path if p]
    return next((p for p in places if (p / library / "__init__.py").is_file()), None)


def inputs_of(spec):
    batch = spec["inputs"][0][0]
    return [tuple(s) if isinstance(s, list) else (batch,) for s in spec["inputs"]]


def static(spec, root):
    """(shape of the target's main output, total parameters, output field names) from the same
    analysis `shapelint summary --format json` prints."""
    from shapelint.commands.summary.accounting import Model, json_shape, output_fields
    from shapelint.engine import run_target

    path = str(root / spec["file"])
    with open(path, encoding="utf-8") as f:
        code = f.read()
    r = run_target(code, path, spec["target"], inputs_of(spec))  # SHAPELINT_STRICT decides
    if r.error:
        return None, None, r.error
    fields = output_fields(r.output)
    names = [k for k, _ in fields]
    key = spec.get("output")
    if fields:
        out = dict(fields).get(key, fields[0][1])
    else:
        out = r.output[0] if isinstance(r.output, (tuple, list)) and r.output else r.output
    total = Model(r).totals()[0] if r.root is not None else None
    return json_shape(out), total, names


def main(argv):
    targets, truth = load()
    names = argv or list(targets)
    exact = 0
    for n in names:
        spec, t = targets[n], truth["targets"][n]
        root = library_root(spec["library"])
        if root is None:
            print(f"{n:24s} skipped: {spec['library']} source not found (set SHAPELINT_LIBS_SRC)")
            continue
        out, params, extra = static(spec, root)
        ok = out == t["output"] and params == t["params"]
        exact += ok
        print(f"{n:24s} {'EXACT' if ok else 'differs'}  static {out} {params}  torch {t['output']} {t['params']}",
              flush=True)
    print(f"{exact} of {len(names)} exact")


if __name__ == "__main__":
    main(sys.argv[1:])
