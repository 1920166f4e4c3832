"""Sequence layers against torch: MultiheadAttention in its forms, scaled_dot_product_attention, the
transformer layers (built and called as torch builds and calls them), RNN states and cells,
Embedding/EmbeddingBag.  Each case is a small model source: torch runs it, shapelint analyses it
with the same input shapes; a finding exactly when torch raises, and otherwise the same output
shapes and the same parameter count (``sum(p.numel())``)."""
from __future__ import annotations

import os
import textwrap
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import static_shapes, torch_shapes

torch = pytest.importorskip("torch")

# small by default (the CPU is shared); SHAPELINT_SEQ_EXAMPLES=300 for a longer search
EXAMPLES = int(os.environ.get("SHAPELINT_SEQ_EXAMPLES", "25"))
HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"


def _torch(code, inputs, dtypes):
    ns = {}
    exec(compile(code, "<case>", "exec"), ns)
    torch.manual_seed(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ns["Net"]()
    except Exception as e:  # noqa: BLE001 - torch's verdict is the oracle
        return None, None, e
    xs = [torch.randint(0, 3, s) if d == "long" else torch.randn(*s) for s, d in zip(inputs, dtypes)]
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = model.train()(*xs)  # training: the transformer layers' children run (no fast path)
    except Exception as e:  # noqa: BLE001
        return model, None, e
    return model, out, None


def torch_line(err):
    """The line of the case's source torch failed on (its deepest frame in the case)."""
    import traceback

    return [f.lineno for f in traceback.extract_tb(err.__traceback__) if f.filename == "<case>"][-1]


def check(body, inputs, dtypes=None, *, known=True):
    """Analyse ``body`` (a class Net) with ``inputs``; compare with torch. Returns the analysis."""
    from shapelint.engine import analyze_source

    code = HEADER + textwrap.dedent(body)
    dtypes = dtypes or ["float"] * len(inputs)
    model, out, err = _torch(code, inputs, dtypes)
    a = analyze_source(code, "case.py", {"Net": [tuple(s) for s in inputs]}, strict=True)
    if err is not None:
        assert a.findings, f"torch raised {type(err).__name__}: {err}\nbut shapelint found nothing in\n{code}"
        line = torch_line(err)
        assert line in {f.line for f in a.findings}, (line, a.findings, code)
        return a
    assert not a.findings, f"torch accepts, shapelint reports {a.findings}\n{code}"
    runs = [r for r in a.runs if r.concrete]
    assert runs, "no concrete run"
    static = static_shapes(runs[0].output)
    if known:
        assert static is not None, f"output unknown; torch gives {torch_shapes(out)}"
    if static is not None:
        assert static == torch_shapes(out), (static, torch_shapes(out))
    return a


def params_of(body):
    """(shapelint's total, torch's total) for Net()."""
    code = HEADER + textwrap.dedent(body)
    ns = {}
    exec(compile(code, "<case>", "exec"), ns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            want = sum(p.numel() for p in ns["Net"]().parameters())
        except Exception:  # noqa: BLE001 - a construction torch refuses: no count to compare
            return None, code
    return want, code


# ------------------------------------------------------------------ MultiheadAttention

MHA = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention({ctor})

    def forward(self, q, k, v):
        {masks}
        return self.attn(q, k, v{call})
"""


def mha(ctor, masks="", call=""):
    return MHA.format(ctor=ctor, masks=masks or "pass", call=call)


@pytest.mark.parametrize("ctor,inputs,call", [
    ("16, 4", [(5, 2, 16), (7, 2, 16), (7, 2, 16)], ""),
    ("16, 4, batch_first=True", [(2, 5, 16), (2, 7, 16), (2, 7, 16)], ""),
    ("16, 4, batch_first=True", [(2, 5, 16), (2, 7, 16), (2, 7, 16)], ", average_attn_weights=False"),
    ("16, 4", [(5, 2, 16), (7, 2, 16), (7, 2, 16)], ", need_weights=False"),
    ("16, 4", [(5, 16), (7, 16), (7, 16)], ""),  # unbatched
    ("16, 4", [(5, 16), (7, 16), (7, 16)], ", average_attn_weights=False"),
    ("16, 4, kdim=10, vdim=6", [(5, 2, 16), (7, 2, 10), (7, 2, 6)], ""),
    ("16, 4, add_bias_kv=True, add_zero_attn=True", [(5, 2, 16), (7, 2, 16), (7, 2, 16)], ""),
    # bugs
    ("16, 4", [(5, 2, 12), (7, 2, 16), (7, 2, 16)], ""),  # query last dim != embed_dim
    ("12, 5", [(5, 2, 12), (7, 2, 12), (7, 2, 12)], ""),  # embed_dim % num_heads
    ("16, 4, kdim=10, vdim=6", [(5, 2, 16), (7, 2, 16), (7, 2, 6)], ""),  # key != kdim
    ("16, 4", [(5, 2, 16), (7, 3, 16), (7, 3, 16)], ""),  # batch differs
    ("16, 4", [(5, 2, 16), (7, 2, 16), (6, 2, 16)], ""),  # key/value length differ
    ("16, 4", [(5, 2, 16), (7, 2, 16)], ""),  # a missing value: unknown, no finding
])
def test_mha_forms(ctor, inputs, call):
    body = mha(ctor, call=call)
    if len(inputs) == 2:
        body = body.replace("forward(self, q, k, v)", "forward(self, q, k)").replace("(q, k, v", "(q, k, k")
    check(body, inputs)


@pytest.mark.parametrize("masks,call", [
    ("am = torch.zeros(5, 7, dtype=torch.bool)", ", attn_mask=am"),
    ("am = torch.zeros(8, 5, 7, dtype=torch.bool)", ", attn_mask=am"),
    ("kpm = torch.zeros(2, 7, dtype=torch.bool)", ", key_padding_mask=kpm"),
    ("am = torch.zeros(7, 5, dtype=torch.bool)", ", attn_mask=am"),  # SHP006
    ("am = torch.zeros(2, 5, 7, dtype=torch.bool)", ", attn_mask=am"),  # 3D needs N*heads
    ("kpm = torch.zeros(2, 5, dtype=torch.bool)", ", key_padding_mask=kpm"),
])
def test_mha_masks(masks, call):
    a = check(mha("16, 4", masks, call), [(5, 2, 16), (7, 2, 16), (7, 2, 16)])
    if a.findings:
        assert {f.code for f in a.findings} == {"SHP006"}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(e=st.sampled_from([4, 6, 8, 12]), h=st.sampled_from([1, 2, 3, 4]), kdim=st.sampled_from([None, 5]),
       bf=st.booleans(), batched=st.booleans(), L=st.integers(1, 4), S=st.integers(1, 4), N=st.integers(1, 3),
       dq=st.sampled_from([0, 0, 2]), dk=st.sampled_from([0, 0, 1]), dn=st.sampled_from([0, 0, 1]),
       mask=st.sampled_from(["", "am2", "am2bad", "am3", "kpm", "kpmbad"]), avg=st.booleans())
def test_mha_property(e, h, kdim, bf, batched, L, S, N, dq, dk, dn, mask, avg):
    """No finding when torch accepts, a finding when it refuses, over random configurations."""
    kd = kdim or e

    def shp(seq, last, n=N):
        if not batched:
            return (seq, last)
        return (n, seq, last) if bf else (seq, n, last)
    inputs = [shp(L, e + dq), shp(S, kd + dk, N + dn), shp(S, kd if kdim else e, N + dn)]
    m = {"": ("", ""),
         "am2": (f"m = torch.zeros({L}, {S}, dtype=torch.bool)", ", attn_mask=m"),
         "am2bad": (f"m = torch.zeros({L + 1}, {S}, dtype=torch.bool)", ", attn_mask=m"),
         "am3": (f"m = torch.zeros({N * h if batched else h}, {L}, {S}, dtype=torch.bool)", ", attn_mask=m"),
         "kpm": (f"m = torch.zeros({f'{N}, ' if batched else ''}{S}, dtype=torch.bool)", ", key_padding_mask=m"),
         "kpmbad": (f"m = torch.zeros({f'{N}, ' if batched else ''}{S + 1}, dtype=torch.bool)",
                    ", key_padding_mask=m")}[mask]
    ctor = f"{e}, {h}, kdim={kdim}, vdim={kdim}, batch_first={bf}"
    check(mha(ctor, m[0], m[1] + f", average_attn_weights={avg}"), inputs)


def test_mha_finding_names_embed_dim():
    a = check(mha("512, 8"), [(5, 2, 256), (5, 2, 256), (5, 2, 256)])
    (f,) = a.findings
    assert f.code == "SHP002" and "embed_dim=512" in f.message and "256" in f.message


def test_mha_heads_not_divisible_is_shp007():
    a = check(mha("12, 5"), [(5, 2, 12)] * 3)
    assert [f.code for f in a.findings] == ["SHP007"]


# ------------------------------------------------------------------ scaled_dot_product_attention

SDPA = """
class Net(nn.Module):
    def forward(self, q, k, v):
        {mask}
        return F.scaled_dot_product_attention(q, k, v{call})
"""


@pytest.mark.parametrize("inputs,mask,call", [
    ([(2, 4, 5, 8), (2, 4, 7, 8), (2, 4, 7, 3)], "", ""),
    ([(2, 4, 5, 8), (1, 4, 7, 8), (2, 1, 7, 3)], "", ""),
    ([(5, 8), (7, 8), (7, 3)], "", ""),
    ([(2, 4, 5, 8), (2, 4, 7, 8), (2, 4, 7, 3)], "m = torch.zeros(5, 7, dtype=torch.bool)", ", attn_mask=m"),
    ([(2, 4, 5, 8), (2, 4, 7, 8), (2, 4, 7, 3)], "", ", is_causal=True"),
    # bugs
    ([(2, 4, 5, 8), (2, 4, 7, 6), (2, 4, 7, 3)], "", ""),
    ([(2, 4, 5, 8), (2, 4, 7, 8), (2, 4, 6, 3)], "", ""),
    ([(2, 4, 5, 8), (3, 4, 7, 8), (3, 4, 7, 3)], "", ""),
    ([(2, 4, 5, 8), (2, 4, 7, 8), (2, 4, 7, 3)], "m = torch.zeros(5, 6, dtype=torch.bool)", ", attn_mask=m"),
])
def test_sdpa(inputs, mask, call):
    check(SDPA.format(mask=mask or "pass", call=call), inputs)


# ------------------------------------------------------------------ transformer layers

ENC = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer({ctor})
        self.enc = nn.TransformerEncoder(layer, num_layers={n}{norm})
        self.head = nn.Linear({d}, 10)

    def forward(self, x):
        {masks}
        return self.head(self.enc(x{call}))
"""


@pytest.mark.parametrize("ctor,n,norm,d,inputs,masks,call", [
    ("d_model=32, nhead=4, dim_feedforward=64, batch_first=True", 2, "", 32, [(2, 16, 32)], "", ""),
    ("32, 4, 64", 2, "", 32, [(16, 2, 32)], "", ""),
    ("32, 4, 64, norm_first=True, activation='gelu'", 1, ", norm=nn.LayerNorm(32)", 32, [(16, 2, 32)], "", ""),
    ("32, 4, 64, activation=nn.GELU()", 2, "", 32, [(16, 2, 32)], "", ""),
    ("32, 4, 64, bias=False, batch_first=True", 3, "", 32, [(2, 16, 32)],
     "m = nn.Transformer.generate_square_subsequent_mask(16)", ", mask=m"),
    ("32, 4, 64", 2, "", 32, [(16, 32)], "", ""),  # unbatched
    # bugs
    ("d_model=512, nhead=8, batch_first=True", 1, "", 512, [(2, 16, 256)], "", ""),
    ("32, 4, 64, batch_first=True", 2, "", 32, [(2, 16, 32)],
     "kpm = torch.zeros(2, 15, dtype=torch.bool)", ", src_key_padding_mask=kpm"),
    ("30, 4, 64", 1, "", 30, [(16, 2, 30)], "", ""),
])
def test_transformer_encoder(ctor, n, norm, d, inputs, masks, call):
    body = ENC.format(ctor=ctor, n=n, norm=norm, d=d, masks=masks or "pass", call=call)
    check(body, inputs)
    want, code = params_of(body)
    if want is not None:
        assert _total(code) == want


DEC = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = {ctor}

    def forward(self, src, tgt):
        return self.model(src, tgt)
"""


@pytest.mark.parametrize("ctor,inputs", [
    ("nn.Transformer(32, 4, 2, 2, 64)", [(10, 2, 32), (7, 2, 32)]),
    ("nn.Transformer(32, 4, 1, 1, 64, batch_first=True, norm_first=True)", [(2, 10, 32), (2, 7, 32)]),
    ("nn.TransformerDecoder(nn.TransformerDecoderLayer(32, 4, 64), 2)", [(7, 2, 32), (10, 2, 32)]),
    ("nn.TransformerDecoderLayer(32, 4, 64, batch_first=True)", [(2, 7, 32), (2, 10, 32)]),
    # bugs
    ("nn.Transformer(32, 4, 1, 1, 64)", [(10, 2, 32), (7, 3, 32)]),
    ("nn.Transformer(32, 4, 1, 1, 64)", [(10, 2, 32), (7, 2, 16)]),
    ("nn.TransformerDecoderLayer(32, 4, 64)", [(7, 2, 32), (10, 2, 24)]),
])
def test_transformer_and_decoder(ctor, inputs):
    body = DEC.format(ctor=ctor)
    check(body, inputs)
    want, code = params_of(body)
    if want is not None:
        assert _total(code) == want


def _total(code):
    import tempfile
    from pathlib import Path

    from shapelint.commands.summary.accounting import Model
    from shapelint.engine import analyze_target

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "m.py"
        p.write_text(code)
        run = analyze_target(str(p), "Net")
    return Model(run).totals()[0]


# ------------------------------------------------------------------ RNNs, states and cells

RNN = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.{kind}({ctor})

    def forward(self, x):
        {state}
        return self.rnn(x{call})
"""


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(kind=st.sampled_from(["LSTM", "GRU", "RNN"]), i=st.sampled_from([3, 4]), h=st.sampled_from([5, 6]),
       layers=st.integers(1, 2), bi=st.booleans(), bf=st.booleans(), proj=st.sampled_from([0, 0, 2]),
       batched=st.booleans(), di=st.sampled_from([0, 0, 1]), state=st.sampled_from(["", "ok", "bad0", "bad1", "bad2"]))
def test_rnn_property(kind, i, h, layers, bi, bf, proj, batched, di, state):
    proj = proj if kind == "LSTM" else 0
    dirs = 2 if bi else 1
    L, N = 4, 3
    x = ((N, L, i + di) if bf else (L, N, i + di)) if batched else (L, i + di)
    hout = proj or h
    hs = [dirs * layers, N, hout] if batched else [dirs * layers, hout]
    cs = [dirs * layers, N, h] if batched else [dirs * layers, h]
    if state.startswith("bad"):
        k = int(state[3])
        (hs if len(hs) > k else cs)[min(k, len(hs) - 1)] += 1
    ctor = f"{i}, {h}, num_layers={layers}, bidirectional={bi}, batch_first={bf}"
    if proj:
        ctor += f", proj_size={proj}"
    st_code, call = "pass", ""
    if state:
        st_code = f"h0 = torch.zeros({', '.join(map(str, hs))})"
        if kind == "LSTM":
            st_code += f"\n        c0 = torch.zeros({', '.join(map(str, cs))})"
            call = ", (h0, c0)"
        else:
            call = ", h0"
    check(RNN.format(kind=kind, ctor=ctor, state=st_code, call=call), [x])


CELL = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.{kind}({i}, {h})

    def forward(self, x):
        {state}
        return self.cell(x{call})
"""


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
@pytest.mark.parametrize("x,hs,i", [((3, 4), (3, 6), 4), ((4,), (6,), 4), ((3, 4), None, 4),
                                    ((3, 5), (3, 6), 4), ((3, 4), (3, 7), 4), ((3, 4), (2, 6), 4)])
def test_cells(kind, x, hs, i):
    state, call = "pass", ""
    if hs is not None:
        state = f"h = torch.zeros{hs}"
        call = ", (h, h)" if kind == "LSTMCell" else ", h"
    body = CELL.format(kind=kind, i=i, h=6, state=state, call=call)
    check(body, [x])
    want, code = params_of(body)
    if want is not None:
        assert _total(code) == want


LSTMCELL_LOOP = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm1 = nn.LSTMCell(1, 51)
        self.lstm2 = nn.LSTMCell(51, 51)
        self.linear = nn.Linear({lin}, 1)

    def forward(self, input):
        h_t = torch.zeros(input.size(0), 51)
        c_t = torch.zeros(input.size(0), 51)
        h_t2 = torch.zeros(input.size(0), 51)
        c_t2 = torch.zeros(input.size(0), 51)
        outputs = []
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        return torch.cat(outputs, dim=1)
"""


@pytest.mark.parametrize("lin", [51, 25])
def test_lstmcell_loop(lin):
    a = check(LSTMCELL_LOOP.format(lin=lin), [(3, 20)])
    if lin == 25:
        (f,) = a.findings
        assert f.code == "SHP002" and "self.linear(h_t2)" in f.message


# ------------------------------------------------------------------ embeddings

EMB = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.{ctor}

    def forward(self, x):
        {pre}
        return self.emb(x{call})
"""


@pytest.mark.parametrize("ctor,inputs,pre,call", [
    ("Embedding(10, 4, padding_idx=0)", [(2, 5)], "", ""),
    ("EmbeddingBag(10, 4, mode='sum')", [(2, 5)], "", ""),
    ("EmbeddingBag(10, 4, mode='max')", [(6,)], "off = torch.tensor([0, 2, 4])", ", off"),
    ("EmbeddingBag(10, 4, include_last_offset=True)", [(6,)], "off = torch.tensor([0, 2, 4])", ", off"),
    ("Embedding(10, 4, padding_idx=10)", [(2, 5)], "", ""),
    ("EmbeddingBag(10, 4, padding_idx=-11)", [(2, 5)], "", ""),
])
def test_embeddings(ctor, inputs, pre, call):
    body = EMB.format(ctor=ctor, pre=pre or "pass", call=call)
    check(body, inputs, ["long"])


# ------------------------------------------------------------------ norms on the last dims

NORM = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.{ctor}

    def forward(self, x):
        return self.norm(x)
"""


@pytest.mark.parametrize("ctor,inputs", [
    ("RMSNorm(16)", [(2, 5, 16)]), ("RMSNorm([5, 16])", [(2, 5, 16)]), ("LayerNorm([5, 16])", [(2, 5, 16)]),
    ("RMSNorm(16, elementwise_affine=False)", [(2, 16)]),
    ("RMSNorm(12)", [(2, 5, 16)]), ("LayerNorm([4, 16])", [(2, 5, 16)]), ("RMSNorm([2, 5, 16])", [(5, 16)]),
])
def test_last_dim_norms(ctor, inputs):
    body = NORM.format(ctor=ctor)
    check(body, inputs)
    want, code = params_of(body)
    if want is not None:
        assert _total(code) == want
