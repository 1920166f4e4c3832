"""Shared helpers for the shapelint test-suite.

``SHAPELINT_STRICT=1`` is set at import, before any engine code runs, so that an internal engine
error raises in the tests instead of being turned into an SHP000 finding.
"""
from __future__ import annotations

import os

os.environ["SHAPELINT_STRICT"] = "1"
# The result cache (lint/cache.py) of every `shapelint check` / flake8 run of the session, subprocesses
# included, goes to one private folder, removed at exit: each session starts cold and the
# repository is not written to. tests/test_cache.py chooses its own folders.
if "SHAPELINT_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["SHAPELINT_CACHE_DIR"] = tempfile.mkdtemp(prefix="shapelint-test-cache-")
    atexit.register(shutil.rmtree, os.environ["SHAPELINT_CACHE_DIR"], True)

import importlib.util  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Dict, List, Optional, Tuple  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
MARK_RE = re.compile(r"#\s*expect:\s*SHP\d{3}")


def fixture_files() -> List[Path]:
    return sorted(p for p in FIXTURES.glob("*.py")
                  if p.name != "verify_with_torch.py" and not p.name.startswith(("_", "keras_")))
    # keras_*.py: Keras models, built in Keras by tests/test_keras_frontend.py (no torch --confirm)


def has_markers(path: Path) -> bool:
    return bool(MARK_RE.search(path.read_text()))


def clean_fixture_files() -> List[Path]:
    """Fixtures without markers, except those whose docstring says ``verify: skip`` (a forward
    that hangs or trains by design)."""
    return [p for p in fixture_files() if not has_markers(p) and "verify: skip" not in p.read_text()]


_MODULE_CACHE: Dict[Path, Any] = {}


def load_fixture_module(path: Path):
    """Import a fixture file as a module (``__name__`` is not ``"__main__"``, so its main block
    does not run)."""
    path = Path(path).resolve()
    if path in _MODULE_CACHE:
        return _MODULE_CACHE[path]
    name = f"_shapelint_test_fixture_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, str(path))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec.loader.exec_module(mod)
    finally:
        sys.modules.pop(name, None)
    _MODULE_CACHE[path] = mod
    return mod


# --------------------------------------------------------------------------- torch side


def torch_shapes(obj):
    """A torch output as nested tuples of shape tuples (None for non-tensors)."""
    import torch

    if isinstance(obj, torch.Tensor):
        return tuple(obj.shape)
    if isinstance(obj, (tuple, list)):
        return ("seq", tuple(torch_shapes(o) for o in obj))
    return None


def run_with_hooks(model, inputs, names: Optional[set] = None):
    """Run ``model(*inputs)`` in eval mode under no_grad with a forward hook on every module.

    Returns ``(calls, output, error)``: ``calls`` maps a module's qualified name (as
    ``named_modules()`` gives it, ``''`` for the root) to the list of its output shapes in call
    order (see :func:`torch_shapes`); ``error`` is the exception the forward raised, if any (the
    hooks that fired before it are kept).
    """
    import torch

    calls: Dict[str, List[Any]] = {}
    handles = []
    for name, mod in model.named_modules():
        if names is not None and name not in names:
            continue

        def hook(m, inp, out, _name=name):
            calls.setdefault(_name, []).append(torch_shapes(out))

        handles.append(mod.register_forward_hook(hook))
    model.eval()
    out, err = None, None
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = model(*inputs)
    except Exception as e:  # noqa: BLE001 - the caller decides
        err = e
    finally:
        for h in handles:
            h.remove()
    return calls, out, err


def build_model(module, ctor_text: str):
    """``eval(run.ctor_text)`` in the fixture module's namespace."""
    import torch

    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return eval(compile(ctor_text, "<ctor>", "eval"), module.__dict__)


def make_inputs(shapes: List[Tuple[int, ...]], dtypes: List[str]):
    """torch inputs: ``randn`` for floats, ``randint(0, 2)`` for an Embedding's index input."""
    import torch

    torch.manual_seed(0)
    out = []
    for shape, dtype in zip(shapes, dtypes):
        if dtype == "long":
            out.append(torch.randint(0, 2, tuple(shape)))
        else:
            out.append(torch.randn(*shape))
    return out


# --------------------------------------------------------------------------- static side


def static_shapes(value, env: Optional[Dict[str, int]] = None):
    """A static output in the same form as :func:`torch_shapes`; None where unknown.

    With ``env`` the symbolic dims are evaluated (``dims.evaluate``); a dim whose symbols are not
    all in ``env`` (an opaque symbol) makes the whole shape unknown.
    """
    from shapelint.core import dims as D
    from shapelint.core.values import Tensor

    if isinstance(value, Tensor):
        if value.shape is None:
            return None
        out = []
        for d in value.shape:
            if isinstance(d, int):
                out.append(d)
            elif env is not None and D.symbols(d) <= env.keys():
                out.append(D.evaluate(d, env))
            else:
                return None
        return tuple(out)
    if isinstance(value, (tuple, list)):
        return ("seq", tuple(static_shapes(v, env) for v in value))
    return None


def compare_shapes(static, real, where: str, problems: List[str]) -> int:
    """Compare a static shape structure with torch's; returns how many tensor shapes were
    compared (known statically) and appends a message per difference to ``problems``."""
    if static is None:
        return 0
    if isinstance(static, tuple) and static and static[0] == "seq":
        if not (isinstance(real, tuple) and real and real[0] == "seq") or len(static[1]) != len(real[1]):
            problems.append(f"{where}: static {static!r} vs torch {real!r}")
            return 1
        return sum(compare_shapes(s, r, f"{where}[{i}]", problems)
                   for i, (s, r) in enumerate(zip(static[1], real[1])))
    if static != real:
        problems.append(f"{where}: static {static} vs torch {real}")
    return 1


@pytest.fixture(scope="session")
def torch_threads():
    import torch

    torch.set_num_threads(2)
    return 2


def check_cli(*argv):
    """``shapelint check --no-cache ARGV`` in this process: (exit code, stdout, stderr)."""
    import contextlib
    import io

    from shapelint.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["check", "--no-cache", *map(str, argv)])
    return rc, out.getvalue(), err.getvalue()


def torch_fails_at(code: str, run, filename: str = "case.py",
                   errors: Tuple[type, ...] = (RuntimeError, ValueError)) -> Optional[int]:
    """The line of ``code`` (compiled as ``filename``) where torch fails: ``run(namespace)`` builds
    and runs the model the code defines; the deepest traceback line in that file of the error
    (RuntimeError or ValueError, or those ``errors`` name: a model's own AssertionError) raised,
    or None when it runs through."""
    import traceback

    ns: Dict[str, Any] = {}
    exec(compile(code, filename, "exec"), ns)
    try:
        run(ns)
    except errors as e:
        return [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == filename][-1]
    return None


def line_of(code: str, text: str) -> int:
    """The first line of ``code`` holding ``text`` (1-based)."""
    return next(i for i, ln in enumerate(code.splitlines(), 1) if text in ln)
