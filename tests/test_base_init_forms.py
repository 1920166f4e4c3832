"""Python a GAN's layers are written in (BigGAN-PyTorch's layers.py and BigGAN.py), each checked
against torch: a layer subclass initialised as ``nn.Linear.__init__(self, ...)`` (the spelling of
a class with two bases, ``class SNLinear(nn.Linear, SN)``), a dict comprehension deciding which
blocks exist, and a declared input shape meant for another value of a boolean default."""
import os
import textwrap
import traceback

import pytest
import torch

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

SN_LAYERS = textwrap.dedent('''
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class SN(object):
        def __init__(self, num_svs, num_outputs):
            self.num_svs = num_svs
            for i in range(self.num_svs):
                self.register_buffer('u%d' % i, torch.randn(1, num_outputs))

        @property
        def u(self):
            return [getattr(self, 'u%d' % i) for i in range(self.num_svs)]

        def W_(self):
            W_mat = self.weight.view(self.weight.size(0), -1)
            u = self.u[0]
            sv = torch.squeeze(torch.matmul(torch.matmul(u, W_mat), W_mat.t()).sum())
            return self.weight / sv


    class SNLinear(nn.Linear, SN):
        def __init__(self, in_features, out_features, bias=True, num_svs=1):
            nn.Linear.__init__(self, in_features, out_features, bias)
            SN.__init__(self, num_svs, out_features)

        def forward(self, x):
            return F.linear(x, self.W_(), self.bias)


    class SNConv2d(nn.Conv2d, SN):
        def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, num_svs=1):
            nn.Conv2d.__init__(self, in_channels, out_channels, kernel_size, stride, padding)
            SN.__init__(self, num_svs, out_channels)

        def forward(self, x):
            return F.conv2d(x, self.W_(), self.bias, self.stride, self.padding)


    def G_arch(ch=8, attention='0'):
        arch = {}
        arch[16] = {'in_channels': [ch * item for item in [4, 2]],
                    'out_channels': [ch * item for item in [2, 1]],
                    'resolution': [8, 16],
                    'attention': {2**i: (2**i in [int(item) for item in attention.split('_')])
                                  for i in range(3, 5)}}
        return arch


    class Generator(nn.Module):
        def __init__(self, dim_z=16, ch=8, attention='0'):
            super().__init__()
            self.arch = G_arch(ch, attention)[16]
            self.linear = SNLinear(dim_z, self.arch['in_channels'][0] * 4 * 4)
            self.blocks = []
            for index in range(len(self.arch['out_channels'])):
                self.blocks += [[SNConv2d(self.arch['in_channels'][index], self.arch['out_channels'][index],
                                          3, padding=1)]]
                if self.arch['attention'][self.arch['resolution'][index]]:
                    self.blocks[-1] += [nn.Conv2d(self.arch['out_channels'][index], 1, 1)]
            self.blocks = nn.ModuleList([nn.ModuleList(block) for block in self.blocks])

        def forward(self, z):
            h = self.linear(z)
            h = h.view(h.size(0), -1, 4, 4)
            for blocklist in self.blocks:
                for block in blocklist:
                    h = F.interpolate(block(h), scale_factor=2)
            return h


    model = Generator()
    model(torch.randn(2, 16))
''')


def _output_shape(code: str):
    a = analyze_source(code, "case.py")
    assert a.findings == []
    (run,) = [r for r in a.runs if r.concrete]
    return tuple(run.output.shape)


def test_explicit_base_init_and_dict_comprehensions_follow_the_generator():
    """Before: ``nn.Linear.__init__(self, ...)`` left the layer without weights (its forward
    unknown) and the dict comprehension was unknown (every block undecided)."""
    ns = {}
    exec(compile(SN_LAYERS, "case.py", "exec"), ns)
    want = tuple(ns["model"](torch.randn(2, 16)).shape)
    assert _output_shape(SN_LAYERS) == want == (2, 8, 16, 16)
    # attention at 16: the comprehension's value decides that a 1-channel conv joins the last block
    at16 = SN_LAYERS.replace("model = Generator()", "model = Generator(attention='16')")
    ns = {}
    exec(compile(at16, "case.py", "exec"), ns)
    assert _output_shape(at16) == tuple(ns["model"](torch.randn(2, 16)).shape) == (2, 1, 32, 32)


