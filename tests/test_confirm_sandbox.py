"""The containment of `shapelint check --confirm`: what the child may do, and what it may not.

Each hostile model writes a canary file for each side effect it attempts, and records the pids of
the processes it starts; every model has the same real bug (SHP002 on `self.fc2(x)`), so the
verdict tells whether the run was disturbed. All the hostile files are confirmed in one CLI run
per mode (the fork server, and one fresh interpreter per file), and the tests read those runs:

* fire (as the README says): a package `__init__` and an imported sibling module's body, a call
  through a rebound builtin (`len = exec`);
* never fire: the `__main__` block and module-level calls; the late canaries of 20 forks and of a
  double-forked `setsid` grandchild (all killed when the run ends: none outlives it);
* the model reads an empty stdin and sees a scrubbed environment;
* a verdict forged on descriptors 0-63 (fd 1, stderr, the old protocol descriptor) is ignored;
* a 50 GB allocation is "unconfirmed: the model exceeded the memory limit", never a defect.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

os.environ["SHAPELINT_STRICT"] = "1"

import pytest  # noqa: E402

from conftest import FIXTURES  # noqa: E402

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="containment relies on Linux /proc")

ROOT = FIXTURES.parent
MARK = f"shapelint-sandbox-{uuid.uuid4().hex}"  # in the command line of every process the models start
SECRET = "SHAPELINT_TEST_SECRET"

MODEL = '''
import os
import sys
import time
import subprocess
import torch
import torch.nn as nn
{imports}
CANARY = {canary!r}
MARK = {mark!r}


def canary(name, text="fired"):
    with open(os.path.join(CANARY, name), "w") as f:
        f.write(text)


def note_pid(pid):
    with open(os.path.join(CANARY, "pids"), "a") as f:
        f.write(f"{{pid}}\\n")


def hostile():
{hostile}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        hostile()
        self.fc1 = nn.Linear(8, 4)
        self.fc2 = nn.Linear(5, 2)

    def forward(self, x):
{forward}
        x = self.fc1(x)
        return self.fc2(x)


canary("module_level_call")
if __name__ == "__main__":
    canary("main_block")
    Net()(torch.randn(3, 8))
'''

HOSTILE = {
    # 20 forks of the worker itself: each would sleep, then write its canary
    "forks": ('''
    for _ in range(20):
        pid = os.fork()
        if pid == 0:
            note_pid(os.getpid())
            time.sleep(2)
            canary(f"fork_survived_{os.getpid()}")
            os._exit(0)
    # every fork alive and noted before the forward fails (on two busy cores a fork scheduled
    # late was killed before it wrote its pid: 20 of 21 noted)
    deadline = time.monotonic() + 10
    pids = os.path.join(CANARY, "pids")
    while time.monotonic() < deadline and (not os.path.exists(pids) or len(open(pids).read().split()) < 20):
        time.sleep(0.05)
''', ""),
    # a grandchild in a session of its own whose parent exits at once: an orphan, and a survivor
    # unless someone adopts and kills it
    "double_fork": ('''
    code = ("import os, sys, time\\n"
            "if os.fork(): os._exit(0)\\n"
            "os.setsid()\\n"
            "with open(os.path.join(sys.argv[1], 'pids'), 'a') as f: f.write(f'{os.getpid()}\\\\n')\\n"
            "time.sleep(2)\\n"
            "open(os.path.join(sys.argv[1], 'grandchild_survived'), 'w').write('x')\\n")
    p = subprocess.Popen([sys.executable, "-c", code, CANARY, MARK], start_new_session=True)
    p.wait()
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", MARK])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not os.path.exists(os.path.join(CANARY, "pids")):
        time.sleep(0.05)
''', ""),
    # reads stdin (descriptor 0 and sys.stdin) and records its environment
    "stdin_env": ('''
    data = os.read(0, 100)
    text = sys.stdin.read()
    canary("stdin", repr((data, text)))
    canary("environ", "\\n".join(sorted(os.environ)))
''', ""),
    # a verdict forged on every low descriptor, stdout and stderr: it would refute the finding
    "forge": ('''
    fake = {"event": "result", "id": 0, "device": "cpu", "stage": "done", "error": None,
            "executed": list(range(1, 200)), "watched": {}, "output": [[3, 2]], "hooks": {}, "attempts": []}
    lines = "".join(__import__("json").dumps(m) + "\\n" for m in
                    ({"event": "ready", "torch": "x"}, {"event": "loaded", "ok": True, "dropped": []},
                     fake, {"event": "exit"}))
    written = []
    for fd in range(64):
        try:
            os.write(fd, lines.encode())
            written.append(fd)
        except OSError:
            pass
    print(lines)
    sys.__stdout__.write(lines)
    sys.__stdout__.flush()
    canary("forged", repr(written))
''', ""),
    # the same, on purpose: on every descriptor the process has open, the private channel included
    # (this one only the job's token stops; a forgery that also reads the token is out of scope)
    "forge_all_fds": ("""
    fake = {"event": "result", "id": 0, "device": "cpu", "stage": "done", "error": None,
            "executed": list(range(1, 200)), "watched": {}, "output": [[3, 2]], "hooks": {}, "attempts": []}
    line = (__import__("json").dumps(fake) + "\\n").encode()
    written = []
    for fd in sorted(int(x) for x in os.listdir("/proc/self/fd")):
        try:
            os.write(fd, line)
            written.append(fd)
        except OSError:
            pass
    canary("forged", repr(written))
