"""Differential tests: shapelint's static shapes against a real torch forward, on every clean
fixture (a fixture without ``# expect:`` markers).

For every analysis run, the model is built from ``run.ctor_text`` in the fixture's namespace and
run in ``eval()`` mode under ``no_grad`` with a forward hook on every module.  The k-th
``CallRecord`` of a module name must match the k-th hook output of the module with that name.

* concrete runs (``run.concrete``): the static shapes are ints and are compared as they are;
* symbolic runs (inputs inferred, or a torchsummary ``(N, ...)`` input): the symbolic shapes are
  evaluated with ``dims.evaluate`` at a few concrete sizes and compared to torch at those sizes.
  A size is skipped where one of the engine's recorded assumptions (facts of kind ``assume``, e.g.
  ``view(-1, k)`` keeps the batch: per-sample size == k) is false, since its symbolic shapes hold
  only under them, and where torch changes the batch size.  Where torch rejects a size, the module
  outputs recorded before the error are still compared.
"""
from __future__ import annotations

import itertools
import re
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import (build_model, clean_fixture_files, compare_shapes, load_fixture_module, make_inputs,
                      run_with_hooks, static_shapes)

CLEAN = clean_fixture_files()
IDS = [p.stem for p in CLEAN]

# Engine gaps in files the tests may not fix (interpreter.py / engine.py): expected failures, strict,
# so that the fix shows up as an XPASS to remove from here.
ENGINE_GAPS = {"concrete": {}, "symbolic": {}}


def _params(paths, which):
    gaps = ENGINE_GAPS[which]
    return [pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=gaps[p.stem]))
            if p.stem in gaps else p for p in paths]


# Layers whose output must always be known in the clean fixtures (for a concrete run, and for a
# symbolic run that has calls at all).
CORE_LAYER = re.compile(r"^(Conv|ConvTranspose)[123]d$|^Linear$|Pool[123]d$|Norm([123]d)?$|^Embedding$"
                        r"|^Flatten$|^Upsample$|^PixelShuffle$")


@lru_cache(maxsize=None)
def analysis(path: Path):
    from shapelint.engine import analyze_source

    return analyze_source(path.read_text(), str(path), strict=True)


def _check_run(path, run, env=None, shapes=None, require_final=True):
    """Compare one run with torch; returns (problems, n_compared, torch_error).

    Every known static shape must equal torch's. A concrete run must also know the final output;
    a symbolic one may leave a size unknown (e.g. padding to a multiple of a window, `(4 - W % 4) % 4`)."""
    from shapelint.core.values import Tensor

    mod = load_fixture_module(path)
    model = build_model(mod, run.ctor_text)
    if shapes is None:
        shapes = [tuple(s) for s in run.inputs]
    dtypes = [t.dtype for t in run.input_tensors] if run.input_tensors else ["float"] * len(shapes)
    inputs = make_inputs(shapes, dtypes)
    real, out, err = run_with_hooks(model, inputs)
    problems = []
    compared = 0
    seen = {}
    for rec in run.calls:
        if rec.speculative:
            continue  # made on an arm of an `if` shapelint could not decide: maybe not at all
        name = rec.module.name
        k = seen.get(name, 0)
        seen[name] = k + 1
        static = static_shapes(rec.output, env)
        if static is None:
            continue
        got = real.get(name, [])
        if k >= len(got):
            if err is None:
                problems.append(f"{name!r} ({rec.module.type_name}) call #{k}: static {static}, "
                                f"but torch called it only {len(got)} time(s)")
            continue
        compared += compare_shapes(static, got[k], f"{name or '<root>'!s} ({rec.module.type_name}) call #{k}",
                                   problems)
    if err is None:
        final = static_shapes(run.output, env)
        from conftest import torch_shapes
        if final is None:
            if require_final and (isinstance(run.output, Tensor) or run.output is None):
                problems.append(f"static final output unknown; torch gives {torch_shapes(out)}")
        else:
            compare_shapes(final, torch_shapes(out), "final output", problems)
    return problems, compared, err, out


@pytest.mark.parametrize("path", _params(CLEAN, "concrete"), ids=IDS)
def test_concrete_runs_match_torch(path):
    a = analysis(path)
    assert not a.findings, f"clean fixture has findings: {a.findings}"
    runs = [r for r in a.runs if r.concrete]
    if not runs:
        pytest.skip("no run with concrete inputs")
    all_problems = []
    for run in runs:
        assert run.error is None, f"{run.ctor_text}: {run.error}"
        problems, compared, err, _ = _check_run(path, run)
        assert err is None, f"{run.ctor_text} on {run.inputs}: torch raised {err!r} on a clean fixture"
        assert compared > 0, f"{run.ctor_text}: no static shape was known"
        all_problems += [f"{run.ctor_text} {run.inputs}: {p}" for p in problems]
    assert not all_problems, "\n".join(all_problems)


