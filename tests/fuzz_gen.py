"""Program generators and checks shared by tests/test_fuzz.py (short, in the suite) and
bench/fuzz.py (long, ``--minutes``).

- ``model_program(rng)``: a model-shaped program (random Linear stacks, loops, helper methods,
  odd builtins), returned with whether torch may run it (hostile builtins would hang torch too);
- ``check_no_crash(code)``: the analysis in strict mode raises nothing but the documented errors
  (libcst's syntax error, the guard's TooDeep) and ends within a time bound;
- ``check_against_torch(code)``: where torch runs the program without error, no finding.
"""
from __future__ import annotations

import random
import textwrap
import time
from typing import List, Optional, Tuple

# odd but harmless builtins (torch can run them) and hostile ones (only the analysis runs them)
SAFE_JUNK = ["sum(range(10))", "max(3, len('abcd'))", "math.factorial(6)", "round(5.5)", "'{:>5}'.format(1)",
             "pow(2, 10)", "all(range(1, 50))", "[0] * 7", "2 ** 63", "1 << 20", "divmod(17, 5)",
             "sorted(range(9), reverse=False)[-1]", "f'{3:04d}'", "abs(-3) * 2", "min([4, 2, 8])"]
HOSTILE_JUNK = ["all(range(1, 10**18))", "pow(10, 10**9)", "math.factorial(10**7)", "10**10**10",
                '"{:>1500000000}".format(1)', '"x" * 10**10', "[0] * 10**9", "1 << 10**10",
                "math.comb(10**9, 5 * 10**8)", "round(5, -10**9)", "sum(range(10**18))",
                "list(range(10**12))", '"%1500000000d" % 1', 'f"{1:>1500000000}"']
ACTS = ["nn.ReLU()", "nn.Tanh()", "nn.GELU()", "nn.Dropout(0.1)", "nn.Identity()", "nn.Sigmoid()"]

TIME_BOUND = 20.0  # seconds per program, generous: the machine is shared; the budget is 2 s of CPU


def model_program(rng: random.Random, hostile: Optional[bool] = None) -> Tuple[str, bool]:
    """(source, torch may run it)."""
    if hostile is None:
        hostile = rng.random() < 0.3
    n = rng.randint(1, 5)
    dims = [rng.choice([1, 2, 3, 4, 8, 16, 32]) for _ in range(n + 1)]
    batch = rng.choice([1, 2, 3])
    wrong = rng.random() < 0.3  # one in_features off: torch rejects, the finding is allowed
    style = rng.choice(["explicit", "loop", "helper", "list"])
    junk = rng.choice(HOSTILE_JUNK if hostile else SAFE_JUNK)
    init: List[str] = [f"self.junk = {junk}"]
    ins = list(dims[:-1])
    if wrong:
        i = rng.randrange(n)
        ins[i] = ins[i] + rng.choice([1, 2, 5])
    act = rng.choice(ACTS)
    if style == "explicit":
        parts = []
        for i in range(n):
            parts.append(f"nn.Linear({ins[i]}, {dims[i + 1]})")
            if rng.random() < 0.6:
                parts.append(rng.choice(ACTS))
        init.append("self.body = nn.Sequential(" + ", ".join(parts) + ")")
    elif style in ("loop", "helper"):
        init.append(f"ins = {ins!r}")
        init.append(f"outs = {dims[1:]!r}")
        init.append("layers = []")
        init.append("for a, b in zip(ins, outs):")
        if style == "loop":
            init.append(f"    layers.append(nn.Linear(a, b))")
            init.append(f"    layers.append({act})")
        else:
            init.append("    layers.append(self._block(a, b))")
        init.append("self.body = nn.Sequential(*layers)")
    else:
        init.append(f"self.body = nn.ModuleList([nn.Linear(a, b) for a, b in zip({ins!r}, {dims[1:]!r})])")
    helper = f'''
    def _block(self, i, o):
        return nn.Sequential(nn.Linear(i, o), {act})
'''
    if style == "list":
        fwd = "        for layer in self.body:\n            x = layer(x)\n        return x"
    else:
        fwd = "        return self.body(x)"
    reshape = rng.random() < 0.3
    pre = f"        x = x.view(x.size(0), -1)\n" if reshape else ""
    if hostile and rng.random() < 0.5:  # a symbolic size squared until its formula would explode
        pre += "        k = x.shape[-1]\n        for _ in range(%d):\n            k = k * k + 1\n" % rng.choice([8, 30, 200])
    shape = f"({batch}, {dims[0]})" if not reshape else f"({batch}, 1, {dims[0]})"
    body = textwrap.indent("\n".join(init), " " * 8)
    code = f'''import math
import torch
import torch.nn as nn


class M(nn.Module):
    def __init__(self):
        super().__init__()
{body}
{helper if style == "helper" else ""}
    def forward(self, x):
{pre}{fwd}


model = M()
y = model(torch.randn{shape})
'''
    return code, not hostile


def analyse(code: str, path: str = "fuzz.py", budget: float = 2.0):
    """The analysis as the CLI runs it (guarded stack, strict): (analysis or None, seconds)."""
    import libcst as cst

    from shapelint.engine import analyze_source
    from shapelint.guard import TooDeep, check_depth, run_deep

    def go():
        check_depth(code)
        return analyze_source(code, path, strict=True, time_budget=budget)

    t = time.monotonic()
    try:
        a = run_deep(go)
    except (cst.ParserSyntaxError, TooDeep):  # the documented outcomes: not Python libcst reads; too deep
        a = None
    return a, time.monotonic() - t


def check_no_crash(code: str) -> None:
    _, seconds = analyse(code)
    assert seconds < TIME_BOUND, f"{seconds:.1f} s"


def torch_accepts(code: str) -> bool:
    import torch

    torch.manual_seed(0)
    try:
        with torch.no_grad():
            exec(compile(code, "<fuzz>", "exec"), {"__name__": "fuzz"})
    except Exception:
        return False
    return True


def check_against_torch(code: str, runnable: bool) -> None:
    a, seconds = analyse(code)
    assert seconds < TIME_BOUND, f"{seconds:.1f} s"
    assert a is not None, "a generated model must be analysable"
    if runnable and torch_accepts(code):
        assert not a.findings, [f"{f.line}: {f.code} {f.message}" for f in a.findings]
