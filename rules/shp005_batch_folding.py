from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Tuple

from shapelint.core import dims as D
from shapelint.core.facts import Fact, Fold, Payload
from shapelint.core.values import Tensor

CODE = "SHP005"
NAME = "batch-folding"
SUMMARY = "view(-1, K) where the per-sample size is not K: the batch size silently changes"
DOC = """\
## What it catches
`x.view(-1, K)` / `x.reshape(-1, K)` where each sample has P != K elements but the total is
divisible by K. torch raises nothing: the `-1` absorbs the difference and a batch of N becomes a
batch of N*P/K. The loss is then computed against the wrong number of rows (or fails much later
with a confusing "Expected input batch_size (128) to match target batch_size (64)").

## Why it matters
The model trains on garbage without an error: samples are cut in pieces and mixed.

## Example
```python
x = self.features(x)           # (N, 64, 2, 5): 640 per sample
x = x.view(-1, 320)            # SHP005: batch N becomes 2N
```

## Use instead
```python
x = x.view(x.size(0), -1)      # or torch.flatten(x, 1); then size the Linear to 640
```

## When it stays silent
Folding into the batch is also done on purpose, so shapelint reports it only when it is sure:
* `view(-1, *trailing dims)` that merges whole leading dimensions (`out.view(-1, hidden)` after an
  LSTM for a per-step classifier, windows or pixels folded into the batch) is never reported;
* another fold of whole samples is reported only when the model's output keeps the changed batch;
* rows that straddle two samples (neither size divides the other) are always reported.
"""


@dataclass
class BatchFold(Payload):
    """view(-1, K) on samples of ``per_sample`` elements: a batch of ``batch`` changes size."""

    KIND = "batch_fold"
    per_sample: Any
    k: Any
    batch: Any
    shape: Tuple[Any, ...]


KINDS = (BatchFold,)


def on_forward_end(facts: List[Fact], output: Any) -> None:
    """Settle the folds of whole samples recorded during one forward (:class:`Fold` facts): a fold
    is batch folding when the model's output still has the changed batch; when the batch is
    restored later (windows, pixels or patches folded on purpose) it is not reported."""
    out = output
    while isinstance(out, (tuple, list)) and out:
        out = out[0]
    first = out.shape[0] if isinstance(out, Tensor) and out.shape else None
    if first is None:
        return
    for f in facts:
        if f.kind != "fold" or not isinstance(f.payload, Fold):
            continue
        d = f.payload
        if D.equal(first, d.new_batch) == D.ALWAYS and D.equal(d.new_batch, d.batch) == D.NEVER:
            f.kind = "violation"
            f.payload = BatchFold(d.per_sample, d.k, d.batch, d.shape)


def message(d: BatchFold, node: Any, ctx: Any) -> str:
    p, k, n = d.per_sample, d.k, d.batch
    shape = d.shape
    per = ctx.product(shape[1:]) if shape is not None else ctx.dim(p)
    if isinstance(n, int) and isinstance(p, int) and isinstance(k, int):
        becomes = f"a batch of {n} silently becomes {n * p // k}"
    elif isinstance(p, int) and isinstance(k, int) and p % k == 0:
        becomes = f"the batch silently grows {p // k}x"
    else:
        becomes = "the batch size silently changes"
    return f"{ctx.text(node)}: {per} features per sample{ctx.input_desc()}, not {ctx.dim(k)}; {becomes}"


def fix(d: BatchFold, node: Any, ctx: Any) -> Any:
    """Safe: K -> the per-sample size (concrete input). Unsafe: ``x.view(x.size(0), -1)``."""
    from shapelint.core.fixes import reshape_fix

    return reshape_fix(ctx, node, d.per_sample, d.k, "keep_batch")
