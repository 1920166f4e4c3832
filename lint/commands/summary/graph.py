"""The graph of one analysed run: what ``shapelint summary --format json`` (key ``graph``) and the
pictures (``--format mermaid``, ``dot``, ``svg``, ``html``) are made from. docs/graph.md documents it.

* **nodes**: the model's inputs (``kind: "input"``), one node per call of a leaf module
  (``"module"``: its qualified name, type and own parameter count; a module called twice, a shared
  ``ReLU``, gives two nodes ``n_relu`` and ``n_relu_2``), the model's outputs
  (``"output"``), and, for a finding on a functional operation (``out + x``), that operation
  (``"op"``). ``finding`` names the rule code when a finding lies there (drawn in red).
* **clusters**: every module with sub-modules that the forward reaches (the root included),
  ``parent`` giving the nesting; a node's ``cluster`` is its innermost container.
* **edges**: ``source`` -> ``target`` with the tensor's ``shape`` (ints, or the symbolic
  expression as text: ``"(H-4)//2"``). A module's input is traced to the module calls whose outputs
  it is made of: by identity, and through the functional operations between them (``F.relu``,
  ``out + identity``, ``torch.cat``), which the analysis records while the summary runs
  (``shapelint.core.facts.LINEAGE``): a residual join has two incoming edges. An edge the trace
  could not find is attached to the latest earlier module output of the same shape (``traced:
  false``, drawn dashed).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ...core import dims as D
from .accounting import Model, flat_tensors


@dataclass
class Node:
    id: str
    kind: str  # input | module | output | op
    label: str  # the qualified module name, "input 1", "output", or the operation's text
    type: Optional[str] = None  # the module's class (Conv2d)
    params: Optional[int] = None  # its own parameters (None: unknown)
    cluster: Optional[str] = None
    finding: Optional[str] = None  # a rule code when a finding lies on this node


@dataclass
class Cluster:
    id: str
    label: str  # qualified name ("" for the root)
    type: str
    params: Optional[int]  # every parameter under it
    parent: Optional[str]


@dataclass
class Edge:
    source: str
    target: str
    shape: Any  # [2, 20, 4, 4], ["N", 20, "(H-4)//2", ...], or None (unknown)
    traced: bool = True  # False: attached by shape, through functional operations

    @property
    def label(self) -> str:
        if self.shape is None:
            return "?"
        return "[" + ", ".join(str(d) for d in self.shape) + "]"


@dataclass
class Graph:
    model: str
    nodes: List[Node] = field(default_factory=list)
    clusters: List[Cluster] = field(default_factory=list)
    edges: List[Edge] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {"model": self.model, "nodes": [asdict(n) for n in self.nodes],
                "clusters": [asdict(c) for c in self.clusters],
                "edges": [dict(asdict(e), label=e.label) for e in self.edges]}


_OPAQUE = re.compile(r"\?\d+")


def _shape(t: Any) -> Any:
    if getattr(t, "shape", None) is None:
        return None
    return [d if isinstance(d, int) else _OPAQUE.sub("?", D.text(d)) for d in t.shape]  # a size nobody knows: ?


def _ident(name: str) -> str:
    return re.sub(r"\W", "_", name) or "root"


def build_graph(run: Any, model: Model, title: str, findings: Optional[List[Tuple[Any, str, str]]] = None,
                lineage: Optional[Dict[int, Any]] = None) -> Graph:
    """The graph of ``run``; ``findings``: (violation fact, rule code, text of the operation);
    ``lineage``: what ``shapelint.core.facts.LINEAGE`` recorded while the run was analysed."""
    g = Graph(title)
    tree = {id(m) for m in model.tree}
    leaves = {id(m) for m in model.tree if not any(id(c) in tree for c in m.children.values())}

    def cluster_of(m: Any) -> Optional[str]:
        p = model.parent_of.get(id(m))
        return None if p is None else ("c_" + _ident(p.name))

    calls = sorted(run.calls, key=lambda c: c.start)
    reached = set()
    for c in calls:
        if id(c.module) in tree:
            m: Any = c.module
            while m is not None:
                reached.add(id(m))
                m = model.parent_of.get(id(m))
    for m in model.tree:
        if id(m) in leaves or id(m) not in reached:
            continue
        sub = model.subtree(m)
        g.clusters.append(Cluster("c_" + _ident(m.name), m.name, m.type_name,
                                  None if sub is None else model.count(sub), cluster_of(m)))
    producer: Dict[int, str] = {}
    made: List[Tuple[str, Any]] = []  # (node id, shape) of module outputs so far, in order
    for i, t in enumerate(run.input_tensors):
        nid = f"input_{i}"
        g.nodes.append(Node(nid, "input", f"input {i + 1}" if len(run.input_tensors) > 1 else "input"))
        producer[id(t)] = nid
        made.append((nid, _shape(t)))

    book = lineage or {}

    def sources_of(t: Any, before: int) -> List[Tuple[str, bool]]:
        """Where tensor ``t`` came from: module outputs (or inputs) reached back through the
        recorded operations; failing that, the latest earlier output of the same shape."""
        found: List[str] = []
        stack: List[Any] = [t]
        seen: set = set()
        while stack and len(seen) < 10000:
            x = stack.pop()
            if id(x) in seen:
                continue
            seen.add(id(x))
            nid = producer.get(id(x))
            if nid is not None:
                if nid not in found:
                    found.append(nid)
                continue
            entry = book.get(id(x))
            if entry is not None:
                stack.extend(reversed(entry[1]))
        if found:
            return [(n, True) for n in found]
        s = _shape(t)
        for n, shp in reversed(made[:before]):
            if s is not None and shp == s:
                return [(n, False)]
        return [(made[before - 1][0], False)] if before else []

    containers = [c for c in calls if id(c.module) in tree and id(c.module) not in leaves]
    registered: set = set()

    def register_containers(upto: int) -> None:
        for c in containers:
            if id(c) in registered or c.end < 0 or c.end > upto:
                continue
            registered.add(id(c))
            inner = [x for x in calls if id(x.module) in leaves and c.start < x.start <= c.end and id(x) in done]
            if inner:
                for t in flat_tensors(c.output):
                    producer.setdefault(id(t), done[id(inner[-1])])

    done: Dict[int, str] = {}
    times: Dict[int, int] = {}
    broken: Optional[Tuple[int, str]] = None
    for c in calls:
        m = c.module
        if id(m) not in leaves:
            continue
        register_containers(c.start)
        # one node per call (a module called twice, like a shared ReLU, is drawn twice: no cycles)
        k = times[id(m)] = times.get(id(m), 0) + 1
        nid = "n_" + _ident(m.name) + ("" if k == 1 else f"_{k}")
        g.nodes.append(Node(nid, "module", m.name, m.type_name, model.count(model.own_params(m)), cluster_of(m)))
        n_made = len(made)
        ins = flat_tensors(list(c.inputs))
        if broken is None and (not ins or any(_shape(t) is None for t in ins)):
            broken = (n_made, nid)  # the first call fed something unknown: a finding stopped the shapes
        seen_src = set()
        for t in flat_tensors(list(c.inputs)):
            for src, traced in sources_of(t, n_made):
                if (src, id(t)) not in seen_src:
                    seen_src.add((src, id(t)))
                    g.edges.append(Edge(src, nid, _shape(t), traced))
        for t in flat_tensors(c.output):
            producer[id(t)] = nid
            made.append((nid, _shape(t)))
        done[id(c)] = nid
    register_containers(1 << 60)
    outs = flat_tensors(run.output)
    for i, t in enumerate(outs):
        nid = f"output_{i}"
        g.nodes.append(Node(nid, "output", f"output {i + 1}" if len(outs) > 1 else "output"))
        for src, traced in sources_of(t, len(made)):
            g.edges.append(Edge(src, nid, _shape(t), traced))
    by_module: Dict[str, Node] = {}
    for n in g.nodes:
        if n.kind == "module":
            by_module.setdefault(n.label, n)
    for k, (fact, code, text) in enumerate(findings or []):
        mod = getattr(fact, "module", None)
        node = by_module.get(str(getattr(mod, "name", ""))) if mod is not None else None
        if node is not None:
            node.finding = code
            continue
        # a finding on an operation between modules: drawn after the last module output before the
        # first call whose input it left unknown (else after the last output), and before that call
        nid = f"op_{k}"
        g.nodes.append(Node(nid, "op", text, finding=code))
        upto = broken[0] if broken is not None else len(made)
        if upto:
            g.edges.append(Edge(made[upto - 1][0], nid, made[upto - 1][1], False))
        if broken is not None:
            g.edges.append(Edge(nid, broken[1], None, False))
    return g


# ------------------------------------------------------------------------------------------------
# Pictures
# ------------------------------------------------------------------------------------------------


def _count(n: Optional[int]) -> str:
    return "? params" if n is None else f"{n:,} params"


def _node_text(n: Node) -> List[str]:
    if n.kind == "module":
        lines = [f"{n.label}: {n.type}" if n.label else str(n.type), _count(n.params)]
    else:
        lines = [n.label]
    if n.finding:
        lines.append(n.finding)
    return lines


def _cluster_text(c: Cluster) -> str:
    name = f"{c.label}: {c.type}" if c.label else c.type
    return f"{name} ({_count(c.params)})"


def _children(g: Graph) -> Tuple[Dict[Optional[str], List[Cluster]], Dict[Optional[str], List[Node]]]:
    sub: Dict[Optional[str], List[Cluster]] = {}
    for c in g.clusters:
        sub.setdefault(c.parent, []).append(c)
    nodes: Dict[Optional[str], List[Node]] = {}
    for n in g.nodes:
        nodes.setdefault(n.cluster, []).append(n)
    return sub, nodes


def mermaid(g: Graph) -> str:
    """A Mermaid flowchart (renders in GitHub issues and READMEs)."""

    def q(s: str) -> str:
        return '"' + s.replace('"', "#quot;") + '"'

    out = ["flowchart TD"]
    sub, nodes = _children(g)

    def emit(parent: Optional[str], indent: str) -> None:
        for n in nodes.get(parent, []):
            text = "<br/>".join(_node_text(n))
            shape = ("([", "])") if n.kind in ("input", "output") else ("[", "]")
            out.append(f"{indent}{n.id}{shape[0]}{q(text)}{shape[1]}")
        for c in sub.get(parent, []):
            out.append(f"{indent}subgraph {c.id}[{q(_cluster_text(c))}]")
            emit(c.id, indent + "  ")
            out.append(f"{indent}end")

    emit(None, "  ")
    for e in g.edges:
        arrow = "-->" if e.traced else "-.->"
        out.append(f"  {e.source} {arrow}|{q(e.label)}| {e.target}")
    bad = [n.id for n in g.nodes if n.finding]
    if bad:
        out.append("  classDef finding fill:#fdd,stroke:#c00,color:#900")
        out.append(f"  class {','.join(bad)} finding")
    return "\n".join(out) + "\n"


def dot(g: Graph) -> str:
    """Graphviz DOT source."""

    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    out = ["digraph model {", f"  label={q(g.model)}; labelloc=t; fontname=Helvetica;",
           "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f6fb\", color=\"#5b6b8c\", fontname=Helvetica, "
           "fontsize=11];",
           "  edge [fontname=Helvetica, fontsize=9, color=\"#5b6b8c\"];"]
    sub, nodes = _children(g)

    def emit(parent: Optional[str], indent: str) -> None:
        for n in nodes.get(parent, []):
            attrs = ["label=" + "\\n".join(q(x) for x in _node_text(n)).replace('"\\n"', "\\n")]
            if n.kind in ("input", "output"):
                attrs.append("shape=oval, fillcolor=\"#e8f1e8\"")
            if n.finding:
                attrs.append("color=red, fillcolor=\"#ffdddd\", fontcolor=\"#990000\", penwidth=2")
            out.append(f"{indent}{n.id} [{', '.join(attrs)}];")
        for c in sub.get(parent, []):
            out.append(f"{indent}subgraph cluster_{c.id} {{")
            out.append(f"{indent}  label={q(_cluster_text(c))}; style=\"rounded,dashed\"; color=\"#9aa5bd\"; "
                       f"fontsize=10;")
            emit(c.id, indent + "  ")
            out.append(f"{indent}}}")

    emit(None, "  ")
    for e in g.edges:
        style = "" if e.traced else ", style=dashed"
        out.append(f"  {e.source} -> {e.target} [label={q(e.label)}{style}];")
    out.append("}")
    return "\n".join(out) + "\n"


class NoGraphviz(Exception):
    """``dot`` is not installed."""


def render_svg(dot_source: str) -> str:
    """The SVG Graphviz's ``dot`` draws (NoGraphviz when it is not installed)."""
    import shutil
    import subprocess

    exe = shutil.which("dot")
    if exe is None:
        raise NoGraphviz("Graphviz's `dot` is not installed (apt-get install graphviz, brew install graphviz, "
                         "conda install graphviz); --format dot or mermaid need nothing")
    r = subprocess.run([exe, "-Tsvg"], input=dot_source, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise NoGraphviz(f"dot failed: {r.stderr.strip()[:300]}")
    return r.stdout


def html(g: Graph, svg: str) -> str:
    import html as h

    body = svg[svg.find("<svg"):] if "<svg" in svg else svg
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + h.escape(g.model) +
            "</title></head>\n<body style=\"font-family: sans-serif\">\n<h3>" + h.escape(g.model) +
            " (computed by shapelint, without running the model)</h3>\n" + body + "\n</body></html>\n")
