"""fixtures/verify_with_torch.py, the oracle of every fixture's markers, run under pytest: each
fixture's ``# expect:`` markers are checked against a real torch run (construction and forward
from the file's ``__main__`` block), and the verifier itself is shown to fail on a wrong marker."""
from __future__ import annotations

import importlib.util
import sys
import textwrap
import warnings

import pytest

from conftest import FIXTURES

pytest.importorskip("torch")

_spec = importlib.util.spec_from_file_location("verify_with_torch", FIXTURES / "verify_with_torch.py")
verify = importlib.util.module_from_spec(_spec)
sys.modules["verify_with_torch"] = verify  # its dataclasses look their module up
_spec.loader.exec_module(verify)

FILES = sorted(p for p in FIXTURES.glob("*.py")
               if p.name != "verify_with_torch.py" and not p.name.startswith(("_", "keras_")))  # keras_: no torch


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_fixture_agrees_with_torch(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = verify.check_file(path.resolve())
    assert res.ok, "; ".join(res.reasons)


def test_the_verifier_can_fail(tmp_path):
    """A marker on a line torch runs cleanly, and a bug without a marker, are both reported."""
    src = textwrap.dedent('''\
        """A fixture with wrong markers."""
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(10, 5)

            def forward(self, x):
                x = self.fc(x)  # expect: SHP002
                return x.view(-1, 7)


        if __name__ == "__main__":
            model = Net()
            model(torch.randn(2, 10))
        ''')
    p = tmp_path / "wrong_markers.py"
    p.write_text(src)
    res = verify.check_file(p)
    assert not res.ok
    assert any("unexpected forward error at line 13" in r for r in res.reasons), res.reasons


def test_two_input_fixture_runs_both_inputs():
    res = verify.check_file((FIXTURES / "summary_two_inputs.py").resolve(), verbose=True)
    assert res.ok and any("ran, output (2, 5)" in n for n in res.notes), (res.reasons, res.notes)
