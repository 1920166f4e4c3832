"""Which input sizes the model admits: the sizes of a symbolic input (``--input-shape 1,H,W``)
for which every hardcoded size in the model holds, from the constraints the analysis recorded.

Every dim the forward produces must be >= 1, and every equality the analysis assumed (a
``view(-1, 320)`` on a symbolic size, a residual add) must hold.  Symbols linked by a constraint
form a component; a component of one symbol is solved exactly where its constraints are monotone
(else scanned), two linked symbols are searched up to ``SEARCH`` above their smallest value, three
or more are not solved.  "Admissible" means the forward runs *and keeps the batch*.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ...core import dims as D
from ...core.values import UNKNOWN, Tensor
from .accounting import flat_tensors, shape_text

SEARCH = 1024  # sizes tried per dimension beyond the smallest, when two sizes are linked


def _constraints(run):
    syms = []
    for t in run.input_tensors:
        for d in (t.shape or ()):
            for s in sorted(D.symbols(d)):
                if s not in syms:
                    syms.append(s)
    ge, eq = {}, {}

    def add_ge(d):
        if isinstance(d, D.Lin) and not d.is_opaque():
            ge.setdefault(d.text(), d)

    def tensors(v):
        return [t for t in flat_tensors(v) if isinstance(t, Tensor) and t.shape is not None]
    for t in run.input_tensors:
        for d in t.shape or ():
            add_ge(d)
    for c in run.calls:
        for v in list(c.inputs) + [c.output]:
            for t in tensors(v):
                for d in t.shape:
                    add_ge(d)
    for f in run.facts:
        if f.kind == "bound":
            add_ge(f.payload)
        if f.kind == "assume":
            a, b = f.data.get("a"), f.data.get("b")
            if D.is_dim(a) and D.is_dim(b):
                if any(isinstance(x, D.Lin) and x.is_opaque() for x in (a, b)):
                    continue
                eq.setdefault((D.text(a), D.text(b)), (a, b))
    return syms, list(ge.values()), list(eq.values())


def _lows(run) -> Dict[str, int]:
    """The least value of each input symbol (an image's height and width start at 2; past the few
    sizes where a check the engine settled by running them passes: engine._settle_narrowing)."""
    out: Dict[str, int] = {}
    for t in run.input_tensors:
        for d in t.shape or ():
            for s in D.symbols(d):
                out[s] = max(out.get(s, 1), D.least(d, s))
    for s, lo in getattr(run, "lows", {}).items():
        if s in out:
            out[s] = max(out[s], lo)
    return out


def _intervals(values) -> List[List[int]]:
    out: List[List[int]] = []
    for v in values:
        if out and out[-1][1] == v - 1:
            out[-1][1] = v
        else:
            out.append([v, v])
    return out


def _monotone(x) -> bool:
    return isinstance(x, int) or x.monotone()


def _solve_last(sym, env, ge, eq, lo=1):
    """The values of ``sym`` (others fixed by env) meeting every constraint: [[lo, hi|None], ...]."""
    hi = None
    scan_ge, scan_eq = [], []
    for d in ge:
        if not _monotone(d):
            scan_ge.append(d)
            continue
        v = D.first_at_least(lambda x: D.evaluate(d, {**env, sym: x}), 1, lo)
        if v is None:
            return []
        lo = max(lo, v)
    for a, b in eq:
        if isinstance(b, int) and _monotone(a) or isinstance(a, int) and _monotone(b):
            f, k = (a, b) if isinstance(b, int) else (b, a)
            g = (lambda x, f=f: D.evaluate(f, {**env, sym: x}))
            v1 = D.first_at_least(g, k, lo)
            if v1 is None or g(v1) != k:
                return []
            v2 = D.first_at_least(g, k + 1, v1)
            top = None if v2 is None else v2 - 1
            lo = max(lo, v1)
            hi = top if hi is None else (min(hi, top) if top is not None else hi)
            if hi is not None and hi < lo:
                return []
        else:
            scan_eq.append((a, b))
    if not scan_ge and not scan_eq:
        return [[lo, hi]]
    end = hi if hi is not None else lo + 4 * SEARCH
    vals = []
    for x in range(lo, end + 1):
        e = {**env, sym: x}
        if all(D.evaluate(d, e) >= 1 for d in scan_ge) and \
                all(D.evaluate(a, e) == D.evaluate(b, e) for a, b in scan_eq):
            vals.append(x)
    out = _intervals(vals)
    if hi is None and out and out[-1][1] == end:
        full = out[:-1]
        if len(full) >= 3:
            # periodic (a size must be a multiple of 8, say): [lo, hi, period] stands for lo..hi + period*k
            w = {b - a for a, b in full}
            p = {full[i + 1][0] - full[i][0] for i in range(len(full) - 1)}
            if len(w) == 1 and len(p) == 1:
                a, b = full[0]
                return [[a, b, p.pop()]]
        out[-1][1] = None
    return out


def _components(syms: List[str], ge: List[Any], eq: List[Tuple[Any, Any]]
                ) -> Tuple[List[List[str]], List[Tuple[str, Any, Any]]]:
    """The symbols linked by a constraint (union-find), and each constraint with its symbols."""
    parent = {s: s for s in syms}

    def find(s: str) -> str:
        while parent[s] != s:
            s = parent[s]
        return s
    cons_syms: List[Tuple[str, Any, Any]] = []
    for d in ge:
        cons_syms.append(("ge", d, D.symbols(d)))
    for a, b in eq:
        cons_syms.append(("eq", (a, b), D.symbols(a) | D.symbols(b)))
    for kind, c, ss in cons_syms:
        ss = [s for s in ss if s in parent]
        for s in ss[1:]:
            parent[find(s)] = find(ss[0])
    comps: Dict[str, List[str]] = {}
    for s in syms:
        comps.setdefault(find(s), []).append(s)
    return list(comps.values()), cons_syms


def _solve_pair(comp: List[str], cge: List[Any], ceq: List[Tuple[Any, Any]],
                lows: Dict[str, int]) -> Optional[List[Dict[str, Any]]]:
    """The regions of two linked symbols (None: not solved, a periodic first symbol)."""
    s1, s2 = comp
    ge1 = [d for d in cge if D.symbols(d) == {s1}]
    eq1 = [c for c in ceq if (D.symbols(c[0]) | D.symbols(c[1])) == {s1}]
    rest_ge = [d for d in cge if d not in ge1]
    rest_eq = [c for c in ceq if c not in eq1]
    first = _solve_last(s1, {}, ge1, eq1, lows.get(s1, 1))
    # f(s1, s2) == K with f non-decreasing in both: once f(v, w*) > K, with w* the least s2 for
    # which f can be positive at all, no larger v has a solution
    stops = []
    for a, b in rest_eq:
        f, k = (a, b) if isinstance(b, int) else (b, a)
        if isinstance(k, int) and k >= 1 and not isinstance(f, int) and _monotone(f):
            w = D.first_at_least(lambda x, f=f: D.evaluate(f, {s1: D.BOUND, s2: x}), 1, lows.get(s2, 1))
            if w is not None:
                stops.append((f, k, w))
    results = []
    for iv in first:
        lo1, hi1 = iv[0], iv[1]
        if len(iv) == 3:  # periodic: not searched in two dimensions
            return None
        end = hi1 if hi1 is not None else lo1 + SEARCH - 1
        for v in range(lo1, end + 1):
            if any(D.evaluate(f, {s1: v, s2: w}) > k for f, k, w in stops):
                break
            ivs = _solve_last(s2, {s1: v}, rest_ge, rest_eq, lows.get(s2, 1))
            results.append((v, ivs, hi1 is None and v == end))
    # runs of consecutive s1 values with the same s2 intervals make one region each
    regions = []
    i = 0
    while i < len(results):
        v, ivs, _ = results[i]
        j = i
        while j + 1 < len(results) and results[j + 1][1] == ivs and results[j + 1][0] == results[j][0] + 1:
            j += 1
        open_end = results[j][2]
        for iv in ivs:
            regions.append({s1: [v, None if open_end else results[j][0]], s2: iv})
        i = j + 1
    return regions


def admissible(run: Any) -> Optional[Dict[str, Any]]:
    """The admissible input sizes of ``run`` (None when no input size is symbolic); the keys are
    those of the JSON format's ``admissible_inputs``."""
    syms, ge, eq = _constraints(run)
    if not syms:
        return None
    bad = [f for f in run.facts if f.kind == "violation"]
    if bad:
        shapes = " and ".join(shape_text(t.shape) for t in run.input_tensors if t.shape is not None)
        return {"text": f"none: the model fails for every input {shapes} ({bad[0].data.get('kind')} error; "
                        f"see `shapelint check`)", "symbols": syms, "admissible": False, "complete": True,
                "components": [],
                "input": shapes}
    comps, cons_syms = _components(syms, ge, eq)
    lows = _lows(run)
    regions_by_comp = []
    incomplete = []
    for comp in comps:
        cs = set(comp)
        cge = [d for k, d, ss in cons_syms if k == "ge" and ss and ss <= cs]
        ceq = [d for k, d, ss in cons_syms if k == "eq" and ss and ss <= cs]
        if len(comp) == 1:
            ivs = _solve_last(comp[0], {}, cge, ceq, lows.get(comp[0], 1))
            regions_by_comp.append((comp, [{comp[0]: iv} for iv in ivs]))
            continue
        regions = _solve_pair(comp, cge, ceq, lows) if len(comp) == 2 else None
        if regions is None:
            incomplete.append(comp)
        else:
            regions_by_comp.append((comp, regions))
    return _admissible_text(run, syms, regions_by_comp, incomplete)