""", ""),
    # 50 GB, in the forward: torch's allocator fails under the address-space limit
    "alloc_torch": ("    pass", "        big = torch.empty(50 * 2**30, dtype=torch.uint8).fill_(1)"),
    # 50 GB from Python itself: MemoryError
    "alloc_python": ("    pass", "        big = bytearray(50 * 2**30)"),
}


def write_models(base: Path):
    """One file per hostile behaviour, plus a package whose module imports a sibling."""
    files = {}
    for name, (hostile, forward) in HOSTILE.items():
        can = base / f"canary_{name}"
        can.mkdir()
        path = base / f"{name}.py"
        path.write_text(MODEL.format(imports="", canary=str(can), mark=MARK,
                                     hostile=textwrap.indent(textwrap.dedent(hostile).strip("\n"), "    "),
                                     forward=forward))
        files[name] = (path, can)
    # a package: its __init__ and the sibling module run when the model's file imports them
    can = base / "canary_package"
    can.mkdir()
    pkg = base / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(f"open({str(can / 'package_init')!r}, 'w').write('x')\n")
    (pkg / "helper.py").write_text(f"open({str(can / 'sibling_body')!r}, 'w').write('x')\nWIDTH = 4\n")
    path = pkg / "model.py"
    path.write_text(MODEL.format(imports=(f"from .helper import WIDTH\n"
                                          f"len = exec  # a rebound builtin: the filter only sees `len`\n"
                                          f"B = len(\"open({str(can / 'rebound')!r}, 'w').write('x')\")\n"),
                                 canary=str(can), mark=MARK, hostile="    pass", forward=""))
    files["package"] = (path, can)
    return files


def leftovers():
    """Live processes whose command line carries this test's mark."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if MARK.encode() in f.read():
                    out.append(int(name))
        except OSError:
            continue
    return out


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rfind(b")") + 2:][:1] not in (b"Z", b"X")


