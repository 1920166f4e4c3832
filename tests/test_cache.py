"""The result cache (lint/cache.py): correctness, not speed.

The oracle of every test is an uncached run: a cached answer must be what ``--no-cache`` prints,
and each edit that changes the uncached answer (the file, an imported sibling, a sibling that
appears, the options, shapelint's version or code) must reach the cached one too.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import shapelint
import shapelint.engine as engine
from shapelint import cache as C
from shapelint.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "fixtures"

MODEL = '''import torch
import torch.nn as nn
from blocks import Head


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.head = Head()

    def forward(self, x):
        x = self.conv(x)
        x = x.view(x.size(0), -1)
        return self.head(x)


model = Net()
out = model(torch.randn(2, 1, 6, 6))
'''

HEAD = '''import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear({n}, 10)

    def forward(self, x):
        return self.fc(x)
'''


@pytest.fixture(autouse=True)
def _own_cache_settings(monkeypatch):
    # conftest points every run at a session folder; these tests choose their own
    monkeypatch.delenv("SHAPELINT_CACHE_DIR", raising=False)
    monkeypatch.delenv("SHAPELINT_NO_CACHE", raising=False)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "blocks.py").write_text(HEAD.format(n=64))
    return tmp_path


@pytest.fixture
def calls(monkeypatch):
    """How many files the engine analysed (a cache hit analyses none)."""
    seen = []
    orig = engine.analyze_source

    def counting(code, path="<string>", *a, **k):
        seen.append(path)
        return orig(code, path, *a, **k)

    monkeypatch.setattr(engine, "analyze_source", counting)
    return seen


def check(capsys, *args, cwd=None):
    old = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        rc = main(["check", *map(str, args)])
    finally:
        os.chdir(old)
    out = capsys.readouterr()
    return rc, out.out, out.err


def entries(directory):
    return sorted((Path(directory) / f"v{C.FORMAT}").glob("*.json"))


def test_hit_answers_without_the_engine_and_says_the_same(project, capsys, calls):
    rc0, out0, err0 = check(capsys, "model.py", "--no-cache", cwd=project)
    assert calls == ["model.py"] and not (project / C.DEFAULT_DIR).exists()
    rc1, out1, err1 = check(capsys, "model.py", cwd=project)
    rc2, out2, err2 = check(capsys, "model.py", cwd=project)
    assert calls == ["model.py"] * 2  # the third run was a hit
    assert (rc0, out0, err0) == (rc1, out1, err1) == (rc2, out2, err2)
    cache_dir = project / C.DEFAULT_DIR
    assert (cache_dir / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache_dir / "CACHEDIR.TAG").is_file() and len(entries(cache_dir)) == 1


def test_edit_to_the_file_invalidates(project, capsys, calls):
    assert check(capsys, "model.py", cwd=project)[0] == 0
    (project / "model.py").write_text(MODEL.replace("nn.Conv2d(1, 4, 3)", "nn.Conv2d(1, 5, 3)"))
    rc, out, _ = check(capsys, "model.py", cwd=project)
    assert len(calls) == 2 and rc == 1 and "SHP002" in out
    assert (rc, out) == check(capsys, "model.py", "--no-cache", cwd=project)[:2]


def test_edit_to_an_imported_sibling_invalidates(project, capsys, calls):
    assert check(capsys, "model.py", cwd=project)[:2] == (0, "")
    (project / "blocks.py").write_text(HEAD.format(n=65))
    rc, out, _ = check(capsys, "model.py", cwd=project)
    assert len(calls) == 2 and rc == 1 and "in_features=65" in out
    assert (rc, out) == check(capsys, "model.py", "--no-cache", cwd=project)[:2]
    (project / "blocks.py").write_text(HEAD.format(n=64))  # and back
    assert check(capsys, "model.py", cwd=project)[:2] == (0, "")


def test_a_sibling_that_appears_invalidates(project, capsys, calls):
    # the import names a module that does not exist yet: Head is unknown, nothing is reported
    (project / "model.py").write_text(MODEL.replace("from blocks", "from parts"))
    assert check(capsys, "model.py", cwd=project)[:2] == (0, "")
    (project / "parts.py").write_text(HEAD.format(n=65))
    rc, out, _ = check(capsys, "model.py", cwd=project)
    assert rc == 1 and "in_features=65" in out and len(calls) == 2
    assert (rc, out) == check(capsys, "model.py", "--no-cache", cwd=project)[:2]


def test_a_package_marker_that_appears_invalidates(project, capsys, calls):
    check(capsys, "model.py", cwd=project)
    (project / "__init__.py").write_text("")  # model.py becomes a module of a package
    check(capsys, "model.py", cwd=project)
    assert len(calls) == 2


@pytest.mark.parametrize("extra", [["--input-shape", "Net=3,1,6,6"], ["--select", "SHP001"], ["--ignore", "SHP002"]])
def test_options_are_part_of_the_key(project, capsys, calls, extra):
    (project / "blocks.py").write_text(HEAD.format(n=65))
    rc, out, _ = check(capsys, "model.py", cwd=project)
    assert rc == 1
    got = check(capsys, "model.py", *extra, cwd=project)
    assert len(calls) == 2
    assert got[:2] != (rc, out)  # each of these options changes the answer here
    assert got[:2] == check(capsys, "model.py", *extra, "--no-cache", cwd=project)[:2]
    # one entry per (file, options): both stay, so switching back and forth is a hit
    assert check(capsys, "model.py", cwd=project)[:2] == (rc, out)
    assert check(capsys, "model.py", *extra, cwd=project) == got
    assert len(calls) == 3


def test_config_is_part_of_the_key(project, capsys, calls):
    (project / "blocks.py").write_text(HEAD.format(n=65))
    assert check(capsys, "model.py", cwd=project)[0] == 1
    (project / "pyproject.toml").write_text('[tool.shapelint]\nignore = ["SHP002"]\n')
    assert check(capsys, "model.py", cwd=project)[:2] == (0, "")
    assert len(calls) == 2


def test_version_and_code_are_part_of_the_key(project, capsys, calls, monkeypatch, tmp_path_factory):
    check(capsys, "model.py", cwd=project)
    monkeypatch.setattr(shapelint, "__version__", "999.0")
    check(capsys, "model.py", cwd=project)
    assert len(calls) == 2
    check(capsys, "model.py", cwd=project)
    assert len(calls) == 2
    # an edit to any of shapelint's own source files (the layer table, a rule) invalidates
    extra = tmp_path_factory.mktemp("src") / "layers.py"
    extra.write_text("A = 1\n")
    orig = C._source_files
    monkeypatch.setattr(C, "_source_files", lambda: orig() + [str(extra)])
    C._code_version_memo.clear()
    check(capsys, "model.py", cwd=project)
    assert len(calls) == 3
    check(capsys, "model.py", cwd=project)
    assert len(calls) == 3
    extra.write_text("A = 2\n")
    os.utime(extra, ns=(1, 1))  # a new mtime: the memoised hash is recomputed
    check(capsys, "model.py", cwd=project)
    assert len(calls) == 4


def test_strict_mode_is_part_of_the_key(project, capsys, calls, monkeypatch):
    check(capsys, "model.py", cwd=project)
    monkeypatch.setenv("SHAPELINT_STRICT", "0")
    check(capsys, "model.py", cwd=project)
    assert len(calls) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong-shape"])
def test_a_damaged_entry_is_ignored_and_rewritten(project, capsys, calls, damage):
    (project / "blocks.py").write_text(HEAD.format(n=65))
    first = check(capsys, "model.py", cwd=project)
    [entry] = entries(project / C.DEFAULT_DIR)
    text = entry.read_text()
    entry.write_text({"garbage": "\x00not json{", "truncated": text[: len(text) // 2], "empty": "",
                      "wrong-shape": json.dumps({**json.loads(text), "deps": [["x"]]})}[damage])
    assert check(capsys, "model.py", cwd=project) == first
    assert len(calls) == 2
    assert json.loads(entry.read_text()) == json.loads(text)  # rewritten whole
    assert check(capsys, "model.py", cwd=project) == first and len(calls) == 2


def test_syntax_error_is_cached_as_its_message(project, capsys, calls):
    (project / "model.py").write_text("import torch\ndef f(:\n")
    first = check(capsys, "model.py", cwd=project)
    assert first[0] == 2 and "syntax error" in first[2]
    assert check(capsys, "model.py", cwd=project) == first
    assert check(capsys, "model.py", "--no-cache", cwd=project) == first


def test_cache_dir_option_and_config_keys(project, capsys):
    check(capsys, "model.py", "--cache-dir", "elsewhere", cwd=project)
    assert entries(project / "elsewhere") and not (project / C.DEFAULT_DIR).exists()
    (project / "pyproject.toml").write_text('[tool.shapelint]\ncache-dir = "build/shp"\n')
    sub = project / "sub"
    sub.mkdir()
    check(capsys, project / "model.py", cwd=sub)  # relative to the project root, not the cwd
    assert entries(project / "build" / "shp")
    (project / "pyproject.toml").write_text('[tool.shapelint]\ncache = false\n')
    check(capsys, "model.py", cwd=project)
    assert not (project / C.DEFAULT_DIR).exists()


def test_unwritable_cache_dir_is_skipped(project, capsys):
    (project / "blocker").write_text("a file where the cache folder would go")
    first = check(capsys, "model.py", "--no-cache", cwd=project)
    assert check(capsys, "model.py", "--cache-dir", "blocker/sub", cwd=project) == first


def test_concurrent_threads_leave_a_valid_cache(tmp_path):
    cache = C.ResultCache(str(tmp_path / "c"), "cli", {"n": 1})
    content = b"import torch\n"
    results = [{"findings": [{"i": i, "pad": "x" * (1000 * (i % 7))}]} for i in range(8)]
    errors = []

    def worker(i):
        try:
            for _ in range(50):
                cache.store("m.py", C._sha(content), {}, results[i])
                got = cache.lookup("m.py", C._sha(content))
                assert got is None or got in results
        except Exception as e:  # pragma: no cover - the assertion below reports it
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cache.lookup("m.py", C._sha(content)) in results
    assert [p.name for p in (tmp_path / "c" / "v1").iterdir() if not p.name.endswith(".json")] == []


def test_concurrent_processes_leave_a_valid_cache(project):
    for i in range(4):
        (project / f"m{i}.py").write_text(MODEL.replace("Conv2d(1, 4", f"Conv2d(1, {4 + i}"))
    files = [f"m{i}.py" for i in range(4)] + ["model.py"]
    env = dict(os.environ, SHAPELINT_STRICT="1")
    cmd = [sys.executable, "-m", "shapelint.cli", "check", "--format", "json", *files]
    base = subprocess.run(cmd + ["--no-cache"], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    procs = [subprocess.Popen(cmd, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(o == (base.stdout, base.stderr) for o in outs)
    got = entries(project / C.DEFAULT_DIR)
    assert len(got) == 5 and all(json.loads(p.read_text())["format"] == C.FORMAT for p in got)
    again = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert (again.stdout, again.stderr) == (base.stdout, base.stderr)


HIT_PROBE = """
import sys
from shapelint.cli import main
rc = main(["check", "--jobs", "1", "model.py", "plain.py"])  # in this process, to see its imports
print("LOADED", sorted(m for m in sys.modules if m.split(".")[0] in ("libcst", "torch")
                       or m in ("shapelint.engine", "shapelint.core.interpreter", "shapelint.core.source")))
