"""Behaviour snapshot: every finding, table and figure shapelint prints over a set of trees, so a
refactor can prove it changed nothing.

    python bench/snapshot_outputs.py snap before.json [--torch-nn] [--torchvision PATH]
    ...change the engine...
    python bench/snapshot_outputs.py snap after.json  [--torch-nn] [--torchvision PATH]
    python bench/snapshot_outputs.py diff before.json after.json

What is recorded, through the command line only (its interface is what must not change):

* `shapelint check --format json` and the text output, for every fixture file, for
  `torch/nn` of the installed torch (`--torch-nn`) and for `torchvision/models` (`--torchvision`);
* `shapelint summary` in every style and format (torchsummary/torchinfo text, json, markdown)
  for every class defined in a fixture file (its default construction);
* `shapelint summary --format json` for every torchvision classification builder listed in
  bench/torchvision_truth.json, at the truth's input (`--torchvision`).

Each entry keeps the exit status, stdout and stderr. `diff` prints the entries that differ and
exits 1 when any does.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _cli(argv):
    from shapelint.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as e:  # argparse
            rc = e.code
    # absolute paths differ between checkouts; the snapshot keeps them relative to ROOT
    norm = lambda s: s.replace(str(ROOT) + os.sep, "")  # noqa: E731
    return {"rc": rc, "out": norm(out.getvalue()), "err": norm(err.getvalue())}


def _classes(path: Path):
    return re.findall(r"^class ([A-Za-z_]\w*)\(", path.read_text(), re.M)


def snapshot(args) -> dict:
    os.environ.setdefault("PYTHONHASHSEED", "0")
    snap: dict = {}
    fixtures = sorted((ROOT / "fixtures").glob("*.py"))
    for f in fixtures:
        rel = str(f.relative_to(ROOT))
        snap[f"check-json {rel}"] = _cli(["check", rel, "--format", "json"])
        snap[f"check-text {rel}"] = _cli(["check", rel])
        for cls in _classes(f):
            target = f"{rel}::{cls}"
            snap[f"summary-ts {target}"] = _cli(["summary", target])
            snap[f"summary-ti {target}"] = _cli(["summary", target, "--style", "torchinfo"])
            snap[f"summary-json {target}"] = _cli(["summary", target, "--format", "json"])
            snap[f"summary-md {target}"] = _cli(["summary", target, "--format", "markdown"])
        print(f"  {rel}", file=sys.stderr)
    if args.torch_nn:
        import importlib.util

        nn = Path(importlib.util.find_spec("torch").origin).parent / "nn"
        snap["check-json torch/nn"] = _cli(["check", str(nn), "--format", "json"])
        snap["check-json torch/nn"]["out"] = snap["check-json torch/nn"]["out"].replace(str(nn), "torch/nn")
        print("  torch/nn", file=sys.stderr)
    if args.torchvision:
        src = Path(args.torchvision)
        snap["check-json torchvision/models"] = _cli(["check", str(src / "models"), "--format", "json"])
        truth = json.loads((HERE / "torchvision_truth.json").read_text())
        builders = {}
        for f in sorted((src / "models").glob("*.py")):
            for m in re.finditer(r"^def ([a-z][a-z0-9_]*)\(", f.read_text(), re.M):
                builders.setdefault(m.group(1), f)
        for name in sorted(truth["models"]):
            if name not in builders:
                continue
            dims = ",".join(str(d) for d in truth["models"][name]["input"])
            r = _cli(["summary", f"{builders[name]}::{name}()", "--style", "torchinfo",
                      "--input-shape", dims, "--format", "json"])
            r["out"] = r["out"].replace(str(src), "torchvision")
            r["err"] = r["err"].replace(str(src), "torchvision")
            snap[f"summary-json torchvision::{name}"] = r
            print(f"  torchvision {name}", file=sys.stderr)
    return snap


def diff(a: dict, b: dict) -> int:
    bad = 0
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            print(f"only in {'after' if key not in a else 'before'}: {key}")
            bad += 1
            continue
        if a[key] != b[key]:
            bad += 1
            print(f"--- {key}")
            for part in ("rc", "out", "err"):
                if a[key][part] != b[key][part]:
                    print(f"  {part}: before {str(a[key][part])[:400]!r}")
                    print(f"  {part}: after  {str(b[key][part])[:400]!r}")
    print(f"{len(set(a) | set(b))} entries, {bad} differ")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("snap")
    s.add_argument("out")
    s.add_argument("--torch-nn", action="store_true", help="also check the installed torch/nn")
    s.add_argument("--torchvision", metavar="PATH", help="the torchvision package folder (source)")
    d = sub.add_parser("diff")
    d.add_argument("before")
    d.add_argument("after")
    args = ap.parse_args()
    if args.cmd == "snap":
        Path(args.out).write_text(json.dumps(snapshot(args), indent=1, sort_keys=True))
        return 0
    return diff(json.loads(Path(args.before).read_text()), json.loads(Path(args.after).read_text()))


if __name__ == "__main__":
    sys.exit(main())
