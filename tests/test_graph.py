"""The graph model of `shapelint summary` (lint/commands/summary/graph.py, docs/graph.md): JSON's
``graph`` and the pictures (mermaid, dot, svg, html) are one model; its shapes and parameter counts
are checked against torch's forward hooks, the DOT is rendered by the real Graphviz, the Mermaid
is checked structurally against the JSON."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES

HAS_DOT = shutil.which("dot") is not None
MNIST = f"{FIXTURES / 'mnist_net.py'}::Net"
BLOCK = f"{FIXTURES / 'resnet_blocks.py'}::BasicBlock(16, 16)"


def summary(*args, env=None):
    return subprocess.run([sys.executable, "-m", "shapelint", "summary", *args], capture_output=True, text=True,
                          env=env)


def graph_json(*args):
    r = summary(*args, "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)["graph"]


def parse_mermaid(text):
    """Nodes (id -> label), subgraphs (id -> label, parent), edges (src, dst, label, dashed), classes."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    nodes, subs, edges, classes = {}, {}, [], {}
    stack = [None]
    for ln in lines[1:]:
        s = ln.strip()
        if m := re.fullmatch(r'subgraph (\w+)\["(.*)"\]', s):
            subs[m.group(1)] = (m.group(2), stack[-1])
            stack.append(m.group(1))
        elif s == "end":
            stack.pop()
        elif m := re.fullmatch(r'(\w+) (-->|-\.->)\|"(.*?)"\| (\w+)', s):
            edges.append((m.group(1), m.group(4), m.group(3), m.group(2) == "-.->"))
        elif m := re.fullmatch(r'(\w+)(?:\(\[|\[)"(.*)"(?:\]\)|\])', s):
            nodes[m.group(1)] = (m.group(2), stack[-1])
        elif m := re.fullmatch(r"class ([\w,]+) (\w+)", s):
            for n in m.group(1).split(","):
                classes[n] = m.group(2)
        elif s.startswith("classDef "):
            continue
        else:
            raise AssertionError(f"unparsed mermaid line: {ln!r}")
    assert stack == [None], "unbalanced subgraph/end"
    return nodes, subs, edges, classes


@pytest.mark.parametrize("target,inputs", [(MNIST, []), (BLOCK, ["--input-shape", "2,16,32,32"]),
                                           (f"{FIXTURES / 'mnist_net_56.py'}::Net", [])])
def test_mermaid_is_the_json_graph(target, inputs):
    g = graph_json(target, *inputs)
    r = summary(target, *inputs, "--format", "mermaid")
    nodes, subs, edges, classes = parse_mermaid(r.stdout)
    assert set(nodes) == {n["id"] for n in g["nodes"]}
    assert set(subs) == {c["id"] for c in g["clusters"]}
    for n in g["nodes"]:
        label, parent = nodes[n["id"]]
        assert parent == n["cluster"]
        assert label.split("<br/>")[0].startswith(n["label"])
        if n["params"] is not None:
            assert f"{n['params']:,} params" in label
        assert (classes.get(n["id"]) == "finding") == (n["finding"] is not None)
    for c in g["clusters"]:
        assert subs[c["id"]][1] == c["parent"]
    assert edges == [(e["source"], e["target"], e["label"], not e["traced"]) for e in g["edges"]]


