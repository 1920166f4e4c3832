from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence, Tuple

from shapelint.core import dims as D
from shapelint.core.facts import Payload

CODE = "SHP007"
NAME = "invalid-layer-config"
SUMMARY = "a layer or op configuration that torch refuses"
DOC = """\
## What it catches
Arguments torch rejects, whatever the data: `padding='same'` with a stride > 1, channels not
divisible by `groups`, `GroupNorm` channels not divisible by `num_groups`, transposed-conv
`output_padding` not smaller than its stride or dilation, `PixelShuffle` channels not divisible
by r², pooling padding larger than half the kernel, a dimension index out of range,
`MultiheadAttention` `embed_dim` not divisible by `num_heads`, a zero or negative stride, kernel size
or dilation, a negative padding, a convolution with no output channels.

## Why it matters
Some of these fail at construction, others only at the first forward pass; either way the job
dies before it learns anything.

## Example
```python
self.down = nn.Conv2d(64, 128, 3, stride=2, padding="same")   # SHP007
```

## Use instead
```python
self.down = nn.Conv2d(64, 128, 3, stride=2, padding=1)
```
"""


class Config(Payload):
    """A configuration torch refuses; each case below says what, in torch's words where it has them."""

    KIND = "config"

    def what(self) -> str:  # pragma: no cover - every case overrides it
        raise NotImplementedError


# ---- convolution ------------------------------------------------------------------------------

@dataclass
class GroupsNotPositive(Config):
    def what(self) -> str:
        return "groups must be a positive integer"


@dataclass
class NotPositive(Config):
    """A stride, kernel size or dilation of 0 (or below), a negative padding: torch refuses it at
    the first forward, in the words given."""

    layer: str
    param: str
    value: Any
    words: str

    def what(self) -> str:
        return f"{self.words} ({self.layer} {self.param}={self.value})"


@dataclass
class NoOutputChannels(Config):
    """``Conv2d(64, 0, 3)`` builds (torch only warns that it initializes an empty weight) and fails
    at its first forward, in ATen's shape check."""

    layer: str
    groups: int

    def what(self) -> str:
        return (f"{self.layer} with out_channels=0: torch raises 'Given groups={self.groups}, expected "
                f"weight to be at least {self.groups} at dimension 0' at its first forward")


@dataclass
class NotDivisibleByGroups(Config):
    name: str
    channels: int
    groups: int

    def what(self) -> str:
        return f"{self.name}={self.channels} is not divisible by groups={self.groups}"


@dataclass
class TransposedPaddingString(Config):
    padding: str

    def what(self) -> str:
        return (f"ConvTranspose does not accept padding='{self.padding}' (torch treats the string as a size "
                "and fails at forward)")


@dataclass
class InvalidPaddingString(Config):
    padding: str

    def what(self) -> str:
        return f"invalid padding string '{self.padding}', should be one of 'valid', 'same'"


@dataclass
class SamePaddingStrided(Config):
    stride: Any

    def what(self) -> str:
        return f"padding='same' is not supported for strided convolutions (stride={self.stride!r})"


@dataclass
class InvalidPaddingMode(Config):
    mode: Any

    def what(self) -> str:
        return f"padding_mode '{self.mode}' is not one of zeros, reflect, replicate, circular"


@dataclass
class TransposedPaddingMode(Config):
    def what(self) -> str:
        return "ConvTranspose only supports padding_mode='zeros'"


@dataclass
class ModePaddingTooLarge(Config):
    mode: str  # 'reflect' | 'circular'
    dim: int
    pad: int
    size: Any

    def what(self) -> str:
        rel = "smaller than" if self.mode == "reflect" else "at most"
        return (f"padding_mode='{self.mode}' pads dimension {self.dim} by {self.pad}, which must be {rel} "
                f"the input size {D.text(self.size)}")


@dataclass
class OutputPaddingTooLarge(Config):
    output_padding: int
    stride: int
    dilation: int

    def what(self) -> str:
        return (f"output_padding={self.output_padding} must be smaller than either stride={self.stride} "
                f"or dilation={self.dilation}")


