"""``shapelint check --confirm``: prove (or fail to prove) each finding with the real forward pass.

For each analysed model (a :class:`~shapelint.engine.Run`) that produced findings, a child
process (:mod:`shapelint.commands._confirm_runner`) executes the file's definitions only, builds the model
with the constructor text the static analysis used, feeds it the input the analysis assumed and
runs the forward under ``torch.no_grad()`` in ``eval()`` mode. This module turns what torch did
into one verdict per finding:

* ``confirmed: true``: torch raised in the statement of the finding (the deepest traceback frame in
  the user's file that falls on a finding), with torch's own message as evidence; or, for a silent
  bug (``SHP005`` batch folding), the batch torch produced differs from the input batch;
* ``confirmed: false``: torch ran the same forward to the end on a device that checks everything
  (CPU or CUDA), through the statement of the finding, without an error and without the silent
  symptom. Nothing else produces it;
* ``confirmed: null`` (unconfirmed): everything else: a timeout, an earlier error, a statement that
  did not run, an input with free symbolic sizes, a meta-only run, a model that cannot be built.

The same run compares the static shape of every module call with torch's forward hooks; a
disagreement is a *shapelint defect* (shapelint is wrong, not the model), returned under the
``"defects"`` key of the result, never as a finding.

The flake8 plugin never confirms: it runs in editors on every keystroke, so it must stay fast,
must not import torch, and must never execute the code being edited.
"""
from __future__ import annotations

import ast
import dataclasses
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
from typing import Any, Dict, List, Optional, Tuple

from ..core import dims as D
from ..errors import CliError
from ..core.values import Tensor

SILENT_CODES = {"SHP005"}  # bugs torch does not raise on: judged by the batch it produces
BATCH = 2  # the batch given to a symbolic batch dim (BatchNorm needs more than one sample in training)
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
# Statements of the file
# ------------------------------------------------------------------------------------------------

_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
             ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class Statements:
    """The innermost statement around a line: tracebacks point at one line of a statement, a
    finding at the start of an expression, and the two meet in the statement."""

    def __init__(self, code: str):
        self.spans: List[Tuple[int, int, ast.stmt]] = []
        try:
            tree = ast.parse(code)
        except SyntaxError:
            return
        for node in ast.walk(tree):
            if not isinstance(node, ast.stmt) or isinstance(node, ast.Module):
                continue
            end = node.end_lineno or node.lineno
            if isinstance(node, _COMPOUND):
                first = min((b.lineno for b in getattr(node, "body", [])), default=end + 1)
                deco = [d.lineno for d in getattr(node, "decorator_list", [])]
                start = min([node.lineno] + deco)
                end = max(node.lineno, first - 1)
                self.spans.append((start, end, node))
            else:
                self.spans.append((node.lineno, end, node))

    def around(self, line: int) -> Tuple[int, int, Optional[ast.stmt]]:
        best = None
        for s, e, n in self.spans:
            if s <= line <= e and (best is None or e - s < best[1] - best[0]):
                best = (s, e, n)
        return best if best is not None else (line, line, None)


