"""``shapelint check --confirm``: prove (or fail to prove) each finding with the real forward pass.

For each analysed model (a :class:`~shapelint.engine.Run`) that produced findings, a child
process (:mod:`shapelint.commands._confirm_runner`) executes the file's definitions only, builds the model
with the constructor text the static analysis used, feeds it the input the analysis assumed and
runs the forward under ``torch.no_grad()`` in ``eval()`` mode. This module turns what torch did
into one verdict per finding:

* ``confirmed: true``: torch raised in the statement of the finding (the deepest traceback frame in
  the user's file that falls on a finding), with torch's own message as evidence; or, for a silent
  bug (``SHP005`` batch folding), the batch torch produced differs from the input batch;
* ``confirmed: false``: torch ran the same forward to the end on a device that checks everything
  (CPU or CUDA), through the statement of the finding, without an error and without the silent
  symptom. Nothing else produces it;
* ``confirmed: null`` (unconfirmed): everything else: a timeout, an earlier error, a statement that
  did not run, an input with free symbolic sizes, a meta-only run, a model that cannot be built.

The same run compares the static shape of every module call with torch's forward hooks; a
disagreement is a *shapelint defect* (shapelint is wrong, not the model), returned under the
``"defects"`` key of the result, never as a finding.

The flake8 plugin never confirms: it runs in editors on every keystroke, so it must stay fast,
must not import torch, and must never execute the code being edited.

This module is the entry point (:func:`confirm_findings`); the file's statements and the jobs made
of runs are :mod:`._confirm_jobs`, the child processes :mod:`._confirm_process` (which starts
:mod:`._confirm_runner`, sandboxed by :mod:`._confirm_sandbox`), the verdicts :mod:`._confirm_verdicts`.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, List, Tuple

from ._confirm_jobs import Statements, _class_name, _plain, _run_inputs, _watch_target
from ._confirm_process import (DEFAULT_MEMORY, NO_TORCH, ConfirmError, _cli_error, _execute,  # noqa: F401 - API
                               _memory_why, memory_text, parse_memory)
from ._confirm_verdicts import SILENT_CODES, _defects, _judge, _verdict


# ------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------

def _all_findings(analysis):
    if not hasattr(analysis, "_unfiltered_findings"):
        from ..findings import facts_to_findings

        try:
            analysis._unfiltered_findings = facts_to_findings(analysis.source, analysis.runs)
        except Exception:  # noqa: BLE001 - then the findings at hand must do
            analysis._unfiltered_findings = list(analysis.findings)
    return analysis._unfiltered_findings


# ~80 lines: the job's steps in order (build the job, run, fall back from meta to CPU, judge, defects).
def confirm_findings(analysis, findings, device: str = "auto", timeout: float = 60.0,
                     memory: Any = DEFAULT_MEMORY) -> Dict[Any, Any]:
    """Run the real forward pass for the models behind ``findings``.

    Returns ``{id(finding): {"confirmed": True | False | None, "evidence": str, "device": ...}}``
    plus ``"defects"``: a list of ``{"path", "message", ...}`` for each place where torch
    contradicts shapelint's own static shapes (a bug in shapelint, not in the model).
    ``memory``: address space the child may use beyond what importing torch mapped (bytes, or a
    size such as ``"4G"``; 0 or ``"none"``: no limit); going over it gives an unconfirmed verdict
    that says so, never a finding or a shapelint defect.
    Raises :class:`ConfirmError` (a :class:`shapelint.cli.CliError`) when torch is not installed
    (or CUDA is asked for and absent), or ``memory`` is not a size.
    """
    if device not in ("auto", "cpu", "cuda", "meta"):
        raise _cli_error(f"shapelint: unknown --device {device!r}")
    memory = parse_memory(memory)
    path = analysis.source.path
    stmts = Statements(analysis.source.code)
    result: Dict[Any, Any] = {}
    defects: List[Dict[str, Any]] = []
    result["defects"] = defects
    by_run: Dict[int, Tuple[Any, List]] = {}
    for f in findings:
        if f.run is None or f.code == "SHP000":
            result[id(f)] = _verdict(None, "not a shape finding: nothing to run")
            continue
        by_run.setdefault(id(f.run), (f.run, []))[1].append(f)
    # a finding several constructions make (Net(), Net(64)) is confirmed for each: the findings
    # list it once, under its first run; the other runs get a copy of it, merged back below
    shadows: Dict[int, List[Any]] = {}
    for f in findings:
        fact = getattr(f, "fact", None)
        if f.run is None or fact is None or f.code == "SHP000":
            continue
        covered = {(f.run.ctor_text, f.run.input_text())}
        for r2 in analysis.runs:
            key = (r2.ctor_text, r2.input_text())
            if r2 is f.run or key in covered or r2.error:
                continue
            if any(x.kind == "violation" and x.node is fact.node for x in r2.facts):
                covered.add(key)
                copy = dataclasses.replace(f, run=r2)
                shadows.setdefault(id(f), []).append(copy)
                by_run.setdefault(id(r2), (r2, []))[1].append(copy)
    jobs, plans = [], {}
    for i, (run, fs) in enumerate(by_run.values()):
        kwargs = getattr(run, "ctor_kwargs", None)
        if kwargs is not None and not all(_plain(v) for v in kwargs.values()):
            # a class nobody builds, built with symbolic constructor arguments: torch needs values
            for f in fs:
                result[id(f)] = _verdict(None, f"built for {run.built_at or 'any constructor arguments'}: "
                                               f"give a construction with --construct to confirm it in torch")
            continue
        if all(getattr(getattr(f, "fact", None), "constructing", False) for f in fs):
            # torch raises while building the model (a view of a constant in __init__): no input
            specs, env, batch, why = None, {}, None, None
        else:
            specs, env, batch, why = _run_inputs(run)
        if why is not None:
            for f in fs:
                result[id(f)] = _verdict(None, why)
            continue
        watch = []
        for f in fs:
            if f.code in SILENT_CODES:
                s, e, node = stmts.around(f.line)
                watch.append({"start": s, "end": e, "target": _watch_target(node)})
        job = {"id": i, "ctor": run.ctor_text, "inputs": specs, "batch": batch, "watch": watch,
               "ctor_locals": {k: v for k, v in (run.ctor_locals or {}).items() if _plain(v)},
               "finding_spans": [list(stmts.around(f.line)[:2]) for f in fs if f.code not in SILENT_CODES]}
        jobs.append(job)
        witnessed = bool(env.pop("__witness__", None))
        plans[i] = (run, fs, dict(job, env=env, memory=memory, witness=witnessed,
                                  input_text=" and ".join("x".join(map(str, s["shape"])) for s in specs or [])))
    if jobs:
        results, load_error = _execute(os.path.abspath(path), device, timeout, jobs, memory)
        _collect(result, defects, plans, results, load_error, analysis, stmts, device, memory, path)
    for f in findings:  # each construction's verdict, under the finding
        copies = shadows.get(id(f))
        if not copies:
            continue
        each = [dict(result.get(id(f), {}), construction=f.run.ctor_text)]
        for c in copies:
            v = result.pop(id(c), None)
            if v is not None:
                each.append(dict(v, construction=c.run.ctor_text))
        if id(f) in result:
            result[id(f)]["constructions"] = each
    return result


def _collect(result, defects, plans, results, load_error, analysis, stmts, device, memory, path) -> None:
    for i, (run, fs, job) in plans.items():
        if load_error is not None:
            line = (load_error.get("frames") or [None])[-1]
            at = f" (line {line})" if line else ""
            for f in fs:
                if load_error.get("memory"):
                    result[id(f)] = _verdict(None, f"{_memory_why(memory)} executing the file's imports and "
                                                   f"definitions{at}: {load_error.get('text')}")
                else:
                    result[id(f)] = _verdict(None, f"the file's imports and definitions failed to execute{at}: "
                                                   f"{load_error.get('text')}")
            continue
        res = results.get(i)
        if res is None or "outcome" in res:
            why = res["why"] if res else "no result"
            for f in fs:
                result[id(f)] = _verdict(None, f"{why} (running `{run.ctor_text}`)")
            continue
        verdicts = _judge(run, fs, res, job, stmts, explicit_meta=(device == "meta"))
        if job.get("witness"):
            for f in fs:
                v = verdicts.get(id(f))
                if v is not None:
                    v["witness"] = job["input_text"]
                    v["evidence"] = f"at witness input {job['input_text']}: {v['evidence']}"
        result.update(verdicts)
        defects.extend(_defects(run, res, job, path))
        err = res.get("error")
        if err is not None and err["stage"] == "forward" and err.get("frames") and not err.get("name") \
                and not err.get("memory"):  # running out of memory is the model's size, not a shape bug
            # torch raised somewhere shapelint reported nothing (in any run of this file, whatever
            # --select/--ignore/noqa kept)
            line = err["frames"][-1]
            s, e = stmts.around(line)[:2]
            if not any(s <= g.line <= e for g in _all_findings(analysis)):
                defects.append({"path": path, "line": line, "kind": "missed",
                                "message": f"shapelint defect: torch raised {err['text']} at line {line}, where "
                                           f"shapelint reported nothing (class {_class_name(run)}, `{run.ctor_text}`, "
                                           f"input {job['input_text']})"})