def _iv_text(iv) -> str:
    if len(iv) == 3:
        lo, hi, p = iv
        if lo == hi and lo % p == 0:
            return f"a multiple of {p}" + ("" if lo == p else f" (>= {lo})")
        return f"= {lo} + {p}k (k >= 0)" if lo == hi else f"in {lo}..{hi} + {p}k (k >= 0)"
    lo, hi = iv
    if hi is None:
        return f">= {lo}"
    if lo == hi:
        return f"= {lo}"
    return f"in {lo}..{hi}"


def _iv_short(iv) -> str:
    if len(iv) == 3:
        return f"({_iv_text(iv)})"
    lo, hi = iv
    if hi is None:
        return f"{lo}.."
    return str(lo) if lo == hi else f"{lo}..{hi}"


def _admissible_text(run, syms, regions_by_comp, incomplete) -> Dict[str, Any]:
    mains, alsos = [], []
    empty = False
    out_regions = []
    singles: Dict[str, List[str]] = {}  # the same admissible sizes for several symbols: "H, W in ..."
    for comp, regions in regions_by_comp:
        if not regions:
            empty = True
            continue
        if len(comp) == 1:
            s = comp[0]
            ivs = [r[s] for r in regions]
            if ivs == [[1, None]]:
                continue  # unconstrained (the batch, say)
            out_regions.append({"symbols": [s], "boxes": [{s: iv} for iv in ivs]})
            if len(ivs) == 1:
                what = _iv_text(ivs[0])
            else:
                what = "in " + ", ".join(_iv_short(iv) for iv in ivs)
            if what not in singles:
                singles[what] = []
                mains.append(what)
            singles[what].append(s)
            continue
        s1, s2 = comp
        out_regions.append({"symbols": [s1, s2], "boxes": [{s1: r[s1], s2: r[s2]} for r in regions]})
        square = [r for r in regions if r[s1] == r[s2]]
        other = [r for r in regions if r[s1] != r[s2]]
        if square:
            mains.append(" or ".join(f"{s1}, {s2} {_iv_text(r[s1])}" for r in square))
        else:
            r, other = other[0], other[1:]
            mains.append(f"{s1} {_iv_text(r[s1])} and {s2} {_iv_text(r[s2])}")
        if other:
            listed = ", ".join(f"{_iv_short(r[s1])} x {_iv_short(r[s2])}" for r in other[:6])
            more = f" and {len(other) - 6} more" if len(other) > 6 else ""
            alsos.append(f"({s1}, {s2}) in {listed}{more}")
    mains = [f"{', '.join(singles[m])} {m}" if m in singles else m for m in mains]
    fixed = ""
    ins = [t for t in run.input_tensors if t.shape is not None]
    if len(ins) == 1 and len(ins[0].shape) >= 3 and isinstance(ins[0].shape[1], int):
        c = ins[0].shape[1]
        fixed = f" with {c} channel{'s' if c != 1 else ''}"
    shapes = " and ".join(shape_text(t.shape) for t in ins)
    if empty:
        text = (f"none: no input size fits the model's hardcoded sizes (input {shapes}, "
                f"sizes searched up to {SEARCH})")
    elif not mains and not incomplete:
        text = f"accepts any size{fixed}"
    else:
        text = "accepts " + " and ".join(mains) + fixed if mains else ""
        if alsos:
            text += "; also " + "; ".join(alsos)
        if incomplete:
            text += ("; " if text else "") + "not computed for " + ", ".join(
                ", ".join(c) for c in incomplete) + " (more than two linked sizes)"
    partial = any(t is UNKNOWN or (isinstance(t, Tensor) and t.shape is None)
                  for c in run.calls for t in flat_tensors(c.output))
    if partial and not empty:
        text += " (not every shape could be followed: some of these sizes may still fail)"
    return {"text": text, "input": shapes, "symbols": syms, "admissible": not empty, "components": out_regions,
            "complete": not partial and not incomplete}