def _watch_target(stmt) -> Optional[str]:
    """What to read after a silent finding's statement ran: the name it assigns, or its return."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    if isinstance(stmt, ast.Return):
        return "<return>"
    return None


# ------------------------------------------------------------------------------------------------
# From a run to a job
# ------------------------------------------------------------------------------------------------

def _is_symbol(d) -> Optional[str]:
    if isinstance(d, int):
        return None
    syms = D.symbols(d)
    if len(syms) != 1:
        return None
    name = next(iter(syms))
    try:
        return name if D.evaluate(d, {name: 2}) == 2 and D.evaluate(d, {name: 3}) == 3 else None
    except Exception:  # noqa: BLE001
        return None


def _concrete(d, env) -> Optional[int]:
    if isinstance(d, int):
        return d
    if not D.symbols(d) <= set(env):
        return None
    try:
        return D.evaluate(d, env)
    except Exception:  # noqa: BLE001
        return None


def _run_inputs(run) -> Tuple[Optional[List[dict]], Dict[str, int], Optional[int], Optional[str]]:
    """(input specs or None for a construction-only run, symbol env, input batch, why not)."""
    tensors = run.input_tensors
    if not tensors:
        return None, {}, None, None
    env: Dict[str, int] = {}
    for t in tensors:
        if t.shape is not None and t.batch_dim is not None and t.batch_dim < len(t.shape):
            name = _is_symbol(t.shape[t.batch_dim])
            if name is not None:
                env[name] = BATCH
    specs, free = [], set()
    for i, t in enumerate(tensors):
        if t.shape is None:
            return None, env, None, f"the shape of input {i + 1} is unknown to the static analysis"
        shape = []
        for d in t.shape:
            v = _concrete(d, env)
            if v is None:
                free |= D.symbols(d) - set(env)
            shape.append(v)
        specs.append({"shape": shape, "dtype": "long" if t.dtype == "long" else "float"})
    if free:
        # a finding that holds for every size: confirm it at a witness, the smallest sizes the
        # admissible-input solver admits up to the failing line (the batch stays BATCH)
        from .summary.admissible import witness

        chosen = witness(run, env)
        if chosen is None or not free <= set(chosen):
            dims = ", ".join(sorted(free))
            shape = "x".join(D.text(d) for d in tensors[0].shape)
            return None, env, None, (f"the input {shape} has free sizes ({dims}) and no witness size could be "
                                     f"chosen; give a concrete shape with --input-shape {_class_name(run)}=... "
                                     f"to confirm")
        return _run_inputs_at(run, chosen)
    first = tensors[0]
    batch = specs[0]["shape"][first.batch_dim] if first.batch_dim is not None and specs[0]["shape"] else None
    return specs, env, batch, None


def _run_inputs_at(run, env: Dict[str, int]):
    specs = []
    for i, t in enumerate(run.input_tensors):
        shape = [_concrete(d, env) for d in t.shape]
        if any(v is None or v < 0 for v in shape):
            return None, env, None, f"input {i + 1} has no concrete size at the witness {env}"
        specs.append({"shape": shape, "dtype": "long" if t.dtype == "long" else "float"})
    first = run.input_tensors[0]
    batch = specs[0]["shape"][first.batch_dim] if first.batch_dim is not None and specs[0]["shape"] else None
    return specs, dict(env, __witness__=1), batch, None


def _class_name(run) -> str:
    return run.cls.name if run.cls is not None else run.ctor_text.split("(")[0]


def _plain(v, depth=0):
    """A constructor local the child can use (ints, strings, ... and containers of them)."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, (list, tuple)) and depth < 3:
        return all(_plain(x, depth + 1) for x in v)
    return False


def _static_shapes(value, env) -> Optional[List[Optional[List[int]]]]:
    """The static value's tensors as concrete shapes (None for a shape that is not concrete), or None
    when the value is not made of tensors the analysis knows."""
    out: List[Optional[List[int]]] = []

    def walk(v, depth):
        if isinstance(v, Tensor):
            if v.shape is None:
                out.append(None)
            else:
                dims = [_concrete(d, env) for d in v.shape]
                out.append(None if any(d is None for d in dims) else dims)
            return True
        if isinstance(v, (list, tuple)) and depth < 5:
            return all(walk(x, depth + 1) for x in v)
        return False

    return out if walk(value, 0) and out else None


def _text_shape(s) -> str:
    return "[" + ", ".join(str(d) for d in s) + "]"


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
        if self.proc.poll() is None:
            _contain(self.proc.pid)  # its whole tree, DataLoader workers and double forks too
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        _contain(None, self.mark)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
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
        if self.proc.poll() is None:
            _contain(self.proc.pid)
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        _contain(None, self.mark)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
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


# ------------------------------------------------------------------------------------------------
# Verdicts
# ------------------------------------------------------------------------------------------------

def _verdict(confirmed, evidence, device=None, **extra) -> Dict[str, Any]:
    d = {"confirmed": confirmed, "evidence": evidence}
    if device:
        d["device"] = device
    d.update(extra)
    return d


