"""A project's own batch norm on torch's private base (`class SynchronizedBatchNorm2d(_BatchNorm)`,
DeepLab's sync_batchnorm) whose forward calls `F.batch_norm`: built with the base's arguments and
parameters, and its channel check made where torch makes it. torch judges the finding's line (the
model file's call into the norm) and the parameter count."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

NORM = textwrap.dedent('''\
    import torch.nn.functional as F
    from torch.nn.modules.batchnorm import _BatchNorm


    class _SynchronizedBatchNorm(_BatchNorm):
        def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True):
            super(_SynchronizedBatchNorm, self).__init__(num_features, eps=eps, momentum=momentum, affine=affine)
            self._is_parallel = False

        def forward(self, input):
            if not (self._is_parallel and self.training):
                return F.batch_norm(
                    input, self.running_mean, self.running_var, self.weight, self.bias,
                    self.training, self.momentum, self.eps)
            return input


    class SynchronizedBatchNorm2d(_SynchronizedBatchNorm):
        def _check_input_dim(self, input):
            if input.dim() != 4:
                raise ValueError('expected 4D input (got {}D input)'.format(input.dim()))
''')
DECODER = textwrap.dedent('''\
    import torch
    import torch.nn as nn
    from sync_batchnorm.batchnorm import SynchronizedBatchNorm2d


    class Decoder(nn.Module):
        def __init__(self, BatchNorm=SynchronizedBatchNorm2d):
            super().__init__()
            self.conv1 = nn.Conv2d(256, 48, 1, bias=False)
            self.bn1 = BatchNorm(WIDTH)
            self.relu = nn.ReLU()

        def forward(self, x):
            x = self.conv1(x)
            x = self.bn1(x)
            return self.relu(x)


    if __name__ == "__main__":
        model = Decoder()
        print(sum(p.numel() for p in model.parameters()))
        model(torch.randn(2, 256, 33, 33))
''')


def _project(tmp_path, width):
    (tmp_path / "sync_batchnorm").mkdir()
    (tmp_path / "sync_batchnorm" / "__init__.py").write_text("")
    (tmp_path / "sync_batchnorm" / "batchnorm.py").write_text(NORM)
    (tmp_path / "decoder.py").write_text(DECODER.replace("WIDTH", str(width)))
    return subprocess.run([sys.executable, "decoder.py"], cwd=tmp_path, capture_output=True, text=True)


def test_a_wrong_width_is_reported_at_the_model_files_call(tmp_path):
    ran = _project(tmp_path, 49)
    assert "running_mean should contain 48 elements not 49" in ran.stderr
    assert 'decoder.py", line 15' in ran.stderr
    path = tmp_path / "decoder.py"
    got = analyze_source(path.read_text(), str(path)).findings
    assert [(f.code, f.line) for f in got] == [("SHP003", 15)]
    assert "(in sync_batchnorm/batchnorm.py:12)" in got[0].message


def test_the_clean_norm_runs_silent_with_the_parameters_torch_counts(tmp_path):
    ran = _project(tmp_path, 48)
    assert ran.returncode == 0, ran.stderr
    path = tmp_path / "decoder.py"
    a = analyze_source(path.read_text(), str(path))
    assert a.findings == []
    (run,) = [r for r in a.runs if r.cls is not None and r.cls.name == "Decoder"]
    assert run.output.shape == (2, 48, 33, 33)
    bn = run.root.children["bn1"]
    assert sum(p.shape[0] for p in bn.params.values()) == int(ran.stdout) - 256 * 48



def test_a_failure_in_a_third_file_is_reported_at_this_files_call_when_an_importer_builds_the_model(tmp_path):
    # decoder.py builds no model; deeplab.py's DeepLab builds a Decoder through decoder.py's factory
    # with the project's norm: the norm's failure in sync_batchnorm/batchnorm.py is reported at
    # decoder.py's call into it, where torch's traceback passes through this file
    _project(tmp_path, 49)
    path = tmp_path / "decoder.py"
    code = path.read_text().split('\nif __name__ == "__main__":')[0]
    code = code.replace("def __init__(self, BatchNorm=SynchronizedBatchNorm2d):", "def __init__(self, BatchNorm):")
    path.write_text(code + "\n\ndef build_decoder(BatchNorm):\n    return Decoder(BatchNorm)\n")
    (tmp_path / "deeplab.py").write_text(textwrap.dedent('''\
        import torch
        import torch.nn as nn
        from decoder import build_decoder
        from sync_batchnorm.batchnorm import SynchronizedBatchNorm2d


        class DeepLab(nn.Module):
            def __init__(self, sync_bn=True):
                super().__init__()
                BatchNorm = SynchronizedBatchNorm2d if sync_bn else nn.BatchNorm2d
                self.stem = nn.Conv2d(3, 256, 3, padding=1)
                self.decoder = build_decoder(BatchNorm)

            def forward(self, x):
                return self.decoder(self.stem(x))


        if __name__ == "__main__":
            model = DeepLab()
            model(torch.randn(2, 3, 33, 33))
    '''))
    ran = subprocess.run([sys.executable, "deeplab.py"], cwd=tmp_path, capture_output=True, text=True)
    assert 'decoder.py", line 15' in ran.stderr and "running_mean should contain" in ran.stderr
    got = analyze_source(path.read_text(), str(path)).findings
    assert [(f.code, f.line) for f in got] == [("SHP003", 15)]
    assert "(in sync_batchnorm/batchnorm.py:12)" in got[0].message and "of deeplab.py" in got[0].message
