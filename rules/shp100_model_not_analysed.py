CODE = "SHP100"
NAME = "model-not-analysed"
KINDS = ()
NO_FIX = "not a bug in the model: give shapelint the construction (`--construct`) instead."
SUMMARY = "a model class of the file could not be analysed (opt-in: off unless selected)"
DOC = """\
## What it reports
A model class (an `nn.Module` subclass) of the file that shapelint built in no analysis: its
constructor needs arguments nobody gave (no call in the file or in the project's other files,
no `--construct`), or its construction could not be followed. The message says why in one phrase
and what to give shapelint. It is not a bug in the model: it says that shapelint's silence about
this class is not a clean pass.

## Why it exists
A CI step that runs shapelint cannot otherwise tell a clean model from one that was skipped.
`shapelint check` prints the same list on stderr; `--require-coverage` makes it the exit status.
Under flake8 the code is off by default (flake8's default ignore list); select it to see it:
`flake8 --extend-select SHP100`.

## Example
```python
class WideResNet(nn.Module):
    def __init__(self, depth, num_classes):  # built nowhere in the project: SHP100
        ...
```

## Use instead
```python
# tell shapelint how the model is built: on the command line
#   shapelint check --construct 'WideResNet(depth=28, num_classes=10)' model.py
# or in pyproject.toml:  [tool.shapelint] construct = ["WideResNet(depth=28, num_classes=10)"]
```
"""


def message(data, node, ctx):  # SHP100 items are built from the analysis's coverage, not from facts
    return str(data)


def coverage_message(entry) -> str:
    why = entry.get("reason") or "not analysed"
    hint = entry.get("hint")
    return f"model {entry['class']} not analysed: {why}" + (f" ({hint})" if hint else "")
