"""Determinism: the same analyses give the same bytes whatever the hash seed and the addresses.

`shapelint check --format json` over every fixture and `shapelint summary --format json` (and the
torchsummary table) of every model class in a set of fixtures run in one fresh interpreter per
PYTHONHASHSEED (address-space randomisation is on, so object addresses differ between them too).
A result that depends on set or dict-of-object iteration order, on `id()` or on object hashes
shows up as a byte difference, reported with the command and the first differing line.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap

os.environ["SHAPELINT_STRICT"] = "1"

from conftest import FIXTURES, fixture_files  # noqa: E402

ROOT = FIXTURES.parent
SEEDS = ["0", "1", "4294967295"]
SUMMARY_FIXTURES = ["lenet5.py", "resnet_blocks.py", "resnet_bottleneck.py", "alexnet_style.py",
                    "construct_dense_block.py", "construct_vit_encoder.py", "construct_swin_window_fold.py",
                    "construct_regnet_widths.py", "cifar_tutorial.py", "conv3d_net.py"]


def commands():
    """(label, argv) for every analysis the test repeats."""
    out = [("check", ["check", "--format", "json", *(str(p.relative_to(ROOT)) for p in fixture_files())])]
    for name in SUMMARY_FIXTURES:
        path = FIXTURES / name
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.bases:
                target = f"fixtures/{name}::{node.name}"
                out.append((f"summary {target}", ["summary", target, "--format", "json"]))
                out.append((f"summary {target} (table)", ["summary", target, "--style", "torchinfo"]))
    return out


RUNNER = textwrap.dedent('''
    import contextlib, io, json, sys
    from shapelint.cli import main

    results = []
    for label, argv in json.loads(sys.stdin.read()):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as e:
                code = e.code
        results.append([label, code, out.getvalue(), err.getvalue()])
    print(json.dumps(results))
''')


def run_all(seed: str, cmds):
    env = dict(os.environ, SHAPELINT_STRICT="1", PYTHONHASHSEED=seed)
    r = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(cmds), capture_output=True, text=True,
                       cwd=ROOT, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


def first_difference(a: str, b: str) -> str:
    for i, (x, y) in enumerate(zip(a.splitlines(), b.splitlines()), 1):
        if x != y:
            return f"line {i}: {x!r} != {y!r}"
    return f"lengths {len(a)} != {len(b)}"


def test_results_do_not_depend_on_hash_seed_or_addresses():
    cmds = commands()
    assert len(cmds) > 15
    runs = {seed: run_all(seed, cmds) for seed in SEEDS}
    base = runs[SEEDS[0]]
    produced = [label for label, code, out, _ in base if out.strip()]
    assert len(produced) >= 10, base  # the analyses did produce something to compare
    diffs = []
    for seed in SEEDS[1:]:
        for (label, code, out, err), (_, code2, out2, err2) in zip(base, runs[seed]):
            if (code, out, err) != (code2, out2, err2):
                what = first_difference(out, out2) if out != out2 else (
                    f"exit {code} != {code2}" if code != code2 else first_difference(err, err2))
                diffs.append(f"PYTHONHASHSEED={SEEDS[0]} vs {seed}: {label}: {what}")
    assert not diffs, "\n".join(diffs)
