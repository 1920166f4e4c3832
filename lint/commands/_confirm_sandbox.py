"""Containment of the --confirm child (used by _confirm_runner.py, and by confirm.py to end a
run): resource limits, a subreaper, and finding and killing every descendant process. Plain
stdlib, no torch, no package-relative imports: the child loads this file by path."""
from __future__ import annotations

import os
import sys
from typing import Dict, List

PR_SET_CHILD_SUBREAPER = 36
PER_THREAD = 96 << 20  # address space each torch thread maps (stack, malloc arena), on top of the budget


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
