from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from shapelint.core.facts import Payload

CODE = "SHP004"
NAME = "spatial-collapse"
SUMMARY = "a kernel larger than its (padded) input: the output size would be below 1"
DOC = """\
## What it catches
A convolution, pooling, padding or interpolation whose output would have a spatial size below 1,
because its input has shrunk too much: torch raises
`Kernel size can't be greater than actual input size` or `Output size is too small`.

## Why it matters
Deep stacks of stride-2 layers silently assume a minimum input resolution. Feed a smaller image
(32x32 CIFAR into an ImageNet-style net) and a late layer runs out of pixels.

## Example
```python
self.features = nn.Sequential(*[nn.Conv2d(c, c, 3, stride=2) for _ in range(6)])
...
model(torch.randn(1, 3, 32, 32))     # SHP004: the 5th conv gets a 1x1 map and a 3x3 kernel
```

## Use instead
Pad (`padding=1`), stop downsampling earlier, use `nn.AdaptiveAvgPool2d`, or feed the input size
the network was designed for.

## Limits
Without an input shape, shapelint reports only what collapses for every input size.
"""


@dataclass
class Collapse(Payload):
    """Spatial dim ``dim`` of size ``size`` (``padded`` after padding) cannot take the ``kernel``, or
    gives an ``output`` below 1. ``kernel`` set: the message names the kernel, else the output."""

    KIND = "collapse"
    layer: str
    dim: int
    size: Any
    padded: Optional[Any] = None
    kernel: Optional[Any] = None
    output: Optional[Any] = None


@dataclass
class KerasCollapse(Payload):
    """A Keras 'valid' convolution or pooling window larger than its input: spatial axis ``dim`` of
    size ``size`` gives an ``output`` below 1 (Keras: "Computed output size would be negative")."""

    KIND = "collapse"
    layer: str
    dim: int
    size: Any
    output: Any


KINDS = (Collapse, KerasCollapse)


def message(d: Any, node: Any, ctx: Any) -> str:
    if isinstance(d, KerasCollapse):
        nth = {1: "1st", 2: "2nd", 3: "3rd"}.get(d.dim + 1, f"{d.dim + 1}th")
        return (f"{ctx.text(node)}: {d.layer} window does not fit its input: the {nth} spatial dim has "
                f"{ctx.dim(d.size)} steps, the output would have {ctx.dim(d.output)}{ctx.input_desc()}")
    size = d.padded if d.padded is not None else d.size
    what = f"kernel {ctx.dim(d.kernel)} is larger than its padded input {ctx.dim(size)}" if d.kernel is not None \
        else f"the output size would be {ctx.dim(d.output)}"
    return f"{ctx.text(node)}: {d.layer} {what} in spatial dim {d.dim}{ctx.input_desc()}"


def fix(d: Any, node: Any, ctx: Any) -> Any:
    """Unsafe: a conv/pool given no padding whose literal kernel is larger than its input gets the
    padding that makes the input as large as the kernel (``padding=1`` for a 3 kernel on 2 steps);
    shrinking the kernel or the stride instead is as plausible, so the fix is never a safe one.
    Keras: the layer built inline where it is applied (``layers.Conv2D(64, 3)(x)``) gets
    ``padding="same"``. None for a layer called more than once (every call would change)."""
    from shapelint.core.fixes import set_argument

    if isinstance(d, KerasCollapse):
        return _keras_fix(ctx, node)
    call = ctx.layer_call()
    if not isinstance(d, Collapse) or call is None or ctx.layer_shared(node):
        return None
    if d.kernel is None or d.padded not in (None, d.size):
        return None
    kernel = ctx.argument(call, ctx.param_index("kernel_size"), "kernel_size")
    if kernel is None or ctx.constant(kernel.value) != d.kernel or not isinstance(d.size, int):
        return None
    if ctx.argument(call, ctx.param_index("padding"), "padding") is not None or ctx.param_index("padding") < 0:
        return None
    if any(a.keyword is not None and a.keyword.value == "dilation" for a in call.args):
        return None
    pad = (d.kernel - d.size + 1) // 2
    return set_argument(ctx, call, "padding", str(pad), f"-> padding={pad}") if pad > 0 else None


def _keras_fix(ctx: Any, node: Any) -> Any:
    import libcst as cst

    from shapelint.core.fixes import set_argument

    layer = node.func if isinstance(node, cst.Call) and ctx.in_file(node) else None
    if not isinstance(layer, cst.Call) or sum(1 for a in layer.args if a.keyword is None) > 2:
        return None  # not built inline, or padding may be given by position
    if any(a.keyword is not None and a.keyword.value == "padding" for a in layer.args):
        return None
    return set_argument(ctx, layer, "padding", '"same"', '-> padding="same"')
