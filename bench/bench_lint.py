"""Benchmark of the lint path (not a test): what shapelint costs an editor on save, and its
throughput against libcst's bare parse.

    python bench/bench_lint.py [--torch-nn PATH] [--repeat 5]

1. Cold `flake8 --select=SHP FILE` on a model file, next to plain flake8 (pyflakes/pycodestyle
   only, shapelint's plugin disabled) on the same file, and on a file without torch.
2. Analysis time over a whole package folder (default: the installed torch/nn, 136 files,
   ~49k lines) against libcst's bare parse of the same files.
"""
from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall(cmd, repeat, env=None):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


PLAIN_FLAKE8 = (
    "import sys, flake8.plugins.finder as f\n"
    "_orig = f._find_importlib_plugins\n"
    "f._find_importlib_plugins = lambda: (p for p in _orig() if not p.entry_point.value.startswith('shapelint'))\n"
    "from flake8.main.cli import main\n"
    "sys.exit(main())\n"
)


def flake8_figures(repeat):
    model = ROOT / "fixtures" / "resnet_blocks.py"
    plain = Path(tempfile.mkdtemp()) / "plain.py"
    plain.write_text("def add(a, b):\n    return a + b\n" * 50)
    py = sys.executable
    rows = []
    for label, path in ((f"model file ({model.name}, {len(model.read_text().splitlines())} lines)", model),
                        ("file without torch (100 lines)", plain)):
        with_shp = wall([py, "-m", "flake8", "--select=SHP", str(path)], repeat)
        everything = wall([py, "-m", "flake8", str(path)], repeat)
        without = wall([py, "-c", PLAIN_FLAKE8, str(path)], repeat)
        rows.append((label, with_shp, everything, without))
    return rows


def throughput(folder):
    import libcst

    from shapelint.engine import analyze_source

    files = sorted(glob.glob(os.path.join(folder, "**", "*.py"), recursive=True))
    sources = [(f, open(f, encoding="utf-8").read()) for f in files]
    lines = sum(s.count("\n") for _, s in sources)
    t0 = time.perf_counter()
    for _, s in sources:
        libcst.parse_module(s)
    parse = time.perf_counter() - t0
    t0 = time.perf_counter()
    findings = 0
    for f, s in sources:
        findings += len(analyze_source(s, f, strict=False).findings)
    analysis = time.perf_counter() - t0
    return len(files), lines, parse, analysis, findings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--torch-nn", default=None, help="folder to scan (default: installed torch/nn)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    folder = args.torch_nn
    if folder is None:
        import importlib.util

        spec = importlib.util.find_spec("torch")
        folder = os.path.join(os.path.dirname(spec.origin), "nn") if spec else None
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print("\n| file | flake8 --select=SHP | flake8 (all checks, shapelint installed) | plain flake8 (no shapelint) |")
    print("|---|---|---|---|")
    for label, a, b, c in flake8_figures(args.repeat):
        print(f"| {label} | {a:.2f} s | {b:.2f} s | {c:.2f} s |")
    if folder:
        n, lines, parse, analysis, findings = throughput(folder)
        print(f"\n{folder}: {n} files, {lines} lines")
        print(f"libcst parse: {parse:.2f} s; shapelint analysis (parse included): {analysis:.2f} s "
              f"({analysis / parse:.1f}x the parse); findings: {findings}")


if __name__ == "__main__":
    main()