# ---- pooling, normalization, activations ------------------------------------------------------

@dataclass
class PoolPaddingTooLarge(Config):
    pad: int
    kernel: int

    def what(self) -> str:
        return f"pad={self.pad} should be at most half of the kernel size {self.kernel}"


@dataclass
class InstanceNormSingleElement(Config):
    layer: str

    def what(self) -> str:
        return (f"{self.layer} over a single spatial element: torch raises "
                "'Expected more than 1 spatial element when training'")


@dataclass
class GroupNormNotDivisible(Config):
    channels: int
    groups: int

    def what(self) -> str:
        return f"num_channels={self.channels} must be divisible by num_groups={self.groups}"


@dataclass
class GroupNormSingleValue(Config):
    groups: int
    shape: Tuple[Any, ...]

    def what(self) -> str:
        return (f"GroupNorm({self.groups}) normalizes a single value per group for input "
                f"{'x'.join(D.text(v) for v in self.shape)}: torch raises 'Expected more than 1 value per channel'")


@dataclass
class GluOddDim(Config):
    dim: int
    size: int

    def what(self) -> str:
        return f"GLU halves dimension {self.dim}, but its size {self.size} is odd"


@dataclass
class DropoutProbability(Config):
    p: Any

    def what(self) -> str:
        return f"dropout probability has to be between 0 and 1, but got {self.p}"


@dataclass
class PaddingIdx(Config):
    padding_idx: int
    num_embeddings: int

    def what(self) -> str:
        return f"padding_idx={self.padding_idx} must be within num_embeddings={self.num_embeddings}"


@dataclass
class HeadsNotDivisible(Config):
    embed_dim: int
    num_heads: int

    def what(self) -> str:
        return f"embed_dim={self.embed_dim} must be divisible by num_heads={self.num_heads}"


# ---- resampling and padding -------------------------------------------------------------------

@dataclass
class SizeAndScale(Config):
    def what(self) -> str:
        return "only one of size or scale_factor should be defined"


@dataclass
class NeitherSizeNorScale(Config):
    def what(self) -> str:
        return "either size or scale_factor should be defined"


@dataclass
class PixelShuffleChannels(Config):
    channels: int
    square: int

    def what(self) -> str:
        return (f"pixel_shuffle expects its input's 'channel' dimension ({self.channels}) to be divisible by "
                f"the square of upscale_factor ({self.square})")


@dataclass
class PixelUnshuffleSize(Config):
    height: Any
    width: Any
    factor: int

    def what(self) -> str:
        return (f"pixel_unshuffle expects height and width ({self.height}, {self.width}) to be divisible by "
                f"downscale_factor ({self.factor})")


@dataclass
class PadLength(Config):
    length: int
    rank: int

    def what(self) -> str:
        return f"padding length {self.length} does not fit a {self.rank}D input"


@dataclass
class ReflectionPadTooLarge(Config):
    lo: int
    hi: int
    size: int

    def what(self) -> str:
        return f"reflection padding ({self.lo}, {self.hi}) must be smaller than the input size {self.size}"


@dataclass
class CircularPadTooLarge(Config):
    lo: int
    hi: int
    size: int

    def what(self) -> str:
        return f"circular padding ({self.lo}, {self.hi}) must be at most the input size {self.size}"


# ---- dimensions, views, indexing --------------------------------------------------------------

@dataclass
class DimOutOfRange(Config):
    low: int
    high: int
    dim: int

    def what(self) -> str:
        return f"Dimension out of range (expected to be in range of [{self.low}, {self.high}], but got {self.dim})"


@dataclass
class FlattenOrder(Config):
    def what(self) -> str:
        return "flatten() has invalid args: start_dim cannot come after end_dim"


@dataclass
class OneInferred(Config):
    def what(self) -> str:
        return "only one dimension can be inferred"


@dataclass
class InvalidShapeDim(Config):
    value: int

    def what(self) -> str:
        return f"invalid shape dimension {self.value}"


