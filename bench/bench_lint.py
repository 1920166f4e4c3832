"""Benchmark of the lint path (not a test): issue 14's target table, every figure a ratio of two
processes timed in the same run on the same machine.

    python bench/bench_lint.py [--repeat 5] [--slow-repeat 3] [--torch-nn PATH] [--layers 10000]

Each figure is the median of separate processes (cold: a new interpreter each time), with the
command that was timed. The commands compared in one ratio run interleaved (one of each, in turn,
per round), so that the load of a shared machine falls on both sides alike; each ratio is given
for wall time and for CPU time (user + system of the process and its children: what the load does
not inflate, but what parallel workers add up). Bytecode is cached for the measured processes (PYTHONPYCACHEPREFIX
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
from dataclasses import dataclass
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
        """(wall seconds, CPU seconds (user + system), peak RSS in MiB, stdout) of one process."""
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.env, cwd=cwd)
        out = p.stdout.read()
        _, _, usage = os.wait4(p.pid, 0)
        p.returncode = 0
        dt = time.perf_counter() - t0
        return dt, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out

    def interleaved(self, specs, repeat=None):
        """Each spec is (cmd, setup or None, cwd or None). One untimed warm-up run of each (it
        compiles the bytecode and fills the page cache), then ``repeat`` rounds that run every
        command once, in turn, so that a change in the machine's load falls on all of them alike.
        Returns, per spec, Timing(wall, cpu, rss, out): medians, and the last stdout."""
        for cmd, setup, cwd in specs:
            key = tuple(map(str, cmd))
            if key not in self.warmed:
                if setup:
                    setup()
                self.once(cmd, cwd)
                self.warmed.add(key)
        runs: list = [[] for _ in specs]
        for _ in range(repeat or self.repeat):
            for i, (cmd, setup, cwd) in enumerate(specs):
                if setup:
                    setup()
                runs[i].append(self.once(cmd, cwd))
        return [Timing(statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs),
                       statistics.median(r[2] for r in rs), rs[-1][3]) for rs in runs]


@dataclass
class Timing:
    wall: float
    cpu: float
    rss: float
    out: bytes


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
    rows = []  # (measure, numerator Timing, denominator Timing, numerator text, denominator text, target)
    memory = []  # (shapelint summary's peak RSS, torchsummary's)
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
        plain, nocache, cold, hit = b.interleaved([
            (plain_cmd, None, None), (shp_nocache, None, None),
            (shp_cold, lambda: shutil.rmtree(cold_dir, ignore_errors=True), None), (shp_hit, None, None)])
        if not (nocache.out == cold.out == hit.out):
            mismatches.append(("flake8", nocache.out, cold.out, hit.out))
        lines = len(model.read_text().splitlines())
        rows.append((f"`flake8 --select=SHP` cold on a model file ({model.name}, {lines} lines) / plain flake8",
                     cold, plain, f"`{rel(shp_cold, b.tmp)}` (empty cache)", "plain flake8, shapelint's plugin left out",
                     "≤ 2×"))
        rows.append(("same, without the cache (`--shapelint-no-cache`) / plain flake8", nocache, plain, "", "", "—"))
        rows.append(("same, cache hit / plain flake8", hit, plain, f"`{rel(shp_hit, b.tmp)}` (filled)", "", "≤ 1.1×"))

        # 2. a package folder
        if folder:
            files = sorted(Path(folder).rglob("*.py"))
            nlines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files)
            cache_dir = b.tmp / "folder-cache"
            parse_cmd = [PY, "-c", LIBCST_PARSE, folder]
            nocache_cmd = shp + ["check", "--no-cache", "--format", "json", folder]
            hit_cmd = shp + ["check", "--cache-dir", str(cache_dir), "--format", "json", folder]
            # the warm-up run of hit_cmd fills the cache
            parse, full, hit = b.interleaved([(parse_cmd, None, None), (nocache_cmd, None, b.tmp), (hit_cmd, None, b.tmp)],
                                             args.slow_repeat)
            if full.out != hit.out:
                mismatches.append(("folder", full.out, hit.out))
            name = "torch/nn" if folder.rstrip("/").endswith(os.path.join("torch", "nn")) else folder
            rows.append((f"`shapelint check` over {name} ({len(files)} files, {nlines:,} lines) / libcst bare parse",
                         full, parse, f"`shapelint check --no-cache {name}`",
                         "a process importing libcst and parsing each file", "≤ 1.3×"))
            rows.append(("same, second run (cache hit) / libcst parse", hit, parse, f"`shapelint check {name}` (filled cache)",
                         "", "≤ 0.1×"))

        # 3. a Sequential of N layers
        seq = b.tmp / f"sequential_{args.layers}.py"
        sequential_file(seq, args.layers)
        seq_cmd = shp + ["check", "--no-cache", str(seq)]
        seq_t, seq_plain = b.interleaved([(seq_cmd, None, b.tmp), ([PY, "-c", PLAIN_FLAKE8, str(seq)], None, None)],
                                         args.slow_repeat)
        rows.append((f"Sequential of {args.layers:,} layers, `shapelint check` / plain flake8 on the same file",
                     seq_t, seq_plain, f"{seq_t.wall / args.layers * 1000:.2f} ms a layer: "
                     f"`shapelint check --no-cache sequential_{args.layers}.py`", "", "≤ 3×"))

        # 4. summary against torchsummary
        mnist = ROOT / "fixtures" / "mnist_net.py"
        ts, sl = b.interleaved([([PY, str(mnist)], None, None), (shp + ["summary", f"{mnist}::Net"], None, None)])
        rows.append(("`shapelint summary` on the MNIST net / the torchsummary process (`python fixtures/mnist_net.py`), "
                     "time", sl, ts, "`shapelint summary fixtures/mnist_net.py::Net`", "torchsummary", "≤ 0.2× (≥ 5× faster)"))
        memory.append((sl.rss, ts.rss))
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)

    print("| measure | ratio (wall) | ratio (CPU) | measured | against | target |")
    print("|---|---|---|---|---|---|")
    for measure, num, den, num_text, den_text, target in rows:
        print(f"| {measure} | {num.wall / den.wall:.2f}× | {num.cpu / den.cpu:.2f}× | "
              f"{num.wall:.2f} s wall, {num.cpu:.2f} s CPU{': ' + num_text if num_text else ''} | "
              f"{den.wall:.2f} s wall, {den.cpu:.2f} s CPU{': ' + den_text if den_text else ''} | {target} |")
    for sl_rss, ts_rss in memory:
        print(f"| same, peak RSS | {sl_rss / ts_rss:.2f}× | | {sl_rss:.0f} MiB | {ts_rss:.0f} MiB | ≤ 0.25× |")
    load = os.getloadavg()
    print(f"\nload average at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for m in mismatches:
        print(f"\nMISMATCH between cached and uncached output ({m[0]})", file=sys.stderr)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