@pytest.mark.parametrize("path", CLEAN, ids=IDS)
def test_core_layers_known(path):
    """Every Conv/Linear/Pool/Norm/... call of a concrete run has a known output shape."""
    from shapelint.core.values import Tensor

    a = analysis(path)
    runs = [r for r in a.runs if r.concrete]
    if not runs:
        pytest.skip("no run with concrete inputs")
    unknown = []
    for run in runs:
        assert run.calls, f"{run.ctor_text}: no module call recorded"
        for rec in run.calls:
            if CORE_LAYER.search(rec.module.type_name):
                # a tensor, or a pool's (output, indices) pair, of known shapes
                if not (isinstance(rec.output, Tensor) and rec.output.shape is not None or
                        isinstance(rec.output, tuple) and rec.output and
                        all(isinstance(t, Tensor) and t.shape is not None for t in rec.output)):
                    unknown.append(f"{run.ctor_text}: {rec.module.name} ({rec.module.type_name})")
        known = sum(1 for r in run.calls if static_shapes(r.output) is not None)
        assert known >= 0.8 * len(run.calls), f"{run.ctor_text}: only {known}/{len(run.calls)} calls known"
    assert not unknown, "unknown outputs: " + ", ".join(unknown)


# ----------------------------------------------------------------------------- symbolic runs

SPATIAL_SIZES = (32, 37, 64)
ENVS_PER_RUN = 2  # sizes torch accepts, compared per symbolic run (runtime)


def _symbolic_runs(a):
    # (a run with symbolic constructor arguments has no construction torch can replay: those are
    # checked against torch at several values in tests/test_reach.py)
    return [r for r in a.runs if not r.concrete and r.input_tensors and r.calls
            and all(t.shape is not None for t in r.input_tensors) and not getattr(r, "ctor_kwargs", None)]


def _envs(run, native):
    """Concrete sizes for the symbols of a run's inputs, in the order tried: N=2 always; the
    fixture's own concrete size first, then one non-square pair (37, 45, ...), then every other
    symbol (H, W, L, D...) set to each of SPATIAL_SIZES."""
    from shapelint.core import dims as D

    syms = sorted(set().union(*(D.symbols(d) for t in run.input_tensors for d in t.shape)))
    spatial = [s for s in syms if s != "N"]
    envs = []
    for shapes in native:
        env = {}
        ok = True
        for t, spec in zip(run.input_tensors, shapes):
            if len(t.shape) != len(spec):
                ok = False
                break
            for d, v in zip(t.shape, spec):
                if not isinstance(d, int) and len(D.symbols(d)) == 1 and D.text(d) in syms:
                    env[D.text(d)] = v
        if ok and set(env) >= set(spatial):
            envs.append({k: v for k, v in env.items() if k != "N"})
    if len(spatial) >= 2:
        envs.append({s: v for s, v in zip(spatial, itertools.cycle((37, 45, 50)))})
    for v in SPATIAL_SIZES:
        envs.append({s: v for s in spatial})
    out = []
    for e in envs:
        e = dict(e, N=2)
        if e not in out:
            out.append(e)
    return out


@pytest.mark.parametrize("path", _params(CLEAN, "symbolic"), ids=IDS)
def test_symbolic_runs_match_torch(path):
    a = analysis(path)
    runs = _symbolic_runs(a)
    if not runs:
        # a construction the file feeds a concrete input gets no symbolic run; without the main
        # block, the class's defaults are analysed symbolically
        from shapelint.engine import analyze_source

        text = path.read_text()
        head = text.split('\nif __name__ == "__main__":')[0]
        runs = _symbolic_runs(analyze_source(head, str(path), strict=True)) if head != text else []
    if not runs:
        pytest.skip("no symbolic run with calls")
    native = [r.inputs for r in a.runs if r.concrete]
    _assert_symbolic_match(path, runs, native)


def _assert_symbolic_match(path, runs, native):
    from shapelint.core import dims as D
    from conftest import torch_shapes

    all_problems = []
    checked = 0
    off_assumption = []
    for run in runs:
        assert run.error is None, f"{run.ctor_text}: {run.error}"
        checked_run = 0
        for env in _envs(run, native):
            broken = _broken_assumptions(run, env)
            if broken:
                off_assumption.append(f"{run.ctor_text} at {env}: assumed {broken[0]}")
                continue
            shapes = [tuple(D.evaluate(d, env) for d in t.shape) for t in run.input_tensors]
            problems, compared, err, out = _check_run(path, run, env, shapes, require_final=False)
            if err is not None:
                # torch rejects this size: the hooks that fired before the error still count
                all_problems += [f"{run.ctor_text} at {env} (torch raised {type(err).__name__} later): {p}"
                                 for p in problems]
                continue
            final = torch_shapes(out)
            if isinstance(final, tuple) and final and final[0] != "seq" and len(final) and final[0] != env["N"]:
                continue  # torch folds the batch at this size (SHP005 territory)
            checked += 1
            all_problems += [f"{run.ctor_text} at {env}: {p}" for p in problems]
            checked_run += 1
            if checked_run >= ENVS_PER_RUN:
                break
    assert not all_problems, "\n".join(all_problems)
    assert checked > 0, ("no size tried both satisfies the engine's recorded assumptions and is accepted "
                         "by torch; sizes off an assumption:\n" + "\n".join(off_assumption))


