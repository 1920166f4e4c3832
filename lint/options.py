"""Options shared by the CLI and the flake8 plugin: input shapes, code selection, the
``[tool.shapelint]`` table of the nearest pyproject.toml."""
from __future__ import annotations

import difflib
import os
import re
from typing import Any, Dict, Iterable, List, Optional, Tuple

# Nothing here imports libcst or the engine: flake8 parses options for every run, even for files
# that shapelint skips.

class InputSpec(tuple):
    """One model input: its dims (ints and symbol names), and optionally

    * ``name``: the forward parameter it is given as (a keyword: ``cond``), or a key of a dict
      parameter (``batch.x``: ``forward(self, batch)`` reading ``batch["x"]``);
    * ``dtype``: ``long`` (indices for an Embedding), ``float``, ``int``, ``bool``, ``half``, ``double``.

    A plain tuple of dims is an InputSpec without either (positional, dtype inferred)."""

    name: Optional[str]
    dtype: Optional[str]

    def __new__(cls, dims: Iterable[Any] = (), name: Optional[str] = None, dtype: Optional[str] = None) -> "InputSpec":
        self = super().__new__(cls, tuple(dims))
        self.name = name
        self.dtype = dtype
        return self

    def __reduce__(self):  # pickled to --jobs workers
        return (InputSpec, (tuple(self), self.name, self.dtype))

    def __repr__(self) -> str:
        if self.name is None and self.dtype is None:
            return tuple.__repr__(self)
        return f"InputSpec({tuple.__repr__(self)}, name={self.name!r}, dtype={self.dtype!r})"

    def with_dims(self, dims: Iterable[Any]) -> "InputSpec":
        return InputSpec(dims, self.name, self.dtype)


_DTYPES = {"long": "long", "int64": "long", "int": "int", "int32": "int", "float": "float", "float32": "float",
           "bool": "bool", "half": "half", "float16": "half", "double": "double", "float64": "double"}


def spec_name(spec: Any) -> Optional[str]:
    return getattr(spec, "name", None)


def spec_dtype(spec: Any) -> Optional[str]:
    return getattr(spec, "dtype", None)


class ShapelintInputError(Exception):
    """Bad input from the user: one readable message, no traceback."""


def parse_input_shape(text: str) -> Tuple[str, InputSpec]:
    """'Net=1,1,28,28' or 'Net=N,3,H,W' -> ('Net', (1, 1, 28, 28)); 'Net.cond=2,4' names the forward
    parameter ``cond``; 'Net.batch.x=2,3' the key ``x`` of a dict parameter ``batch``; a ``:long``
    suffix gives the dtype ('Net=2,16:long')."""
    if "=" not in text:
        raise ShapelintInputError(f"malformed input shape {text!r}: expected CLASS=DIMS, e.g. Net=1,1,28,28")
    name, dims_text = text.split("=", 1)
    parts = [p.strip() for p in name.split(".")]
    if not all(p.isidentifier() for p in parts) or len(parts) > 3:
        raise ShapelintInputError(f"malformed input shape {text!r}: {name.strip()!r} is not a class name "
                                  f"(CLASS, CLASS.param or CLASS.param.key)")
    spec = parse_dims(dims_text, text)
    return parts[0], InputSpec(spec, ".".join(parts[1:]) or None, spec.dtype)


def parse_named_dims(text: str) -> InputSpec:
    """The summary's --input-shape: 'DIMS', 'param=DIMS' or 'param.key=DIMS', each with an optional
    ':dtype' (the check's syntax without the class)."""
    if "=" in text:
        name, dims_text = text.split("=", 1)
        parts = [p.strip() for p in name.split(".")]
        if not all(p.isidentifier() for p in parts) or len(parts) > 2:
            raise ShapelintInputError(f"malformed input shape {text!r}: {name.strip()!r} is not a forward "
                                      f"parameter (param or param.key)")
        spec = parse_dims(dims_text, text)
        return InputSpec(spec, ".".join(parts), spec.dtype)
    return parse_dims(text)


