"""The child processes of ``--confirm`` (:mod:`shapelint.commands.confirm`): their limits and
environment, the runner (:mod:`shapelint.commands._confirm_runner`) spoken to over JSON lines, one
process per job or one server forking per job, and :func:`_execute`, which runs a file's jobs and
says why a child stopped."""
from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional, Tuple

from ..errors import CliError

IMPORT_BUDGET = 120.0  # seconds to import torch in the child, on top of --timeout
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_confirm_runner.py")
NO_TORCH = "shapelint: --confirm needs torch (any 2.x): pip install torch"
DEFAULT_MEMORY = 4 << 30  # bytes of address space a child may add to what torch's import mapped
FILE_SIZE_LIMIT = 64 << 20  # bytes: the largest file a child may write
# The environment a child sees: these names (and LC_*), plus the names listed in
# $SHAPELINT_CONFIRM_ENV (comma-separated); everything else (tokens, credentials...) is dropped.
KEEP_ENV = ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "PYTHONPATH", "PYTHONHASHSEED",
            "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
RUN_MARK = "SHAPELINT_CONFIRM_RUN"  # set in each child's environment: its descendants carry it too



def _end(proc: subprocess.Popen, mark) -> None:
    """Stop a child for good: its whole tree (DataLoader workers and double forks too), then
    whatever still carries its mark, then reap it."""
    if proc.poll() is None:
        _contain(proc.pid)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    _contain(None, mark)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pass

class ConfirmError(CliError):
    """--confirm cannot run at all (no torch, no CUDA): one readable message, exit status 2."""


def _cli_error(msg: str) -> Exception:
    return ConfirmError(msg)


_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MB": 1 << 20,
          "MIB": 1 << 20, "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30, "T": 1 << 40, "TB": 1 << 40, "TIB": 1 << 40}


def parse_memory(text) -> Optional[int]:
    """``--confirm-memory``: bytes (``4G``, ``512M``, ``1.5GiB``, a plain number of bytes); ``0`` or
    ``none`` for no limit (None)."""
    if text is None:
        return DEFAULT_MEMORY
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return int(text) if text > 0 else None
    t = str(text).strip().upper().replace(" ", "")
    if t in ("0", "NONE", "UNLIMITED"):
        return None
    num = t.rstrip("KMGTIB")
    unit = t[len(num):]
    try:
        value = float(num)
    except ValueError:
        value = -1.0
    if unit not in _UNITS or value <= 0:
        raise _cli_error(f"shapelint: --confirm-memory {text!r}: give a size such as 4G or 512M, or 0 for no limit")
    return int(value * _UNITS[unit])


def memory_text(n: Optional[int]) -> str:
    if n is None:
        return "no limit"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            v = n / size
            return f"{v:g} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n} bytes"


def _child_env(mark: str) -> Dict[str, str]:
    extra = {n.strip() for n in os.environ.get("SHAPELINT_CONFIRM_ENV", "").split(",") if n.strip()}
    env = {k: v for k, v in os.environ.items() if k in KEEP_ENV or k.startswith("LC_") or k in extra}
    env[RUN_MARK] = mark
    return env


def _marked(mark: str) -> List[int]:
    """Processes whose environment carries ``mark`` (Linux /proc; the same user's only)."""
    needle = f"{RUN_MARK}={mark}".encode() + b"\0"
    out = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                if needle in f.read() + b"\0":
                    out.append(int(name))
        except OSError:
            continue
    return out


def _contain(pid: Optional[int], mark: Optional[str] = None) -> None:
    """Kill a child and everything below it: its process tree (stopped first, so that nothing
    forks meanwhile), then any process still carrying its environment mark (a descendant that
    escaped the tree when its parent died)."""
    from ._confirm_runner import kill_tree

    if pid is not None:
        kill_tree(pid, include_root=True)
    if mark is not None:
        for _ in range(3):
            left = _marked(mark)
            if not left:
                break
            for p in left:
                kill_tree(p, include_root=True)


# ------------------------------------------------------------------------------------------------
# The child process
# ------------------------------------------------------------------------------------------------

