"""Benchmark of the lint path (not a test): issue 14's target table, every figure a ratio of two
processes timed in the same run on the same machine.

    python bench/bench_lint.py [--repeat 5] [--slow-repeat 3] [--torch-nn PATH] [--layers 10000]

Each figure is the median wall time of separate processes (cold: a new interpreter each time),
with the command that was timed. Bytecode is cached for the measured processes (PYTHONPYCACHEPREFIX
in a private folder, warmed once before timing), as it is for an installed package; the
environment's PYTHONDONTWRITEBYTECODE is removed for them. "cache hit" runs read a cache this
script filled just before; "cold" runs get an empty cache folder each time.

1. `flake8 --select=SHP` on a model file, cold and with a cache hit / plain flake8 (pyflakes and
   pycodestyle, shapelint's plugin left out) on the same file.
2. `shapelint check` over a package folder (default: the installed torch/nn), without the cache
   and with a cache hit / a process that imports libcst and parses the same files.
3. A Sequential of N layers (default 10,000): `shapelint check` / plain flake8 on the same file.
4. `shapelint summary` on the MNIST net / the torchsummary process (`python fixtures/mnist_net.py`),
   time and peak RSS.

The cached and uncached outputs are compared: a difference is reported and fails the run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

PLAIN_FLAKE8 = (
    "import sys, flake8.plugins.finder as f\n"
    "_orig = f._find_importlib_plugins\n"
    "f._find_importlib_plugins = lambda: (p for p in _orig() if not p.entry_point.value.startswith('shapelint'))\n"
    "from flake8.main.cli import main\n"
    "sys.exit(main())\n"
)

LIBCST_PARSE = (
    "import glob, os, sys, libcst\n"
    "for f in sorted(glob.glob(os.path.join(sys.argv[1], '**', '*.py'), recursive=True)):\n"
    "    libcst.parse_module(open(f, encoding='utf-8').read())\n"
)


class Bench:
    def __init__(self, repeat: int):
        self.repeat = repeat
        self.tmp = Path(tempfile.mkdtemp(prefix="shapelint-bench-"))
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PYTHONDONTWRITEBYTECODE", "SHAPELINT_STRICT", "SHAPELINT_NO_CACHE",
                                 "SHAPELINT_CACHE_DIR")}
        self.env["PYTHONPYCACHEPREFIX"] = str(self.tmp / "pycache")
        self.warmed = set()

    def once(self, cmd, cwd=None):
        """(seconds, peak RSS in MiB, stdout) of one process."""
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.env, cwd=cwd)
        out = p.stdout.read()
        _, _, usage = os.wait4(p.pid, 0)
        p.returncode = 0
        dt = time.perf_counter() - t0
        return dt, usage.ru_maxrss / 1024, out

    def time(self, cmd, repeat=None, setup=None, cwd=None):
        """Median seconds, median peak RSS (MiB), last stdout; one untimed warm-up run first (it
        compiles the bytecode and fills the page cache)."""
        key = tuple(map(str, cmd))
        if key not in self.warmed:
            if setup:
                setup()
            self.once(cmd, cwd)
            self.warmed.add(key)
        times, rss, out = [], [], b""
        for _ in range(repeat or self.repeat):
            if setup:
                setup()
            dt, mem, out = self.once(cmd, cwd)
            times.append(dt)
            rss.append(mem)
        return statistics.median(times), statistics.median(rss), out


def shapelint_cmd():
    script = Path(PY).parent / "shapelint"
    return [str(script)] if script.is_file() else [PY, "-m", "shapelint.cli"]


def sequential_file(path: Path, n: int) -> None:
    layers = "".join("            nn.Linear(16, 16),\n" if i % 2 == 0 else "            nn.ReLU(),\n" for i in range(n))
    path.write_text(
        "import torch\nimport torch.nn as nn\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.body = nn.Sequential(\n"
        f"{layers}"
        "        )\n\n"
        "    def forward(self, x):\n"
        "        return self.body(x)\n\n\n"
        "model = Net()\n"
        "out = model(torch.randn(2, 16))\n")


def rel(cmd, tmp=None):
    """The command as a reader would type it: repository paths relative, the private folder as DIR."""
    out = []
    for c in map(str, cmd):
        if c == PY:
            c = "python"
        if tmp is not None:
            c = c.replace(str(tmp), "DIR")
        if os.path.isabs(c) and c.startswith(str(ROOT)):
            c = os.path.relpath(c, ROOT)
        out.append(c)
    return " ".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5, help="runs of the fast commands (median)")
    ap.add_argument("--slow-repeat", type=int, default=3, help="runs of the slow commands (folder, N layers)")
    ap.add_argument("--torch-nn", default=None, help="folder to scan (default: installed torch/nn)")
    ap.add_argument("--layers", type=int, default=10_000)
    args = ap.parse_args()
    folder = args.torch_nn
    if folder is None:
        import importlib.util

        spec = importlib.util.find_spec("torch")
        folder = os.path.join(os.path.dirname(spec.origin), "nn") if spec else None
    folder = os.path.abspath(folder) if folder else None
    b = Bench(args.repeat)
    shp = shapelint_cmd()
    rows = []  # (measure, ratio text, numerator, denominator, target)
    mismatches = []
    try:
        load = os.getloadavg()
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average at start "
              f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")

        # 1. flake8 on a model file
        model = ROOT / "fixtures" / "resnet_blocks.py"
        cold_dir = b.tmp / "flake8-cold"
        hit_dir = b.tmp / "flake8-hit"
        plain_cmd = [PY, "-c", PLAIN_FLAKE8, str(model)]
        shp_nocache = [PY, "-m", "flake8", "--select=SHP", "--shapelint-no-cache", str(model)]
        shp_cold = [PY, "-m", "flake8", "--select=SHP", f"--shapelint-cache-dir={cold_dir}", str(model)]
        shp_hit = [PY, "-m", "flake8", "--select=SHP", f"--shapelint-cache-dir={hit_dir}", str(model)]
        plain, _, _ = b.time(plain_cmd)
        nocache, _, out_plain = b.time(shp_nocache)
        cold, _, out_cold = b.time(shp_cold, setup=lambda: shutil.rmtree(cold_dir, ignore_errors=True))
        hit, _, out_hit = b.time(shp_hit)
        if not (out_plain == out_cold == out_hit):
            mismatches.append(("flake8", out_plain, out_cold, out_hit))
        lines = len(model.read_text().splitlines())
        rows.append((f"`flake8 --select=SHP` cold on a model file ({model.name}, {lines} lines) / plain flake8",
                     cold / plain, f"{cold:.2f} s: `{rel(shp_cold, b.tmp)}` (empty cache)",
                     f"{plain:.2f} s: plain flake8, shapelint's plugin left out", "≤ 2×"))
        rows.append(("same, without the cache (`--shapelint-no-cache`) / plain flake8", nocache / plain,
                     f"{nocache:.2f} s", f"{plain:.2f} s", "—"))
        rows.append(("same, cache hit / plain flake8", hit / plain, f"{hit:.2f} s: `{rel(shp_hit, b.tmp)}` (filled)",
                     f"{plain:.2f} s", "≤ 1.1×"))

        # 2. a package folder
        if folder:
            files = sorted(Path(folder).rglob("*.py"))
            nlines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files)
            cache_dir = b.tmp / "folder-cache"
            parse_cmd = [PY, "-c", LIBCST_PARSE, folder]
            nocache_cmd = shp + ["check", "--no-cache", "--format", "json", folder]
            hit_cmd = shp + ["check", "--cache-dir", str(cache_dir), "--format", "json", folder]
            parse, _, _ = b.time(parse_cmd, args.slow_repeat)
            full, _, out_full = b.time(nocache_cmd, args.slow_repeat, cwd=b.tmp)
            hit, _, out_hit = b.time(hit_cmd, args.slow_repeat, cwd=b.tmp)  # the warm-up run fills the cache
            if out_full != out_hit:
                mismatches.append(("folder", out_full, out_hit))
            name = "torch/nn" if folder.rstrip("/").endswith(os.path.join("torch", "nn")) else folder
            rows.append((f"`shapelint check` over {name} ({len(files)} files, {nlines:,} lines) / libcst bare parse",
                         full / parse, f"{full:.2f} s: `shapelint check --no-cache {name}`",
                         f"{parse:.2f} s: a process importing libcst and parsing each file", "≤ 1.3×"))
            rows.append(("same, second run (cache hit) / libcst parse", hit / parse,
                         f"{hit:.2f} s: `shapelint check {name}` (filled cache)", f"{parse:.2f} s", "≤ 0.1×"))

        # 3. a Sequential of N layers
        seq = b.tmp / f"sequential_{args.layers}.py"
        sequential_file(seq, args.layers)
        seq_cmd = shp + ["check", "--no-cache", str(seq)]
        seq_t, _, _ = b.time(seq_cmd, args.slow_repeat, cwd=b.tmp)
        seq_plain, _, _ = b.time([PY, "-c", PLAIN_FLAKE8, str(seq)], args.slow_repeat)
        rows.append((f"Sequential of {args.layers:,} layers, `shapelint check` / plain flake8 on the same file",
                     seq_t / seq_plain, f"{seq_t:.2f} s ({seq_t / args.layers * 1000:.2f} ms a layer): "
                     f"`shapelint check --no-cache sequential_{args.layers}.py`", f"{seq_plain:.2f} s", "≤ 3×"))

        # 4. summary against torchsummary
        mnist = ROOT / "fixtures" / "mnist_net.py"
        ts_t, ts_rss, _ = b.time([PY, str(mnist)])
        sl_t, sl_rss, _ = b.time(shp + ["summary", f"{mnist}::Net"])
        rows.append(("`shapelint summary` on the MNIST net / the torchsummary process, time", sl_t / ts_t,
                     f"{sl_t:.2f} s: `shapelint summary fixtures/mnist_net.py::Net`",
                     f"{ts_t:.2f} s: `python fixtures/mnist_net.py` (torchsummary)", "≤ 0.2× (≥ 5× faster)"))
        rows.append(("same, peak RSS", sl_rss / ts_rss, f"{sl_rss:.0f} MiB", f"{ts_rss:.0f} MiB", "≤ 0.25×"))
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)

    print("| measure | ratio | measured | against | target |")
    print("|---|---|---|---|---|")
    for measure, ratio, num, den, target in rows:
        print(f"| {measure} | {ratio:.2f}× | {num} | {den} | {target} |")
    load = os.getloadavg()
    print(f"\nload average at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for m in mismatches:
        print(f"\nMISMATCH between cached and uncached output ({m[0]})", file=sys.stderr)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
