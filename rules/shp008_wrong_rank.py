from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Tuple

from shapelint.core.facts import Payload

CODE = "SHP008"
NAME = "wrong-input-rank"
SUMMARY = "a layer receives a tensor with the wrong number of dimensions"
DOC = """\
## What it catches
A layer fed a tensor of a rank it does not accept: a `Conv2d` after the features were flattened,
a `BatchNorm2d` on a `(N, C)` tensor, an `LSTM` on a 4-D tensor. torch raises e.g.
`Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [64, 512]`.

It also catches unpacking a tensor's sizes into as many names as the code expects when the
tensor has another rank: `b, c, h, w = x.size()` on a `(N, C, L)` tensor raises
`ValueError: not enough values to unpack (expected 4, got 3)`.

## Why it matters
It happens when layers are reordered or a block is reused in a new place (a 2d norm in the
classifier head).

## Example
```python
x = torch.flatten(x, 1)
x = self.bn(x)                 # SHP008: BatchNorm2d needs 4D input, got 2D
```

## Use instead
Use the layer of the right dimensionality (`nn.BatchNorm1d`) or move it before the flatten.
"""


class Rank(Payload):
    """A layer fed a tensor of rank ``got``; each case says which ranks it accepts."""

    KIND = "rank"
    layer: str
    got: int
    shape: Tuple[Any, ...]

    def expected(self) -> str:  # pragma: no cover - every case overrides it
        raise NotImplementedError

    def layer_text(self) -> str:
        return self.layer


@dataclass
class RankBatchedOrNot(Rank):
    """(C, *spatial) or (N, C, *spatial): ``unbatched`` is the rank without the batch."""

    layer: str
    got: int
    shape: Tuple[Any, ...]
    unbatched: int
    labelled: bool = True  # '3D (unbatched) or 4D (batched)' rather than '3D or 4D'

    def expected(self) -> str:
        if self.labelled:
            return f"{self.unbatched}D (unbatched) or {self.unbatched + 1}D (batched)"
        return f"{self.unbatched}D or {self.unbatched + 1}D"


@dataclass
class RankOneOf(Rank):
    layer: str
    got: int
    shape: Tuple[Any, ...]
    ranks: Tuple[int, ...]

    def expected(self) -> str:
        return " or ".join(f"{r}D" for r in self.ranks)


@dataclass
class RankAtLeast(Rank):
    layer: str
    got: int
    shape: Tuple[Any, ...]
    least: int

    def expected(self) -> str:
        return f"at least {self.least}D"


@dataclass
class InterpolateRank(Rank):
    """interpolate needs (N, C, *spatial)."""

    layer: str
    got: int
    shape: Tuple[Any, ...]

    def expected(self) -> str:
        return "at least 3D (N, C, *spatial)"


@dataclass
class InterpolateSpatialRank(Rank):
    """torch: "Input and output (or scale_factor) must have the same number of spatial dimensions"."""

    layer: str
    got: int
    shape: Tuple[Any, ...]
    rank: int
    arg: str  # 'size' | 'scale_factor'
    value: Any

    def expected(self) -> str:
        return f"{self.rank}D for {self.arg}={self.value!r}"


@dataclass
class InterpolateModeRank(Rank):
    """torch: "Got 4D input, but linear mode needs 3D input"."""

    layer: str
    got: int
    shape: Tuple[Any, ...]
    mode: str
    rank: int

    def layer_text(self) -> str:
        return f"{self.layer}(mode='{self.mode}')"

    def expected(self) -> str:
        return f"{self.rank}D"


@dataclass
class KerasRank(Rank):
    """A Keras layer fed a tensor of rank ``got``; ``expects`` says what it takes, in Keras's terms
    ('4D (batch, spatial..., channels)')."""

    layer: str
    got: int
    shape: Tuple[Any, ...]
    expects: str

    def expected(self) -> str:
        return self.expects


@dataclass
class UnpackRank(Rank):
    """``B, T, C = x.size()`` on a tensor of another rank: Python's ValueError ("not enough values to
    unpack (expected 3, got 2)")."""

    layer: str  # 'unpacking x.size()'
    got: int
    shape: Tuple[Any, ...]
    names: int

    def expected(self) -> str:
        return f"{self.names}D (one name per dim)"


KINDS = (RankBatchedOrNot, RankOneOf, RankAtLeast, InterpolateRank, InterpolateSpatialRank, InterpolateModeRank,
         KerasRank, UnpackRank)


def message(d: Rank, node: Any, ctx: Any) -> str:
    return (f"{ctx.text(node)}: {d.layer_text()} expects {d.expected()} input, got {d.got}D "
            f"(shape {ctx.shape(d.shape)}{ctx.input_desc()})")


_BN_RANK = {2: 1, 3: 1, 4: 2, 5: 3}


def fix(d: Rank, node: Any, ctx: Any) -> Any:
    """Unsafe: ``nn.BatchNorm2d`` fed a tensor of another rank -> the BatchNorm of that rank
    (``BatchNorm1d`` for ``(N, C)``), when the layer is called only there. Other rank errors: none
    (the shape a flat tensor should get back is not written anywhere)."""
    from shapelint.core.fixes import rename_fix

    call = ctx.layer_call()
    if not isinstance(d, RankOneOf) or call is None or ctx.layer_shared(node):
        return None
    if d.layer not in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d") or d.got not in _BN_RANK:
        return None
    name = f"BatchNorm{_BN_RANK[d.got]}d"
    func = getattr(call, "func", None)
    if getattr(getattr(func, "attr", None), "value", None) != d.layer:
        return None
    return rename_fix(call, name, f"{d.layer} -> {name}")
