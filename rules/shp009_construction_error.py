from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapelint.core.facts import Payload

CODE = "SHP009"
NAME = "construction-error"
SUMMARY = "Python raises while the model is being built"
DOC = """\
## What it catches
An error Python itself raises while `__init__` (or what it calls) builds the model, on values
known exactly: a division by zero (`math.sqrt(2. / n)` in a weight-init loop, with
`n = kernel_size[0] * kernel_size[1] * out_channels` = 0 after a `kernel_size=0`), an index past
the end of a configuration tuple (`out_planes[4]` on a 4-tuple), a key a call's own `**kwargs`
does not hold (`nn.BatchNorm2d(kwargs['in_channels'])` in `UNetWrapper(**kwargs)` built as
`UNetWrapper()`), a function or block of the project called with arguments its signature cannot
take, a layer size that is a float (`nn.Conv2d(64 / 4, ...)`: torch's weight allocation takes ints
only).

## Why it matters
The model cannot even be constructed: the script dies before the first batch.

## Example
```python
self.widths = (64, 128, 256, 512)
self.head = nn.Linear(self.widths[4], 10)      # SHP009: tuple index 4 out of range (4 items)
```

## Use instead
Index within the configuration (`self.widths[-1]`), or give the configuration the entry.

## Limits
Reported only where the construction is certain to get: not under a condition shapelint cannot
decide, not inside a `try` block (the error may be caught), and only on exact values (a tuple's
length, concrete numbers) — lists and dicts other code may have changed are never judged (a
module's dict filled by a later loop, a `**kwargs` that expanded another dict). A class whose
defaults cannot build it this way is listed as not analysed, not reported.
"""


class ConstructionError(Payload):
    """Python raises while the model is built; each case says what, in Python's words."""

    KIND = "construction"

    def what(self) -> str:  # pragma: no cover - every case overrides it
        raise NotImplementedError


@dataclass
class DivisionByZero(ConstructionError):
    op: str  # '/', '//' or '%'
    left: Any

    def what(self) -> str:
        kind = {"/": "division", "//": "integer division", "%": "modulo"}.get(self.op, "division")
        return f"ZeroDivisionError: {kind} of {self.left!r} by zero while the model is built"


@dataclass
class TupleIndexOutOfRange(ConstructionError):
    index: int
    length: int

    def what(self) -> str:
        return (f"IndexError: tuple index {self.index} out of range ({self.length} item"
                f"{'' if self.length == 1 else 's'}) while the model is built")


@dataclass
class KeyMissing(ConstructionError):
    key: Any
    keys: tuple  # the keys the dict has

    def what(self) -> str:
        have = ", ".join(repr(k) for k in self.keys[:6]) + (", ..." if len(self.keys) > 6 else "")
        return (f"KeyError: {self.key!r} (the dict has {'no keys' if not self.keys else 'only ' + have}) "
                f"while the model is built")


@dataclass
class WrongArguments(ConstructionError):
    func: str
    positional: int  # as given, the bound instance included
    keywords: tuple

    def what(self) -> str:
        kw = f" and keyword(s) {', '.join(self.keywords)}" if self.keywords else ""
        return (f"TypeError: {self.func}() does not take {self.positional} positional argument"
                f"{'' if self.positional == 1 else 's'}{kw} while the model is built")


@dataclass
class FloatSize(ConstructionError):
    layer: str
    arg: str
    value: Any

    def what(self) -> str:
        return (f"TypeError: {self.layer} {self.arg}={self.value!r} is a float; torch allocates its weight "
                f"with int sizes only (`/` gives a float: use `//` or int())")


NO_FIX = ("a constructor that cannot run (wrong argument count, an index past a config's end, a division "
          "by zero): which argument, entry or divisor was meant is not written anywhere.")

KINDS = (DivisionByZero, TupleIndexOutOfRange, KeyMissing, WrongArguments, FloatSize)


def message(p: ConstructionError, node: Any, ctx: Any) -> str:
    return f"{ctx.text(node)}: {p.what()}"