# Long on purpose (~95 lines): one verdict table, case by case (raised on the line / elsewhere /
# ran through / folded the batch / meta could not tell); split, the cases lose their order.
def _judge(run, findings, res, job, stmts: Statements, explicit_meta: bool) -> Dict[int, Dict[str, Any]]:
    out: Dict[int, Dict[str, Any]] = {}
    dev = res.get("device")
    err = res.get("error")
    spans = {id(f): stmts.around(f.line)[:2] for f in findings}
    batch = job.get("batch")
    watched = res.get("watched") or {}
    executed = set(res.get("executed") or [])
    out_shapes = res.get("output")

    def ran(f):
        s, e = spans[id(f)]
        return any(s <= ln <= e for ln in executed)

    def fold_evidence(f):
        s, _ = spans[id(f)]
        seen = watched.get(str(s), [])
        for shapes in seen:
            if shapes and shapes[0] and batch is not None and shapes[0][0] != batch:
                tail = f", output {_text_shape(out_shapes[0])}" if out_shapes else ""
                return (f"output batch {shapes[0][0]} for input batch {batch} "
                        f"(line {f.line} gave {_text_shape(shapes[0])}{tail})")
        # the statement's own value is the evidence when it was seen; else the model's output
        if not seen and ran(f) and out_shapes and out_shapes[0] and batch is not None and out_shapes[0][0] != batch:
            return f"output batch {out_shapes[0][0]} for input batch {batch} (output {_text_shape(out_shapes[0])})"
        return None

    # the finding torch raised on: deepest frame of the user's file that falls in a finding's statement
    hit = None
    if err is not None:
        for line in reversed(err.get("frames") or []):
            for f in findings:
                s, e = spans[id(f)]
                if s <= line <= e and f.code not in SILENT_CODES:
                    hit = f
                    break
            if hit is not None:
                break
    err_line = (err.get("frames") or [None])[-1] if err is not None else None
    bare = getattr(run, "call_node", None) is not None or (
        getattr(run, "cls", None) is None and getattr(getattr(run, "root", None), "kind", None) == "sequential")
    if hit is None and err is not None and err.get("stage") == "forward" and not err.get("frames") and bare:
        # a bare container model (module-level nn.Sequential): torch fails inside torch, called from
        # the file's `model(x)`, which is where its one finding sits; a container the file never
        # calls is run on the witness input, and its one finding sits at the layer that fails
        loud = [f for f in findings if f.code not in SILENT_CODES]
        if len(loud) == 1:
            hit, err_line = loud[0], loud[0].line
    where = f" at line {err_line}" if err_line else ""
    for f in findings:
        if f is hit:
            out[id(f)] = _verdict(True, err["text"], dev, torch_line=err_line)
            continue
        if f.code in SILENT_CODES:
            ev = fold_evidence(f)
            if ev is not None:
                out[id(f)] = _verdict(True, ev, dev)
                continue
        if err is not None and err.get("memory"):
            out[id(f)] = _verdict(None, f"{_memory_why(job.get('memory'))}{where}: {err['text']}", dev)
            continue
        if err is not None:
            if err["stage"] == "construct":
                hint = ""
                if err.get("name") and err["name"] in (res.get("dropped") or []):
                    hint = (f" (`{err['name']}` is bound by a module-level statement that --confirm does not "
                            f"execute)")
                out[id(f)] = _verdict(None, f"the model could not be built: `{run.ctor_text}` raised "
                                            f"{err['text']}{where}{hint}", dev)
            elif err["stage"] == "input":
                out[id(f)] = _verdict(None, f"could not create the input: {err['text']}", dev)
            else:
                lead = "torch stopped earlier" if hit is not None or not ran(f) else "torch stopped"
                out[id(f)] = _verdict(None, f"{lead}{where}: {err['text']}", dev)
            continue
        if res.get("stage") == "built":
            out[id(f)] = _verdict(None, f"`{run.ctor_text}` built without error and the analysis gave no input "
                                        f"to run", dev)
            continue
        # the forward ran to the end
        if not ran(f):
            out[id(f)] = _verdict(None, f"line {f.line} did not run for this input in eval() mode", dev)
            continue
        if dev == "meta":
            why = "" if explicit_meta else " and the CPU fallback did not run"
            out[id(f)] = _verdict(None, "the meta device ran the forward without error, but it does not check "
                                        f"every constraint (e.g. ConvTranspose output_padding){why}; use "
                                        "--device cpu", dev)
            continue
        shape = f", output {_text_shape(out_shapes[0])}" if out_shapes else ""
        if f.code in SILENT_CODES:
            s, _ = spans[id(f)]
            seen = watched.get(str(s), [])
            if seen and all(v and v[0] and v[0][0] == batch for v in seen) and \
                    (not out_shapes or not out_shapes[0] or out_shapes[0][0] == batch):
                out[id(f)] = _verdict(False, f"line {f.line} kept the batch of {batch} "
                                             f"(gave {_text_shape(seen[0][0])}){shape}", dev)
            else:
                out[id(f)] = _verdict(None, f"the output batch matches the input batch {batch}, and the value of "
                                            f"line {f.line} could not be observed{shape}", dev)
            continue
        out[id(f)] = _verdict(False, f"torch ran line {f.line} without error for input {job['input_text']}{shape}",
                              dev)
    return out