@pytest.mark.parametrize("old, new", [
    ("SNLinear(dim_z, self.arch", "SNLinear(dim_z + 1, self.arch"),  # the explicit __init__'s in_features
    ("'in_channels': [ch * item for item in [4, 2]]", "'in_channels': [ch * item for item in [4, 3]]"),
])
def test_a_wrong_number_is_reported_where_torch_fails(old, new):
    bug = SN_LAYERS.replace(old, new)
    assert bug != SN_LAYERS
    with pytest.raises(RuntimeError) as e:
        exec(compile(bug, "case.py", "exec"), {})
    line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "case.py"][-1]
    assert [f.line for f in analyze_source(bug, "case.py").findings] == [line]


def test_dict_comprehension_keys_must_be_constants():
    """A key the analysis cannot compare as Python does (a symbol) leaves the dict unknown: the
    branch it would decide stays undecided, and nothing is reported."""
    code = textwrap.dedent('''
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, c):
                super().__init__()
                table = {c * i: i for i in range(2)}
                self.conv = nn.Conv2d(3, 8, 3) if table.get(0) == 0 else nn.Conv2d(3, 4, 3)
                self.head = nn.Conv2d(8, 2, 1)

            def forward(self, x):
                return self.head(self.conv(x))
    ''')
    assert analyze_source(code, "case.py").findings == []


FLIPPED = textwrap.dedent('''
    import torch
    import torch.nn as nn


    class Generator(nn.Module):
        def __init__(self, dim_z=16, n_classes=10, shared=True):
            super().__init__()
            # with shared embeddings the caller passes y already embedded (a float vector)
            self.embed = nn.Identity() if shared else nn.Embedding(n_classes, dim_z)
            self.gain = nn.Linear(dim_z, 32)
            self.linear = nn.Linear(dim_z, 32)

        def forward(self, z, y):
            return self.linear(z) * self.gain(self.embed(y))
''')


def test_a_declared_input_for_another_boolean_default_is_not_a_finding():
    """BigGAN's Generator: nobody builds it with its defaults in sight (train.py's
    ``model.Generator(**config)``, G_shared off); the declared input (z, class indices) fails
    ``Generator()`` (shared embeddings on) but runs with ``shared=False``: it is that
    configuration's, not a bug. A bug no boolean default explains is still reported."""
    ns = {}
    exec(compile(FLIPPED, "case.py", "exec"), ns)
    z, y = torch.randn(2, 16), torch.randint(0, 10, (2,))
    assert ns["Generator"](shared=False)(z, y).shape == (2, 32)
    with pytest.raises(RuntimeError):
        ns["Generator"]()(z, y)
    opts = {"Generator": [(2, 16), (2,)]}
    assert analyze_source(FLIPPED, "case.py", input_shapes=opts).findings == []
    bug = FLIPPED.replace("self.linear = nn.Linear(dim_z, 32)", "self.linear = nn.Linear(dim_z + 1, 32)")
    ns = {}
    exec(compile(bug, "case.py", "exec"), ns)
    with pytest.raises(RuntimeError) as e:
        ns["Generator"](shared=False)(z, y)
    line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "case.py"][-1]
    # both values fail now: what fails in both is reported, on the line torch fails on (with
    # shared=True the gain's Linear misfits the class indices too: not reported)
    got = analyze_source(bug, "case.py", input_shapes=opts).findings
    assert [(f.code, f.line) for f in got] == [("SHP002", line)]
    assert "in_features=17" in got[0].message