class _Child:
    """One runner process: JSON job in, JSON lines out, each awaited with a deadline."""

    def __init__(self, job: dict):
        self.err = tempfile.TemporaryFile(mode="w+")
        self.token = job.get("token")
        self.mark = secrets.token_hex(8)
        self.proc = subprocess.Popen([sys.executable, RUNNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, start_new_session=True,
                                     env=_child_env(self.mark))
        self.lines: "queue.Queue[Optional[str]]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self.proc.stdin.write(json.dumps(job))
            self.proc.stdin.close()
        except OSError:
            pass

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def next(self, timeout: float) -> Tuple[str, Optional[dict]]:
        """('msg', message) | ('eof', None) | ('timeout', None)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout", None
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return "timeout", None
            if line is None:
                return "eof", None
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if isinstance(msg, dict) and msg.get("token") == self.token:
                return "msg", msg

    def stderr_tail(self, n=3) -> str:
        try:
            self.err.seek(0)
            lines = [ln.rstrip() for ln in self.err.read().splitlines() if ln.strip()]
        except (OSError, ValueError):
            return ""
        return " | ".join(lines[-n:])

    def status(self):
        return self.proc.poll()

    def close(self):
        _end(self.proc, self.mark)
        self.err.close()


class _Server:
    """One runner in server mode (``_confirm_runner.py --server``): it imports torch once and forks
    a worker per file, so confirming many files does not pay ``import torch`` for each. Shared by
    the threads of one shapelint process, stopped at exit."""

    _lock = threading.Lock()
    _instance: Optional["_Server"] = None

    def __init__(self):
        self.err = tempfile.TemporaryFile(mode="w+")
        self.mark = secrets.token_hex(8)
        self.proc = subprocess.Popen([sys.executable, RUNNER, "--server"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.err, text=True, start_new_session=True,
                                     env=_child_env(self.mark))
        self.tmp = tempfile.mkdtemp(prefix="shapelint-confirm-")
        self.replies: "queue.Queue[Optional[str]]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.hello: Optional[dict] = None
        self.count = 0
        self.key = self.context()
        try:
            line = self.replies.get(timeout=IMPORT_BUDGET)
            self.hello = json.loads(line) if line else None
        except (queue.Empty, ValueError):
            self.hello = None

    def _read(self):
        for line in self.proc.stdout:
            self.replies.put(line)
        self.replies.put(None)

    @staticmethod
    def context():
        """What a fork inherits from the server and would otherwise inherit from the caller."""
        return sys.executable, os.getcwd(), tuple(sorted(os.environ.items()))

    @classmethod
    def get(cls) -> Optional["_Server"]:
        with cls._lock:
            srv = cls._instance
            if srv is None or srv.proc.poll() is not None or srv.key != cls.context():
                # a changed environment gets a new server; the old one stops at exit
                srv = cls._instance = _Server()
                import atexit

                atexit.register(srv.stop)
            return srv

    def usable_for(self, device: str) -> bool:
        """CUDA does not survive a fork once initialised; the server never initialises it, but a
        CUDA run stays on the plain path, which does not depend on that."""
        h = self.hello or {}
        if h.get("event") == "fatal" and h.get("kind") == "no-torch":
            raise _cli_error(NO_TORCH)
        if h.get("event") != "ready" or self.proc.poll() is not None:
            return False
        return device in ("cpu", "meta") or (device == "auto" and not h.get("cuda_built"))

    def fork(self, job: dict) -> Optional["_ForkedChild"]:
        with self._lock:
            self.count += 1
            base = os.path.join(self.tmp, f"job{self.count}")
            req = {"job": job, "out": base + ".jsonl", "err": base + ".err", "tag": self.count}
            for p in (req["out"], req["err"]):
                open(p, "w").close()
            try:
                self.proc.stdin.write(json.dumps(req) + "\n")
                self.proc.stdin.flush()
                line = self.replies.get(timeout=IMPORT_BUDGET)  # the first meta job warms meta up first
                msg = json.loads(line) if line else {}
            except (OSError, ValueError, queue.Empty):
                return None
            if msg.get("event") != "forked" or msg.get("tag") != self.count:
                return None
            return _ForkedChild(msg["pid"], req["out"], req["err"], self.hello, job.get("token"))

    def stop(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        _end(self.proc, self.mark)
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)


class _ForkedChild:
    """A worker forked by the server: the same interface as :class:`_Child`, reading the worker's
    messages from the file it appends them to."""

    def __init__(self, pid: int, out: str, err: str, hello: dict, token: Optional[str]):
        self.pid, self.out, self.err, self.token = pid, out, err, token
        self.pos = 0
        self.pending = [dict(hello)]  # torch is already imported: the worker starts "ready"
        self.exited = False

    def _alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:  # pragma: no cover - a reused pid of someone else's
            return False

    def _poll(self) -> bool:
        with open(self.out) as f:
            f.seek(self.pos)
            data = f.read()
        end = data.rfind("\n") + 1
        self.pos += len(data[:end].encode())
        for line in data[:end].splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if isinstance(msg, dict) and msg.get("token") == self.token:
                self.pending.append(msg)
        return bool(self.pending)

    def next(self, timeout: float) -> Tuple[str, Optional[dict]]:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            if self.pending or self._poll():
                msg = self.pending.pop(0)
                if msg.get("event") == "exit":
                    self.exited = True
                    return "eof", None
                return "msg", msg
            if not self._alive():
                return ("msg", self.pending.pop(0)) if self._poll() else ("eof", None)
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout", None
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.05)

    def stderr_tail(self, n=3) -> str:
        try:
            with open(self.err) as f:
                lines = [ln.rstrip() for ln in f.read().splitlines() if ln.strip()]
        except OSError:
            return ""
        return " | ".join(lines[-n:])

    def status(self):
        return None if self._alive() else "gone"

    def close(self):
        if self._alive():
            _contain(self.pid)  # its whole tree: DataLoader workers and double forks too
            try:
                os.killpg(self.pid, signal.SIGKILL)  # its session
            except (ProcessLookupError, PermissionError):
                pass
        for p in (self.out, self.err):
            try:
                os.remove(p)
            except OSError:
                pass


def _open_child(job: dict):
    if os.environ.get("SHAPELINT_CONFIRM_NO_SERVER", "") in ("", "0") and hasattr(os, "fork") and \
            job["device"] != "cuda":
        srv = _Server.get()
        if srv.usable_for(job["device"]):
            child = srv.fork(job)
            if child is not None:
                return child
    return _Child(job)


MEMORY_SIGNS = ("MemoryError", "bad_alloc", "Cannot allocate memory", "can't allocate memory", "out of memory")


def _memory_why(memory: Optional[int]) -> str:
    limit = f"{memory_text(memory)} beyond torch's own, --confirm-memory" if memory else "the machine's"
    return f"the model exceeded the memory limit ({limit})"


def _exit_why(child, memory: Optional[int], stage: str) -> str:
    """Why a child ended without its message: the memory or CPU limit, else its status and stderr."""
    tail = child.stderr_tail()
    status = child.status()
    if any(m in tail for m in MEMORY_SIGNS):
        return f"{_memory_why(memory)}: {tail}"
    if status == -getattr(signal, "SIGXCPU", -1000):
        return f"the confirmation process exceeded its CPU time limit {stage}"
    return f"the confirmation process exited {stage} (status {status}): {tail or 'no message'}"


def _execute(path: str, device: str, timeout: float, jobs: List[dict],
             memory: Optional[int] = DEFAULT_MEMORY) -> Tuple[Dict[int, dict], Optional[dict]]:
    """Run the jobs in children; returns {job id: result or {'outcome': ...}} and the load failure."""
    results: Dict[int, dict] = {}
    pending = list(jobs)
    load_error = None
    limits = {"memory": memory, "fsize": FILE_SIZE_LIMIT}
    while pending:
        child = _open_child({"path": path, "device": device, "runs": pending, "timeout": timeout,
                             "token": secrets.token_hex(16), "limits": limits})
        try:
            kind, msg = child.next(max(IMPORT_BUDGET, timeout))
            if kind == "msg" and msg.get("event") == "fatal":
                if msg.get("kind") == "no-torch":
                    raise _cli_error(NO_TORCH)
                if msg.get("kind") == "no-cuda":
                    raise _cli_error("shapelint: --confirm --device cuda: torch sees no CUDA device "
                                     "(torch.cuda.is_available() is False); use --device auto or cpu")
                raise _cli_error(f"shapelint: --confirm failed: {msg.get('message')}")
            if kind != "msg" or msg.get("event") != "ready":
                why = "timed out" if kind == "timeout" else f"exited ({child.stderr_tail() or 'no message'})"
                for j in pending:
                    results[j["id"]] = {"outcome": "crash", "why": f"the confirmation process {why} before torch "
                                                                   f"was ready"}
                return results, None
            kind, msg = child.next(timeout)
            if kind == "timeout":
                for j in pending:
                    results[j["id"]] = {"outcome": "crash", "why": f"executing the file's imports and definitions "
                                                                   f"timed out after {timeout:g} s"}
                return results, None
            if kind == "eof" or msg.get("event") != "loaded":
                for j in pending:
                    results[j["id"]] = {"outcome": "crash",
                                        "why": _exit_why(child, memory, "while executing the file's definitions")}
                return results, None
            if not msg.get("ok"):
                load_error = msg.get("error") or {}
                return results, load_error
            dropped = msg.get("dropped") or []
            restart = False
            while pending:
                j = pending[0]
                kind, msg = child.next(timeout)
                if kind == "msg" and msg.get("event") == "result":
                    msg["dropped"] = dropped
                    results[msg["id"]] = msg
                    pending = [p for p in pending if p["id"] != msg["id"]]
                    continue
                if kind == "timeout":
                    results[j["id"]] = {"outcome": "timeout", "why": f"timed out after {timeout:g} s"}
                else:
                    results[j["id"]] = {"outcome": "crash", "why": _exit_why(child, memory, "while running the model")}
                pending = pending[1:]
                restart = True
                break
            if not restart:
                break
        finally:
            child.close()
    return results, load_error
