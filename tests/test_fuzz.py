"""Fuzzing (issue 12): valid Python from the grammar (hypothesmith) and generated model-shaped
programs. No exception escapes the analysis in strict mode but the documented ones, every program
ends within its bound, and a generated model that torch runs has no finding. A short budget here
(the suite); bench/fuzz.py runs the same checks for minutes. The worst cases found are kept in
tests/fuzz_corpus/ and replayed."""
from __future__ import annotations

import os
import random
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz_gen  # noqa: E402

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_corpus")
def FAST(n):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])

hypothesmith = pytest.importorskip("hypothesmith")


@FAST(25)
@given(hypothesmith.from_grammar())
def test_grammar_programs_module_level(src):
    fuzz_gen.check_no_crash("import torch\nimport torch.nn as nn\n" + src)


@FAST(25)
@given(hypothesmith.from_grammar())
def test_grammar_programs_inside_a_model(src):
    body = textwrap.indent(src, "        ") or "        pass\n"
    code = ("import torch\nimport torch.nn as nn\n\n\nclass M(nn.Module):\n    def __init__(self):\n"
            "        super().__init__()\n" + body + "\n        self.fc = nn.Linear(4, 2)\n\n"
            "    def forward(self, x):\n" + body + "\n        return self.fc(x)\n\n\nm = M()\n"
            "y = m(torch.randn(2, 4))\n")
    fuzz_gen.check_no_crash(code)


@FAST(40)
@given(st.integers(0, 2 ** 32 - 1))
def test_model_programs_agree_with_torch(seed):
    code, runnable = fuzz_gen.model_program(random.Random(seed))
    fuzz_gen.check_against_torch(code, runnable)


def _corpus():
    return sorted(f for f in os.listdir(CORPUS) if f.endswith(".py")) if os.path.isdir(CORPUS) else []


@pytest.mark.parametrize("name", _corpus())
def test_corpus_replay(name):
    """Each kept case: no exception, within its bound, and its `# expect:` codes (none: no finding)."""
    with open(os.path.join(CORPUS, name), encoding="utf-8") as f:
        code = f.read()
    a, seconds = fuzz_gen.analyse(code, name)
    assert seconds < fuzz_gen.TIME_BOUND
    import re

    expected = sorted(re.findall(r"#\s*expect:\s*(SHP\d{3})", code))
    got = sorted(f.code for f in a.findings) if a is not None else []
    assert got == expected