_SPATIAL_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _symbolic_spec(shape, dtype, index):
    """A concrete input made symbolic: the batch becomes N, the spatial dims of an (N, C, *spatial)
    float input become L / H, W / D, H, W, and an index input's (N, L) becomes symbolic too."""
    sfx = "" if index == 0 else str(index + 1)
    if dtype == "long":
        return ("N", *(f"L{sfx}" if i == 1 else d for i, d in enumerate(shape[1:], 1)))
    k = len(shape) - 2
    if k not in _SPATIAL_NAMES:
        return ("N", *shape[1:])
    return ("N", shape[1], *(n + sfx for n in _SPATIAL_NAMES[k]))


@lru_cache(maxsize=None)
def option_analysis(path: Path):
    """The file analysed again with every concretely-fed class given a symbolic input instead."""
    from shapelint.engine import analyze_source

    base = analysis(path)
    specs, native = {}, {}
    for run in base.runs:
        # a bare container model (module-level nn.Sequential) has no class an input shape could name
        if not run.concrete or run.cls is None or run.cls.name in specs:
            continue
        dtypes = [t.dtype for t in run.input_tensors] or ["float"] * len(run.inputs)
        specs[run.cls.name] = [_symbolic_spec(s, dt, i) for i, (s, dt) in enumerate(zip(run.inputs, dtypes))]
    for run in base.runs:
        if run.concrete and run.cls is not None:
            native.setdefault(run.cls.name, []).append(run.inputs)
    if not specs:
        return None, {}, {}
    return analyze_source(path.read_text(), str(path), input_shapes=specs, strict=True), specs, native


@pytest.mark.parametrize("path", _params(CLEAN, "symbolic"), ids=IDS)
def test_option_symbolic_runs_match_torch(path):
    """The concrete inputs of the file made symbolic (``input_shapes={'Net': [('N', 3, 'H', 'W')]}``),
    evaluated at the file's own size and at other sizes, against torch."""
    a, specs, native = option_analysis(path)
    if a is None:
        pytest.skip("no run with concrete inputs")
    assert not a.findings, f"symbolic inputs {specs} give findings on a clean fixture: {a.findings}"
    runs = [r for r in a.runs if r.cls.name in specs and r.input_origin == "option" and r.calls]
    assert runs, f"no run of {sorted(specs)} with the symbolic inputs {specs} recorded a call"
    _assert_symbolic_match(path, runs, [s for r in runs for s in native.get(r.cls.name, [])])


def _broken_assumptions(run, env):
    """The engine's recorded assumptions (facts of kind 'assume': it took a == b to go on) that
    are false at env: its symbolic shapes only claim anything where they all hold."""
    from shapelint.core import dims as D

    out = []
    for fact in run.facts:
        if fact.kind != "assume":
            continue
        a, b = fact.data.get("a"), fact.data.get("b")
        if not (D.is_dim(a) and D.is_dim(b)):
            continue
        if not (D.symbols(a) | D.symbols(b)) <= env.keys():
            continue
        va, vb = D.evaluate(a, env), D.evaluate(b, env)
        if va != vb:
            out.append(f"{D.text(a)} == {D.text(b)} ({va} != {vb}, {fact.data.get('what')})")
    return out


# Symbolic runs that inferred no shape at all: the engine could not infer an input from the first
# layer the input meets, and nothing on the way fixed a shape (a view with an explicit target does).
# (A construction the file already feeds a concrete input gets no symbolic run of its own.) (engine.py `_symbolic_input` knows Conv/BatchNorm2d-3d/InstanceNorm/RNN only;
# Linear, Embedding and BatchNorm1d accept several ranks, so guessing one could invent findings).
_NO_SYMBOLIC_INPUT = {
    "tricky_default_args": "GrayMLP starts with nn.Flatten()",
    "summary_private_norm": "the norm classes alone call F.batch_norm, which takes any rank >= 2",
}


@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.xfail(
        strict=True, reason="engine.py cannot infer a symbolic input: " + _NO_SYMBOLIC_INPUT[p.stem]))
    if p.stem in _NO_SYMBOLIC_INPUT else p for p in CLEAN], ids=IDS)
def test_symbolic_runs_have_calls(path):
    """Every default-constructible model gets a symbolic run whose forward infers some shape."""
    from shapelint.core.values import Tensor

    a = analysis(path)
    empty = [r.ctor_text for r in a.runs if not r.concrete and r.inputs is None and
             not any(isinstance(c.output, Tensor) and c.output.shape is not None for c in r.calls)]
    assert not empty, f"symbolic runs that inferred no shape: {empty}"
