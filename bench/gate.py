"""No-finding gate (issue 9): shapelint over large correct codebases must report nothing.

    pip download --no-deps timm transformers diffusers -d /work/srcs/wheels
    (cd /work/srcs && for w in wheels/*.whl; do python -m zipfile -e $w unpacked/; done)
    python bench/gate.py [--torch-nn] [--torchvision /work/srcs/torchvision/models]
                         [--tree timm=/work/srcs/unpacked/timm/models ...] [--json out.json]

With no tree option it checks torch/nn (installed), torchvision/models (/work/srcs/torchvision) and
the model folders of timm, transformers and diffusers under /work/srcs/unpacked when present.

Per tree: files, findings (must be 0; each printed), SHP000 (internal errors, each printed), time,
and the model classes analysed: classes with at least one run whose main output (a tensor, a
tuple's first item, an output dataclass's first field) came out with a known shape
(``Analysis.runs`` / ``run.output`` of ``shapelint.engine.analyze_source``), beside the classes
shapelint built at all; and the followed fraction: of the file's model classes (its nn.Module
subclasses, ``Analysis.coverage``), those among the classes analysed. Exit status 1 when any tree has a finding other than SHP000.

``--sample K`` checks every K-th file of a tree (deterministic), for a quick look at a huge tree.
A file that takes longer than --timeout seconds is abandoned and listed.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

DEFAULT_TREES = [
    ("torchvision/models", "/work/srcs/torchvision/models"),
    ("timm/models", "/work/srcs/unpacked/timm/models"),
    ("transformers/models", "/work/srcs/unpacked/transformers/models"),
    ("diffusers/models", "/work/srcs/unpacked/diffusers/models"),
]


class _Timeout(BaseException):
    """A BaseException, so that the engine's per-class guard (which turns an Exception into
    SHP000) lets it through: a slow file is a timeout, never an internal error."""


def _alarm(signum, frame):
    raise _Timeout()


def _files(root: Path, only_modeling: bool):
    for p in sorted(root.rglob("*.py")):
        name = p.name
        if only_modeling and not (name.startswith("modeling_") and "_tf_" not in name and "_flax_" not in name):
            continue
        yield p


def check_file(path: Path, timeout: int) -> dict:
    try:
        code = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as e:
        return {"skipped": str(e)}
    if "torch" not in code:
        return {"findings": [], "built": [], "analysed": []}
    from shapelint.engine import analyze_source

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        an = analyze_source(code, str(path), strict=False)
    except _Timeout:
        return {"timeout": True}
    except Exception as e:  # a syntax error or a crash outside the per-class guard
        return {"findings": [{"line": 0, "code": "CRASH", "message": f"{type(e).__name__}: {e}"[:300]}],
                "built": [], "analysed": []}
    finally:
        signal.alarm(0)
    built, analysed = set(), set()
    for r in an.runs:
        name = r.cls.name if getattr(r, "cls", None) else (r.ctor_text or "?")
        if getattr(r, "root", None) is not None:
            built.add(name)
        if _main_shape(getattr(r, "output", None)) is not None:
            analysed.add(name)
    models = [c["class"] for c in an.coverage]  # the file's nn.Module subclasses
    return {"findings": [{"line": f.line, "code": f.code, "message": f.message[:300]} for f in an.findings],
            "built": sorted(built), "analysed": sorted(analysed), "models": models,
            "followed": sorted(set(models) & analysed)}


def _main_shape(out):
    """The shape of a run's main output: a tensor's, a tuple's first element's, an output
    dataclass's first set field's (transformers' ModelOutput, diffusers' BaseOutput); None when
    unknown."""
    from shapelint.commands.summary.accounting import output_fields

    for _ in range(4):
        fields = output_fields(out)
        if fields:
            out = fields[0][1]
        elif isinstance(out, (tuple, list)) and out:
            out = out[0]
        else:
            break
    return getattr(out, "shape", None)


def gate_tree(label: str, root: Path, args) -> dict:
    t0 = time.time()
    files = list(_files(root, only_modeling=label.startswith("transformers")))
    if args.sample > 1:
        files = files[:: args.sample]
    res = {"tree": label, "root": str(root), "files": len(files), "findings": [], "shp000": [], "timeouts": [],
           "classes_built": 0, "classes_analysed": 0, "model_classes": 0, "followed": 0}
    for i, p in enumerate(files):
        r = check_file(p, args.timeout)
        rel = str(p.relative_to(root))
        if r.get("timeout"):
            res["timeouts"].append(rel)
            continue
        for f in r.get("findings", []):
            item = f"{label}/{rel}:{f['line']} {f['code']} {f['message']}"
            (res["shp000"] if f["code"] == "SHP000" else res["findings"]).append(item)
        res["classes_built"] += len(r.get("built", []))
        res["classes_analysed"] += len(r.get("analysed", []))
        res["model_classes"] += len(r.get("models", []))
        res["followed"] += len(r.get("followed", []))
        if args.progress and (i + 1) % 50 == 0:
            print(f"  {label}: {i + 1}/{len(files)} ({time.time() - t0:.0f}s)", file=sys.stderr)
    res["seconds"] = round(time.time() - t0, 1)
    return res


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.0f}%" if b else "-"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="gate.py")
    ap.add_argument("--torch-nn", action="store_true", help="torch/nn of the installed torch")
    ap.add_argument("--torchvision", help="a torchvision/models folder")
    ap.add_argument("--tree", action="append", default=[], help="LABEL=PATH (repeat)")
    ap.add_argument("--sample", type=int, default=1, help="every K-th file only")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per file")
    ap.add_argument("--json")
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args(argv)
    os.environ.pop("SHAPELINT_STRICT", None)

    trees = []
    if args.torch_nn or not (args.torchvision or args.tree):
        import importlib.util

        spec = importlib.util.find_spec("torch")  # located, never imported: the lint path stays torch-free
        if spec and spec.submodule_search_locations:
            trees.append(("torch/nn", Path(list(spec.submodule_search_locations)[0]) / "nn"))
    if args.torchvision:
        trees.append(("torchvision/models", Path(args.torchvision)))
    for t in args.tree:
        label, _, path = t.partition("=")
        trees.append((label, Path(path)))
    if not (args.torch_nn or args.torchvision or args.tree):
        trees += [(label, Path(p)) for label, p in DEFAULT_TREES if Path(p).is_dir()]

    results = []
    for label, root in trees:
        if not root.is_dir():
            print(f"{label}: {root} is not a folder", file=sys.stderr)
            return 2
        r = gate_tree(label, root, args)
        results.append(r)
        print(f"{label}: {r['files']} files, {len(r['findings'])} findings, {len(r['shp000'])} SHP000, "
              f"{len(r['timeouts'])} timeouts, {r['classes_analysed']} classes analysed "
              f"({r['classes_built']} built), {r['followed']} of {r['model_classes']} model classes followed, "
              f"{r['seconds']}s", file=sys.stderr)

    print("| tree | files | findings | SHP000 | timeouts | classes built | classes analysed (output known) "
          "| model classes followed to a known output | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        frac = f"{r['followed']} of {r['model_classes']} ({_pct(r['followed'], r['model_classes'])})"
        print(f"| {r['tree']} | {r['files']} | {len(r['findings'])} | {len(r['shp000'])} | {len(r['timeouts'])} | "
              f"{r['classes_built']} | {r['classes_analysed']} | {frac} | {r['seconds']} |")
    for r in results:
        for x in r["findings"] + r["shp000"]:
            print(f"* {x}")
        for x in r["timeouts"]:
            print(f"* {r['tree']}/{x}: over {args.timeout}s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 1 if any(r["findings"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
