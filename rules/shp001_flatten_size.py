from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Tuple, Union

from shapelint.core.facts import Payload

CODE = "SHP001"
NAME = "flatten-size-mismatch"
SUMMARY = "a view/reshape/Unflatten with a hardcoded size that the incoming tensor cannot have"
DOC = """\
## What it catches
`x.view(-1, 320)`, `x.reshape(x.size(0), 320)`, `nn.Unflatten(1, (16, 5, 5))`: a reshape whose
hardcoded size does not match what the layers before it produce, so torch raises
`RuntimeError: shape '[-1, 320]' is invalid for input of size 4840`. Also a shape torch refuses
for any tensor: `var.view(0, -1, 1, 1)` (a -1 cannot be inferred beside a 0), and views of
constants built in `__init__` (`torch.eye(3).view(3, 2, 1, 1)`).

## Why it matters
The size is usually computed by hand for one input resolution. Change the input (56x56 instead
of 28x28) or a kernel size and the model crashes at the first forward pass, often hours into a
job, after data loading and set-up.

## Example
```python
self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
...
x = F.max_pool2d(self.conv2(x), 2)   # 20 x 11 x 11 for a 56x56 input
x = x.view(-1, 320)                  # SHP001: 2420 features per sample, not 320
```

## Use instead
```python
x = torch.flatten(x, 1)              # or x.view(x.size(0), -1)
self.fc1 = nn.LazyLinear(50)         # or compute in_features from the input size
```
or fix the hardcoded number to the size shapelint reports.

## Limits
Without an input shape (flag, config, or a `summary(...)`/`model(torch.randn(...))` call in the
file) shapelint reports only sizes that no input resolution can produce.
"""


@dataclass
class ReshapeSize(Payload):
    """view/reshape keeping the batch: each sample has ``per_sample`` elements, the view wants ``k``."""

    KIND = "reshape_size"
    per_sample: Any
    k: Any
    shape: Tuple[Any, ...]


@dataclass
class UnflattenSize(Payload):
    """nn.Unflatten(dim, target) on a dim of size ``got``."""

    KIND = "reshape_size"
    target: Tuple[Any, ...]
    got: Any
    shape: Tuple[Any, ...]
    dim: int


@dataclass
class ViewSize(Payload):
    """A view/reshape whose ``target`` cannot hold the tensor's ``total`` elements."""

    KIND = "reshape_size"
    total: Any
    target: Tuple[Any, ...]
    shape: Tuple[Any, ...]


@dataclass
class ViewZeroInferred(Payload):
    """``view(0, -1, 1, 1)``: torch cannot infer the -1 beside a 0, whatever the tensor holds
    (``shape '[0, -1, 1, 1]' is invalid for input of size 16``)."""

    KIND = "reshape_size"
    target: Tuple[Any, ...]


@dataclass
class EinopsAxis(Payload):
    """An einops pattern that cannot apply to ``shape``: input dim ``dim`` has ``got`` elements where
    the pattern's composition ``group`` needs ``need`` (a product that must equal it) or a divisor of
    it (``divides``: einops' "can't divide axis of length 10 in chunks of 3")."""

    KIND = "reshape_size"
    op: str
    pattern: str
    group: str
    got: Any
    need: Any
    divides: bool
    shape: Tuple[Any, ...]


@dataclass
class KerasReshapeSize(Payload):
    """keras.layers.Reshape(target_shape): each sample has ``per_sample`` values, the target wants
    ``k`` (or a multiple of ``k`` with a -1)."""

    KIND = "reshape_size"
    per_sample: Any
    k: Any
    shape: Tuple[Any, ...]
    target: Tuple[Any, ...]
    multiple: bool = False


KINDS = (ReshapeSize, UnflattenSize, ViewSize, ViewZeroInferred, EinopsAxis, KerasReshapeSize)


def message(d: Union[ReshapeSize, UnflattenSize, ViewSize, ViewZeroInferred, EinopsAxis, KerasReshapeSize],
            node: Any, ctx: Any) -> str:
    op = ctx.text(node)
    if isinstance(d, ViewZeroInferred):
        return (f"{op}: the -1 of {list(d.target)} cannot be inferred beside a 0: torch refuses the shape "
                f"for any tensor{ctx.input_desc()}").replace("'", "")
    shape = d.shape
    if isinstance(d, EinopsAxis):
        how = (f"cannot be split into chunks of {ctx.dim(d.need)}" if d.divides
               else f"is not {d.group} = {ctx.dim(d.need)}")
        return (f"{op}: {d.op} pattern {d.pattern!r}: an axis of length {ctx.dim(d.got)} {how} "
                f"(shape {ctx.shape(shape)}{ctx.input_desc()})")
    if isinstance(d, KerasReshapeSize):
        per = ctx.product(shape[1:]) if shape is not None else ctx.dim(d.per_sample)
        k = f"a multiple of {ctx.dim(d.k)}" if d.multiple else ctx.dim(d.k)
        return (f"{op}: Reshape to target_shape {tuple(d.target)}: the layers before it yield {per} values "
                f"per sample{ctx.input_desc()}, not {k}")
    if isinstance(d, ReshapeSize):
        per = ctx.product(shape[1:]) if shape is not None else ctx.dim(d.per_sample)
        return (f"{op}: the layers before it yield {per} features per sample{ctx.input_desc()}, "
                f"not {ctx.dim(d.k)}")
    if isinstance(d, UnflattenSize):
        return (f"{op}: Unflatten to {tuple(d.target)} needs {ctx.product(d.target)} elements in "
                f"dim {d.dim}, but it has {ctx.dim(d.got)} (shape {ctx.shape(shape)}{ctx.input_desc()})")
    return (f"{op}: a tensor of shape {ctx.shape(shape)} ({ctx.dim(d.total)} elements{ctx.input_desc()}) "
            f"cannot be viewed as {list(ctx.dim(t) for t in d.target)}".replace("'", ""))


def fix(d: Union[ReshapeSize, UnflattenSize, ViewSize, KerasReshapeSize], node: Any, ctx: Any) -> Any:
    """Safe: the hardcoded size -> the size the layers yield (concrete input): the view's number, the
    one entry of an ``nn.Unflatten``/Keras ``Reshape`` target that can make the product right.
    Unsafe: ``x.view(-1, K)`` -> ``torch.flatten(x, 1)``."""
    from shapelint.core.fixes import reshape_fix, view_size_fix

    if isinstance(d, ReshapeSize):
        return reshape_fix(ctx, node, d.per_sample, d.k, "flatten")
    if isinstance(d, ViewSize):
        return view_size_fix(ctx, node, d.total, d.target)
    if isinstance(d, UnflattenSize):
        return _target_fix(ctx, ctx.layer_call(), 1, "unflattened_size", d.got)
    if isinstance(d, KerasReshapeSize) and not d.multiple:
        return _target_fix(ctx, node if ctx.in_file(node) else None, 0, "target_shape", d.per_sample)
    return None


def _target_fix(ctx: Any, call: Any, index: int, keyword: str, total: Any) -> Any:
    """The literal tuple bound to ``keyword`` in ``call``, one entry fixed to hold ``total``."""
    import libcst as cst

    from shapelint.core.fixes import entry_fix

    arg = ctx.argument(call, index, keyword) if isinstance(call, cst.Call) else None
    if arg is None or not isinstance(arg.value, (cst.Tuple, cst.List)):
        return None
    elements = arg.value.elements
    if any(isinstance(e, cst.StarredElement) for e in elements):
        return None
    return entry_fix(ctx, [e.value for e in elements], total, keyword + ": {old} -> {new}")