def witness(run: Any, fixed: Optional[Dict[str, int]] = None) -> Optional[Dict[str, int]]:
    """The smallest sizes of ``run``'s free input symbols that the recorded constraints admit (every
    dim the forward produced up to where it stopped is >= 1, every assumed equality holds), with
    ``fixed`` (the batch, say) given; None when a component cannot be solved. Used by ``--confirm``
    to pick a concrete input for a finding that holds for every size: the constraints reach the
    failing line, since the analysis stops there."""
    syms, ge, eq = _constraints(run)
    env: Dict[str, int] = dict(fixed or {})
    free = [s for s in syms if s not in env]
    if not free:
        return env
    ge = [g for g in (D.substitute(d, env) for d in ge) if not isinstance(g, int)]
    eq = [(D.substitute(a, env), D.substitute(b, env)) for a, b in eq]
    eq = [(a, b) for a, b in eq if not (isinstance(a, int) and isinstance(b, int))]
    comps, cons_syms = _components(free, ge, eq)
    lows = _lows(run)
    for comp in comps:
        cs = set(comp)
        cge = [d for k, d, ss in cons_syms if k == "ge" and ss and ss <= cs]
        ceq = [d for k, d, ss in cons_syms if k == "eq" and ss and ss <= cs]
        try:
            if len(comp) == 1:
                ivs = _solve_last(comp[0], env, cge, ceq, lows.get(comp[0], 1))
                if not ivs:
                    return None
                env[comp[0]] = ivs[0][0]
            elif len(comp) == 2:
                regions = _solve_pair(comp, cge, ceq, lows)
                if not regions:
                    return None
                best = min(regions, key=lambda r: (sum(r[s][0] for s in comp), [r[s][0] for s in comp]))
                env.update({s: best[s][0] for s in comp})
            else:
                return None
        except Exception:  # noqa: BLE001 - an expression the solver cannot evaluate: no witness
            return None
    return env
