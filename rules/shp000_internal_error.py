CODE = "SHP000"
NAME = "internal-error"
KINDS = ()
NO_FIX = "a failure of shapelint itself: nothing in the model to change."
SUMMARY = "shapelint itself failed on this class (a bug in shapelint, not in your model)"
DOC = """\
## What it reports
An exception inside shapelint's analysis of one class. The rest of the file, and every other
file, is still checked; only that class is skipped.

## Why it exists
A linter must never take the editor or the CI step down. Instead of crashing flake8, the error is
reported once, at the class, so that it can be reported upstream.

## What to do
Please file an issue with the class's source. `# noqa: SHP000` silences it meanwhile.
Under `SHAPELINT_STRICT=1` (set by shapelint's own tests) the exception is raised instead.
"""


def message(data, node, ctx):  # SHP000 findings are built by the engine directly
    return str(data)