def parse_dims(dims_text: str, whole: Optional[str] = None) -> InputSpec:
    whole = whole or dims_text
    dtype = None
    if ":" in dims_text:
        dims_text, dt = dims_text.rsplit(":", 1)
        dtype = _DTYPES.get(dt.strip().replace("torch.", ""))
        if dtype is None:
            raise ShapelintInputError(f"malformed input shape {whole!r}: unknown dtype {dt.strip()!r} "
                                      f"(one of {', '.join(sorted(set(_DTYPES)))})")
    out = []
    parts = [p.strip() for p in dims_text.strip().strip("()[]").split(",")]
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # a trailing comma, as in a Python tuple: (1, 28, 28,)
    if parts == [""]:
        raise ShapelintInputError(f"malformed input shape {whole!r}: no dimensions")
    if "" in parts:
        raise ShapelintInputError(f"malformed input shape {whole!r}: an empty dimension (two commas in a row?)")
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
    return InputSpec(out, None, dtype)




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


def parse_construct(text: str, where: str = "--construct") -> Tuple[str, str]:
    """``'ResNet(depth=20)'`` -> ``('ResNet', 'ResNet(depth=20)')``: a call of a class or a
    factory, with Python-literal arguments (names of the file's classes allowed, as in
    ``ResNet(BasicBlock, [2, 2, 2, 2])``; an options object as ``argparse.Namespace(depth=20)``)."""
    import ast

    text = str(text).strip()
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise ShapelintInputError(f"{where} {text!r}: not a call; write it as Python, e.g. 'ResNet(depth=20)'")
    func = node.func if isinstance(node, ast.Call) else None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        name = func.value.id  # EfficientNet.from_name('efficientnet-b0'): a classmethod building one
    elif isinstance(func, ast.Name):
        name = func.id
    else:
        raise ShapelintInputError(f"{where} {text!r}: expected a call of a class or function of the file, "
                                  "e.g. 'ResNet(depth=20)'")
    assert isinstance(node, ast.Call)
    for a in list(node.args) + [k.value for k in node.keywords]:
        if isinstance(a, ast.Starred) or not _literal_or_name(a):
            raise ShapelintInputError(f"{where} {text!r}: arguments must be literals or names "
                                      f"(got {ast.unparse(a)!r})")
    if any(k.arg is None for k in node.keywords):
        raise ShapelintInputError(f"{where} {text!r}: **kwargs cannot be given; name each argument")
    return name, text


def _literal_or_name(node) -> bool:
    import ast

    if isinstance(node, ast.Name):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_literal_or_name(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _literal_or_name(k) and _literal_or_name(v) for k, v in zip(node.keys, node.values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _literal_or_name(node.operand)
    if isinstance(node, ast.Call) and ast.unparse(node.func) in _NAMESPACES and not node.args:
        # a config object of options: Net(argparse.Namespace(depth=20, num_classes=10))
        return all(k.arg is not None and _literal_or_name(k.value) for k in node.keywords)
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "yacs.config.CfgNode" and len(node.args) == 1 and \
            not node.keywords:
        # a yacs tree, items also attributes: Net(yacs.config.CfgNode({'MODEL': {'DEPTH': 50}}))
        return _literal_or_name(node.args[0])
    return isinstance(node, ast.Constant)


_NAMESPACES = ("argparse.Namespace", "types.SimpleNamespace")


def constructions(entries: Iterable[str], where: str = "--construct") -> Dict[str, List[str]]:
    """['ResNet(depth=20)', 'resnet(56)'] -> {'ResNet': ['ResNet(depth=20)'], 'resnet': ['resnet(56)']}.
    A config string may hold several calls separated by semicolons or newlines."""
    out: Dict[str, List[str]] = {}
    for entry in entries:
        for part in re.split(r"[;\n]+", str(entry)):
            if part.strip():
                name, text = parse_construct(part, where)
                if text not in out.setdefault(name, []):
                    out[name].append(text)
    return out


def closest(token: str, candidates: Iterable[str]) -> Optional[str]:
    """The candidate nearest to ``token`` (difflib's ratio), for "did you mean" messages."""
    cands = sorted(set(candidates))
    if not cands:
        return None
    got = difflib.get_close_matches(token, cands, n=1, cutoff=0.0)
    return got[0] if got else cands[0]


def did_you_mean(token: str, candidates: Iterable[str]) -> str:
    c = closest(token, candidates)
    return f"; did you mean {c!r}?" if c is not None else ""


def known_codes() -> List[str]:
    """The rule codes, from the rule modules' names (``shp001_flatten_size`` -> SHP001) without
    importing them: validating ``--select`` must not load the engine (a cache hit never does);
    tests/test_rules_registry.py checks that the names and the modules' CODEs agree."""
    import pkgutil

    from . import rules

    return sorted(info.name[:6].upper() for info in pkgutil.iter_modules(rules.__path__)
                  if info.name.startswith("shp"))


def check_codes(selected: List[str], where: str) -> List[str]:
    """Every entry must be a rule code or a prefix of one (``SHP``, ``SHP00``): a typo would
    otherwise silently select nothing or ignore nothing."""
    if not selected:
        return selected
    known = known_codes()
    for c in selected:
        if not any(k.startswith(c) for k in known):
            raise ShapelintInputError(f"{where}: unknown code {c!r}{did_you_mean(c, known)}")
    return selected


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


CONFIG_KEYS = ("input-shape", "select", "ignore", "max-file-size", "time-budget", "cache", "cache-dir", "construct",
               "require-coverage")
DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024


def load_config(start: str) -> dict:
    """The [tool.shapelint] table (keys normalised to dashes): input-shape (list or string),
    select, ignore, max-file-size, time-budget, cache, cache-dir, construct (list or string), require-coverage. An unknown key is an error naming the closest valid one."""
    path = find_pyproject(start)
    if path is None:
        return {}
    try:
        import tomllib  # Python >= 3.11
    except ImportError:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore
        except ImportError:
            raise ShapelintInputError(f"cannot read {path}: Python < 3.11 needs the 'tomli' package "
                                      "(a dependency of shapelint: reinstall it)") from None
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, ValueError) as e:
        raise ShapelintInputError(f"cannot read {path}: {e}")
    cfg = data.get("tool", {}).get("shapelint", {})
    if not isinstance(cfg, dict):
        raise ShapelintInputError(f"{path}: [tool.shapelint] must be a table")
    out = {}
    for key, value in cfg.items():
        norm = key.replace("_", "-")
        if norm not in CONFIG_KEYS:
            raise ShapelintInputError(f"{path}: unknown key {key!r} in [tool.shapelint]{did_you_mean(norm, CONFIG_KEYS)}")
        out[norm] = value
    return out


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)


