"""Long fuzzing run (issue 12): the checks of tests/test_fuzz.py for --minutes.

    .venv/bin/python bench/fuzz.py --minutes 10 [--seed N] [--out DIR]

Alternates generated model-shaped programs (random seeds; where torch runs the model, no finding
may be reported) and valid Python from the grammar (hypothesmith; no exception may escape the
analysis, every program ends within its bound). Each failure is written to --out (default
fuzz_failures/) as a .py file with the error in a leading comment; the worst ones belong in
tests/fuzz_corpus/ (with `# expect:` lines) once fixed. Exit status 1 when anything failed.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
import traceback
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
os.environ.setdefault("SHAPELINT_STRICT", "1")

import fuzz_gen  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--out", default="fuzz_failures")
    ap.add_argument("--grammar-share", type=float, default=0.5, help="share of grammar programs (0..1)")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    end = time.monotonic() + args.minutes * 60
    grammar = None
    try:
        import hypothesmith

        grammar = hypothesmith.from_grammar()
    except ImportError:
        print("hypothesmith is not installed: model programs only", file=sys.stderr)
    n = failures = slowest = 0
    worst = ""
    while time.monotonic() < end:
        n += 1
        kind = "grammar" if grammar is not None and rng.random() < args.grammar_share else "model"
        if kind == "grammar":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                src = grammar.example()
            if rng.random() < 0.5:
                code = "import torch\nimport torch.nn as nn\n" + src
            else:  # inside a model's __init__ and forward
                import textwrap

                body = textwrap.indent(src, "        ") or "        pass\n"
                code = ("import torch\nimport torch.nn as nn\n\n\nclass M(nn.Module):\n    def __init__(self):\n"
                        "        super().__init__()\n" + body + "\n        self.fc = nn.Linear(4, 2)\n\n"
                        "    def forward(self, x):\n" + body + "\n        return self.fc(x)\n\n\nm = M()\n"
                        "y = m(torch.randn(2, 4))\n")
            runnable = False
        else:
            code, runnable = fuzz_gen.model_program(random.Random(rng.getrandbits(32)))
        t = time.monotonic()
        try:
            if kind == "grammar":
                fuzz_gen.check_no_crash(code)
            else:
                fuzz_gen.check_against_torch(code, runnable)
        except Exception:
            failures += 1
            os.makedirs(args.out, exist_ok=True)
            path = os.path.join(args.out, f"{kind}_{seed}_{n}.py")
            err = "".join("# " + ln + "\n" for ln in traceback.format_exc().splitlines())
            with open(path, "w", encoding="utf-8") as f:
                f.write(err + code)
            print(f"FAIL {path}", file=sys.stderr)
        dt = time.monotonic() - t
        if dt > slowest:
            slowest, worst = dt, kind
    print(f"seed {seed}: {n} programs, {failures} failures, slowest {slowest:.2f} s ({worst})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
