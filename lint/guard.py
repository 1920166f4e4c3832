"""Run a parse-and-analyse step where deep but valid code cannot crash it.

libcst's tree and the interpreter recurse once per nesting level, and some constructs nest far
deeper than they look: 350 implicitly concatenated string lines, ``1+1+...`` chained 340 times,
``a or a or ...`` 400 times, 150 nested ``F.relu(`` calls. Under CPython's default limit (1000
frames, 8 MB main-thread stack) each of these is a RecursionError.

``run_deep(fn, ...)`` runs ``fn`` in a worker thread with a large stack (``threading.stack_size``;
only the pages touched are ever committed) while the interpreter's recursion limit is raised; the
caller gets fn's result or its exception, re-raised in the calling thread. Code deeper than even
that still ends in RecursionError (or MemoryError), which callers turn into a single
"not analysed" note for the file -- never a traceback, never a finding.
"""
from __future__ import annotations

import contextlib
import contextvars
import gc
import sys
import threading
from typing import Any, Callable, Iterator

STACK_BYTES = 512 * 1024 * 1024
RECURSION_LIMIT = 60_000

_lock = threading.Lock()
_active = 0
_saved_limit = None


class TooDeep(Exception):
    """The file nests deeper than the guarded analysis can follow."""


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic collector paused for one file's work, then restored as it was.

    A syntax tree and its interpretation are many small objects that all live until the file is
    done: the collector would rescan them again and again (25-35 % of the time on torch/nn and on a
    10,000-layer Sequential, at ~4 % more peak memory). What the file leaves in cycles is
    collected after it, once."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _enter() -> None:
    global _active, _saved_limit
    with _lock:
        if _active == 0:
            _saved_limit = sys.getrecursionlimit()
            if _saved_limit < RECURSION_LIMIT:
                sys.setrecursionlimit(RECURSION_LIMIT)
        _active += 1


def _leave() -> None:
    global _active
    with _lock:
        _active -= 1
        if _active == 0 and _saved_limit is not None:
            sys.setrecursionlimit(_saved_limit)


def run_deep(fn: Callable[..., Any], *args, **kwargs) -> Any:
    """``fn(*args, **kwargs)`` on a big stack with a raised recursion limit.

    RecursionError and MemoryError become ``TooDeep``; any other exception is re-raised as is.
    """
    box: dict = {}
    # the caller's context variables (the cache's read hook, the analysis scope) go along
    ctx = contextvars.copy_context()

    def target():
        try:
            box["value"] = ctx.run(fn, *args, **kwargs)
        except (RecursionError, MemoryError) as e:
            box["deep"] = e
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e

    _enter()
    try:
        with _lock:
            old = threading.stack_size()
            try:
                threading.stack_size(STACK_BYTES)
            except (ValueError, RuntimeError):  # pragma: no cover - platform without the knob
                pass
            try:
                t = threading.Thread(target=target, name="shapelint-analysis", daemon=True)
                t.start()
            finally:
                threading.stack_size(old)
        t.join()
    finally:
        _leave()
    if "deep" in box:
        raise TooDeep(f"the code nests too deeply ({type(box['deep']).__name__})") from None
    if "error" in box:
        raise box["error"]
    return box.get("value")


# libcst's parser takes time cubic in the length of one chain of binary operators (2,000 `1+1+...`
# take seconds, 4,000 half a minute, 100,000 never end), so a file whose syntax tree is deeper than
# MAX_DEPTH is not handed to it. Measuring needs Python's own parse, done only for files with
# many operators (a cheap count), so ordinary files pay nothing.
MAX_DEPTH = 1000
_OPERATORS = None


def _many_operators(code: str, threshold: int = 300) -> bool:
    global _OPERATORS
    if _OPERATORS is None:
        import re

        _OPERATORS = re.compile(r"[-+*/%|&^@<>]|\b(?:and|or|not|if|else)\b|\(")
    n = 0
    for _ in _OPERATORS.finditer(code):
        n += 1
        if n > threshold:
            return True
    return False


_FIELDS: dict = {}


def tree_depth(tree) -> int:
    """Depth of a Python ``ast`` tree, walked level by level without recursion."""
    import ast

    node_type, fields_of = ast.AST, _FIELDS
    depth, level = 0, [tree]
    while level:
        depth += 1
        below: list = []
        for node in level:
            fields = fields_of.get(type(node))
            if fields is None:
                fields = fields_of[type(node)] = type(node)._fields
            for name in fields:
                v = getattr(node, name, None)
                if isinstance(v, list):
                    below.extend([x for x in v if isinstance(x, node_type)])
                elif isinstance(v, node_type):
                    below.append(v)
        level = below
    return depth


def check_depth(code: str, tree=None) -> None:
    """Raise TooDeep when the code nests deeper than MAX_DEPTH (run it on the guarded stack: Python's
    own parser recurses too). A file Python cannot parse is left to the caller's parse."""
    if not _many_operators(code):
        return
    if tree is None:
        import ast

        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            return
    depth = tree_depth(tree)
    if depth > MAX_DEPTH:
        raise TooDeep(f"syntax tree {depth} levels deep (limit {MAX_DEPTH})")
