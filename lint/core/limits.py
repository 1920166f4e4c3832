"""The analysis budgets and the caps on concrete values (issue 12).

The interpreter evaluates plain Python values concretely (``pow(10, 10**9)``, ``"x" * 10**10``,
``math.factorial(10**7)``...). Each such operation is checked *before* it runs, and its result
after: a value beyond a cap becomes UNKNOWN, like anything else the analysis does not model --
never a hang, never a finding.

- integers: magnitude at most ``2**64`` (``MAX_INT``);
- strings and bytes: at most ``MAX_STR`` characters;
- lists, tuples, dicts: at most ``MAX_ITEMS`` elements, nested ones counted where Python would
  walk them all (``str``, ``==``, ``in``, ``sorted``); at most ``MAX_ALLOC`` elements built per class
  (then the class is abandoned: many lists each under the cap);
- format widths/precisions: at most ``MAX_STR``;
- ``range`` stays a lazy range object; iterating one longer than MAX_UNROLL (frames.py) is UNKNOWN.

The step budget (``frames.MAX_STEPS`` per class) and the time budget (``Deadline``: CPU seconds per
class, ``--time-budget``, and three times that per file) end the analysis of a class: it becomes unknown with one note, the rest of the
run goes on.
"""
from __future__ import annotations

import contextlib
import contextvars
import math
import re
import time
from typing import Any, Optional

MAX_INT_BITS = 64
MAX_INT = 1 << MAX_INT_BITS
MAX_STR = 1_000_000
MAX_ITEMS = 100_000
MAX_ALLOC = 20_000_000  # elements (list/tuple items, characters) built by concrete operations per class
DEFAULT_TIME_BUDGET = 2.0  # CPU seconds of analysis per class, 3x per file (flake8, shapelint check)
TIME_CHECK_EVERY = 256  # steps between two reads of the clock

def _unknown():
    from .values import UNKNOWN

    return UNKNOWN


def too_big(v: Any) -> bool:
    """A value over a cap (checked shallowly: containers hold values that were checked)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return v > MAX_INT or v < -MAX_INT
    if isinstance(v, (str, bytes)):
        return len(v) > MAX_STR
    if isinstance(v, (list, tuple, dict)):
        return len(v) > MAX_ITEMS
    return False


def bounded(v: Any) -> Any:
    """v, or UNKNOWN when it is over a cap."""
    return _unknown() if too_big(v) else v


def weight_ok(v: Any, limit: int = MAX_ITEMS) -> bool:
    """At most ``limit`` elements in v, nested containers counted (``str([[0] * 10**5] * 10**5)``
    would print 10**10 of them): walked without recursion, stopping as soon as it is over."""
    n, stack = 0, [v]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            n += len(x)
            stack.extend(e for e in x if isinstance(e, (list, tuple, dict, str, bytes)))
        elif isinstance(x, dict):
            n += len(x)
            stack.extend(e for e in x.values() if isinstance(e, (list, tuple, dict, str, bytes)))
        elif isinstance(x, (str, bytes)):
            n += len(x) // 16
        if n > limit:
            return False
    return True


def size_of(v: Any) -> int:
    """What a result costs against MAX_ALLOC (its own elements; nested ones were charged when built)."""
    return len(v) if isinstance(v, (list, tuple, dict, str, bytes)) else 0


def _size(v) -> Optional[int]:
    if isinstance(v, (str, bytes, list, tuple)):
        return len(v)
    return None


def _seq_cap(v) -> int:
    return MAX_STR if isinstance(v, (str, bytes)) else MAX_ITEMS


def binop_ok(op: str, a: Any, b: Any) -> bool:
    """May Python's operator run on these plain values without a blow-up? (checked before it runs)"""
    if isinstance(a, bool):
        a = int(a)
    if isinstance(b, bool):
        b = int(b)
    if too_big(a) or too_big(b):
        return False
    if op == "Power":
        if isinstance(a, int) and isinstance(b, int):
            # a negative power is a float (cheap); 0, 1, -1 stay small
            return b < 0 or a in (0, 1, -1) or math.log2(abs(a)) * b <= MAX_INT_BITS + 1
        return True  # a float power: OverflowError at worst
    if op == "LeftShift":
        if isinstance(a, int) and isinstance(b, int):
            return a == 0 or b < 0 or a.bit_length() + b <= MAX_INT_BITS + 1
        return True
    if op == "Multiply":
        for seq, n in ((a, b), (b, a)):
            size = _size(seq)
            if size is not None and isinstance(n, int):
                return n <= 0 or size * n <= _seq_cap(seq)
        return True
    if op == "Add":
        sa, sb = _size(a), _size(b)
        if sa is not None and sb is not None:
            return sa + sb <= _seq_cap(a)
        return True
    if op == "Modulo" and isinstance(a, (str, bytes)):
        return format_ok(a if isinstance(a, str) else a.decode("latin-1"), percent=True) and weight_ok(b)
    return True


