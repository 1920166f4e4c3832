from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple, Union

from shapelint.core.facts import Payload

CODE = "SHP006"
NAME = "broadcast-mismatch"
SUMMARY = "a + b, a * b, torch.cat, @ or einsum on tensors whose shapes do not fit"
DOC = """\
## What it catches
Element-wise arithmetic on shapes that do not broadcast (a residual `out + identity` whose branch
was downsampled but whose shortcut was not), `torch.cat`/`torch.stack` of tensors that differ
outside the concatenated dimension (a U-Net skip connection after an unpadded conv), and `@`
with mismatched inner dimensions. torch raises `The size of tensor a (16) must match the size of
tensor b (32) at non-singleton dimension 3` or `Sizes of tensors must match except in dimension 1`.

## Why it matters
These mistakes live in the less-travelled paths: the first block of a stage, the stride-2 case,
a decoder level that only an odd input size reaches.

With no input shape the check holds for every input size, an image being at least 2x2 (a
one-pixel map broadcasts against anything): `out += x` where each 3x3 conv of the block pads by 2
gives `[N, 16, H+2, W+2]` against `[N, 16, H, W]`, wrong for every image. When the two sides fit
at only a few sizes (a branch one pixel short, `H-1` against `H`, broadcasts where it is 1x1: at
H = 2), the model is run at each of those sizes; if it fails at every one, the add is reported,
naming them: `(they fit only for W = 2, where the model fails anyway)`. If it runs at one of them,
nothing is said. A size where the two fit only because one side is a single pixel of an image
smaller than 8x8 (VDSR's global residual after an unpadded 3x3 conv: `H-2` against `H`, which
broadcast at H = 3 only) is not a size a model is written for: the add is reported, naming it
`(they fit only for W = 3, where one side is a single pixel)`. The same goes for the input of a
block checked alone (a map of C channels, any size from 1x1) and for a sequence: two sides that
differ everywhere else and meet only where one of them is 1, below 8 (a padded branch, `H+2`,
against its input `H`, at H = 1), are reported, `(they fit only for H = 1, where one side is 1)`;
never the batch. Nor is a fit of two single-pixel
maps of such an image: a stride-2 1x1 conv in a residual branch whose shortcut keeps the size meets
it only as two 1x1 maps of a 2x2 to 4x4 image (`(they fit only for W = 2, 3, 4, single pixels of an
image under 8 pixels)`); the same holds for a `torch.cat` of two maps that agree only there.

## Example
```python
out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))   # conv1 has stride 2
out = out + x                       # SHP006: [N, 32, 16, 16] vs [N, 16, 32, 32]
```

## Use instead
```python
self.shortcut = nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))
out = out + self.shortcut(x)
```
"""


@dataclass
class Broadcast(Payload):
    """Element-wise ``op`` (or expand) on ``left`` and ``right``: dim ``dim`` (from the end) is ``a`` vs ``b``."""

    KIND = "broadcast"
    op: str
    left: Tuple[Any, ...]
    right: Tuple[Any, ...]
    dim: int
    a: Any
    b: Any
    only: str = ""  # they fit only at these input sizes, where the model fails anyway ('H = 2')
    # (symbol, size): they fit only below that image size, where one side is a single pixel; a
    # witness of the finding starts there (engine: run.lows)
    tiny_low: Tuple[Any, ...] = ()


@dataclass
class ConcatMismatch(Payload):
    """cat/stack along ``dim`` of ``shapes`` that differ in dim ``bad`` (``a`` vs ``b``)."""

    KIND = "concat"
    op: str
    shapes: Tuple[Any, ...]
    dim: int
    bad: int
    a: Any
    b: Any
    only: str = ""
    tiny_low: Tuple[Any, ...] = ()  # as Broadcast's: they fit only below that image size


@dataclass
class ConcatRank(Payload):
    """cat of tensors of different ranks."""

    KIND = "concat"
    op: str
    shapes: Tuple[Any, ...]
    dim: Any
    ranks: Sequence[int]


@dataclass
class MatmulMismatch(Payload):
    KIND = "matmul"
    op: str
    left: Tuple[Any, ...]
    right: Tuple[Any, ...]
    a: Any
    b: Any


@dataclass
class EinsumMismatch(Payload):
    """einsum subscript ``label`` is ``a`` in one operand and ``b`` in another."""

    KIND = "einsum"
    op: str
    label: str
    a: Any
    b: Any
    shapes: Tuple[Any, ...]


@dataclass
class MaskShape(Payload):
    """An attention ``mask`` of shape ``got`` where ``layer`` needs ``expected`` (torch: "The shape of
    the 2D attn_mask is ..., but should be ...", "expecting key_padding_mask shape of ...")."""

    KIND = "mask"
    layer: str
    mask: str
    got: Tuple[Any, ...]
    expected: Tuple[Any, ...]


