"""A model built from a YAML configuration the training script loads (RawNet's
``with open(os.path.splitext(os.path.abspath(__file__))[0] + '.yaml') as f: parser = yaml.load(f)``
then ``RawNet(parser['model'], device)``): the model file alone is checked with the
configuration's values; an entry the script computes (``parser['model']['nb_classes'] =
len(labels)``) stays unknown, and a configuration the script changes any other way is not used.
torch judges the failing line, building the model from the same YAML file."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from conftest import check_cli  # noqa: E402

torch = pytest.importorskip("torch")
yaml = pytest.importorskip("yaml")

MODEL = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Block(nn.Module):
        def __init__(self, nb_filts):
            super().__init__()
            self.conv1 = nn.Conv1d(nb_filts[0], nb_filts[1], kernel_size=KERNEL, padding=1)
            self.conv2 = nn.Conv1d(nb_filts[1], nb_filts[1], kernel_size=3, padding=1)
            self.down = nn.Conv1d(nb_filts[0], nb_filts[1], kernel_size=1)
            self.mp = nn.MaxPool1d(3)

        def forward(self, x):
            out = self.conv2(self.conv1(x))
            out = out + self.down(x)
            return self.mp(out)


    class Net(nn.Module):
        def __init__(self, d_args, device):
            super().__init__()
            self.first = nn.Conv1d(d_args['in_channels'], d_args['filts'][0], d_args['first_conv'],
                                   stride=d_args['first_conv'])
            self.block = Block(d_args['filts'][1])
            self.fc = nn.Linear(d_args['filts'][1][1], d_args['nb_classes'])

        def forward(self, x):
            x = self.block(self.first(x))
            return self.fc(x.mean(-1))
''')

CONFIG = textwrap.dedent('''\
    name: demo
    batch_size: 32
    model:
      first_conv: 3
      in_channels: 1
      filts: [16, [16, 32]]
''')

TRAIN = textwrap.dedent('''\
    import os
    import yaml
    import torch
    from model import Net

    if __name__ == '__main__':
        _abspath = os.path.abspath(__file__)
        dir_yaml = os.path.splitext(_abspath)[0] + '.yaml'
        with open(dir_yaml, 'r') as f_yaml:
            parser = yaml.load(f_yaml, Loader=yaml.FullLoader)
        labels = sorted(os.listdir('data'))
        parser['model']['nb_classes'] = len(labels)
        CHANGE
        device = torch.device('cpu')
        model = Net(parser['model'], device).to(device)
''')


def _project(tmp_path, kernel, change=""):
    (tmp_path / ".git").mkdir()
    (tmp_path / "model.py").write_text(MODEL.replace("KERNEL", str(kernel)))
    (tmp_path / "train.yaml").write_text(CONFIG)
    (tmp_path / "train.py").write_text(TRAIN.replace("CHANGE", change))
    return tmp_path / "model.py"


def _torch_line(path, length=600):
    cfg = yaml.safe_load((path.parent / "train.yaml").read_text())["model"]
    cfg["nb_classes"] = 5
    ns: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    try:
        ns["Net"](cfg, "cpu")(torch.randn(2, 1, length))
    except RuntimeError as e:
        return [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == str(path)][-1]
    return None


@pytest.mark.parametrize("kernel", [2, 4, 5])
def test_a_bug_under_the_yaml_configuration_is_reported(tmp_path, kernel):
    path = _project(tmp_path, kernel)
    line = _torch_line(path)
    assert line == 15
    if kernel == 5:
        assert _torch_line(path, length=9 + 2) is None  # the block's input 3 long: torch runs
    # kernel 5: the two branches fit where the block's input is 3 long, where the model runs:
    # only the declared input decides
    for extra in ([], ["--input-shape", "Net=2,1,600"]) if kernel != 5 else (["--input-shape", "Net=2,1,600"],):
        rc, out, err = check_cli(path, *extra)
        assert rc == 1, (out, err)
        (got,) = out.splitlines()
        assert got.startswith(f"{path}:{line}:") and "SHP006" in got, got
        assert "'filts': [16, [16, 32]]" in got and "'nb_classes': ..." in got and "train.py" in got, got


def test_the_clean_model_is_silent_and_analysed(tmp_path):
    path = _project(tmp_path, 3)
    assert _torch_line(path) is None
    for extra in ([], ["--input-shape", "Net=2,1,600"]):
        rc, out, err = check_cli(path, "--statistics", *extra)
        assert (rc, out.count("SHP")) == (0, 0), (out, err)
        assert "analysed 2 of 2" in err, err


def test_a_configuration_changed_otherwise_is_not_read(tmp_path):
    # update() may change any entry: the configuration is not what the file says
    path = _project(tmp_path, 2, "parser['model'].update(json.load(open('extra.json')))")
    rc, out, err = check_cli(path)
    assert "'filts': [16, [16, 32]]" not in out, out  # the configuration is not read


def test_unsafe_yaml_is_never_run(tmp_path):
    # a tag that would run code under yaml's unsafe loader: the safe loader refuses the file
    path = _project(tmp_path, 2)
    (tmp_path / "train.yaml").write_text(CONFIG + "hook: !!python/object/apply:os.system ['touch pwned']\\n")
    rc, out, err = check_cli(path)
    assert not (tmp_path / "pwned").exists() and not os.path.exists("pwned")
    assert "'filts': [16, [16, 32]]" not in out, out  # the configuration is not read
