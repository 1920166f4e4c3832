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
from typing import Dict, List, Optional, Set, Tuple

MODULE_NAME = "__shapelint_confirm__"

# Calls a kept module-level constant may make: pure builtins and constructors of plain values.
SAFE_BUILTINS = frozenset({
    "abs", "all", "any", "bool", "bytes", "chr", "dict", "divmod", "enumerate", "filter", "float",
    "frozenset", "getattr", "hasattr", "int", "isinstance", "issubclass", "len", "list", "map", "max",
    "min", "object", "ord", "pow", "range", "repr", "reversed", "round", "set", "slice", "sorted",
    "str", "sum", "tuple", "type", "zip",
})
# Qualified callables that only build values (resolved through the file's own imports).
SAFE_QUALIFIED = frozenset({
    "functools.partial", "collections.namedtuple", "collections.OrderedDict", "collections.defaultdict",
    "collections.deque", "typing.TypeVar", "typing.NamedTuple", "typing.cast", "typing.NewType",
    "dataclasses.field", "torch.device", "torch.finfo", "torch.iinfo", "torch.Size",
    "os.path.join", "os.path.dirname", "os.path.basename", "os.path.abspath", "os.path.realpath",
    "os.path.expanduser", "os.getenv", "os.environ.get", "math.sqrt", "math.ceil", "math.floor",
    "math.log", "math.log2", "math.prod", "math.gcd", "math.pow", "math.exp", "math.isqrt",
})
# Module-level constructors of torch.nn layers (`ACT = nn.ReLU()`) only allocate a module.
SAFE_PREFIXES = ("torch.nn.",)


# ------------------------------------------------------------------------------------------------
# Which statements run
# ------------------------------------------------------------------------------------------------