@dataclass
class PermuteDims(Config):
    order: Sequence[Any]
    rank: int

    def what(self) -> str:
        return f"permute dims {self.order} do not match a {self.rank}D tensor"


@dataclass
class MatmulScalar(Config):
    def what(self) -> str:
        return "both arguments to matmul need to be at least 1D"


@dataclass
class TooManyIndices(Config):
    rank: int

    def what(self) -> str:
        return f"too many indices for a {self.rank}D tensor"


@dataclass
class IndexOutOfBounds(Config):
    index: int
    dim: int
    size: int

    def what(self) -> str:
        return f"index {self.index} is out of bounds for dimension {self.dim} with size {self.size}"


@dataclass
class SplitSizes(Config):
    parts: Sequence[int]
    size: int

    def what(self) -> str:
        return f"split sizes {self.parts} sum to {sum(self.parts)}, not to the dimension size {self.size}"


@dataclass
class ExpandSizes(Config):
    def what(self) -> str:
        return "the number of sizes provided must be greater or equal to the number of dimensions in the tensor"


@dataclass
class RepeatDims(Config):
    def what(self) -> str:
        return "number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"


@dataclass
class EinsumOperands(Config):
    in_equation: int
    given: int

    def what(self) -> str:
        return f"einsum(): {self.in_equation} operands in the equation but {self.given} given"


@dataclass
class EinsumSubscripts(Config):
    term: str
    rank: int

    def what(self) -> str:
        return f"einsum(): the subscripts {self.term!r} do not fit a {self.rank}D operand"


@dataclass
class EinsumOutputLabel(Config):
    label: str

    def what(self) -> str:
        return f"einsum(): output subscript {self.label!r} appears in no input"


# ---- Keras ------------------------------------------------------------------------------------

@dataclass
class KerasConfig(Config):
    """An argument a Keras layer refuses (Keras 3 raises ValueError at construction or at the first
    call); ``text`` says what, in Keras's terms."""

    arg: str
    text: str

    def what(self) -> str:
        return self.text


KINDS = tuple(c for c in list(globals().values())
              if isinstance(c, type) and issubclass(c, Config) and c is not Config)


def message(p: Config, node: Any, ctx: Any) -> str:
    return f"{ctx.text(node)}: {p.what()}"


def fix(p: Config, node: Any, ctx: Any) -> Any:
    """Unsafe, for two settings torch rejects whatever the input: a transposed conv's literal
    ``output_padding`` -> the largest it may be (``stride - 1``); ``padding='same'`` on a strided conv
    with an odd literal kernel -> ``padding=kernel // 2`` (the output is then ``ceil(size / stride)``
    as 'same' would give in TensorFlow, not the input size). Unsafe because the output size changes
    and which size was meant is not written anywhere. Other settings (groups that do not divide
    the channels, a pixel-shuffle factor...): none, which divisor was meant is not decided."""
    from shapelint.core.fixes import set_argument

    call = ctx.layer_call()
    if isinstance(p, OutputPaddingTooLarge) and isinstance(p.stride, int) and isinstance(p.dilation, int):
        arg = ctx.argument(call, ctx.param_index("output_padding"), "output_padding") if call is not None else None
        if arg is None or ctx.constant(arg.value) != p.output_padding:
            return None
        new = max(p.stride, p.dilation) - 1
        return set_argument(ctx, call, "output_padding", str(new), f"output_padding={p.output_padding} -> {new}")
    if isinstance(p, SamePaddingStrided) and call is not None:
        return _same_padding_fix(ctx, call)
    return None


def _same_padding_fix(ctx: Any, call: Any) -> Any:
    from shapelint.core.fixes import set_argument

    kernel = ctx.argument(call, ctx.param_index("kernel_size"), "kernel_size")
    k = ctx.constant(kernel.value) if kernel is not None else None
    if k is None or k % 2 == 0 or ctx.argument(call, ctx.param_index("dilation"), "dilation") is not None:
        return None
    return set_argument(ctx, call, "padding", str(k // 2), f"padding='same' -> {k // 2}")
