CODE = "SHP008"
NAME = "wrong-input-rank"
KINDS = ("rank",)
SUMMARY = "a layer receives a tensor with the wrong number of dimensions"
DOC = """\
## What it catches
A layer fed a tensor of a rank it does not accept: a `Conv2d` after the features were flattened,
a `BatchNorm2d` on a `(N, C)` tensor, an `LSTM` on a 4-D tensor. torch raises e.g.
`Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [64, 512]`.

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


def message(d, node, ctx):
    return (f"{ctx.text(node)}: {d['layer']} expects {d['expected']} input, got {d['got']}D "
            f"(shape {ctx.shape(d.get('shape'))}{ctx.input_desc()})")