"""

FLAKE8_PROBE = """
import sys
from flake8.main.application import Application
app = Application()
app.run(["--select=SHP", *sys.argv[1:], "model.py"])
print("LOADED", sorted(m for m in sys.modules if m.split(".")[0] in ("libcst", "torch")
                       or m in ("shapelint.engine", "shapelint.core.interpreter", "shapelint.core.source")))
"""


def _probe(script, project, *args):
    env = dict(os.environ, SHAPELINT_STRICT="1")
    r = subprocess.run([sys.executable, "-c", script, *args], cwd=project, env=env, capture_output=True, text=True,
                       timeout=300)
    out, _, loaded = r.stdout.rpartition("LOADED ")
    return out, eval(loaded)


def test_a_hit_imports_neither_libcst_nor_the_engine(project):
    (project / "blocks.py").write_text(HEAD.format(n=65))
    (project / "plain.py").write_text("def f():\n    return 1\n")  # skipped, and cached as such
    cold, loaded = _probe(HIT_PROBE, project)
    assert "libcst" in loaded and "SHP002" in cold
    hit, loaded = _probe(HIT_PROBE, project)
    assert hit == cold and loaded == []


def test_flake8_plugin_uses_the_cache(project):
    (project / "blocks.py").write_text(HEAD.format(n=65))
    plain, loaded = _probe(FLAKE8_PROBE, project, "--shapelint-no-cache")
    assert "SHP002" in plain and "libcst" in loaded and not (project / C.DEFAULT_DIR).exists()
    cold, loaded = _probe(FLAKE8_PROBE, project)
    assert cold == plain and "libcst" in loaded and len(entries(project / C.DEFAULT_DIR)) == 1
    hit, loaded = _probe(FLAKE8_PROBE, project)
    assert hit == plain and loaded == []
    (project / "blocks.py").write_text(HEAD.format(n=64))
    fixed, loaded = _probe(FLAKE8_PROBE, project)
    assert "SHP" not in fixed and "libcst" in loaded


def _json(capsys, *args, cwd):
    rc, out, err = check(capsys, "--format", "json", *args, cwd=cwd)
    return rc, json.loads(out), err


def test_same_results_with_and_without_the_cache_over_the_fixtures(tmp_path, capsys):
    files = [str(p) for p in sorted(FIX.glob("*.py"))]
    cold = _json(capsys, *files, "--cache-dir", tmp_path / "c", cwd=ROOT)
    hit = _json(capsys, *files, "--cache-dir", tmp_path / "c", cwd=ROOT)
    assert cold == hit
    assert cold[1], "the fixtures hold findings: a comparison of nothing would prove nothing"
    # writing the cache changes nothing either: an uncached run agrees (on every third file; the
    # cold run above analysed them all, uncached analysis is what every other test runs)
    some = files[::3]
    assert _json(capsys, *some, "--no-cache", cwd=ROOT) == _json(capsys, *some, "--cache-dir", tmp_path / "c", cwd=ROOT)


@pytest.mark.skipif(not os.environ.get("SHAPELINT_SLOW"), reason="torch/nn twice: set SHAPELINT_SLOW=1")
def test_same_results_with_and_without_the_cache_over_torch_nn(tmp_path, capsys):
    import importlib.util

    nn = Path(importlib.util.find_spec("torch").origin).parent / "nn"
    plain = _json(capsys, nn, "--no-cache", cwd=tmp_path)
    cold = _json(capsys, nn, "--cache-dir", tmp_path / "c", cwd=tmp_path)
    hit = _json(capsys, nn, "--cache-dir", tmp_path / "c", cwd=tmp_path)
    assert plain == cold == hit


def test_hits_are_read_in_this_process_and_only_misses_go_to_workers(project, capsys, monkeypatch):
    """`check --jobs 2`: a run where every file hits starts no worker process; a run where some
    miss sends only those to the workers, and both print what an uncached run prints."""
    import concurrent.futures

    for i in range(3):
        (project / f"m{i}.py").write_text(MODEL.replace("nn.Conv2d(1, 4, 3)", f"nn.Conv2d(1, {4 + i}, 3)"))
    files = ["model.py", "m0.py", "m1.py", "m2.py"]
    plain = check(capsys, "--jobs", "2", "--no-cache", *files, cwd=project)
    assert check(capsys, "--jobs", "2", *files, cwd=project) == plain
    pools = []
    real = concurrent.futures.ProcessPoolExecutor
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", lambda *a, **k: pools.append(k) or real(*a, **k))
    assert check(capsys, "--jobs", "2", *files, cwd=project) == plain
    assert pools == []
    for name in ("m1.py", "m2.py"):  # two misses: workers for them only
        (project / name).write_text((project / name).read_text() + "\n")
    plain = check(capsys, "--jobs", "2", "--no-cache", *files, cwd=project)
    pools.clear()
    assert check(capsys, "--jobs", "2", *files, cwd=project) == plain
    assert pools == [{"max_workers": 2}]


def test_a_package_marker_never_widens_the_project_past_its_own(project, capsys, calls):
    # the project's folder sits among others (a folder of repositories, pytest's temporary folders):
    # once its top folder is a package, its models are still built only by its own files
    other = project.parent / f"{project.name}_other"
    other.mkdir()
    (other / "train.py").write_text("import torch\nfrom model import Net\n\n"
                                    "net = Net()\nnet(torch.randn(2, 1, 10, 10))\n")
    (project / "__init__.py").write_text("")
    assert check(capsys, "model.py", "--no-cache", cwd=project)[:2] == (0, "")
    (project / "train.py").write_text((other / "train.py").read_text())  # its own script does count
    rc, out, _ = check(capsys, "model.py", "--no-cache", cwd=project)
    assert rc == 1 and "in_features=64" in out