def _imports(tree: ast.Module) -> Dict[str, str]:
    """Local name -> qualified name, from the module's top-level imports (also inside try)."""
    out: Dict[str, str] = {}

    def visit(body):
        for s in body:
            if isinstance(s, ast.Import):
                for a in s.names:
                    if a.asname:
                        out[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        out[top] = top
            elif isinstance(s, ast.ImportFrom) and s.module and not s.level:
                for a in s.names:
                    if a.name != "*":
                        out[a.asname or a.name] = f"{s.module}.{a.name}"
            elif isinstance(s, ast.Try):
                visit(s.body)
                for h in s.handlers:
                    visit(h.body)
    visit(tree.body)
    return out


def _dotted(node) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _safe_call(call: ast.Call, imports: Dict[str, str]) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in SAFE_BUILTINS and func.id not in imports
    if isinstance(func, ast.Attribute) and isinstance(func.value, (ast.Constant, ast.List, ast.Tuple,
                                                                   ast.Dict, ast.Set, ast.JoinedStr)):
        return True  # a method of a literal: "a b".split(), ", ".join([...])
    name = _dotted(func)
    if name is None:
        return False
    head, _, rest = name.partition(".")
    qual = imports.get(head)
    if qual is None:
        return False
    qual = f"{qual}.{rest}" if rest else qual
    if qual in SAFE_QUALIFIED:
        return True
    last = qual.rsplit(".", 1)[-1]
    return any(qual.startswith(p) for p in SAFE_PREFIXES) and last[:1].isupper()


def _safe_value(node, imports) -> bool:
    """An expression whose evaluation calls nothing but :data:`SAFE_BUILTINS`/:data:`SAFE_QUALIFIED`.
    Lambda bodies are not evaluated when the lambda is defined, so their calls do not count."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Lambda):
            stack.extend(d for d in n.args.defaults + n.args.kw_defaults if d is not None)
            continue
        if isinstance(n, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            return False
        if isinstance(n, ast.Call) and not _safe_call(n, imports):
            return False
        stack.extend(ast.iter_child_nodes(n))
    return True


def _is_main_guard(node) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    sides = [node.test.left] + list(node.test.comparators)
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)


def _assigned_names(stmt) -> Set[str]:
    out = set()
    for n in ast.walk(stmt):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
    return out


def definitions_only(tree: ast.Module) -> Tuple[ast.Module, Set[str]]:
    """The statements ``--confirm`` executes, and the names that dropped statements would bind.

    Kept at module level: a docstring; ``import``/``from ... import``; ``def``/``async def``/
    ``class`` (with their decorators, default values and class bodies, which Python runs when it
    defines them); assignments (``=``, annotated) whose right side calls nothing, or only pure
    builtins (``range``, ``list``, ``dict``, ...), value constructors (``functools.partial``,
    ``collections.namedtuple``, ``torch.device``, ``os.path.join``, ``math.*``, ...) and
    ``torch.nn`` layer constructors; and ``try`` blocks made only of such statements (the optional
    import pattern). Dropped: ``if __name__ == "__main__":`` blocks and every other statement:
    expression statements (``train()``, ``torch.manual_seed(0)``), loops, ``with`` blocks, other
    ``if`` blocks, assignments that call anything else (``model = Net()``, ``data = load()``).
    """
    imports = _imports(tree)
    dropped: Set[str] = set()

    def keep(s) -> bool:
        if isinstance(s, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                          ast.Pass)):
            return True
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant):
            return True  # docstrings
        if isinstance(s, ast.Assign):
            return _safe_value(s.value, imports) and all(_safe_value(t, imports) for t in s.targets)
        if isinstance(s, ast.AnnAssign):
            return s.simple == 1 and (s.value is None or _safe_value(s.value, imports))
        if isinstance(s, ast.Try) and not getattr(s, "finalbody", None):
            bodies = [s.body, s.orelse] + [h.body for h in s.handlers]
            return all(keep(x) for b in bodies for x in b)
        return False

    body = []
    for s in tree.body:
        if keep(s):
            body.append(s)
        else:
            dropped |= _assigned_names(s)
    for s in body:
        dropped -= _assigned_names(s)
    return ast.Module(body=body, type_ignores=[]), dropped


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
    local = dict(job_run.get("ctor_locals") or {})
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
    if root not in sys.path:
        sys.path.insert(0, root)
    exec(compile(kept, filename, "exec"), mod.__dict__)
    return mod.__dict__, filename, dropped


# ------------------------------------------------------------------------------------------------
# Containment: resource limits, a subreaper, a private channel
# ------------------------------------------------------------------------------------------------

PR_SET_CHILD_SUBREAPER = 36
PER_THREAD = 96 << 20  # address space each torch thread maps (stack, malloc arena), on top of the budget
_OWNER = {"pid": None}  # the process whose messages count: forks of the model's code send nothing


def _vm_size() -> int:
    """Bytes of address space this process has mapped now (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _torch_threads() -> int:
    torch = sys.modules.get("torch")
    if torch is None:
        return 0
    try:
        return int(torch.get_num_threads()) + int(torch.get_num_interop_threads())
    except Exception:  # noqa: BLE001
        return 0


def apply_limits(limits: dict, cuda: bool) -> dict:
    """Resource limits for the rest of this process's life (and of every process it starts), set
    after ``import torch`` and before the user's file runs. Returns what was set, for the record.

    * address space: what is mapped now (the interpreter and torch, about 0.7 GB on CPU) plus
      ``limits["memory"]`` bytes plus :data:`PER_THREAD` for each of torch's threads (each maps a
      stack and a malloc arena of its own: 16 threads map about 1.2 GB they barely use); not on
      CUDA, whose driver reserves far more address space than it uses;
    * CPU seconds: ``limits["cpu"]`` (then SIGXCPU, and SIGKILL 5 s later);
    * file size: ``limits["fsize"]`` bytes per file written (a bigger write fails with EFBIG);
    * no core dumps.
    """
    import resource
    import signal

    done = {}

    def put(what, value):
        try:
            _soft, hard = resource.getrlimit(what)
            if hard != resource.RLIM_INFINITY and value > hard:
                value = hard
            resource.setrlimit(what, (value, hard))
            return value
        except (ValueError, OSError):
            return None

    put(resource.RLIMIT_CORE, 0)
    memory = limits.get("memory")
    if memory and not cuda and hasattr(resource, "RLIMIT_AS"):
        base = _vm_size()
        if base:
            done["address_space"] = put(resource.RLIMIT_AS, base + int(memory) + PER_THREAD * _torch_threads())
    cpu = limits.get("cpu")
    if cpu and hasattr(resource, "RLIMIT_CPU"):
        soft = int(cpu) + 1
        try:
            _s, hard = resource.getrlimit(resource.RLIMIT_CPU)
            hard2 = soft + 5 if hard == resource.RLIM_INFINITY else min(hard, soft + 5)
            resource.setrlimit(resource.RLIMIT_CPU, (min(soft, hard2), hard2))
            done["cpu"] = min(soft, hard2)
        except (ValueError, OSError):
            pass
    fsize = limits.get("fsize")
    if fsize and hasattr(resource, "RLIMIT_FSIZE"):
        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-long write fails instead of killing
        except (OSError, ValueError, AttributeError):
            pass
        done["fsize"] = put(resource.RLIMIT_FSIZE, int(fsize))
    return done


def become_subreaper() -> bool:
    """Linux: orphaned descendants (a double fork, ``start_new_session``) are re-parented to this
    process instead of init, so :func:`kill_descendants` finds them."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children_map() -> Dict[int, List[int]]:
    """ppid -> [pid] of every live process (zombies left out), from /proc."""
    out: Dict[int, List[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rfind(b")") + 2:].split()
        if len(rest) < 2 or rest[0] in (b"Z", b"X"):
            continue
        out.setdefault(int(rest[1]), []).append(int(name))
    return out


def descendants(root: int) -> List[int]:
    """Every live process below ``root`` in the parent tree (Linux /proc)."""
    kids = _children_map()
    out, todo = [], [root]
    while todo:
        for c in kids.get(todo.pop(), []):
            if c not in out:
                out.append(c)
                todo.append(c)
    return out


def kill_tree(root: int, include_root: bool, reap: bool = False) -> None:
    """Stop, then kill, every descendant of ``root`` (and ``root`` itself if asked). Stopped
    processes cannot fork, so repeated scans converge; an orphan of a process that dies meanwhile
    is re-parented to ``root`` when it is a subreaper, and found by the next scan."""
    import signal

    def signal_all(pids, sig):
        for p in pids:
            try:
                os.kill(p, sig)
            except (ProcessLookupError, PermissionError):
                pass

    if include_root:
        signal_all([root], signal.SIGSTOP)
    seen: List[int] = []
    for _ in range(100):
        found = [p for p in descendants(root) if p not in seen]
        if not found:
            break
        signal_all(found, signal.SIGSTOP)
        seen.extend(found)
    signal_all(seen + ([root] if include_root else []), signal.SIGKILL)
    if reap:
        import time

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                if not descendants(root):
                    break
                time.sleep(0.01)


def kill_descendants() -> None:
    """End every process the model's code started, before this worker exits."""
    if os.getpid() != _OWNER["pid"]:
        return
    for _ in range(3):
        if not descendants(os.getpid()):
            return
        kill_tree(os.getpid(), include_root=False, reap=True)


def private_fd(fd: int) -> int:
    """Move ``fd`` to a free, random, high descriptor, closed on exec: the channel to the parent
    is then no descriptor that the model's code would write to by accident (1, 2, 3...)."""
    import random

    try:
        import resource

        top = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if top == resource.RLIM_INFINITY or top > 65536:
            top = 65536
    except (ImportError, ValueError, OSError):
        top = 256
    low = max(10, top // 2)
    for _ in range(64):
        target = random.SystemRandom().randrange(low, max(low + 1, top))
        try:
            os.fstat(target)
            continue  # in use
        except OSError:
            pass
        try:
            os.dup2(fd, target, inheritable=False)
        except OSError:
            break
        os.close(fd)
        return target
    os.set_inheritable(fd, False)
    return fd


def memory_error(exc: BaseException) -> bool:
    """An exception that means "out of memory" (the address-space limit, or the machine's)."""
    if isinstance(exc, MemoryError):
        return True
    text = str(exc)
    return type(exc).__name__ == "OutOfMemoryError" or any(s in text for s in (
        "can't allocate memory", "Cannot allocate memory", "std::bad_alloc", "out of memory"))


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
