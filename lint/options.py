"""Options shared by the CLI and the flake8 plugin: input shapes, code selection, the
``[tool.shapelint]`` table of the nearest pyproject.toml."""
from __future__ import annotations

import os
import re
from typing import Any, Dict, Iterable, List, Optional, Tuple

# Nothing here imports libcst or the engine: flake8 parses options for every run, even for files
# that shapelint skips.

InputSpec = Tuple[Any, ...]  # ints and symbol names


class ShapelintInputError(Exception):
    """Bad input from the user: one readable message, no traceback."""


def parse_input_shape(text: str) -> Tuple[str, InputSpec]:
    """'Net=1,1,28,28' or 'Net=N,3,H,W' -> ('Net', (1, 1, 28, 28))."""
    if "=" not in text:
        raise ShapelintInputError(f"malformed input shape {text!r}: expected CLASS=DIMS, e.g. Net=1,1,28,28")
    name, dims_text = text.split("=", 1)
    name = name.strip()
    if not name.isidentifier():
        raise ShapelintInputError(f"malformed input shape {text!r}: {name!r} is not a class name")
    return name, parse_dims(dims_text, text)


def parse_dims(dims_text: str, whole: Optional[str] = None) -> InputSpec:
    whole = whole or dims_text
    out = []
    parts = [p.strip() for p in dims_text.strip().strip("()[]").split(",") if p.strip()]
    if not parts:
        raise ShapelintInputError(f"malformed input shape {whole!r}: no dimensions")
    for p in parts:
        if p.lstrip("-").isdigit():
            v = int(p)
            if v < 1:
                raise ShapelintInputError(f"malformed input shape {whole!r}: dimension {v} must be >= 1")
            out.append(v)
        elif p.isidentifier():
            out.append(p)
        else:
            raise ShapelintInputError(f"malformed input shape {whole!r}: {p!r} is neither a size nor a symbol")
    return tuple(out)




def input_shapes(entries: Iterable[str]) -> Dict[str, List[InputSpec]]:
    """['Net=1,1,28,28', 'Net=1,10'] -> {'Net': [(1, 1, 28, 28), (1, 10)]} (repeat for several inputs).

    Config files may hold several entries in one string, separated by spaces, semicolons or newlines.
    """
    out: Dict[str, List[InputSpec]] = {}
    for entry in entries:
        for part in re.split(r"[\s;]+", entry.strip()):
            if not part:
                continue
            name, spec = parse_input_shape(part)
            out.setdefault(name, []).append(spec)
    return out


def codes(text) -> List[str]:
    if not text:
        return []
    if isinstance(text, str):
        text = [text]
    out = []
    for t in text:
        out.extend(c.strip().upper() for c in re.split(r"[\s,]+", t) if c.strip())
    return out


def find_pyproject(start: str) -> Optional[str]:
    d = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    while True:
        p = os.path.join(d, "pyproject.toml")
        if os.path.isfile(p):
            return p
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def load_config(start: str) -> dict:
    """The [tool.shapelint] table: input-shape (list or string), select, ignore."""
    path = find_pyproject(start)
    if path is None:
        return {}
    try:
        import tomllib  # Python >= 3.11
    except ImportError:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore
        except ImportError:
            return {}
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, ValueError) as e:
        raise ShapelintInputError(f"cannot read {path}: {e}")
    cfg = data.get("tool", {}).get("shapelint", {})
    if not isinstance(cfg, dict):
        raise ShapelintInputError(f"{path}: [tool.shapelint] must be a table")
    return cfg


NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def suppressed(line_text: str, code: str) -> bool:
    """flake8's `# noqa` and `# noqa: SHP001,SHP002` semantics."""
    m = NOQA.search(line_text)
    if m is None:
        return False
    if m.group("codes") is None:
        return True
    listed = [c.upper() for c in re.split(r"[,\s]+", m.group("codes")) if c]
    return any(code.startswith(c) for c in listed)
