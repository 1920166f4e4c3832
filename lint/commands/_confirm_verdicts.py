"""``--confirm`` (:mod:`shapelint.commands.confirm`): what torch did in a child, turned into one
verdict per finding, and the disagreements of the static shapes with torch's (shapelint's
defects)."""
from __future__ import annotations

from typing import Any, Dict, List

from ._confirm_jobs import Statements, _class_name, _static_shapes, _text_shape
from ._confirm_process import _memory_why

SILENT_CODES = {"SHP005"}  # bugs torch does not raise on: judged by the batch it produces


# ------------------------------------------------------------------------------------------------
# Verdicts
# ------------------------------------------------------------------------------------------------

def _verdict(confirmed, evidence, device=None, **extra) -> Dict[str, Any]:
    d = {"confirmed": confirmed, "evidence": evidence}
    if device:
        d["device"] = device
    d.update(extra)
    return d


# Long on purpose (~95 lines): one verdict table, case by case (raised on the line / elsewhere /
# ran through / folded the batch / meta could not tell); split, the cases lose their order.
def _judge(run, findings, res, job, stmts: Statements, explicit_meta: bool) -> Dict[int, Dict[str, Any]]:
    out: Dict[int, Dict[str, Any]] = {}
    dev = res.get("device")
    err = res.get("error")
    spans = {id(f): stmts.around(f.line)[:2] for f in findings}
    batch = job.get("batch")
    watched = res.get("watched") or {}
    executed = set(res.get("executed") or [])
    out_shapes = res.get("output")

    def ran(f):
        s, e = spans[id(f)]
        return any(s <= ln <= e for ln in executed)

    def fold_evidence(f):
        s, _ = spans[id(f)]
        seen = watched.get(str(s), [])
        for shapes in seen:
            if shapes and shapes[0] and batch is not None and shapes[0][0] != batch:
                tail = f", output {_text_shape(out_shapes[0])}" if out_shapes else ""
                return (f"output batch {shapes[0][0]} for input batch {batch} "
                        f"(line {f.line} gave {_text_shape(shapes[0])}{tail})")
        # the statement's own value is the evidence when it was seen; else the model's output
        if not seen and ran(f) and out_shapes and out_shapes[0] and batch is not None and out_shapes[0][0] != batch:
            return f"output batch {out_shapes[0][0]} for input batch {batch} (output {_text_shape(out_shapes[0])})"
        return None

    # the finding torch raised on: deepest frame of the user's file that falls in a finding's statement
    hit = None
    if err is not None:
        for line in reversed(err.get("frames") or []):
            for f in findings:
                s, e = spans[id(f)]
                if s <= line <= e and f.code not in SILENT_CODES:
                    hit = f
                    break
            if hit is not None:
                break
    err_line = (err.get("frames") or [None])[-1] if err is not None else None
    bare = getattr(run, "call_node", None) is not None or (
        getattr(run, "cls", None) is None and getattr(getattr(run, "root", None), "kind", None) == "sequential")
    if hit is None and err is not None and err.get("stage") == "forward" and not err.get("frames") and bare:
        # a bare container model (module-level nn.Sequential): torch fails inside torch, called from
        # the file's `model(x)`, which is where its one finding sits; a container the file never
        # calls is run on the witness input, and its one finding sits at the layer that fails
        loud = [f for f in findings if f.code not in SILENT_CODES]
        if len(loud) == 1:
            hit, err_line = loud[0], loud[0].line
    where = f" at line {err_line}" if err_line else ""
    for f in findings:
        if f is hit:
            out[id(f)] = _verdict(True, err["text"], dev, torch_line=err_line)
            continue
        if f.code in SILENT_CODES:
            ev = fold_evidence(f)
            if ev is not None:
                out[id(f)] = _verdict(True, ev, dev)
                continue
        if err is not None and err.get("memory"):
            out[id(f)] = _verdict(None, f"{_memory_why(job.get('memory'))}{where}: {err['text']}", dev)
            continue
        if err is not None:
            if err["stage"] == "construct":
                hint = ""
                if err.get("name") and err["name"] in (res.get("dropped") or []):
                    hint = (f" (`{err['name']}` is bound by a module-level statement that --confirm does not "
                            f"execute)")
                out[id(f)] = _verdict(None, f"the model could not be built: `{run.ctor_text}` raised "
                                            f"{err['text']}{where}{hint}", dev)
            elif err["stage"] == "input":
                out[id(f)] = _verdict(None, f"could not create the input: {err['text']}", dev)
            else:
                lead = "torch stopped earlier" if hit is not None or not ran(f) else "torch stopped"
                out[id(f)] = _verdict(None, f"{lead}{where}: {err['text']}", dev)
            continue
        if res.get("stage") == "built":
            out[id(f)] = _verdict(None, f"`{run.ctor_text}` built without error and the analysis gave no input "
                                        f"to run", dev)
            continue
        # the forward ran to the end
        if not ran(f):
            out[id(f)] = _verdict(None, f"line {f.line} did not run for this input in eval() mode", dev)
            continue
        if dev == "meta":
            why = "" if explicit_meta else " and the CPU fallback did not run"
            out[id(f)] = _verdict(None, "the meta device ran the forward without error, but it does not check "
                                        f"every constraint (e.g. ConvTranspose output_padding){why}; use "
                                        "--device cpu", dev)
            continue
        shape = f", output {_text_shape(out_shapes[0])}" if out_shapes else ""
        if f.code in SILENT_CODES:
            s, _ = spans[id(f)]
            seen = watched.get(str(s), [])
            if seen and all(v and v[0] and v[0][0] == batch for v in seen) and \
                    (not out_shapes or not out_shapes[0] or out_shapes[0][0] == batch):
                out[id(f)] = _verdict(False, f"line {f.line} kept the batch of {batch} "
                                             f"(gave {_text_shape(seen[0][0])}){shape}", dev)
            else:
                out[id(f)] = _verdict(None, f"the output batch matches the input batch {batch}, and the value of "
                                            f"line {f.line} could not be observed{shape}", dev)
            continue
        out[id(f)] = _verdict(False, f"torch ran line {f.line} without error for input {job['input_text']}{shape}",
                              dev)
    return out


