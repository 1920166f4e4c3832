"""The lint path (engine, rules, flake8 plugin, CLI check) never imports torch."""
import subprocess
import sys
from pathlib import Path

FIX = Path(__file__).resolve().parent.parent / "fixtures"

PROBE = """
import sys, runpy
sys.argv = ["shapelint", "check", {path!r}]
import shapelint.cli, shapelint.flake8_plugin, shapelint.engine
try:
    shapelint.cli.main(["check", {path!r}])
except SystemExit:
    pass
from shapelint.rules_registry import all_rules
all_rules()
heavy = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.") or m in ("numpy", "sympy"))
print("HEAVY", heavy)
"""


def test_linting_does_not_import_torch():
    code = PROBE.format(path=str(FIX / "resnet_blocks.py"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "HEAVY []" in r.stdout, r.stdout
