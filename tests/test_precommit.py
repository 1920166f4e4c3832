"""The real pre-commit, against a temporary git repository that uses a clone of this repository
through `.pre-commit-hooks.yaml` (pre-commit builds the hook's virtualenv and pip-installs
shapelint into it, so this needs the package index that `pip install .` needs)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
                                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")).stdout.strip()


def test_hooks_file_declares_the_hooks():
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["shapelint"]["language"] == "python" and hooks["shapelint"]["entry"] == "shapelint check"
    assert hooks["shapelint"]["types"] == ["python"]
    assert hooks["shapelint-notebooks"]["types"] == ["jupyter"]


@pytest.mark.skipif(shutil.which("pre-commit") is None, reason="pre-commit is not installed")
@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs this repository as a git checkout")
def test_pre_commit_runs_the_hooks_from_a_clone(tmp_path):
    clone = tmp_path / "shapelint"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    rev = git("rev-parse", "HEAD", cwd=clone)
    proj = tmp_path / "proj"
    proj.mkdir()
    git("init", "-q", cwd=proj)
    shutil.copy(FIX / "mnist_net_56.py", proj / "model.py")
    shutil.copy(FIX / "mnist_net.py", proj / "clean.py")
    shutil.copy(FIX / "notebooks" / "mnist_cell3_bug.ipynb", proj / "nb.ipynb")
    (proj / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {clone}\n    rev: {rev}\n    hooks:\n      - id: shapelint\n      - id: shapelint-notebooks\n")
    git("add", "-A", cwd=proj)
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "cache"))
    env.pop("SHAPELINT_STRICT", None)
    r = subprocess.run(["pre-commit", "run", "--all-files"], cwd=proj, capture_output=True, text=True,
                       env=env, timeout=900)
    out = r.stdout
    assert r.returncode == 1, out + r.stderr
    assert "model.py:19:13: SHP001 [*] x.view(-1, 320)" in out  # [*]: check --fix fixes it
    assert "nb.ipynb:cell_3:13:13: SHP001" in out
    assert "clean.py" not in out
    # fixed, the hooks pass
    (proj / "model.py").write_text((FIX / "mnist_net.py").read_text())
    (proj / "nb.ipynb").unlink()
    git("add", "-A", cwd=proj)
    r = subprocess.run(["pre-commit", "run", "--all-files"], cwd=proj, capture_output=True, text=True,
                       env=env, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