def _defects(run, res, job, path) -> List[Dict[str, Any]]:
    """Static module shapes that torch's forward hooks contradict, and errors shapelint missed."""
    out: List[Dict[str, Any]] = []
    env = job.get("env") or {}
    hooks = res.get("hooks") or {}
    done = res.get("stage") == "done"
    static: Dict[str, list] = {}
    for rec in sorted(run.calls, key=lambda r: r.start):
        m = rec.module
        if m.name is None or getattr(m, "uncertain", False) or m.kind == "opaque":
            continue
        static.setdefault(m.name, []).append(rec)
    label = f"class {_class_name(run)}, `{run.ctor_text}`"
    if job["input_text"]:
        label += f", input {job['input_text']}"
    for name, recs in static.items():
        got = hooks.get(name)
        if got is None:
            continue
        if len(got) != len(recs) and (done or len(got) > len(recs)):
            continue  # static forks of unknown control flow: calls do not pair up
        for i, (rec, shapes) in enumerate(zip(recs, got)):
            st = _static_shapes(rec.output, env)
            if st is None or shapes is None or len(st) != len(shapes):
                continue
            for s, t in zip(st, shapes):
                if s is not None and s != t:
                    who = name or "the model"
                    nth = f" (call {i + 1})" if len(recs) > 1 else ""
                    out.append({"path": path, "kind": "shape", "module": name, "call": i, "static": s, "torch": t,
                                "message": f"shapelint defect: static shape of {who}{nth} was {_text_shape(s)}, "
                                           f"torch gives {_text_shape(t)} ({label})"})
                    break
    return out
