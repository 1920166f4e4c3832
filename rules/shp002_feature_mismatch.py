from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Tuple

from shapelint.core.facts import Payload

CODE = "SHP002"
NAME = "in-features-mismatch"
SUMMARY = "Linear in_features (or an RNN's input_size, attention's embed_dim) differs from the incoming last dimension"
DOC = """\
## What it catches
A `nn.Linear(in_features, ...)` called on a tensor whose last dimension is not `in_features`;
likewise `nn.Bilinear`, the `input_size` of `nn.LSTM`/`nn.GRU`/`nn.RNN` and the `embed_dim` of
`nn.MultiheadAttention`. torch raises
`RuntimeError: mat1 and mat2 shapes cannot be multiplied (64x500 and 320x50)`.

## Why it matters
It is the most common shape bug in CNN code: the first fully connected layer's size is written
by hand after the conv/pool stack, and any change to the stack or the input size breaks it.

## Example
```python
self.fc1 = nn.Linear(500, 50)
...
x = x.view(-1, 320)
x = self.fc1(x)          # SHP002: Linear in_features=500, the input has 320 features
```

## Use instead
```python
self.fc1 = nn.Linear(320, 50)        # the size shapelint reports
# or, when the size depends on the input resolution:
self.fc1 = nn.LazyLinear(50)
```

## Limits
The message names the `Linear` line; the finding is on the call, where torch fails and where
`# noqa: SHP002` goes.
"""


@dataclass
class Features(Payload):
    """``layer``'s ``param`` (in_features, input_size, embed_dim...) is ``expected``; the input's last
    dimension is ``got``."""

    KIND = "features"
    layer: str
    param: str
    expected: Any
    got: Any
    shape: Tuple[Any, ...]


@dataclass
class StateShape(Payload):
    """A recurrent layer's (or cell's) initial ``state`` (h0, c0, hx) has shape ``got`` where the layer
    needs ``expected`` (torch: "Expected hidden size (1, 3, 20), got [1, 3, 10]")."""

    KIND = "state"
    layer: str
    state: str
    expected: Tuple[Any, ...]
    got: Tuple[Any, ...]


KINDS = (Features, StateShape)


def message(d: Any, node: Any, ctx: Any) -> str:
    if isinstance(d, StateShape):
        return (f"{ctx.text(node)}: {d.layer}{ctx.defined_at(ctx.module)} needs {d.state} of shape "
                f"{ctx.shape(d.expected)} but gets {ctx.shape(d.got)}{ctx.input_desc()}")
    return (f"{ctx.text(node)}: {d.layer} {d.param}={ctx.dim(d.expected)}{ctx.defined_at(ctx.module)} "
            f"but the incoming tensor has {ctx.dim(d.got)} features "
            f"(shape {ctx.shape(d.shape)}{ctx.input_desc()})")


def fix(d: Features, node: Any, ctx: Any) -> Any:
    """Safe (concrete input): the layer's ``in_features`` (input_size, embed_dim) -> the incoming
    size, edited where its integer is written: the argument itself (``nn.Linear(500, 10)``), the one
    literal of a product or sum (``3 * hidden`` -> ``2 * hidden``), or the one literal of the file a
    name, config entry or default passes to this parameter alone (``hidden=500``, ``WIDTHS[1]``),
    or the index of the config entry read (``widths[2]`` -> ``widths[3]``); a literal that also
    sizes something else is not edited. Unsafe: ``nn.Linear(K, out)`` fed a
    size that depends on the input -> ``nn.LazyLinear(out)``; a size read from the wrong parameter
    of the enclosing ``__init__`` -> the one other parameter that gives it (as SHP003)."""
    from shapelint.core.fixes import lazy_linear_fix, replace_constant

    if isinstance(d.got, int):
        return replace_constant(ctx, ctx.layer_call(), ctx.param_index(d.param), d.param, d.expected, d.got,
                                f"{d.param}={{old}} -> {{new}}")
    if d.layer == "Linear":
        return lazy_linear_fix(ctx)
    return None
