"""The child process of ``shapelint check --confirm``: execute a file's definitions and run the
real forward pass of the models the static analysis built.

It is started by :mod:`shapelint.commands.confirm` as ``python -m shapelint.commands._confirm_runner`` (or by the
path of this file), reads one JSON job on stdin and writes JSON lines on its own stdout. It
reports what torch did (the exception and the traceback lines in the user's file, the lines that
ran, the shapes each module produced, the values of watched statements); the parent decides what
that means for each finding.

What runs: of the file's own module-level statements, only its imports, constants, function and
class definitions (see :func:`definitions_only`, a filter by the names written in the source, not
a sandbox); imported modules run in full. Containment (see the README's ``--confirm`` section):
resource limits (:func:`apply_limits`), a subreaper that kills every descendant before it exits
(:func:`become_subreaper`, :func:`kill_descendants`), a closed stdin, and a report channel on a
random high descriptor (:func:`private_fd`) whose messages carry the job's token. This module
imports torch lazily, so the parent can import it without torch.
"""
from __future__ import annotations

import ast
import builtins
import json
import os
import sys
import traceback
from typing import Dict, List, Optional, Set

MODULE_NAME = "__shapelint_confirm__"

try:  # imported as shapelint.commands._confirm_runner
    from ._confirm_definitions import SAFE_BUILTINS, SAFE_PREFIXES, SAFE_QUALIFIED, definitions_only  # noqa: F401
except ImportError:  # run by path (the child process): load the sibling file without putting this folder on sys.path
    import importlib.util as _ilu

    _dspec = _ilu.spec_from_file_location("_shapelint_confirm_definitions",
                                          os.path.join(os.path.dirname(os.path.abspath(__file__)), "_confirm_definitions.py"))
    _defs = _ilu.module_from_spec(_dspec)  # type: ignore[arg-type]
    _dspec.loader.exec_module(_defs)  # type: ignore[union-attr]
    SAFE_BUILTINS, SAFE_PREFIXES, SAFE_QUALIFIED = _defs.SAFE_BUILTINS, _defs.SAFE_PREFIXES, _defs.SAFE_QUALIFIED
    definitions_only = _defs.definitions_only


# ------------------------------------------------------------------------------------------------
# Running (torch from here on)
# ------------------------------------------------------------------------------------------------

class _Tracer:
    """Lines of one file that ran, and the values some statements produced (``sys.settrace``,
    only for frames of that file, so torch's own Python code runs untraced)."""

    def __init__(self, filename: str, watch: List[dict]):
        self.filename = filename
        self.watch = watch  # {"start", "end", "target"}: target a local name or "<return>"
        self.lines: Set[int] = set()
        self.values: Dict[int, List] = {}
        self._old = None

    def _span(self, line):
        for w in self.watch:
            if w["start"] <= line <= w["end"]:
                return w
        return None

    def _record(self, w, value):
        self.values.setdefault(w["start"], []).append(_shapes(value))

    def _global(self, frame, event, arg):
        if frame.f_code.co_filename != self.filename:
            return None
        state = {"in": None}
        lines, watch = self.lines, self.watch

        def local(frame, event, arg):
            cur = state["in"]
            if event == "line":
                line = frame.f_lineno
                lines.add(line)
                if cur is not None and not (cur["start"] <= line <= cur["end"]):
                    if cur["target"] not in (None, "<return>"):
                        self._record(cur, frame.f_locals.get(cur["target"]))
                    cur = None
                if cur is None and watch:
                    cur = self._span(line)
                state["in"] = cur
            elif event == "exception":
                state["in"] = None  # the watched statement did not finish: nothing to read
            elif event == "return" and cur is not None:
                if cur["target"] == "<return>":
                    self._record(cur, arg)
                elif cur["target"] is not None:
                    self._record(cur, frame.f_locals.get(cur["target"]))
                state["in"] = None
            return local

        self.lines.add(frame.f_lineno)
        return local

    def __enter__(self):
        self._old = sys.gettrace()
        sys.settrace(self._global)
        return self

    def __exit__(self, *exc):
        sys.settrace(self._old)
        return False


