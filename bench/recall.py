"""Recall yardstick (issue 9): inject one-number bugs into third-party model code, let torch say
which crash, and count how many shapelint reports on the line torch fails on.

    python bench/recall.py export --mirror /work/.mirror --src /work/thirdparty   # once: the sources
    python bench/recall.py --src /work/thirdparty --manifest bench/recall_manifest.json [--json out.json]

The manifest names, per model file: the repository and commit, the file, the module to import
(from ``root``, a folder of the repository put on sys.path), the construction to build as the
project itself builds it (``resnet20()``, ``WideResNet(28, 10, 10)``) and its input shape(s).

For each file:

1. the clean file: torch must build and run it at that input (else the entry is reported broken);
   shapelint's findings on it are false positives, counted three ways (below);
2. one-literal mutants: an integer literal that is an argument of a torch.nn layer constructor
   (positional, keyword, or inside a tuple: kernel/stride/padding), or of view/reshape/flatten/
   unflatten, becomes v+1, v-1 or 2v; up to --per-file of them, sampled with a fixed seed;
3. each mutant runs in torch (child process, CPU, timeout); those that raise are kept, with the
   deepest traceback line inside the mutated file and the phase (import/construct/forward).
   Verdicts are cached in --cache (outside the repository), so a rerun only re-runs shapelint;
4. shapelint check --format json on each crashing mutant, three ways:
   * ``plain``  : the file alone, no input shape;
   * ``shape``  : the file alone, ``--input-shape Class=dims`` (Class: the built model's class);
   * ``driver`` : a sibling ``_driver.py`` holding ``model = <construction>; model(torch.randn(..))``
     linted alone (a finding there names the model file's line: ``(in resnet.py:57)``).
   A hit is a finding (any SHP code) on the line torch fails on; findings elsewhere are counted
   too. Each miss gets a diagnosis from shapelint's own analysis (was the class built, did its
   run end, was the failing line reached) for the blocker list in bench/RECALL.md.

Works against whatever shapelint is installed in the running interpreter (only the CLI is needed;
the diagnosis uses shapelint.engine.analyze_source when it exists).
"""
from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import hashlib
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CACHE = Path(os.environ.get("RECALL_CACHE", "/tmp/shapelint_recall_cache.json"))
WORK = Path(os.environ.get("RECALL_WORK", tempfile.gettempdir())) / "shapelint_recall_work"

# ------------------------------------------------------------------------------------------------
# export: the third-party sources, outside any worktree
# ------------------------------------------------------------------------------------------------


def _git_dir(mirror: Path, repo: str) -> Path:
    base = mirror / repo.replace("/", "+") / "repo"
    return base / ".git" if (base / ".git").is_dir() else base


_EXPORTED = (".py", ".sh", ".bash", ".md", ".rst", ".markdown")
_CONFIGS = (".json", ".yaml", ".yml")  # configuration files a script may read (lint/argspaces.py), small ones


def export(args) -> int:
    manifest = json.loads(Path(args.manifest).read_text())
    done = set()
    for e in manifest["models"]:
        key = (e["repo"], e["commit"])
        if key in done:
            continue
        done.add(key)
        gd = _git_dir(Path(args.mirror), e["repo"])
        out = Path(args.src) / e["repo"].replace("/", "+")
        # core.quotepath=false: a folder named in Chinese (a course's lessons) is listed as it is
        names = subprocess.run(["git", "-c", "core.quotepath=false", "--git-dir", str(gd), "ls-tree", "-r",
                                "--name-only", e["commit"]],
                               capture_output=True, text=True, check=True).stdout.split("\n")
        n = 0
        for name in names:
            # the code, and the docs and shell scripts that give its command lines (lint/cmdlines.py)
            config = name.endswith(_CONFIGS)
            if not (name.endswith(_EXPORTED) or config or os.path.basename(name).upper().startswith("README")):
                continue
            got = subprocess.run(["git", "--git-dir", str(gd), "show", f"{e['commit']}:{name}"],
                                 capture_output=True, check=not config)
            data = got.stdout
            if config and (got.returncode != 0 or len(data) > 100_000):
                continue  # a large (or absent: a snapshot keeps no large files) data file
            p = out / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            n += 1
        print(f"{e['repo']}@{e['commit'][:10]}: {n} files -> {out}")
    return 0