_WIDE = re.compile(r"\d{7,}")  # a width or precision of a million or more


def format_ok(fmt: str, args=(), kwargs=None, percent: bool = False) -> bool:
    """May ``fmt.format(*args)``, ``fmt % args`` or ``format(v, fmt)`` run? Refuses widths or
    precisions over MAX_STR, written or taken from an argument (``{:{}}``, ``%*d``)."""
    if len(fmt) > MAX_STR or _WIDE.search(fmt):
        return False
    if percent:
        return "*" not in fmt
    # a width from an argument: `{:{}}`, `{0:{1}}`
    if re.search(r"\{[^{}]*:[^{}]*\{", fmt):
        vals = list(args) + list((kwargs or {}).values())
        return all(not isinstance(v, int) or abs(v) <= MAX_STR for v in vals)
    return True


def str_method_ok(s: str, name: str, args, kwargs) -> bool:
    """May ``s.name(*args)`` run within the caps?"""
    if not weight_ok(list(args)) or not weight_ok(list((kwargs or {}).values())):
        return False  # "{}".format([[0] * 10**5] * 10**5)
    if name == "format":
        return format_ok(s, args, kwargs)
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        n = s.count(args[0]) if args[0] else len(s) + 1
        return len(s) + n * len(args[1]) <= MAX_STR
    if name == "join" and args:
        items = args[0]
        if isinstance(items, (list, tuple)):
            total = sum(len(x) for x in items if isinstance(x, str)) + len(s) * len(items)
            return total <= MAX_STR
        return False
    return True


# math functions whose cost grows with their integer arguments
_MATH_SMALL = {"factorial": 1000, "comb": 10_000, "perm": 10_000}


def math_ok(name: str, args) -> bool:
    if any(too_big(a) for a in args):
        return False
    limit = _MATH_SMALL.get(name)
    if limit is not None:
        return all(not isinstance(a, int) or abs(a) <= limit for a in args)
    if name == "pow" or name == "ldexp":
        return True  # floats: OverflowError at worst
    return True


def pow_ok(args) -> bool:
    """builtins.pow(a, b[, mod])"""
    if len(args) == 3:
        return not any(too_big(a) for a in args)
    if len(args) == 2:
        return binop_ok("Power", args[0], args[1])
    return False


def round_ok(args) -> bool:
    return not (len(args) == 2 and isinstance(args[1], int) and abs(args[1]) > 400)


FILE_BUDGET_FACTOR = 3  # a file gets this many class budgets in all


class Deadline:
    """A time budget (seconds; None: none) of one file: each class analysed gets ``budget`` seconds
    of its own (``for_run``), and the file ``FILE_BUDGET_FACTOR`` times that in all.

    Measured in CPU seconds of the analysing thread (``time.thread_time``): on an idle machine
    that is the wall clock, and a machine busy with other work does not cut the analysis short
    (the same file gives the same result under load). Reading that clock is a system call (slow on
    a busy machine); a thread cannot spend more CPU time than wall time passes, so the thread's
    clock is read only once the wall clock says the budget could be spent."""

    __slots__ = ("budget", "end", "file_end", "wall_end")

    def __init__(self, budget: Optional[float], file_end: Optional[float] = None) -> None:
        self.budget = budget
        if budget is None or budget <= 0 or math.isinf(budget):
            self.budget = self.end = self.file_end = self.wall_end = None
            return
        wall, now = time.perf_counter(), time.thread_time()  # in this order: wall_end errs late
        self.file_end = file_end if file_end is not None else now + budget * FILE_BUDGET_FACTOR
        self.end = min(now + budget, self.file_end)
        self.wall_end = wall + (self.end - now)

    def for_run(self) -> "Deadline":
        """The budget of one class analysed from now on."""
        return self if self.budget is None else Deadline(self.budget, self.file_end)

    def passed(self) -> bool:
        if self.end is None or self.wall_end is None or time.perf_counter() <= self.wall_end:
            return False
        return time.thread_time() > self.end


NO_DEADLINE = Deadline(None)
_DEADLINE: "contextvars.ContextVar[Deadline]" = contextvars.ContextVar("shapelint_deadline", default=NO_DEADLINE)


def current_deadline() -> Deadline:
    return _DEADLINE.get()


@contextlib.contextmanager
def time_budget(seconds: Optional[float]):
    """Analyses started inside share one Deadline of ``seconds`` (None: no time budget)."""
    token = _DEADLINE.set(Deadline(seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)