def _tensors(obj, out=None, depth=0):
    import torch

    out = [] if out is None else out
    if depth > 4:
        return out
    if isinstance(obj, torch.Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors(o, out, depth + 1)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors(o, out, depth + 1)
    return out


def _shapes(obj):
    """The shapes of the tensors in a value (a list of lists), or None if it holds none."""
    ts = _tensors(obj)
    return [list(t.shape) for t in ts] if ts else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    if len(line) > 400:
        line = line[:397] + "..."
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def _error(exc: BaseException, filename: str, stage: str) -> dict:
    frames = [fr.lineno for fr in traceback.extract_tb(exc.__traceback__) if fr.filename == filename]
    return {"type": type(exc).__name__, "text": _first_line(exc), "frames": frames, "stage": stage,
            "name": getattr(exc, "name", None) if isinstance(exc, NameError) else None,
            "memory": memory_error(exc)}


def _attempt(ns, job_run, device: str, filename: str) -> dict:
    import contextlib

    import torch

    res = {"device": device, "error": None, "executed": [], "watched": {}, "output": None, "hooks": {},
           "stage": "construct"}
    ctx = (lambda: torch.device(device)) if device in ("meta", "cuda") else contextlib.nullcontext
    import argparse
    import types

    # an options object in the construction (Net(argparse.Namespace(depth=20))), as the engine reads it
    local = {"argparse": argparse, "types": types, **(job_run.get("ctor_locals") or {})}
    try:
        torch.manual_seed(0)
        with ctx():
            model = eval(compile(job_run["ctor"], filename, "eval"), ns, local)
    except Exception as e:  # noqa: BLE001 - reported, never raised
        res["error"] = _error(e, filename, "construct")
        return res
    if not isinstance(model, torch.nn.Module):
        res["error"] = {"type": "TypeError", "text": f"{job_run['ctor']} did not return an nn.Module "
                        f"(got {type(model).__name__})", "frames": [], "stage": "construct", "name": None}
        return res
    specs = job_run.get("inputs")
    if specs is None:
        res["stage"] = "built"  # nothing to feed: the construction was the whole check
        return res
    res["stage"] = "forward"
    try:
        model.eval()
        with ctx():
            inputs = [torch.zeros(s["shape"], dtype=torch.long) if s["dtype"] == "long"
                      else torch.randn(s["shape"]) for s in specs]
    except Exception as e:  # noqa: BLE001
        res["stage"] = "input"
        res["error"] = _error(e, filename, "input")
        return res

    hooks: Dict[str, List] = {}
    handles = []

    def hook_for(name):
        def hook(mod, args, output):
            hooks.setdefault(name, []).append(_shapes(output))
        return hook

    for name, mod in model.named_modules():
        handles.append(mod.register_forward_hook(hook_for(name)))
    tracer = _Tracer(filename, job_run.get("watch") or [])
    try:
        with torch.no_grad(), ctx(), tracer:
            out = model(*inputs)
        if device == "cuda":
            torch.cuda.synchronize()
        res["output"] = _shapes(out)
        res["stage"] = "done"
    except Exception as e:  # noqa: BLE001
        res["error"] = _error(e, filename, "forward")
    finally:
        for h in handles:
            h.remove()
    res["executed"] = sorted(tracer.lines)
    res["watched"] = {str(k): v for k, v in tracer.values.items()}
    res["hooks"] = hooks
    return res


def _explained(res: dict, job_run: dict) -> bool:
    """Whether a meta-device result settles every finding of the run (else CPU runs it again)."""
    err = res["error"]
    spans = job_run.get("finding_spans") or []
    if err is not None:
        if err["type"] in ("NotImplementedError",) or "meta" in err["text"].lower():
            return False
        return any(s <= ln <= e for ln in err["frames"] for s, e in spans)
    if res["stage"] != "done" or spans:
        return False  # a finding that raises did not raise on meta: ask the CPU
    for w in job_run.get("watch") or []:
        if not any(_folded(v, job_run) for v in res["watched"].get(str(w["start"]), [])):
            return False
    return True


def _folded(shapes, job_run) -> bool:
    b = job_run.get("batch")
    return bool(shapes) and b is not None and len(shapes[0]) > 0 and shapes[0][0] != b


def run_one(ns, job_run: dict, device: str, filename: str) -> dict:
    import torch

    if device == "auto":
        devices = ["cuda"] if torch.cuda.is_available() else ["meta", "cpu"]
    else:
        devices = [device]
    attempts = []
    res = None
    for i, dev in enumerate(devices):
        res = _attempt(ns, job_run, dev, filename)
        attempts.append({"device": dev, "error": res["error"]["text"] if res["error"] else None})
        if dev == "meta" and i + 1 < len(devices) and not _explained(res, job_run):
            continue
        break
    res["attempts"] = attempts
    return res


def _load(path: str):
    import types

    filename = os.path.realpath(path)
    with open(filename, encoding="utf-8") as f:
        code = f.read()
    tree = ast.parse(code, filename=filename)
    kept, dropped = definitions_only(tree)
    # A file inside a package (folders with __init__.py) is loaded under its dotted name, so that
    # its relative imports work; a loose file under a name that is not "__main__".
    folder = os.path.dirname(filename)
    parts = [os.path.splitext(os.path.basename(filename))[0]]
    root = folder
    while os.path.isfile(os.path.join(root, "__init__.py")) and os.path.dirname(root) != root:
        parts.insert(0, os.path.basename(root))
        root = os.path.dirname(root)
    name = ".".join(parts) if len(parts) > 1 and all(p.isidentifier() for p in parts) else MODULE_NAME
    if name == MODULE_NAME:
        root = folder
    mod = types.ModuleType(name)
    mod.__file__ = filename
    mod.__builtins__ = builtins
    if name != MODULE_NAME:
        mod.__package__ = name.rpartition(".")[0]
    sys.modules[name] = mod
    # the package root first; then the folders from just below it down to the file's, where a
    # project run from its top folder finds its own modules (`from layers import Conv` in
    # CondenseNet/models/condensenet.py when CondenseNet/ has an __init__.py itself)
    below, d = [], folder
    while d != root and d.startswith(root + os.sep):
        below.insert(0, d)
        d = os.path.dirname(d)
    for i, p in enumerate(x for x in [root] + below if x not in sys.path):
        sys.path.insert(i, p)
    exec(compile(kept, filename, "exec"), mod.__dict__)
    return mod.__dict__, filename, dropped


# ------------------------------------------------------------------------------------------------
# Containment: resource limits, a subreaper, a private channel
# ------------------------------------------------------------------------------------------------

_OWNER = {"pid": None}  # the process whose messages count: forks of the model's code send nothing


try:  # imported as shapelint.commands._confirm_runner
    from ._confirm_sandbox import (PER_THREAD, _torch_threads, _vm_size, apply_limits, become_subreaper,  # noqa: F401
                                   descendants, kill_tree, memory_error, private_fd)
except ImportError:  # run by path (the child process): load the sibling file without putting this folder on sys.path
    import importlib.util as _ilu

    _spec = _ilu.spec_from_file_location("_shapelint_confirm_sandbox",
                                         os.path.join(os.path.dirname(os.path.abspath(__file__)), "_confirm_sandbox.py"))
    _sandbox = _ilu.module_from_spec(_spec)  # type: ignore[arg-type]
    _spec.loader.exec_module(_sandbox)  # type: ignore[union-attr]
    PER_THREAD, _torch_threads, _vm_size = _sandbox.PER_THREAD, _sandbox._torch_threads, _sandbox._vm_size
    apply_limits, become_subreaper = _sandbox.apply_limits, _sandbox.become_subreaper
    descendants, kill_tree = _sandbox.descendants, _sandbox.kill_tree
    memory_error, private_fd = _sandbox.memory_error, _sandbox.private_fd


def kill_descendants() -> None:
    """End every process the model's code started, before this worker exits."""
    if os.getpid() != _OWNER["pid"]:
        return
    for _ in range(3):
        if not descendants(os.getpid()):
            return
        kill_tree(os.getpid(), include_root=False, reap=True)


def _watchdog(limit: Optional[float]) -> None:
    """End this process (and whatever it started) when whoever started it is gone, or after
    ``limit`` seconds: a forward that never returns must not outlive a shapelint that was killed
    before it could kill it."""
    import threading
    import time

    parent = os.getppid()
    deadline = time.monotonic() + limit if limit else None

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent or (deadline is not None and time.monotonic() > deadline):
                try:
                    kill_descendants()
                finally:
                    os._exit(70)

    threading.Thread(target=watch, daemon=True, name="shapelint-watchdog").start()


def _cuda_wanted(device: str) -> bool:
    if device == "cuda":
        return True
    if device != "auto":
        return False
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


def serve_job(job: dict, send) -> None:
    """Execute the file's definitions, then each run of the job; every step is one message.
    Runs in a process of its own (a fresh runner or a fork of the server), which this contains
    first: it becomes a subreaper, takes its resource limits, and kills every process the model's
    code started before it returns."""
    device = job.get("device", "auto")
    _OWNER["pid"] = os.getpid()
    become_subreaper()
    limits = dict(job.get("limits") or {})
    if job.get("timeout"):  # the parent gives each step this long; this is a backstop
        backstop = float(job["timeout"]) * (len(job.get("runs") or []) + 2) + 30
        _watchdog(backstop)
        limits.setdefault("cpu", backstop * (os.cpu_count() or 1))  # every thread of torch counts
    apply_limits(limits, cuda=_cuda_wanted(device))
    try:
        _serve_job(job, send, device)
    finally:
        kill_descendants()


def _serve_job(job: dict, send, device: str) -> None:
    try:
        ns, filename, dropped = _load(job["path"])
    except BaseException as e:  # noqa: BLE001 - SystemExit from user code included
        filename = os.path.realpath(job["path"])
        send(event="loaded", ok=False, error=_error(e, filename, "load"))
        return
    send(event="loaded", ok=True, dropped=sorted(dropped))
    for job_run in job["runs"]:
        try:
            res = run_one(ns, job_run, device, filename)
        except BaseException as e:  # noqa: BLE001
            res = {"device": device, "stage": "crash", "error": _error(e, filename, "crash"), "executed": [],
                   "watched": {}, "output": None, "hooks": {}, "attempts": []}
        res["id"] = job_run["id"]
        send(event="result", **res)
    send(event="exit")


def _sender(stream, token: Optional[str] = None):
    """Messages to the parent, each marked with the job's token (the parent drops lines without
    it). A fork of the model's code (``os.fork()`` in ``__init__``) that reaches a message ends
    there: only the process that owns the job speaks."""
    def send(**msg):
        if _OWNER["pid"] is not None and os.getpid() != _OWNER["pid"]:
            os._exit(0)
        if token is not None:
            msg["token"] = token
        stream.write(json.dumps(msg) + "\n")
        stream.flush()
    return send


def _warm_meta() -> None:
    """The meta device loads its Python shape functions on first use (seconds); done once here,
    every fork starts with them loaded. Meta tensors hold no data and start no threads."""
    try:
        import torch
        import torch.nn.functional as F

        with torch.device("meta"), torch.no_grad():
            x = torch.randn(2, 3, 8, 8)
            y = F.batch_norm(F.conv2d(x, torch.randn(4, 3, 3, 3), padding=1), torch.zeros(4), torch.ones(4))
            y = F.max_pool2d(F.relu(y), 2) + F.adaptive_avg_pool2d(y, 4)
            y = torch.cat([y, y], 1).view(2, -1)
            F.log_softmax(F.linear(y, torch.randn(5, y.shape[1])), dim=1)
    except Exception:  # noqa: BLE001 - only a warm-up
        pass


def _serve_forks(send, proto) -> None:
    """Server mode: torch is imported once, then each job (one JSON line on stdin) runs in a fork
    of this process, in a session of its own (so the parent can kill its whole group), writing
    its messages to the file the job names. One process per file, as without the server, minus
    the seconds of ``import torch``. Only used where CUDA cannot be involved (CUDA does not
    survive a fork)."""
    import signal

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forks are reaped by the system
    warm = False
    for line in sys.stdin:
        try:
            req = json.loads(line)
        except ValueError:
            continue
        if not warm and req["job"].get("device") in ("meta", "auto"):
            warm = True
            _warm_meta()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                os.setsid()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.close(proto.fileno())  # the server's channel: the parent must see it close with the server
                fd = os.open(req["err"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                os.close(fd)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.close(null)
                sys.stdin = open(os.devnull)
                out_fd = private_fd(os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
                with os.fdopen(out_fd, "a", buffering=1) as out:
                    serve_job(req["job"], _sender(out, req["job"].get("token")))
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                try:
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        send(event="forked", tag=req.get("tag"), pid=pid)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    server = "--server" in argv
    _OWNER["pid"] = os.getpid()
    # The protocol owns the real stdout, moved to a random high descriptor; descriptor 1 and
    # sys.stdout then lead where stderr does (the parent's capture), so whatever the user's code
    # prints or writes to descriptor 1 never reaches the protocol.
    proto = os.fdopen(private_fd(os.dup(1)), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]

    job = None if server else json.loads(sys.stdin.read())
    send = _sender(proto, None if server else job.get("token"))
    if not server:  # stdin reads as empty from here on
        try:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
            sys.stdin = open(os.devnull)
        except OSError:  # pragma: no cover
            pass
    try:
        import torch
    except ImportError as e:
        send(event="fatal", kind="no-torch", message=str(e))
        return 3
    if server:
        become_subreaper()  # a worker's orphans come back here, inside the tree the parent kills at the end
        send(event="ready", torch=torch.__version__, cuda_built=torch.backends.cuda.is_built())
        _serve_forks(send, proto)
        return 0
    if job.get("device") == "cuda" and not torch.cuda.is_available():
        send(event="fatal", kind="no-cuda", message="torch.cuda.is_available() is False")
        return 3
    send(event="ready", torch=torch.__version__, cuda=torch.cuda.is_available())
    serve_job(job, send)
    return 0


if __name__ == "__main__":
    sys.exit(main())
