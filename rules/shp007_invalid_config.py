CODE = "SHP007"
NAME = "invalid-layer-config"
KINDS = ("config",)
SUMMARY = "a layer or op configuration that torch refuses"
DOC = """\
## What it catches
Arguments torch rejects, whatever the data: `padding='same'` with a stride > 1, channels not
divisible by `groups`, `GroupNorm` channels not divisible by `num_groups`, transposed-conv
`output_padding` not smaller than its stride or dilation, `PixelShuffle` channels not divisible
by r², pooling padding larger than half the kernel, a dimension index out of range,
`MultiheadAttention` `embed_dim` not divisible by `num_heads`.

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


def message(d, node, ctx):
    return f"{ctx.text(node)}: {d['what']}"