@dataclass
class TableOverflow(Payload):
    """A fixed table of ``rows`` rows (an Embedding's weight, a positional table) indexed up to
    ``index`` (``torch.arange(T)`` positions with T known): torch raises ``index out of range in self``."""

    KIND = "table"
    layer: str
    rows: int
    index: int


@dataclass
class KerasShapes(Payload):
    """A Keras merge layer (Add, Multiply...) or MultiHeadAttention given inputs whose axis ``axis``
    differ (``a`` vs ``b``, neither 1): Keras raises "Inputs have incompatible shapes"."""

    KIND = "broadcast"
    layer: str
    left: Tuple[Any, ...]
    right: Tuple[Any, ...]
    axis: int
    a: Any
    b: Any
    what: str = "inputs"


@dataclass
class KerasConcat(Payload):
    """keras.layers.Concatenate on inputs that differ outside the concatenation axis (or in rank)."""

    KIND = "concat"
    shapes: Tuple[Any, ...]
    axis: Any
    bad: Optional[int] = None  # the axis that differs; None: the ranks differ
    a: Any = None
    b: Any = None


NO_FIX = ("the repair is new code, not a number: a projection shortcut, a reshape of a gate to "
          "(B, C, 1, 1), a class token counted in a table's size, padding that keeps a skip's size; a table "
          "too short for the sequence fits at any length from the sequence's up, so no one number is right.")

KINDS = (Broadcast, ConcatMismatch, ConcatRank, MatmulMismatch, EinsumMismatch, MaskShape, TableOverflow, KerasShapes, KerasConcat)


def message(d: Union[Broadcast, ConcatMismatch, ConcatRank, MatmulMismatch, EinsumMismatch, MaskShape, TableOverflow, KerasShapes, KerasConcat], node: Any, ctx: Any) -> str:
    if isinstance(d, TableOverflow):
        return (f"{ctx.text(node)}: {d.layer}{ctx.defined_at(ctx.module)} has {d.rows} rows but is indexed "
                f"with {d.index} (index out of range: the sequence is longer than the table){ctx.input_desc()}")
    if isinstance(d, MaskShape):
        return (f"{ctx.text(node)}: {d.layer} {d.mask} has shape {ctx.shape(d.got)} but must be "
                f"{ctx.shape(d.expected)}{ctx.input_desc()}")
    if isinstance(d, KerasShapes):
        return (f"{ctx.text(node)}: {d.layer} {d.what} of shapes {ctx.shape(d.left)} and {ctx.shape(d.right)} "
                f"are incompatible: axis {d.axis} is {ctx.dim(d.a)} vs {ctx.dim(d.b)}{ctx.input_desc()}")
    if isinstance(d, KerasConcat):
        shapes = ", ".join(ctx.shape(s) for s in d.shapes)
        if d.bad is None:
            return (f"{ctx.text(node)}: Concatenate needs inputs of one rank, got {shapes} "
                    f"(ranks {', '.join(str(len(s)) for s in d.shapes)})")
        return (f"{ctx.text(node)}: Concatenate(axis={d.axis}) inputs {shapes} differ in axis {d.bad} "
                f"({ctx.dim(d.a)} vs {ctx.dim(d.b)}); only axis {d.axis} may differ{ctx.input_desc()}")
    if isinstance(d, ConcatMismatch):
        shapes = ", ".join(ctx.shape(s) for s in d.shapes)
        return (f"{ctx.text(node)}: tensors {shapes} differ in dim {d.bad} ({ctx.dim(d.a)} vs "
                f"{ctx.dim(d.b)}); only dim {d.dim} may differ{_only(d)}{ctx.input_desc()}")
    if isinstance(d, ConcatRank):
        return f"{ctx.text(node)}: tensors must have the same number of dimensions, got {sorted(d.ranks)}"
    if isinstance(d, EinsumMismatch):
        shapes = ", ".join(ctx.shape(x) for x in d.shapes)
        return (f"{ctx.text(node)}: subscript {d.label!r} is {ctx.dim(d.a)} in one operand and "
                f"{ctx.dim(d.b)} in another (operands {shapes}){ctx.input_desc()}")
    if isinstance(d, MatmulMismatch):
        return (f"{ctx.text(node)}: matrix product of {ctx.shape(d.left)} and {ctx.shape(d.right)}: "
                f"inner dimensions {ctx.dim(d.a)} and {ctx.dim(d.b)} differ{ctx.input_desc()}")
    return (f"{ctx.text(node)}: shapes {ctx.shape(d.left)} and {ctx.shape(d.right)} do not broadcast: "
            f"dim {d.dim} is {ctx.dim(d.a)} vs {ctx.dim(d.b)}{_only(d)}{ctx.input_desc()}")


def _only(d: Union[Broadcast, ConcatMismatch]) -> str:
    if d.only.endswith(("single pixel", " pixels", " is 1")):  # a size too small to be one the model is for
        return f" (they fit only for {d.only})"
    return f" (they fit only for {d.only}, where the model fails anyway)" if d.only else ""