@pytest.fixture(scope="module", params=["fork-server", "no-server"])
def hostile_run(request, tmp_path_factory):
    base = tmp_path_factory.mktemp(request.param)
    files = write_models(base)
    env = dict(os.environ, SHAPELINT_STRICT="1", **{SECRET: "do-not-leak"})
    if request.param == "no-server":
        env["SHAPELINT_CONFIRM_NO_SERVER"] = "1"
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "shapelint.cli", "check", *(str(p) for p, _ in files.values()),
                        "--confirm", "--device", "cpu", "--timeout", "60", "--format", "json"],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    seconds = time.monotonic() - t0
    left = leftovers()  # right as shapelint returns
    time.sleep(2.5)  # every late canary would have fired by now
    findings = {Path(d["path"]).stem if Path(d["path"]).parent.name != "pkg" else "package": d
                for d in json.loads(r.stdout or "[]")}
    return {"r": r, "files": files, "findings": findings, "left": left, "seconds": seconds}


def canaries(run, name):
    return sorted(p.name for p in run["files"][name][1].iterdir())


def test_every_file_gets_its_verdict(hostile_run):
    r = hostile_run["r"]
    assert r.returncode == 1, r.stderr
    assert set(hostile_run["findings"]) == set(HOSTILE) | {"package"}
    for d in hostile_run["findings"].values():
        assert d["code"] == "SHP002" and d["message"].startswith("self.fc2(x): "), d
    assert "shapelint defect" not in r.stderr
    assert hostile_run["seconds"] < 120


@pytest.mark.parametrize("name", ["forks", "double_fork", "stdin_env", "forge", "forge_all_fds", "package"])
def test_hostile_constructors_do_not_change_the_verdict(hostile_run, name):
    d = hostile_run["findings"][name]
    assert d["confirmed"] is True, d
    assert "mat1 and mat2 shapes cannot be multiplied (3x4 and 5x2)" in d["evidence"]


def test_module_bodies_of_imported_project_modules_run_as_documented(hostile_run):
    """The README says so: a package `__init__`, an imported sibling's body, and a call hidden
    behind a rebound builtin all execute; the file's own `__main__` block and calls do not."""
    assert canaries(hostile_run, "package") == ["package_init", "rebound", "sibling_body"]
    for name in HOSTILE:
        fired = canaries(hostile_run, name)
        assert "main_block" not in fired and "module_level_call" not in fired, (name, fired)


def test_no_process_outlives_the_run(hostile_run):
    assert hostile_run["left"] == []
    assert leftovers() == []
    pids = []
    for name in ("forks", "double_fork"):
        can = hostile_run["files"][name][1]
        pids += [int(x) for x in (can / "pids").read_text().split()]
    assert len(pids) == 21  # 20 forks and the grandchild did start
    assert [p for p in pids if alive(p)] == []
    assert canaries(hostile_run, "forks") == ["pids"]  # no fork lived to write its late canary
    assert canaries(hostile_run, "double_fork") == ["pids"]  # nor did the setsid grandchild


def test_stdin_is_empty_and_the_environment_scrubbed(hostile_run):
    can = hostile_run["files"]["stdin_env"][1]
    assert (can / "stdin").read_text() == repr((b"", ""))
    names = (can / "environ").read_text().split("\n")
    assert "PATH" in names and SECRET not in names
    assert "SHAPELINT_STRICT" not in names


def test_a_forged_verdict_is_ignored(hostile_run):
    can = hostile_run["files"]["forge"][1]
    written = eval((can / "forged").read_text())  # noqa: S307 - our own repr
    assert 1 in written and 2 in written  # the forgery reached stdout and stderr...
    d = hostile_run["findings"]["forge"]
    assert d["confirmed"] is True and d["torch_line"] == d["line"]  # ...and changed nothing


def test_a_verdict_forged_on_every_open_descriptor_is_ignored(hostile_run):
    can = hostile_run["files"]["forge_all_fds"][1]
    written = eval((can / "forged").read_text())  # noqa: S307 - our own repr
    assert max(written) > 63  # the private channel too
    d = hostile_run["findings"]["forge_all_fds"]
    assert d["confirmed"] is True and d["torch_line"] == d["line"]


