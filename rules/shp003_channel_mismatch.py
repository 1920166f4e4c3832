from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapelint.core.facts import Payload

CODE = "SHP003"
NAME = "channel-mismatch"
SUMMARY = "a conv/norm layer's channel count differs from the incoming tensor's channels"
DOC = """\
## What it catches
`Conv{1,2,3}d`/`ConvTranspose*` `in_channels`, `BatchNorm*`/`InstanceNorm*(affine=True)`
`num_features`, `GroupNorm` `num_channels`, `PReLU` `num_parameters` and `LayerNorm`
`normalized_shape` that do not match the tensor they receive. torch raises e.g.
`expected input[1, 64, 32, 32] to have 32 channels, but got 64 channels instead`.

## Why it matters
Channel counts are threaded by hand through every block; one edit to a block's width (or a
forgotten `* expansion`) breaks the next layer.

## Example
```python
self.conv2 = nn.Conv2d(32, 64, 3)
self.bn2 = nn.BatchNorm2d(32)        # should be 64
...
x = self.bn2(self.conv2(x))          # SHP003
```

## Use instead
```python
self.bn2 = nn.BatchNorm2d(64)
```

## Limits
`InstanceNorm` without `affine=True` only warns in torch, so shapelint does not report it.
"""


@dataclass
class Channels(Payload):
    """``layer``'s ``param`` is ``expected``; the input has ``got`` channels (a tuple: the trailing
    dims a LayerNorm's normalized_shape does not match)."""

    KIND = "channels"
    layer: str
    param: str
    expected: Any
    got: Any


KINDS = (Channels,)


def message(d: Channels, node: Any, ctx: Any) -> str:
    mod = ctx.module
    got = d.got
    if isinstance(got, tuple):
        return (f"{ctx.text(node)}: {d.layer} {d.param}={list(d.expected)}{ctx.defined_at(mod)} "
                f"but the input ends in {ctx.shape(got)}{ctx.input_desc()}")
    return (f"{ctx.text(node)}: {d.layer} expects {d.param}={ctx.dim(d.expected)}{ctx.defined_at(mod)} "
            f"but the incoming tensor has {ctx.dim(got)} channels{ctx.input_desc()}")


def fix(d: Channels, node: Any, ctx: Any) -> Any:
    """Safe (concrete input): the layer's channel count (in_channels, num_features, num_channels, a
    one-entry normalized_shape) -> the incoming one, edited where its integer is written: the
    argument, the one literal of ``2 * width``, or the one literal a name, config entry or default
    passes to this parameter alone (as SHP002); a literal with other uses is not edited. Unsafe: a
    count read from the wrong parameter of the enclosing ``__init__`` (``norm_layer(inplanes)``)
    -> the one other parameter that gives the right count and changes nothing else
    (``norm_layer(planes)``)."""
    from shapelint.core.fixes import replace_constant

    got, expected = d.got, d.expected
    if isinstance(got, tuple):
        if len(got) != 1 or not isinstance(expected, (list, tuple)) or len(expected) != 1:
            return None
        got, expected = got[0], expected[0]
    return replace_constant(ctx, ctx.layer_call(), ctx.param_index(d.param), d.param, expected, got,
                            f"{d.param}={{old}} -> {{new}}")