DEFAULT_TIME_BUDGET = 2.0  # CPU seconds of analysis per class, 3x per file (core/limits.py)


def parse_seconds(value, where: str = "time-budget") -> Optional[float]:
    """``2``, ``"2.5"``, ``"500ms"``, ``"3s"`` -> seconds; ``0``/``"none"``/``"off"``: no budget (None)."""
    if isinstance(value, bool):
        raise ShapelintInputError(f"{where}: {value!r} is not a number of seconds")
    text = str(value).strip().lower()
    if text in ("none", "off", "0", "0s", "0.0"):
        return None
    scale = 1.0
    if text.endswith("ms"):
        text, scale = text[:-2], 0.001
    elif text.endswith("s"):
        text = text[:-1]
    try:
        n = float(text) * scale
    except ValueError:
        raise ShapelintInputError(f"{where}: {value!r} is not a number of seconds (e.g. 2, 0.5, 500ms; 0: none)")
    if not n > 0 or n != n or n == float("inf"):
        raise ShapelintInputError(f"{where}: {value!r} must be a positive number of seconds (0: none)")
    return n


def parse_size(value, where: str = "max-file-size") -> int:
    """``2000000``, ``"2MB"``, ``"500kB"``, ``"1MiB"`` -> bytes (k/M/G are powers of 1024)."""
    if isinstance(value, bool):
        raise ShapelintInputError(f"{where}: {value!r} is not a size")
    if isinstance(value, int):
        n = value
    else:
        m = _SIZE.match(str(value))
        if m is None:
            raise ShapelintInputError(f"{where}: {value!r} is not a size (e.g. 2000000, 2MB, 500kB)")
        unit = (m.group(2) or "b").lower()[:1]
        n = int(float(m.group(1)) * {"b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[unit])
    if n < 1:
        raise ShapelintInputError(f"{where}: {value!r} must be positive")
    return n


_FALSE = ("", "0", "false", "no", "off", "n", "f")


def env_flag(name: str) -> bool:
    """A boolean environment variable: unset, ``""``, ``0``, ``false``, ``no``, ``off`` are false
    (any case); anything else is true."""
    return os.environ.get(name, "").strip().lower() not in _FALSE


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