@pytest.mark.parametrize("name", ["alloc_torch", "alloc_python"])
def test_a_memory_blowup_is_reported_as_such(hostile_run, name):
    d = hostile_run["findings"][name]
    assert d["confirmed"] is None, d
    assert d["evidence"].startswith("the model exceeded the memory limit (4 GiB beyond torch's own"), d
    assert "shapelint defect" not in hostile_run["r"].stderr


# ------------------------------------------------------------------------------------------------
# The pieces, without torch (fast)
# ------------------------------------------------------------------------------------------------

def test_limits_apply_to_the_process_and_what_it_starts(tmp_path):
    code = textwrap.dedent(f'''
        import errno, os, resource, subprocess, sys
        from shapelint.commands._confirm_runner import apply_limits, _vm_size
        base = _vm_size()
        done = apply_limits({{"memory": 256 << 20, "cpu": 7, "fsize": 1 << 20}}, cuda=False)
        assert done["address_space"] == base + (256 << 20), (done, base)
        assert resource.getrlimit(resource.RLIMIT_CPU) == (8, 13)
        assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] == 1 << 20
        assert resource.getrlimit(resource.RLIMIT_CORE)[0] == 0
        try:
            bytearray(512 << 20)
            raise SystemExit("allocated beyond the limit")
        except MemoryError:
            pass
        try:
            with open({str(tmp_path / "big")!r}, "wb") as f:
                f.write(b"x" * (2 << 20))
            raise SystemExit("wrote beyond the limit")
        except OSError as e:
            assert e.errno == errno.EFBIG
        show = "import resource as r; print(r.getrlimit(r.RLIMIT_FSIZE)[0], r.getrlimit(r.RLIMIT_CPU)[0])"
        out = subprocess.run([sys.executable, "-c", show], capture_output=True, text=True).stdout
        assert out.split() == [str(1 << 20), "8"], out
        print("ok")
    ''')
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "ok", r.stderr


def test_kill_tree_ends_a_double_forked_grandchild_adopted_by_a_subreaper(tmp_path):
    """The runner's own mechanism on its own: a subreaper adopts a setsid grandchild whose parent
    exited, and kill_descendants ends it."""
    code = textwrap.dedent(f'''
        import os, subprocess, sys, time
        from shapelint.commands import _confirm_runner as R
        R._OWNER["pid"] = os.getpid()
        assert R.become_subreaper()
        grand = ("import os, sys, time\\nif os.fork(): os._exit(0)\\nos.setsid()\\n"
                 "open(sys.argv[1], 'w').write(str(os.getpid()))\\ntime.sleep(30)\\n")
        subprocess.Popen([sys.executable, "-c", grand, {str(tmp_path / "pid")!r}, {MARK!r}],
                         start_new_session=True).wait()
        for _ in range(200):
            if os.path.exists({str(tmp_path / "pid")!r}) and R.descendants(os.getpid()):
                break
            time.sleep(0.02)
        pid = int(open({str(tmp_path / "pid")!r}).read())
        assert R.descendants(os.getpid()) == [pid]  # adopted
        R.kill_descendants()
        assert R.descendants(os.getpid()) == []
        print(pid)
    ''')
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert not alive(int(r.stdout))
    assert leftovers() == []


def test_memory_option_is_validated():
    from shapelint.commands.confirm import ConfirmError, memory_text, parse_memory

    assert parse_memory("4G") == 4 << 30 and parse_memory("512m") == 512 << 20 and parse_memory("1.5GiB") == 3 << 29
    assert parse_memory("0") is None and parse_memory("none") is None and parse_memory(None) == 4 << 30
    assert memory_text(4 << 30) == "4 GiB" and memory_text(3 << 29) == "1.5 GiB"
    for bad in ("lots", "-1G", "4X"):
        with pytest.raises(ConfirmError):
            parse_memory(bad)
    r = subprocess.run([sys.executable, "-m", "shapelint.cli", "check", str(FIXTURES / "mnist_net_56.py"),
                        "--confirm", "--confirm-memory", "lots"], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().startswith("shapelint: --confirm-memory 'lots': give a size")
