"""Every fixture's findings equal the `# expect: SHPnnn` markers written beside its lines.

The fixtures were each run in torch (fixtures/verify_with_torch.py): a marked line is where
torch raises (or, for SHP005, where the batch silently changes), an unmarked file runs clean.
"""
import os
import re
from pathlib import Path

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*(SHP\d{3}(?:\s*,\s*SHP\d{3})*)")


def model_files():
    return sorted(p for p in FIXTURES.glob("*.py") if p.name != "verify_with_torch.py")


def expected(path: Path):
    out = set()
    for i, line in enumerate(path.read_text().splitlines(), 1):
        m = EXPECT.search(line)
        if m:
            out |= {(i, c.strip()) for c in m.group(1).split(",")}
    return out


@pytest.mark.parametrize("path", model_files(), ids=lambda p: p.name)
def test_findings_match_markers(path):
    analysis = analyze_source(path.read_text(), str(path), strict=True)
    got = {(f.line, f.code) for f in analysis.findings}
    assert got == expected(path), "\n".join(f"{f.line}:{f.col} {f.code} {f.message}" for f in analysis.findings)
    assert not [r.error for r in analysis.runs if r.error], "a run was abandoned"


def test_every_rule_has_a_bug_and_a_clean_fixture():
    from shapelint.rules_registry import all_rules

    codes = {r.CODE for r in all_rules()} - {"SHP000", "SHP100"}  # not facts of a model: no fixture pair
    marked = set()
    for p in model_files():
        marked |= {c for _, c in expected(p)}
    assert codes <= marked
    for code in codes:
        stem = f"rule_{code.lower()}_"
        bugs = [p for p in model_files() if p.name.startswith(stem) and not p.stem.endswith("_clean")]
        assert bugs, code
        for b in bugs:
            assert (FIXTURES / f"{b.stem}_clean.py").exists(), f"{b.name} has no clean twin"


def test_mnist_at_56_names_the_real_size():
    path = FIXTURES / "mnist_net_56.py"
    (f,) = analyze_source(path.read_text(), str(path), strict=True).findings
    assert f.code == "SHP001"
    assert "2420" in f.message and "20*11*11" in f.message and "1x1x56x56" in f.message
    assert f.col == path.read_text().splitlines()[f.line - 1].index("x.view")


def test_mnist_clean_at_28_and_flagged_at_56_by_option():
    src = (FIXTURES / "mnist_net.py").read_text()
    assert analyze_source(src, "m.py", {"Net": [(1, 1, 28, 28)]}).findings == []
    (f,) = analyze_source(src, "m.py", {"Net": [(1, 1, 56, 56)]}).findings
    assert f.code == "SHP001" and "2420" in f.message


def test_symbolic_input_reports_only_what_is_wrong_for_every_size():
    # No input shape anywhere: view(-1, 320) is right for H, W in 28..31, so nothing is said;
    # Linear(500) after view(-1, 320) is wrong for every size.
    src = (FIXTURES / "mnist_net.py").read_text().split("if __name__")[0]
    assert analyze_source(src, "m.py").findings == []
    bad = src.replace("nn.Linear(320, 50)", "nn.Linear(500, 50)")
    (f,) = analyze_source(bad, "m.py").findings
    assert f.code == "SHP002" and "500" in f.message
    never = src.replace("x.view(-1, 320)", "x.view(-1, 321)")
    codes = [f.code for f in analyze_source(never, "m.py").findings]
    assert codes == ["SHP001"]


def test_no_cascade_after_a_wrong_size():
    src = (FIXTURES / "mnist_net.py").read_text().replace("nn.Linear(50, 10)", "nn.Linear(60, 10)")
    findings = analyze_source(src, "m.py", {"Net": [(1, 1, 56, 56)]}).findings
    assert [f.code for f in findings] == ["SHP001"]  # fc2's mismatch is downstream of the view


MLP = '''
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, hidden=256):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc2 = nn.Linear(FC2_IN, 10)

    def forward(self, x):
        x = x.view(-1, 784)
        x = F.relu(self.fc1(x))
        return self.fc2(x)
'''


@pytest.mark.parametrize("fc2_in", [128, 256])
def test_mlp_without_any_input_shape(fc2_in):
    """No input shape anywhere and a first layer (Linear) that takes any rank: the view fixes the
    shape, and what follows is checked. torch is the judge of the expectation."""
    import torch

    src = MLP.replace("FC2_IN", str(fc2_in))
    ns = {}
    exec(compile(src, "mlp.py", "exec"), ns)
    try:
        ns["MLP"]()(torch.randn(3, 1, 28, 28))
        torch_fails = False
    except RuntimeError as e:
        torch_fails = "mat1 and mat2" in str(e)
    codes = [(f.line, f.code) for f in analyze_source(src, "mlp.py").findings]
    line = src.splitlines().index("        return self.fc2(x)") + 1
    assert codes == ([(line, "SHP002")] if torch_fails else [])
    assert torch_fails == (fc2_in != 256)