def _defects(run, res, job, path) -> List[Dict[str, Any]]:
    """Static module shapes that torch's forward hooks contradict, and errors shapelint missed."""
    out: List[Dict[str, Any]] = []
    env = job.get("env") or {}
    hooks = res.get("hooks") or {}
    done = res.get("stage") == "done"
    static: Dict[str, list] = {}
    for rec in sorted(run.calls, key=lambda r: r.start):
        m = rec.module
        if m.name is None or getattr(m, "uncertain", False) or m.kind == "opaque":
            continue
        static.setdefault(m.name, []).append(rec)
    label = f"class {_class_name(run)}, `{run.ctor_text}`"
    if job["input_text"]:
        label += f", input {job['input_text']}"
    for name, recs in static.items():
        got = hooks.get(name)
        if got is None:
            continue
        if len(got) != len(recs) and (done or len(got) > len(recs)):
            continue  # static forks of unknown control flow: calls do not pair up
        for i, (rec, shapes) in enumerate(zip(recs, got)):
            st = _static_shapes(rec.output, env)
            if st is None or shapes is None or len(st) != len(shapes):
                continue
            for s, t in zip(st, shapes):
                if s is not None and s != t:
                    who = name or "the model"
                    nth = f" (call {i + 1})" if len(recs) > 1 else ""
                    out.append({"path": path, "kind": "shape", "module": name, "call": i, "static": s, "torch": t,
                                "message": f"shapelint defect: static shape of {who}{nth} was {_text_shape(s)}, "
                                           f"torch gives {_text_shape(t)} ({label})"})
                    break
    return out


# ------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------

def _all_findings(analysis):
    if not hasattr(analysis, "_unfiltered_findings"):
        from ..findings import facts_to_findings

        try:
            analysis._unfiltered_findings = facts_to_findings(analysis.source, analysis.runs)
        except Exception:  # noqa: BLE001 - then the findings at hand must do
            analysis._unfiltered_findings = list(analysis.findings)
    return analysis._unfiltered_findings


