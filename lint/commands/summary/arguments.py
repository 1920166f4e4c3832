"""The arguments of `shapelint summary`, kept apart from the command so that building the
command line's parser imports nothing heavy (no libcst, no engine)."""
from __future__ import annotations

from typing import Any

# The registered table styles (renderer.RENDERERS); tests/test_summary.py checks the two agree.
STYLES = ("torchsummary", "torchinfo", "keras")
# --format: the tables, and the pictures of the graph model (graph.py)
FORMATS = ("text", "json", "markdown", "mermaid", "dot", "svg", "html")


def add_arguments(p: Any) -> None:
    p.add_argument("target", metavar="PATH::TARGET",
                   help="a model file and what to build: a class name (built with its defaults), a function "
                        "returning a model, or a call, e.g. 'models.py::ResNet(BasicBlock, [2, 2, 2, 2])'")
    p.add_argument("--input-shape", action="append", metavar="DIMS",
                   help="one model input: the whole tensor forward receives, batch included, in every style "
                        "(2,1,28,28 where torchsummary's input_size is (1, 28, 28)); a dim may be a symbol "
                        "(N,1,H,W); repeat for several inputs. As for `check` without the class: cond=2,4 names a forward "
                        "parameter, batch.x=2,3 a key of a dict parameter, a :long suffix the dtype (2,16:long). "
                        "Default: the file's own inputs, else symbolic")
    p.add_argument("--style", choices=STYLES, default=None,
                   help="whose table to print (default: keras for a Keras model, else torchsummary)")
    p.add_argument("--depth", type=int, default=3, metavar="N",
                   help="torchinfo style: deepest level of the tree shown (default 3, as torchinfo)")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text: the style's table (default); json: the true figures and the graph, stable keys "
                        "(see the module docs and docs/graph.md); markdown: the table for issues and READMEs; "
                        "mermaid, dot: a picture of the model (modules, shapes on the edges); svg, html: that "
                        "picture drawn by Graphviz's dot (needs Graphviz installed)")
