CODE = "SHP005"
NAME = "batch-folding"
KINDS = ("batch_fold",)
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


def message(d, node, ctx):
    p, k, n = d["per_sample"], d["k"], d["batch"]
    shape = d.get("shape")
    per = ctx.product(shape[1:]) if shape is not None else ctx.dim(p)
    if isinstance(n, int) and isinstance(p, int) and isinstance(k, int):
        becomes = f"a batch of {n} silently becomes {n * p // k}"
    elif isinstance(p, int) and isinstance(k, int) and p % k == 0:
        becomes = f"the batch silently grows {p // k}x"
    else:
        becomes = "the batch size silently changes"
    return f"{ctx.text(node)}: {per} features per sample{ctx.input_desc()}, not {ctx.dim(k)}; {becomes}"