def _torch_graph_facts(path, cls_expr, shape):
    """Per module (qualified name): the input shapes of each call and the parameter count, from torch."""
    torch = pytest.importorskip("torch")
    import importlib.util

    spec = importlib.util.spec_from_file_location("m_graph", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = eval(cls_expr, vars(mod)).eval()
    seen = {}
    for name, m in model.named_modules():
        if name and not list(m.children()):
            m.register_forward_hook(lambda m, i, o, name=name: seen.setdefault(name, []).append(
                [list(t.shape) for t in i if isinstance(t, torch.Tensor)]))
    with torch.no_grad():
        out = model(torch.randn(*shape))
    params = {n: sum(p.numel() for p in m.parameters(recurse=False)) for n, m in model.named_modules()}
    return seen, params, list(out.shape)


@pytest.mark.parametrize("path,cls,shape,args", [
    (FIXTURES / "mnist_net.py", "Net()", (2, 1, 28, 28), []),
    (FIXTURES / "resnet_blocks.py", "BasicBlock(16, 16)", (2, 16, 32, 32), ["--input-shape", "2,16,32,32"]),
    (FIXTURES / "resnet_blocks.py", "ResNet18()", (2, 3, 32, 32), ["--input-shape", "2,3,32,32"]),
])
def test_shapes_and_params_agree_with_torch(path, cls, shape, args):
    seen, params, out = _torch_graph_facts(path, cls, shape)
    g = graph_json(f"{path}::{cls[:-2] if cls.endswith('()') else cls}", *args)
    by_id = {n["id"]: n for n in g["nodes"]}
    calls = {}
    for n in g["nodes"]:
        if n["kind"] == "module":
            calls.setdefault(n["label"], []).append(n["id"])
            assert n["params"] == params[n["label"]], n
    assert {k: len(v) for k, v in calls.items()} == {k: len(v) for k, v in seen.items()}
    for name, ids in calls.items():
        for nid, torch_inputs in zip(ids, seen[name]):
            incoming = [e["shape"] for e in g["edges"] if e["target"] == nid]
            assert incoming and all(s == torch_inputs[0] for s in incoming), (name, incoming, torch_inputs)
    (o,) = [n for n in g["nodes"] if n["kind"] == "output"]
    assert [e["shape"] for e in g["edges"] if e["target"] == o["id"]][0] == out
    for c in g["clusters"]:
        assert c["params"] == sum(p for n, p in params.items() if n == c["label"] or n.startswith(c["label"] + ".")
                                  or c["label"] == "")
    assert all(by_id[e["source"]] and by_id[e["target"]] for e in g["edges"])


def test_residual_join_has_both_edges():
    g = graph_json(BLOCK, "--input-shape", "2,16,32,32")
    into_last_relu = {e["source"] for e in g["edges"] if e["target"] == "n_relu_2"}
    assert into_last_relu == {"n_bn2", "input_0"}


def test_symbolic_shapes_on_edges_and_findings_in_red():
    g = graph_json(MNIST, "--input-shape", "N,1,H,W")
    assert any("H" in str(d) for e in g["edges"] for d in (e["shape"] or []))
    g = graph_json(f"{FIXTURES / 'mnist_linear_mismatch.py'}::Net")
    assert [n["id"] for n in g["nodes"] if n["finding"]] == ["n_fc1"]
    r = summary(f"{FIXTURES / 'mnist_linear_mismatch.py'}::Net", "--format", "dot")
    assert re.search(r"n_fc1 \[label=.*color=red", r.stdout)


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed (CI installs it with apt-get)")
@pytest.mark.parametrize("target,inputs", [(MNIST, []), (BLOCK, ["--input-shape", "2,16,32,32"]),
                                           (f"{FIXTURES / 'resnet_block_bug.py'}::ResNet(BasicBlock, [2, 2, 2])", [])])
def test_dot_renders_with_graphviz(target, inputs):
    g = graph_json(target, *inputs)
    src = summary(target, *inputs, "--format", "dot").stdout
    r = subprocess.run(["dot", "-Tjson"], input=src, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    drawn = json.loads(r.stdout)
    names = {o["name"] for o in drawn.get("objects", []) if "nodes" not in o}
    assert {n["id"] for n in g["nodes"]} <= names
    assert {f"cluster_{c['id']}" for c in g["clusters"]} <= {o["name"] for o in drawn["objects"]}
    assert len(drawn.get("edges", [])) == len(g["edges"])
    svg = summary(target, *inputs, "--format", "svg")
    assert svg.returncode in (0, 1) and svg.stdout.lstrip().startswith("<?xml") and "</svg>" in svg.stdout
    page = summary(target, *inputs, "--format", "html").stdout
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page


def test_svg_without_graphviz_says_so(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no dot on this PATH
    r = subprocess.run([sys.executable, "-m", "shapelint", "summary", MNIST, "--format", "svg"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and r.stdout == ""
    assert "Graphviz" in r.stderr and "--format dot or mermaid" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_docs_pictures_are_current(tmp_path):
    """docs/mnist_net.svg and docs/resnet_basic_block.svg are what the command draws today."""
    docs = FIXTURES.parent / "docs"
    for name, target, inputs in [("mnist_net.svg", "fixtures/mnist_net.py::Net", []),
                                 ("resnet_basic_block.svg", "fixtures/resnet_blocks.py::BasicBlock(16, 16)",
                                  ["--input-shape", "2,16,32,32"])]:
        r = subprocess.run([sys.executable, "-m", "shapelint", "summary", target, *inputs, "--format", "dot"],
                           capture_output=True, text=True, cwd=FIXTURES.parent)
        labels = set(re.findall(r'label="([^"]*)"', r.stdout))
        svg = (docs / name).read_text()
        for lab in labels:
            for part in lab.split("\\n"):
                assert part.replace("&", "&amp;") in svg, (name, part)