# ------------------------------------------------------------------------------------------------
# mutants
# ------------------------------------------------------------------------------------------------

_TENSOR_SIZE_METHODS = {"view", "reshape", "flatten", "unflatten", "Unflatten"}


def _nn_layer_names():
    try:
        import torch.nn as nn
    except ImportError:  # pragma: no cover
        return set()
    return {n for n in dir(nn) if n[:1].isupper() and isinstance(getattr(nn, n), type)}


def _callee(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return ""


def _int_literals(expr):
    """Non-negative int literals directly in an argument (or in a tuple/list argument)."""
    if isinstance(expr, ast.Constant) and type(expr.value) is int:
        yield expr
    elif isinstance(expr, (ast.Tuple, ast.List)):
        for e in expr.elts:
            yield from _int_literals(e)


def mutation_sites(code: str, layers) -> list:
    tree = ast.parse(code)
    sites = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _callee(node)
        if name in layers or name in _TENSOR_SIZE_METHODS:
            for a in list(node.args) + [k.value for k in node.keywords]:
                for lit in _int_literals(a):
                    if lit.lineno == lit.end_lineno:
                        sites.append((lit.lineno, lit.col_offset, lit.end_col_offset, lit.value, name))
    return sorted(set(sites))


def mutants(code: str, layers, limit: int, seed: str) -> list:
    cands = []
    for (line, c0, c1, v, callee) in mutation_sites(code, layers):
        for nv in sorted({v + 1, v - 1, 2 * v} - {v}):
            if nv < 0:
                continue
            cands.append((line, c0, c1, v, nv, callee))
    rnd = random.Random(seed)
    picked = sorted(rnd.sample(cands, min(limit, len(cands))))
    lines = code.split("\n")
    out = []
    for (line, c0, c1, v, nv, callee) in picked:
        ls = list(lines)
        s = ls[line - 1]
        ls[line - 1] = s[:c0] + str(nv) + s[c1:]
        out.append({"line": line, "col": c0, "old": v, "new": nv, "callee": callee, "code": "\n".join(ls)})
    return out


# ------------------------------------------------------------------------------------------------
# torch: the oracle
# ------------------------------------------------------------------------------------------------

_RUNNER = r"""
# A worker: imports torch once, then runs each job (one JSON line on stdin) in a forked child,
# so a mutant costs its forward pass, not a torch import. Answers one JSON line per job.
import importlib, json, os, sys, traceback, types, signal
import torch

STUBS = ("torchvision", "imageio", "google", "PIL", "tensorboardX", "IPython", "cv2")  # imported by the repositories' packages, not by the model code


class _Stub(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Stub(self.__name__ + "." + name)

    def __call__(self, *a, **k):
        # module-level calls of generated code (protobuf's `_symbol_database.Default()` in a
        # caffe_pb2 the package imports) get another stub; a model that really used one would
        # fail on the clean run and be reported broken
        return _Stub(self.__name__ + "()")

    def __getitem__(self, key):
        return _Stub(self.__name__ + "[]")

    def __setitem__(self, key, value):
        pass


class _StubFinder:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in STUBS:
            import importlib.machinery as m
            return m.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        mod = _Stub(spec.name)
        mod.__path__ = []
        return mod

    def exec_module(self, mod):
        pass


def child(spec):
    for s in STUBS:
        try:
            importlib.import_module(s)
        except Exception:
            sys.meta_path.insert(0, _StubFinder())
            break
    sys.path.insert(0, spec["root"])
    os.chdir(spec["root"])
    res = {"crash": False}
    phase = "import"
    # A failure inside torch's own forward of a layer the file builds (an nn.Sequential's Linear:
    # no frame of the file in the traceback) is on the line that built that layer: each module
    # notes the innermost line of the file that constructed it, and the modules whose forward is
    # running are kept on a stack (the innermost one left on it when the exception escapes failed).
    target_file = os.path.realpath(spec["file"])
    running: list = []
    torch_init = torch.nn.Module.__init__

    def noting_init(self, *a, **k):
        torch_init(self, *a, **k)
        if "_recall_line" not in self.__dict__:
            for fr in reversed(traceback.extract_stack()[:-1]):
                if os.path.realpath(fr.filename) == target_file:
                    object.__setattr__(self, "_recall_line", fr.lineno)
                    break

    torch.nn.Module.__init__ = noting_init
    def entered(m, a):
        running.append(m)  # (a hook returning a value would replace the input)

    def left(m, a, o):
        if running:
            running.pop()  # (... or the output)

    torch.nn.modules.module.register_module_forward_pre_hook(entered)
    torch.nn.modules.module.register_module_forward_hook(left)
    try:
        torch.manual_seed(0)
        if spec.get("main"):  # the file run as a script: its own self-test under __main__
            import runpy
            phase = "main"
            with torch.no_grad():
                runpy.run_module(spec["module"], run_name="__main__", alter_sys=True)
            return res
        mod = importlib.import_module(spec["module"])
        phase = "construct"
        import argparse
        model = eval(spec["construct"], {"argparse": argparse, **vars(mod)})  # Net(argparse.Namespace(...))
        res["cls"] = type(model).__name__
        model.eval()
        phase = "forward"
        ins = []
        for s in spec["inputs"]:
            if s.get("high"):
                ins.append(torch.randint(0, s["high"], tuple(s["shape"])))
            else:
                ins.append(torch.randn(*s["shape"]))
        with torch.no_grad():
            out = model(*ins)

        def shp(o):
            if hasattr(o, "shape"):
                return list(o.shape)
            if isinstance(o, (list, tuple)):
                return [shp(x) for x in o]
            return None
        res["out"] = shp(out)
    except BaseException as e:
        res["crash"] = True
        res["phase"] = phase
        res["exc"] = (type(e).__name__ + ": " + str(e))[:300]
        target = os.path.realpath(spec["file"])
        line = None
        for fr in traceback.extract_tb(e.__traceback__):
            if os.path.realpath(fr.filename) == target:
                line = fr.lineno
        if line is None and phase == "forward" and running:
            line = running[-1].__dict__.get("_recall_line")
            res["layer_line"] = True  # the line that built the failing layer
        res["line"] = line
    return res


torch.set_num_threads(1)
for raw in sys.stdin:
    spec = json.loads(raw)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.dup2(2, 1)  # what the model code prints must not reach the answer line
        sys.stdout = sys.stderr
        signal.alarm(spec["timeout"])
        try:
            res = child(spec)
        except BaseException as e:
            res = {"crash": True, "phase": "process", "exc": repr(e)[:300], "line": None}
        os.write(w, json.dumps(res).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if data:
        out = data.decode()
    elif os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM:
        out = json.dumps({"crash": False, "timeout": True})
    else:
        out = json.dumps({"crash": True, "phase": "process", "exc": "child died: %s" % status, "line": None})
    sys.stdout.write(out + "\n")
    sys.stdout.flush()
"""


def _inputs(entry):
    ins = entry["input"] if isinstance(entry["input"], list) else [entry["input"]]
    out = []
    for s in ins:
        if isinstance(s, str):
            s = {"shape": [int(x) for x in s.split(",")]}
        out.append(s)
    return out


class TorchWorker:
    """One long-lived child process (torch imported once) that forks per job."""

    def __init__(self):
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
        self.p = subprocess.Popen([sys.executable, "-c", _RUNNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, env=env)

    def run(self, root: Path, entry, file: Path, timeout: int, main: bool = False) -> dict:
        spec = {"root": str(root), "module": entry["module"], "construct": entry["construct"],
                "inputs": _inputs(entry), "file": str(file), "timeout": timeout, "main": main}
        self.p.stdin.write(json.dumps(spec) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("torch worker died")
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


# ------------------------------------------------------------------------------------------------
# shapelint
# ------------------------------------------------------------------------------------------------


def shapelint_check(paths, extra=()) -> list:
    from shapelint.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["check", "--format", "json", *extra, *map(str, paths)])
        except SystemExit:
            pass
        except Exception as e:  # a crash of the CLI itself is a result too
            return [{"path": str(paths[0]), "line": 0, "code": "CRASH", "message": repr(e)}]
    try:
        return json.loads(out.getvalue() or "[]")
    except json.JSONDecodeError:
        return [{"path": str(paths[0]), "line": 0, "code": "BADJSON", "message": out.getvalue()[:200]}]


def _construct_names(construct: str):
    return sorted({n.id for n in ast.walk(ast.parse(construct, mode="eval"))
                   if isinstance(n, ast.Name) and not hasattr(builtins, n.id) and n.id != "argparse"})


def driver_text(entry) -> str:
    names = _construct_names(entry["construct"])
    ins = _inputs(entry)
    args = []
    for s in ins:
        dims = ", ".join(map(str, s["shape"]))
        args.append(f"torch.randint(0, {s['high']}, ({dims},))" if s.get("high") else f"torch.randn({dims})")
    return (f"import argparse\n\nimport torch\nfrom {entry['module']} import {', '.join(names)}\n\n"
            f"model = {entry['construct']}\nmodel({', '.join(args)})\n")


def lint_three_ways(root: Path, entry, file: Path, cls: str) -> dict:
    shape_args = []
    for s in _inputs(entry):
        shape_args += ["--input-shape", f"{cls}=" + ",".join(map(str, s["shape"]))]
    drv = file.parent / "_driver.py"
    # plain and shape first, without the driver on disk: the model file's analysis reads the
    # project's other files (lint/constructions.py) and would otherwise find the driver's input
    got = {"plain": shapelint_check([file]), "shape": shapelint_check([file], shape_args)}
    drv.write_text(driver_text(entry))
    try:
        got["driver"] = shapelint_check([drv], ["--no-cache"])
    finally:
        drv.unlink()
    return got


def _same(a, b) -> bool:
    return os.path.realpath(str(a)) == os.path.realpath(str(b))


def classify(findings, file: Path, line) -> dict:
    """hit: a finding on the failing line of the model file (directly, or via the driver's
    ``(in NAME:LINE)``, one of the frames it lists: ``(in model.py:53, spectral_norm.py:68)``);
    other: the rest."""
    hit, other = [], []
    for f in findings:
        on = False
        if line is not None:
            if _same(f.get("path", ""), file) and f.get("line") == line:
                on = True
            elif re.search(rf"\(in (?:[^)]*[ /])?{re.escape(file.name)}:{line}[,)]", f.get("message", "")):
                on = True
        (hit if on else other).append(f)
    return {"hit": bool(hit), "codes": sorted({f["code"] for f in hit}),
            "other": [f"{Path(f.get('path', '')).name}:{f.get('line')} {f.get('code')} {f.get('message', '')[:160]}"
                      for f in other]}


def diagnose(file: Path, cls: str, line) -> dict:
    """Where shapelint's own analysis (no input shape) stopped for this file; best effort."""
    try:
        from shapelint.engine import analyze_source
        from libcst.metadata import MetadataWrapper, PositionProvider
    except Exception:
        return {}
    try:
        an = analyze_source(file.read_text(), str(file), strict=False)
    except Exception as e:
        return {"error": f"{type(e).__name__}: {e}"[:200]}
    runs = []
    reached = False
    try:
        pos = MetadataWrapper(an.source.tree, unsafe_skip_copy=True).resolve(PositionProvider)
    except Exception:
        pos = {}
    for r in an.runs:
        name = r.cls.name if getattr(r, "cls", None) else None
        out = getattr(r, "output", None)
        known = out is not None and getattr(out, "shape", None) is not None
        runs.append({"cls": name, "ctor": " ".join((r.ctor_text or "").split())[:80],
                     "input": getattr(r, "input_origin", ""), "error": (r.error or "")[:120],
                     "output_known": known})
        for c in getattr(r, "calls", []) or []:
            p = pos.get(getattr(c, "node", None)) if pos else None
            if p is not None and p.start.line <= (line or -1) <= p.end.line:
                reached = True
    return {"runs": runs, "reached": reached,
            "target_built": any(x["cls"] == cls for x in runs)}


# ------------------------------------------------------------------------------------------------
# the run
# ------------------------------------------------------------------------------------------------


def _key(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else json.dumps(p, sort_keys=True).encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def _stage(src: Path, entry, code: str, tag: str):
    """A private copy of the repository's export with the model file replaced by ``code``."""
    repo_dir = src / entry["repo"].replace("/", "+")
    dst = WORK / tag
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(repo_dir, dst)
    f = dst / entry["path"]
    f.write_text(code)
    return dst / entry.get("root", ""), f, dst


def run(args) -> int:
    t0 = time.time()
    src = Path(args.src)
    manifest = json.loads(Path(args.manifest).read_text())
    entries = manifest["models"]
    if args.only:
        entries = [e for e in entries if args.only in e["repo"] + "/" + e["path"]]
    cache_path = Path(args.cache)
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    layers = _nn_layer_names()
    WORK.mkdir(parents=True, exist_ok=True)

    # 1. torch on every clean file and every mutant (cached), two at a time
    jobs = []  # (entry, mutant or None, key)
    per_entry = []
    for e in entries:
        code = (src / e["repo"].replace("/", "+") / e["path"]).read_text()
        ms = mutants(code, layers, args.per_file, seed=e["repo"] + "/" + e["path"] + e["construct"])
        per_entry.append((e, code, ms))
        base = [e["module"], e["construct"], _inputs(e), e.get("root", "")]
        jobs.append((e, {"code": code}, _key("clean", code, *base)))
        for m in ms:
            jobs.append((e, m, _key(m["code"], *base)))

    import queue
    import threading

    workers = queue.Queue()
    started = []
    lock = threading.Lock()

    def torch_job(job):
        e, m, key = job
        old = cache.get(key)
        if old is not None and not (old.get("crash") and old.get("line") is None and old.get("phase") == "forward"):
            return  # (a forward failure without a line is from before layer lines were noted: run again)
        try:
            w = workers.get_nowait()
        except queue.Empty:
            w = TorchWorker()
            with lock:
                started.append(w)
        root, f, dst = _stage(src, e, m["code"], "t_" + key)
        try:
            cache[key] = w.run(root, e, f, args.timeout)
        finally:
            shutil.rmtree(dst, ignore_errors=True)
            workers.put(w)

    todo = [j for j in jobs if j[2] not in cache or
            cache[j[2]].get("crash") and cache[j[2]].get("line") is None and cache[j[2]].get("phase") == "forward"]
    print(f"torch: {len(todo)} of {len(jobs)} runs not cached", file=sys.stderr)
    done = 0
    with ThreadPoolExecutor(args.jobs) as ex:
        for _ in ex.map(torch_job, todo):
            done += 1
            if done % 20 == 0:
                cache_path.write_text(json.dumps(cache))
                print(f"  torch {done}/{len(todo)} ({time.time() - t0:.0f}s)", file=sys.stderr)
    for w in started:
        w.close()
    cache_path.write_text(json.dumps(cache))
    t_torch = time.time() - t0

    # 2. shapelint on clean files and crashing mutants
    results = []
    for e, code, ms in per_entry:
        base = [e["module"], e["construct"], _inputs(e), e.get("root", "")]
        clean = cache[_key("clean", code, *base)]
        rec = {"repo": e["repo"], "path": e["path"], "construct": e["construct"], "input": e["input"],
               "clean_torch": clean, "mutants": []}
        results.append(rec)
        if clean.get("crash") or clean.get("timeout"):
            rec["broken"] = True
            print(f"BROKEN clean: {e['repo']}/{e['path']}: {clean}", file=sys.stderr)
            continue
        cls = clean["cls"]
        callee = re.match(r"([A-Za-z_]\w*)\(", e["construct"])
        if not re.search(rf"^\s*class {re.escape(cls)}\b", code, re.M) and callee and \
                re.search(rf"^def {re.escape(callee.group(1))}\(", code, re.M):
            # a function of the file returning a torch container (ConvMixer's nn.Sequential): the
            # input shape is declared for the function, as a user names it
            cls = callee.group(1)
        root, f, dst = _stage(src, e, code, "clean")
        lint = lint_three_ways(root, e, f, cls)
        rec["fp"] = {w: classify(v, f, None)["other"] for w, v in lint.items()}
        if any(rec["fp"].values()):
            # a finding on the published file: a false positive, unless the file's own self-test
            # (run as __main__) crashes in torch on that very line, a real bug torch confirms
            w = TorchWorker()
            try:
                main = w.run(root, e, f, args.timeout, main=True)
            finally:
                w.close()
            rec["clean_main"] = main
            if main.get("crash") and main.get("line") is not None:
                real = {w_: [x for x in lst if x.startswith(f"{f.name}:{main['line']} ")] for w_, lst in rec["fp"].items()}
                rec["real"] = {w_: lst for w_, lst in real.items() if lst}
                rec["fp"] = {w_: [x for x in lst if x not in real[w_]] for w_, lst in rec["fp"].items()}
        shutil.rmtree(dst, ignore_errors=True)
        for m in ms:
            v = cache[_key(m["code"], *base)]
            mr = {k: m[k] for k in ("line", "col", "old", "new", "callee")}
            mr["torch"] = v
            rec["mutants"].append(mr)
            if not v.get("crash"):
                continue
            root, f, dst = _stage(src, e, m["code"], "m")
            lint = lint_three_ways(root, e, f, cls)
            for w, fs in lint.items():
                mr[w] = classify(fs, f, v.get("line"))
            if not (mr["shape"]["hit"] or mr["driver"]["hit"]) or not mr["plain"]["hit"]:
                mr["diag"] = diagnose(f, cls, v.get("line"))
            shutil.rmtree(dst, ignore_errors=True)
        print(f"{e['repo']}/{e['path']}: {sum(1 for m in rec['mutants'] if m['torch'].get('crash'))} crash, "
              f"fp={sum(len(x) for x in rec['fp'].values())} ({time.time() - t0:.0f}s)", file=sys.stderr)

    report = summarize(results)
    report["blockers"] = {k: {"count": len(v), "examples": v} for k, v in blockers(results).items()}
    report["seconds"] = {"total": round(time.time() - t0, 1), "torch": round(t_torch, 1)}
    print(render(report))
    if args.json:
        Path(args.json).write_text(json.dumps({"report": report, "results": results}, indent=1))
    return 0


def summarize(results) -> dict:
    by_repo = {}
    tot = {"files": 0, "broken": 0, "mutants": 0, "crash": 0, "crash_forward": 0, "plain": 0, "shape": 0,
           "driver": 0, "with_input": 0, "plain_fwd": 0, "with_input_fwd": 0, "fp": 0, "other": 0}
    fps, real = [], []
    for r in results:
        for w, lst in r.get("real", {}).items():
            for x in lst:
                real.append(f"{r['repo']}/{r['path']} [{w}] {x} (torch: {r['clean_main'].get('exc', '')[:120]})")
        row = by_repo.setdefault(r["repo"], {k: 0 for k in tot})
        for d in (row, tot):
            d["files"] += 1
            d["broken"] += bool(r.get("broken"))
        if r.get("broken"):
            continue
        for w, lst in r["fp"].items():
            for x in lst:
                fps.append(f"{r['repo']}/{r['path']} [{w}] {x}")
        nfp = len({x for lst in r["fp"].values() for x in lst})
        for m in r["mutants"]:
            crash = m["torch"].get("crash")
            fwd = crash and m["torch"].get("phase") == "forward"
            wi = crash and (m["shape"]["hit"] or m["driver"]["hit"])
            for d in (row, tot):
                d["mutants"] += 1
                if not crash:
                    continue
                d["crash"] += 1
                d["crash_forward"] += bool(fwd)
                for w in ("plain", "shape", "driver"):
                    d[w] += m[w]["hit"]
                d["with_input"] += bool(wi)
                d["plain_fwd"] += bool(fwd and m["plain"]["hit"])
                d["with_input_fwd"] += bool(fwd and wi)
                d["other"] += bool(m["plain"]["other"] or m["shape"]["other"] or m["driver"]["other"])
        for d in (row, tot):
            d["fp"] += nfp
    return {"by_repo": by_repo, "total": tot, "false_positives": fps, "real_bugs_in_published_files": real}


def blocker(m) -> str:
    """A first, mechanical reason for a miss (with an input shape); RECALL.md refines it by hand."""
    t = m["torch"]
    if t.get("phase") in ("import", "construct"):
        return f"crash while building the model ({t['phase']}: {t.get('exc', '').split(':')[0]}), no construction-error rule"
    if t.get("line") is None:
        return "torch fails outside the model file"
    d = m.get("diag") or {}
    if not d:
        return "no diagnosis"
    if not d.get("target_built"):
        return "model class not built by shapelint from the file alone"
    errs = {r["error"] for r in d["runs"] if r["error"]}
    if errs:
        return "run abandoned: " + sorted(errs)[0][:70]
    if not d.get("reached"):
        return "class built, failing line never reached (analysis stopped before it)"
    return "failing line reached, no finding (value unknown there or op not checked)"


def blockers(results) -> dict:
    out = {}
    for r in results:
        for m in r.get("mutants", []):
            if not m["torch"].get("crash") or m["shape"]["hit"] or m["driver"]["hit"]:
                continue
            b = blocker(m)
            ex = (f"{r['repo']}/{r['path']}:{m['torch'].get('line')} ({m['callee']} literal {m['old']}->{m['new']} "
                  f"at line {m['line']}; {m['torch'].get('exc', '')[:90]})")
            out.setdefault(b, []).append(ex)
    return dict(sorted(out.items(), key=lambda kv: -len(kv[1])))


def _pct(a, b):
    return f"{a}/{b} ({100 * a / b:.0f}%)" if b else "-"


def render(rep) -> str:
    lines = ["| repo | files | mutants | crash (forward) | hit, input shape (shape or driver) | hit, --input-shape | "
             "hit, driver | hit, no input | findings elsewhere | false positives |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, d in list(rep["by_repo"].items()) + [("**total**", rep["total"])]:
        lines.append(f"| {name} | {d['files']}{' (' + str(d['broken']) + ' broken)' if d['broken'] else ''} | "
                     f"{d['mutants']} | {d['crash']} ({d['crash_forward']}) | {_pct(d['with_input'], d['crash'])} | "
                     f"{_pct(d['shape'], d['crash'])} | {_pct(d['driver'], d['crash'])} | {_pct(d['plain'], d['crash'])} | "
                     f"{d['other']} | {d['fp']} |")
    t = rep["total"]
    lines.append("")
    lines.append(f"Forward-phase crashes only: with input {_pct(t['with_input_fwd'], t['crash_forward'])}, "
                 f"no input {_pct(t['plain_fwd'], t['crash_forward'])}.")
    if rep.get("blockers"):
        lines.append("")
        lines.append("Misses with an input shape, by first blocker:")
        for k, v in rep["blockers"].items():
            lines.append(f"* {v['count']}: {k} — e.g. {v['examples'][0]}")
    if rep["false_positives"]:
        lines.append("")
        lines.append("False positives:")
        lines += [f"* {x}" for x in rep["false_positives"]]
    if rep.get("real_bugs_in_published_files"):
        lines.append("")
        lines.append("Findings on the published files that torch confirms (the file's own __main__ crashes there):")
        lines += [f"* {x}" for x in rep["real_bugs_in_published_files"]]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["export"]:
        ap = argparse.ArgumentParser(prog="recall.py export")
        ap.add_argument("--mirror", default="/work/.mirror")
        ap.add_argument("--src", default="/work/thirdparty")
        ap.add_argument("--manifest", default=str(HERE / "recall_manifest.json"))
        return export(ap.parse_args(argv[1:]))
    ap = argparse.ArgumentParser(prog="recall.py")
    ap.add_argument("--src", default="/work/thirdparty")
    ap.add_argument("--manifest", default=str(HERE / "recall_manifest.json"))
    ap.add_argument("--json")
    ap.add_argument("--cache", default=str(DEFAULT_CACHE), help="torch verdicts (keep outside the repository)")
    ap.add_argument("--per-file", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=180)
    ap.add_argument("--only", help="substring of repo/path: run those entries only")
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