# ~80 lines: the job's steps in order (build the job, run, fall back from meta to CPU, judge, defects).
def confirm_findings(analysis, findings, device: str = "auto", timeout: float = 60.0,
                     memory: Any = DEFAULT_MEMORY) -> Dict[Any, Any]:
    """Run the real forward pass for the models behind ``findings``.

    Returns ``{id(finding): {"confirmed": True | False | None, "evidence": str, "device": ...}}``
    plus ``"defects"``: a list of ``{"path", "message", ...}`` for each place where torch
    contradicts shapelint's own static shapes (a bug in shapelint, not in the model).
    ``memory``: address space the child may use beyond what importing torch mapped (bytes, or a
    size such as ``"4G"``; 0 or ``"none"``: no limit); going over it gives an unconfirmed verdict
    that says so, never a finding or a shapelint defect.
    Raises :class:`ConfirmError` (a :class:`shapelint.cli.CliError`) when torch is not installed
    (or CUDA is asked for and absent), or ``memory`` is not a size.
    """
    if device not in ("auto", "cpu", "cuda", "meta"):
        raise _cli_error(f"shapelint: unknown --device {device!r}")
    memory = parse_memory(memory)
    path = analysis.source.path
    stmts = Statements(analysis.source.code)
    result: Dict[Any, Any] = {}
    defects: List[Dict[str, Any]] = []
    result["defects"] = defects
    by_run: Dict[int, Tuple[Any, List]] = {}
    for f in findings:
        if f.run is None or f.code == "SHP000":
            result[id(f)] = _verdict(None, "not a shape finding: nothing to run")
            continue
        by_run.setdefault(id(f.run), (f.run, []))[1].append(f)
    # a finding several constructions make (Net(), Net(64)) is confirmed for each: the findings
    # list it once, under its first run; the other runs get a copy of it, merged back below
    shadows: Dict[int, List[Any]] = {}
    for f in findings:
        fact = getattr(f, "fact", None)
        if f.run is None or fact is None or f.code == "SHP000":
            continue
        covered = {(f.run.ctor_text, f.run.input_text())}
        for r2 in analysis.runs:
            key = (r2.ctor_text, r2.input_text())
            if r2 is f.run or key in covered or r2.error:
                continue
            if any(x.kind == "violation" and x.node is fact.node for x in r2.facts):
                covered.add(key)
                copy = dataclasses.replace(f, run=r2)
                shadows.setdefault(id(f), []).append(copy)
                by_run.setdefault(id(r2), (r2, []))[1].append(copy)
    jobs, plans = [], {}
    for i, (run, fs) in enumerate(by_run.values()):
        if getattr(run, "ctor_kwargs", None) is not None:
            # a class nobody builds, built with symbolic constructor arguments: torch needs values
            for f in fs:
                result[id(f)] = _verdict(None, f"built for {run.built_at or 'any constructor arguments'}: "
                                               f"give a construction with --construct to confirm it in torch")
            continue
        specs, env, batch, why = _run_inputs(run)
        if why is not None:
            for f in fs:
                result[id(f)] = _verdict(None, why)
            continue
        watch = []
        for f in fs:
            if f.code in SILENT_CODES:
                s, e, node = stmts.around(f.line)
                watch.append({"start": s, "end": e, "target": _watch_target(node)})
        job = {"id": i, "ctor": run.ctor_text, "inputs": specs, "batch": batch, "watch": watch,
               "ctor_locals": {k: v for k, v in (run.ctor_locals or {}).items() if _plain(v)},
               "finding_spans": [list(stmts.around(f.line)[:2]) for f in fs if f.code not in SILENT_CODES]}
        jobs.append(job)
        witnessed = bool(env.pop("__witness__", None))
        plans[i] = (run, fs, dict(job, env=env, memory=memory, witness=witnessed,
                                  input_text=" and ".join("x".join(map(str, s["shape"])) for s in specs or [])))
    if jobs:
        results, load_error = _execute(os.path.abspath(path), device, timeout, jobs, memory)
        _collect(result, defects, plans, results, load_error, analysis, stmts, device, memory, path)
    for f in findings:  # each construction's verdict, under the finding
        copies = shadows.get(id(f))
        if not copies:
            continue
        each = [dict(result.get(id(f), {}), construction=f.run.ctor_text)]
        for c in copies:
            v = result.pop(id(c), None)
            if v is not None:
                each.append(dict(v, construction=c.run.ctor_text))
        if id(f) in result:
            result[id(f)]["constructions"] = each
    return result


def _collect(result, defects, plans, results, load_error, analysis, stmts, device, memory, path) -> None:
    for i, (run, fs, job) in plans.items():
        if load_error is not None:
            line = (load_error.get("frames") or [None])[-1]
            at = f" (line {line})" if line else ""
            for f in fs:
                if load_error.get("memory"):
                    result[id(f)] = _verdict(None, f"{_memory_why(memory)} executing the file's imports and "
                                                   f"definitions{at}: {load_error.get('text')}")
                else:
                    result[id(f)] = _verdict(None, f"the file's imports and definitions failed to execute{at}: "
                                                   f"{load_error.get('text')}")
            continue
        res = results.get(i)
        if res is None or "outcome" in res:
            why = res["why"] if res else "no result"
            for f in fs:
                result[id(f)] = _verdict(None, f"{why} (running `{run.ctor_text}`)")
            continue
        verdicts = _judge(run, fs, res, job, stmts, explicit_meta=(device == "meta"))
        if job.get("witness"):
            for f in fs:
                v = verdicts.get(id(f))
                if v is not None:
                    v["witness"] = job["input_text"]
                    v["evidence"] = f"at witness input {job['input_text']}: {v['evidence']}"
        result.update(verdicts)
        defects.extend(_defects(run, res, job, path))
        err = res.get("error")
        if err is not None and err["stage"] == "forward" and err.get("frames") and not err.get("name") \
                and not err.get("memory"):  # running out of memory is the model's size, not a shape bug
            # torch raised somewhere shapelint reported nothing (in any run of this file, whatever
            # --select/--ignore/noqa kept)
            line = err["frames"][-1]
            s, e = stmts.around(line)[:2]
            if not any(s <= g.line <= e for g in _all_findings(analysis)):
                defects.append({"path": path, "line": line, "kind": "missed",
                                "message": f"shapelint defect: torch raised {err['text']} at line {line}, where "
                                           f"shapelint reported nothing (class {_class_name(run)}, `{run.ctor_text}`, "
                                           f"input {job['input_text']})"})
