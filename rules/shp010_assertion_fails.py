from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapelint.core.facts import Payload

CODE = "SHP010"
NAME = "assertion-fails"
SUMMARY = "the model's own `assert` on sizes fails in forward: AssertionError"
DOC = """\
## What it catches
An `assert` in `forward` (or a function or module it calls) whose condition is decided false for
the analysed input: a model's own size check (`assert input.size(3) >= ref.size(3)` in a
`crop_like` helper, `assert C == self.dim`) that a layer sized one number wrong makes fail.
Python raises `AssertionError` there, before any layer sees the mismatch.

## Why it matters
The authors wrote the check for exactly this; the run dies at it on the first batch. shapelint
reports it at the `assert`, where the traceback points, instead of at a layer further on.

## Example
```python
def crop_like(input, ref):
    assert input.size(2) >= ref.size(2) and input.size(3) >= ref.size(3)   # SHP010
    return input[:, :, :ref.size(2), :ref.size(3)]
```
with a decoder whose upsampling gives a smaller map than the skip connection it is cropped to.

## Use instead
Fix the layer that makes the sizes disagree (a stride, kernel or padding); the message gives the
sizes the check saw.

## Limits
Only a condition decided false on known sizes is reported: one that depends on an input size not
given (`assert H % 32 == 0` with H symbolic) stays unknown, and an assert inside a `try` or under
a branch shapelint cannot decide says nothing. Asserts while the model is built reject a
configuration (the class is listed as not analysed, nothing is reported).
"""


@dataclass
class AssertionFails(Payload):
    KIND = "assertion"
    test: str  # the assert's condition, as written

    def what(self) -> str:
        return f"AssertionError: `assert {self.test}` fails"


NO_FIX = ("the check is the authors'; what makes it fail is a layer elsewhere (which number is wrong "
          "is not written at the assert).")

KINDS = (AssertionFails,)


def message(p: AssertionFails, node: Any, ctx: Any) -> str:
    return f"{p.what()}{ctx.input_desc()}"
