"""Inputs inferred from a project's data pipeline (lint/datapipe.py, issue 9's no-input half).

Each project under fixtures/projects/data_* trains its model on a torchvision dataset through a
DataLoader and never writes a literal input. shapelint, linting the model file alone, must report
exactly the ``# expect:`` marker, at the input the pipeline feeds; the clean variant (one number
put right) must give nothing. torch + torchvision are the oracle (tests/datapipe_oracle.py runs the
script on tiny data files in torchvision's own formats): the line torch fails on is the marker,
the input the model first receives is the one shapelint names, and the clean variant runs.
The oracle needs torchvision (installed, or its source folder in SHAPELINT_TORCHVISION_SRC) and
PIL; without them those checks are skipped, the static ones still run.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

PROJECTS = FIXTURES / "projects"
ORACLE = Path(__file__).resolve().parent / "datapipe_oracle.py"
EXPECT = re.compile(r"#\s*expect:\s*(SHP\d{3})")

# (project/model file, script torch runs, the input shapelint infers, its origin, (bug, fix) in the model file)
CASES = [
    # a classification course's layout: main(args) called under __main__ with the parsed options, the
    # model factory imported under another name (`from model import create_model as build_model`), a
    # dict of transforms picked by key, a Dataset refusing non-RGB images (`if img.mode != 'RGB':
    # raise`), a stacking collate_fn, the model and loader passed by keyword to utils.train_one_epoch,
    # which wraps the loader in tqdm and sets its desc
    ("data_course_utils/model.py", "train.py", "4x3x32x32", "train.py:31 (MyDataSet, RandomResizedCrop(32))",
     ("32 * 7 * 7", "32 * 8 * 8")),
    # a Dataset laying its images out by hand (PIL resize to its in_size, np.array, transpose((2, 0, 1)),
    # torch.from_numpy(...).float()), in a repository whose top folder is a package, its script run
    # from there (`from seg.tools.my_dataset import ...`)
    ("data_numpy_dataset/seg/tools/net.py", "seg/train.py", "4x3x48x48",
     "../train.py:12 (PortraitDataset, resize((48, 48)))", ("8 * 11 * 11", "8 * 12 * 12")),
    # a course's own Dataset applying a pipeline to a path, opened by its first step
    # (`Compose([lambda x: Image.open(x).convert('RGB'), Resize((int(self.resize * 1.25), ...)), ...])`)
    ("data_path_lambda/resnet.py", "train_scratch.py", "4x3x48x48",
     "train_scratch.py:12 (Pokemon, Resize((60, 60)), CenterCrop(48))", ("16 * 5 * 5", "16 * 6 * 6")),
    ("data_cifar_train/model.py", "train.py", "4x3x32x32", "train.py:37 (CIFAR10, RandomCrop(32, padding=4))",
     ("16 * 6 * 6", "16 * 5 * 5")),
    ("data_mnist_mlp/model.py", "main.py", "8x784", "main.py:17 (MNIST)", ("28 * 29", "28 * 28")),
    ("data_dcgan_folder/model.py", "main.py", "4x3x64x64", "main.py:39 (ImageFolder, Resize(64), CenterCrop(64))",
     ("8 * 5 * 5", "8 * 4 * 4")),
    # get_network(args) in utils.py picks vgg11_bn by train.py's argparse default; the loader is
    # utils.get_training_dataloader(...) given batch_size=args.b; net is a module global of train.py
    ("data_get_network/models/vgg.py", "train.py", "4x3x32x32",
     "../utils.py:34 (CIFAR100, RandomCrop(32, padding=4))", ("64 * 3 * 3", "64 * 4 * 4")),
    # the model trained in its own file; DataLoader(dataset1, **train_kwargs), kwargs.update(...)
    ("data_same_file/main.py", "main.py", "4x1x28x28", "main.py:54 (MNIST)", ("9217", "9216")),
    # a LightningModule holding the net (self.model = SmallNet()), trainer.fit(model, datamodule):
    # the batch of the DataModule's train_dataloader() through forward's `images, labels = batch`
    # (pytorch_lightning is stubbed by the oracle when not installed: see _lightning_stub)
    ("data_lightning/model.py", "train.py", "4x3x32x32", "train.py:26 (CIFAR10, RandomCrop(32, padding=4))",
     ("16 * 7 * 7", "16 * 6 * 6")),
    # the same in PyTorch_CIFAR10's layout: DataModule in data.py, LightningModule in module.py, fit in train.py
    ("data_lightning_split/model.py", "train.py", "4x3x32x32",
     "data.py:19 (CIFAR10, RandomCrop(32, padding=4))", ("16 * 7 * 7", "16 * 6 * 6")),
    # pytorch-cifar100's layout: -net is required (no default), get_network(args) picks by its value,
    # the models folder has no __init__.py: the branch `args.net in ("mobile", ...)` takes is analysed
    ("data_required_net/models/mobile.py", "train.py -net mobile", "4x3x32x32",
     "../utils.py:32 (CIFAR100, RandomCrop(32, padding=4))", ("32 * 7 * 7", "32 * 8 * 8")),
    # --model picks the network at module level; mlp is a choice but not the default
    ("data_model_flag/nets.py", "main.py --model mlp", "8x1x28x28", "main.py:25 (MNIST)", ("785", "784")),
    # chengyangfu's layout: `import vgg; vgg.__dict__[args.arch]()` (a module, not a package), the
    # features rewrapped in DataParallel, `input.cuda(non_blocking=True)` rebinding the loop's own target
    ("data_module_dict/vgg.py", "main.py --cpu --arch vgg_w", "4x3x32x32",
     "main.py:28 (CIFAR10, RandomCrop(32, padding=4))",
     ('64, "M", 64, "M"]), 64 * 4 * 4)', '64, "M", 64, "M"]), 64 * 2 * 2)')),
    # PyTorch_CIFAR10's dict of built classifiers, self.model = all_classifiers[self.hparams.classifier]
    ("data_lightning_dict/nets/wide.py", "train.py --classifier wide", "4x3x32x32",
     "../data.py:16 (CIFAR10, RandomCrop(32, padding=4))", ("64 * 4 * 4", "64 * 8 * 8")),
    # pytorch-playground's layout: `import model; model = model.cifar10(...)` (the module's name
    # rebound to the model), loaders from dataset.get10(batch_size=..., num_workers=0): **kwargs,
    # a nested function, a list built by appends and unwrapped by `ds[0] if len(ds) == 1 else ds`
    ("data_loader_helper/model.py", "train.py", "4x3x32x32",
     "dataset.py:20 (CIFAR10, Pad(4), RandomCrop(32))", ("(8 * n_channel, 1)", "(8 * n_channel, 0)")),
    # the options namespace passed whole, Net(args) (CondenseNet's getattr(models, args.model)(args)):
    # the options the model reads, at their defaults; num_classes, assigned after parsing, stays
    # unknown (so fc's out_features is, and its in_features is still checked)
    ("data_namespace_arg/model.py", "train.py", "4x3x32x32", "train.py:30 (CIFAR10)",
     ("args.width * 14 * 14", "args.width * 15 * 15")),
    # pytorch-beginner's GAN: the generator's noise sized by the image batch (num_img = img.size(0),
    # z = torch.randn(num_img, z_dimension)); the discriminator fed img.view(num_img, -1)
    ("data_gan_noise/generator.py", "train.py", "4x100", "train.py:41 (torch.randn)",
     ("nn.Linear(265, 256)", "nn.Linear(256, 256)")),
    # chenyuntc/pytorch-book's layout: the options are a plain class's attributes (opt = Config()),
    # overridden python-fire style in train(**kwargs), the models built as `netg, netd = NetG(opt), NetD(opt)`
    ("data_config_class/model.py", "main.py", "4x3x32x32", "main.py:34 (CIFAR10, Resize(32), CenterCrop(32))",
     ("nn.Conv2d(ndf, ndf * 2, 4, 4, 1", "nn.Conv2d(ndf, ndf * 2, 4, 2, 1")),
    # a trainer class: self.model = SmallCNN().to(self.device) in load_model, self.train_loader
    # (None in __init__) a DataLoader in load_data, self.model(data) in train (the batch size is an
    # attribute of the options: not followed, a batch of 2, which the options' default is)
    ("data_trainer_class/model.py", "main.py", "2x3x32x32", "main.py:37 (CIFAR10)", ("64 * 7 * 7", "64 * 8 * 8")),
    # w86763777/pytorch-gan-collections' layout: absl flags (FLAGS.arch, an enum over a table's keys),
    # the networks picked from a table of classes (net_D_models[FLAGS.arch]()), the model module
    # imported as `source.models.gan as models` from the root, a dequantising Lambda transform, and
    # the batches drawn by next() from a generator function (infiniteloop(dataloader))
    ("data_absl_gan/source/models/gan.py", "train.py", "4x3x32x32", "../../train.py:36 (CIFAR10, Lambda)",
     ("256 * 3 * 3", "256 * 4 * 4")),
    # a Dataset class of the project (star-imported): PIL images through the transform its
    # __init__ picks by mode (three Normalize means: three channels; the train loader's mode="train"
    # decides `if self.mode == "train":`), a
    # three-item sample; the loaders returned together by get_dataset(args), the model picked by
    # get_model(args) and moved to the device, then rewrapped by train() (model = model.train())
    ("data_custom_dataset/model.py", "main.py --arch small", "4x3x32x32",
     "main.py:34 (DogCat, Resize(40), RandomResizedCrop(32))", ("32 * 7 * 7", "32 * 8 * 8")),
    # HRank's layout: `net = eval(args.arch)(compress_rate=compress_rate)` with the rates parsed from
    # a string by regular expressions (a hole: the construction is built with it unknown), the
    # options printed through vars(args), and `if args.resume is not None: args = torch.load(...)`
    # rebinding the options under a test that reads them
    # mrdbourke's going_modular: `data_setup.create_dataloaders(...)` returns the loaders with the
    # class names, `engine.train(model=model, ...)` (a module's function, called by attribute) loops
    # in train_step; output_shape=len(class_names) is a hole (the folder's class count)
    ("data_going_modular/model_builder.py", "train.py", "4x3x32x32",
     "data_setup.py:12 (ImageFolder, Resize((32, 32)))", ("hidden_units * 7 * 7", "hidden_units * 8 * 8")),
    # the CS230 template: `params = utils.Params(json_path)` loads --model_dir's params.json into
    # attributes (json_path = os.path.join(args.model_dir, 'params.json')), read as options are
    ("data_json_params/model/net.py", "train.py", "4x3x32x32", "../train.py:24 (CIFAR10)",
     ("self.num_channels * 2 * 7 * 7", "self.num_channels * 2 * 8 * 8")),
    # RepDistiller's layout: `model_dict[opt.model_s](num_classes=n_cls)` with model_dict a table in
    # the models package's __init__ (`from models import model_dict`); the loaders from a helper
    # ending in `if is_instance: return train_loader, test_loader, n_data else: return ...`, decided
    # by the caller's is_instance=True; the model validated by helper/loops.py's validate()
    ("data_model_registry/models/resnet.py", "train_student.py", "4x3x32x32",
     "../dataset/cifar100.py:13 (CIFAR100)", ("nn.AvgPool2d(4)", "nn.AvgPool2d(8)")),
    ("data_pruning_eval/models/vgg.py", "main.py", "4x3x32x32",
     "../main.py:37 (CIFAR10, RandomCrop(32, padding=4))", ("64 * 3 * 3", "64 * 4 * 4")),
    # joint-vae's layout: the model handed to a Trainer class that keeps it in self.model;
    # trainer.train(data_loader, epochs) -> self._train_epoch(data_loader) -> self._train_iteration(data)
    # -> self.model(data); the loaders returned by a helper of another module
    ("data_trainer_held/model.py", "main.py", "4x1x32x32", "dataloaders.py:13 (MNIST, Resize(32))",
     ("nn.Linear(32 * 7 * 7, latent_dim)", "nn.Linear(32 * 8 * 8, latent_dim)")),
    # soft-filter-pruning's layout: `m = Mask(net)` keeps the model in self.model, `net = m.model`
    # takes it back; `if args.resume: if os.path.isfile(args.resume): net = checkpoint[...]` is
    # decided by the option (off), before the test only a run knows
    ("data_pruning_mask/model.py", "main.py", "4x3x32x32", "main.py:51 (CIFAR10)",
     ("32 * 7 * 7", "32 * 8 * 8")),
    # loss-landscape's layout: `models[model_name]()` in load(model_name), called as
    # load(args.model) by cifar10/main.py (another model_loader.load of the project takes the dataset
    # first); the loaders from a helper whose early `if args.trainloader: return torch.load(...)` the
    # option's default decides against
    ("data_loader_table/cifar10/models/vgg.py", "cifar10/main.py", "4x3x32x32",
     "../dataloader.py:21 (CIFAR10, RandomCrop(32, padding=4))", ("64 * 3 * 3", "64 * 4 * 4")),
    # pytorch-speech-commands' layout: create_model(model_name, num_classes, in_channels) in the
    # models package, called by two scripts with different in_channels (each call followed on its
    # own); --model's choices and default from the package's list; transforms and tqdm star-imported
    ("data_create_model/models/vgg.py", "train_cifar10.py", "4x3x32x32",
     "../train_cifar10.py:26 (CIFAR10, RandomCrop(32, padding=4))", ("* 3 * 3", "* 4 * 4")),
]


# classes of the CASES' model files fed something else than the case's input (a GAN's noise)
NOISE_FED = {"NetG": "4x100x1x1 from main.py:38 (torch.randn)",
             "Generator32": "4x100 from ../../train.py:44 (torch.randn)"}


def oracle(project: Path, script: str, env=None):
    """(returncode, stderr, {class: first input 'BxCxHxW'}) of the script in torch + torchvision."""
    pytest.importorskip("torch")
    r = subprocess.run([sys.executable, str(ORACLE), str(project), *script.split()], capture_output=True, text=True,
                       timeout=300, env={**os.environ, **(env or {})})
    if r.returncode == 3:
        pytest.skip("torchvision (or PIL) not available: set SHAPELINT_TORCHVISION_SRC")
    seen = dict(re.findall(r"^oracle-input (\w+) (\S+)$", r.stderr, re.M))
    return r.returncode, r.stderr, seen


def _copy(tmp_path: Path, project: str) -> Path:
    dst = tmp_path / project
    shutil.copytree(PROJECTS / project, dst)
    return dst


def _lint(path: Path):
    return analyze_source(path.read_text(), str(path), strict=True)


def _marker(path: Path):
    for i, line in enumerate(path.read_text().splitlines(), 1):
        m = EXPECT.search(line)
        if m:
            return i, m.group(1)
    return None


IDS = [c[0].split("/")[0] for c in CASES]


@pytest.mark.parametrize("project,script,shape,origin,fix", CASES, ids=IDS)
def test_bug_found_at_the_pipelines_input(project, script, shape, origin, fix):
    path = PROJECTS / project
    (f,) = _lint(path).findings
    assert (f.line, f.code) == _marker(path), f.message
    assert f"input {shape} " in f.message and f"input from {origin}" in f.message, f.message


@pytest.mark.parametrize("project,script,shape,origin,fix", CASES, ids=IDS)
def test_clean_variant_gives_nothing(tmp_path, project, script, shape, origin, fix):
    project, linted = project.split("/", 1)
    root = _copy(tmp_path, project)
    model = root / linted
    model.write_text(model.read_text().replace(*fix))
    a = _lint(model)
    assert a.findings == [], [x.message for x in a.findings]
    assert any(r.input_from == origin for r in a.runs)  # analysed at the pipeline's input
    fed = {c["class"]: c["input"] for c in a.coverage if c.get("input")}
    # and the coverage says so (a GAN's generator, in the same file, is fed its noise)
    assert fed and {i for n, i in fed.items() if n not in NOISE_FED} == {f"{shape} from {origin}"}
    for name, want in NOISE_FED.items():
        assert fed.get(name, want) == want


@pytest.mark.parametrize("project,script,shape,origin,fix", CASES, ids=IDS)
def test_torch_agrees(tmp_path, project, script, shape, origin, fix):
    project, linted = project.split("/", 1)
    root = _copy(tmp_path, project)
    model = root / linted
    line, _ = _marker(model)
    rc, err, seen = oracle(root, script)
    assert rc != 0, err
    frames = [(Path(p).resolve(), int(n)) for p, n in re.findall(r'File "([^"]+)", line (\d+)', err)]
    inside = [fr for fr in frames if fr[0].is_relative_to(root.resolve())]
    assert inside[-1] == (model.resolve(), line), err  # torch fails on the marked line
    # the class the marker is in: the last one defined above it
    cls = re.findall(r"^class (\w+)", "\n".join(model.read_text().splitlines()[:line]), re.M)[-1]
    assert seen[cls] == shape  # ... at the input shapelint infers
    model.write_text(model.read_text().replace(*fix))
    rc, err, seen = oracle(root, script)
    assert rc == 0, err  # and the clean variant runs
    assert seen[cls] == shape


def test_a_documented_line_with_spaced_placeholders_builds_its_model(tmp_path):
    """HRank's README: `--job_dir ./result/vgg_small_100/[folder name]` (a placeholder with a space,
    one argument), `--compress_rate [0.5]*3`, `--gpu [gpu_id]`. The line picks vgg_small_100 through
    `eval(args.arch)`; its construction is named by the line and fed the script's CIFAR loader
    (--dataset-like options it leaves out keep their defaults). torch runs the line's model on
    that input and fails on the marked line."""
    root = _copy(tmp_path, "data_pruning_eval")
    model = root / "models" / "vgg.py"
    a = _lint(model)
    (run,) = [r for r in a.runs if r.ctor_text.startswith("vgg_small_100(") and r.built_at]
    assert "(README.md:6)" in run.built_at and run.input_text() == "4x3x32x32", run.built_at
    assert run.input_from == "../main.py:37 (CIFAR10, RandomCrop(32, padding=4))"
    assert {f.line for f in a.findings} == {_marker(model)[0]}
    rc, err, seen = oracle(root, "main.py --job_dir ./result/x --arch vgg_small_100 --compress_rate [0.5]*3 --gpu 0")
    assert rc != 0 and seen["VGG"] == "4x3x32x32", err
    assert f'vgg.py", line {_marker(model)[0]}' in err
    # the line naming another model builds nothing of this one
    (root / "README.md").write_text((root / "README.md").read_text().replace("--arch vgg_small_100", "--arch vgg_small"))
    assert not [r for r in _lint(model).runs if "README.md" in (r.built_at or "")
                and r.ctor_text.startswith("vgg_small_100(")]


def test_a_flag_value_is_named_and_only_values_argparse_accepts_are_built(tmp_path):
    """The finding says which command line builds the model (``with model='mlp'``). WideCNN's bug
    sits behind ``args.model == "cnn"``, a value --model's choices refuse: nothing is said of it,
    and argparse does refuse it. Once 'cnn' is a choice, it is reported where torch fails."""
    root = _copy(tmp_path, "data_model_flag")
    nets = root / "nets.py"
    (f,) = _lint(nets).findings
    assert "as main.py:19 builds it with model='mlp'" in f.message, f.message
    (wide,) = [c for c in _lint(nets).coverage if c["class"] == "WideCNN"]
    assert not wide.get("input")
    rc, err, _ = oracle(root, "main.py --model cnn")
    assert rc != 0 and "invalid choice: 'cnn'" in err, err
    main = root / "main.py"
    main.write_text(main.read_text().replace('choices=["lenet", "mlp"]', 'choices=["lenet", "mlp", "cnn"]'))
    got = sorted((x.line, x.code) for x in _lint(nets).findings)
    line = [i for i, t in enumerate(nets.read_text().splitlines(), 1) if "self.fc(self.conv(x).flatten(1))" in t][0]
    assert got == [(26, "SHP002"), (line, "SHP002")]
    rc, err, _ = oracle(root, "main.py --model cnn")
    assert rc != 0 and f'nets.py", line {line}' in err, err
    rc, err, seen = oracle(root, "main.py")  # the default, lenet, runs
    assert rc == 0 and seen["LeNet"] == "8x1x28x28", err


def test_required_flag_without_a_value_builds_nothing_by_default(tmp_path):
    """-net has no default: each branch its comparisons name is one command line (vgg: clean,
    torch runs it; mobile and mobile_small: the same bug, reported once; resnet: a module that does
    not exist, nothing built); no run stands for 'no flag', which argparse rejects."""
    root = _copy(tmp_path, "data_required_net")
    a = _lint(root / "models" / "vgg.py")
    assert a.findings == [] and [c["input"] for c in a.coverage] == \
        ["4x3x32x32 from ../utils.py:32 (CIFAR100, RandomCrop(32, padding=4))"]
    (f,) = _lint(root / "models" / "mobile.py").findings
    assert "builds it with net='mobile'" in f.message
    rc, err, seen = oracle(root, "train.py -net vgg")
    assert rc == 0 and seen["VGG"] == "4x3x32x32", err
    rc, err, _ = oracle(root, "train.py")
    assert rc != 0 and "required: -net" in err, err


def test_undecidable_dataset_gives_no_input(tmp_path):
    """MNIST or CIFAR-10 by a flag whose default is read from the environment: no input, no finding.
    Either guess would be wrong for one of them: torch runs clean on MNIST and fails on CIFAR-10;
    with the default written in the source, the decided dataset's input is used."""
    root = _copy(tmp_path, "data_undecidable")
    model = root / "model.py"
    a = _lint(model)
    assert a.findings == [] and not any(r.input_from for r in a.runs)
    train = root / "train.py"
    text = train.read_text()
    train.write_text(text.replace('os.environ.get("DATASET", "mnist")', '"cifar10"'))
    (f,) = _lint(model).findings
    assert f.line == 18 and "input 4x3x32x32" in f.message and "(CIFAR10)" in f.message
    train.write_text(text.replace('os.environ.get("DATASET", "mnist")', '"mnist"'))
    a = _lint(model)
    assert a.findings == [] and any(r.input_from == "train.py:19 (MNIST, Grayscale(3))" for r in a.runs)
    train.write_text(text)
    rc, err, seen = oracle(root, "train.py", {"DATASET": "mnist"})
    assert rc == 0 and seen["LeNet"] == "4x3x28x28", err
    rc, err, seen = oracle(root, "train.py", {"DATASET": "cifar10"})
    assert rc != 0 and seen["LeNet"] == "4x3x32x32" and "model.py\", line 18" in err, err


# (dataset expression, transform, reshape or None, the input shapelint infers or None: unknown)
TRANSFORMS = [
    ("datasets.CIFAR10('./data', transform={t})", "transforms.Compose([transforms.Pad(2), transforms.ToTensor()])",
     None, "2x3x36x36"),
    ("datasets.CIFAR10('./data', True, {t})", "transforms.Compose([transforms.Resize((40, 48)), transforms.ToTensor()])",
     None, "2x3x40x48"),
    ("dset.CIFAR10(root='./data', transform={t})",
     "transforms.Compose([transforms.RandomResizedCrop(24), transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)])",
     None, "2x3x24x24"),
    ("datasets.MNIST('./data', transform={t})", "transforms.Compose([transforms.Resize(32), transforms.ToTensor()])",
     None, "2x1x32x32"),
    ("datasets.CIFAR10('./data', transform={t})", "transforms.Compose([transforms.Resize([20]), transforms.ToTensor()])",
     None, "2x3x20x20"),
    ("datasets.ImageFolder(root='./data/images', transform={t})",
     "transforms.Compose([transforms.RandomCrop(40, padding=(2, 3)), transforms.CenterCrop((30, 20)), "
     "transforms.Grayscale(num_output_channels=1), transforms.ToTensor()])", None, "2x1x30x20"),
    ("alias(root='./data', transform={t})", "transforms.ToTensor()", "x.view(x.size(0), -1)", "2x3072"),
    ("datasets.__dict__['cifar100'.upper()]('./data', transform={t})", "transforms.ToTensor()", None, "2x3x32x32"),
    ("torch.utils.data.random_split(datasets.CIFAR10('./data', transform={t}), [0.75, 0.25])[1]",
     "transforms.Compose([transforms.CenterCrop(28), transforms.ToTensor()])", None, "2x3x28x28"),
    ("datasets.CIFAR10('./data', transform={t})", "transforms.Compose([transforms.RandomHorizontalFlip()] + "
     "[transforms.ColorJitter(0.4, 0.4, 0.4), transforms.ToTensor()])", "x.reshape(-1, 3, 16, 64)", "2x3x16x64"),
    # the names torchvision < 0.15 had for Resize and RandomResizedCrop (the oracle defines them so)
    ("datasets.CIFAR10('./data', transform={t})", "transforms.Compose([transforms.Scale(40), transforms.ToTensor()])",
     None, "2x3x40x40"),
    ("datasets.CIFAR10('./data', transform={t})",
     "transforms.Compose([transforms.RandomSizedCrop(24), transforms.ToTensor()])", None, "2x3x24x24"),
    # unknown: a Lambda, a class of the project, no ToTensor, a crop larger than the image
    ("datasets.CIFAR10('./data', transform={t})",
     "transforms.Compose([transforms.Lambda(lambda im: im), transforms.ToTensor()])", None, None),
    ("datasets.CIFAR10('./data', transform={t})", "transforms.Compose([Cutout(), transforms.ToTensor()])", None, None),
    ("datasets.CIFAR10('./data', transform={t})", "transforms.Compose([transforms.RandomCrop(32)])", None, None),
    ("datasets.CIFAR10('./data', transform={t})",
     "transforms.Compose([transforms.RandomCrop(40), transforms.ToTensor()])", None, None),
    ("datasets.ImageFolder('./data/images', {t})", "transforms.Compose([transforms.Resize(50), transforms.ToTensor()])",
     None, None),  # Resize(int) of an image of unknown size
    ("datasets.CIFAR10('./data', transform={t})", "transforms.ToTensor()", "x.unsqueeze(1)", None),
    # a Lambda whose value has its argument's shape (element-wise arithmetic and methods, *_like)
    ("datasets.CIFAR10('./data', transform={t})",
     "transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda x: x + torch.rand_like(x) / 128)])",
     None, "2x3x32x32"),
    ("datasets.MNIST('./data', transform={t})",
     "transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda t: (t * 2 - 1).clamp(-1, 1))])",
     None, "2x1x28x28"),
    # ... and one that changes it, or runs before ToTensor (on a PIL image): unknown
    ("datasets.MNIST('./data', transform={t})",
     "transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda x: x.repeat(3, 1, 1))])", None, None),
    ("datasets.MNIST('./data', transform={t})",
     "transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda x: x + torch.rand(3, 1, 1))])",
     None, None),
]

PROBE_HEAD = '''
import torch
import torchvision.datasets as dset
from torchvision import datasets, transforms

from probes import *

alias = datasets.CIFAR10
kw = {"num_workers": 0, "pin_memory": False}


class Cutout:
    def __call__(self, img):
        return img
'''


def _probe_project(tmp_path: Path) -> Path:
    root = tmp_path / "probe"
    root.mkdir()
    classes, script = [], [PROBE_HEAD]
    for i, (ds, t, op, _) in enumerate(TRANSFORMS):
        classes.append(f"class P{i}(nn.Module):\n    def forward(self, x):\n        return x\n")
        use = op.replace("x", f"x{i}") if op else f"x{i}"
        script.append(f"try:\n    loader{i} = torch.utils.data.DataLoader({ds.format(t=t)}, batch_size=2, **kw)\n"
                      f"    m{i} = P{i}()\n    x{i}, y{i} = next(iter(loader{i}))\n    m{i}({use})\n"
                      f"except Exception as e:\n    print('case {i}:', repr(e))\n")
    (root / "probes.py").write_text("import torch.nn as nn\n\n__all__ = " + repr([f"P{i}" for i in range(len(TRANSFORMS))])
                                    + "\n\n\n" + "\n\n".join(classes))
    (root / "run.py").write_text("\n".join(script))
    return root


def test_transforms_sizes_agree_with_torchvision(tmp_path):
    root = _probe_project(tmp_path)
    a = _lint(root / "probes.py")
    assert a.findings == []
    got = {}
    for r in a.runs:
        if r.input_from and r.cls is not None:
            got[r.cls.name] = "x".join(map(str, r.inputs[0]))
    want = {f"P{i}": shape for i, (_, _, _, shape) in enumerate(TRANSFORMS) if shape}
    assert got == want
    rc, err, seen = oracle(root, "run.py")
    assert rc == 0, err
    for name, shape in want.items():
        assert seen[name] == shape, (name, err)


NET = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8 * 30 * 30, 10)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))
'''

SCRIPT = '''
import argparse
import os
import torch
import torchvision.transforms as transforms
from torchvision import datasets
from net import Net

parser = argparse.ArgumentParser()
parser.add_argument("--aug", action="store_true")
parser.add_argument("--size", type=int, default=int(os.environ.get("SIZE", "32")))
args = parser.parse_args()
{setup}
loader = torch.utils.data.DataLoader(data, batch_size=2)
model = Net()
for x, y in loader:
{loop}
'''

# (setup, loop body): each leaves something the source does not decide -> no input inferred
UNDECIDED = {
    "a .module that is no DataParallel's": ("data = datasets.CIFAR10('.', transform=transforms.ToTensor())",
                                            "    model(x)\n    model = model.module"),
    "unknown op on x": ("data = datasets.CIFAR10('.', transform=transforms.ToTensor())",
                        "    x = augment(x)\n    model(x)"),
    "transform list appended to": ("t = transforms.Compose([transforms.ToTensor()])\nif args.aug:\n"
                                   "    t.transforms.append(transforms.RandomCrop(30))\n"
                                   "data = datasets.CIFAR10('.', transform=t)", "    model(x)"),
    "size from the environment": ("data = datasets.CIFAR10('.', transform=transforms.Compose(["
                                  "transforms.Resize(args.size), transforms.ToTensor()]))", "    model(x)"),
    "dataset chosen by an undecided flag": (
        "if os.environ.get('D'):\n    data = datasets.CIFAR10('.', transform=transforms.ToTensor())\n"
        "else:\n    data = datasets.STL10('.', transform=transforms.ToTensor())", "    model(x)"),
    "x changed on an undecided branch": ("data = datasets.CIFAR10('.', transform=transforms.ToTensor())",
                                         "    if torch.cuda.is_available():\n        x = x[:, :1]\n    model(x)"),
    "x rebound later in the loop": ("data = datasets.CIFAR10('.', transform=transforms.ToTensor())\n"
                                    "x2 = torch.randn(2, 1, 32, 32)", "    model(x2)\n    x2 = x[:, :1]"),
    "model rebound to another one": ("data = datasets.CIFAR10('.', transform=transforms.ToTensor())",
                                     "    model = torch.nn.Identity()\n    model(x)"),
    "dataset transform replaced": ("data = datasets.CIFAR10('.', transform=transforms.ToTensor())\n"
                                   "data.transform = None", "    model(x)"),
    "x bound in a try, used in its handler": ("data = datasets.CIFAR10('.', transform=transforms.ToTensor())",
                                              "    try:\n        x = x[:, :1]\n    except Exception:\n"
                                              "        model(x)"),
    "list appended in a loop": ("ds = []\nfor i in range(1):\n    ds.append(datasets.CIFAR10('.', transform="
                                "transforms.ToTensor()))\ndata = ds[0]", "    model(x)"),
    "list appended on an undecided branch": (
        "ds = []\nif os.environ.get('D'):\n    ds.append(datasets.STL10('.', transform=transforms.ToTensor()))\n"
        "ds.append(datasets.CIFAR10('.', transform=transforms.ToTensor()))\ndata = ds[0]", "    model(x)"),
    "list changed by other than append": (
        "ds = [datasets.CIFAR10('.', transform=transforms.ToTensor())]\n"
        "ds.insert(0, datasets.STL10('.', transform=transforms.ToTensor()))\ndata = ds[0]", "    model(x)"),
    "list length undecided": (
        "ds = []\nif os.environ.get('D'):\n    ds.append(datasets.STL10('.', transform=transforms.ToTensor()))\n"
        "ds.append(datasets.CIFAR10('.', transform=transforms.ToTensor()))\n"
        "data = ds[0] if len(ds) == 1 else ds[1]", "    model(x)"),
    "model bound again after the build": ("data = datasets.CIFAR10('.', transform=transforms.ToTensor())",
                                          "    model(x)\nmodel = torch.nn.Identity()\nfor x, y in loader:\n"
                                          "    model(x)"),
    "the loader's dataset changed": ("data = datasets.CIFAR10('.', transform=transforms.ToTensor())",
                                     "    loader.dataset.transform = None\n    model(x)"),
}


def test_an_undecided_branch_that_only_moves_the_batch_keeps_its_shape(tmp_path):
    """``if use_cuda: x, y = x.cuda(), y.cuda()`` (use_cuda = torch.cuda.is_available(), unknown
    here) and ``Variable(x)``: either way x has the loader's shape."""
    (tmp_path / "net.py").write_text(NET)
    (tmp_path / "train.py").write_text(SCRIPT.format(
        setup="data = datasets.CIFAR10('.', transform=transforms.ToTensor())\nuse_cuda = torch.cuda.is_available()",
        loop="    if use_cuda:\n        x, y = x.cuda(), y.cuda()\n    x = torch.autograd.Variable(x)\n    model(x)"))
    a = _lint(tmp_path / "net.py")
    assert [r.inputs for r in a.runs if r.input_from] == [[(2, 3, 32, 32)]]


def test_the_loops_target_rebound_later_in_the_body_is_fresh_each_iteration(tmp_path):
    """``for x, y in loader: x = x.cuda(); model(x); x = x.half()``: each iteration binds x
    afresh from the loader (Python's ``for`` assigns its target before every iteration), so the
    later rebinding never reaches ``model(x)``: the model sees the loader's batch each time."""
    (tmp_path / "net.py").write_text(NET)
    (tmp_path / "train.py").write_text(SCRIPT.format(
        setup="data = datasets.CIFAR10('.', transform=transforms.ToTensor())",
        loop="    x = x.float()\n    model(x)\n    x = x[:, :1]"))
    a = _lint(tmp_path / "net.py")
    assert [r.inputs for r in a.runs if r.input_from] == [[(2, 3, 32, 32)]]


@pytest.mark.parametrize("name", list(UNDECIDED))
def test_undecided_pipelines_give_no_input(tmp_path, name):
    setup, loop = UNDECIDED[name]
    (tmp_path / "net.py").write_text(NET)
    (tmp_path / "train.py").write_text(SCRIPT.format(setup=setup, loop=loop))
    a = _lint(tmp_path / "net.py")
    assert not any(r.input_from for r in a.runs) and a.findings == []
    # the same script with the plain CIFAR10 pipeline does give the input
    (tmp_path / "train.py").write_text(SCRIPT.format(
        setup="data = datasets.CIFAR10('.', transform=transforms.ToTensor())", loop="    model(x)"))
    a = _lint(tmp_path / "net.py")
    assert [r.inputs for r in a.runs if r.input_from] == [[(2, 3, 32, 32)]]


def test_no_batch_dimension_or_a_rebound_global_give_no_input(tmp_path):
    """``batch_size=None`` yields unbatched samples; a function reading a module global bound twice
    (which binding its call sees is not followed) gives nothing either."""
    (tmp_path / "net.py").write_text(NET)
    plain = SCRIPT.format(setup="data = datasets.CIFAR10('.', transform=transforms.ToTensor())", loop="    model(x)")
    (tmp_path / "train.py").write_text(plain.replace("batch_size=2", "batch_size=None"))
    assert not any(r.input_from for r in _lint(tmp_path / "net.py").runs)
    glob = plain.replace("for x, y in loader:\n    model(x)", "def run():\n    for x, y in loader:\n        model(x)\n")
    (tmp_path / "train.py").write_text(glob + "run()\n")
    assert [r.inputs for r in _lint(tmp_path / "net.py").runs if r.input_from] == [[(2, 3, 32, 32)]]
    (tmp_path / "train.py").write_text(glob + "run()\nloader = torch.utils.data.DataLoader(data, batch_size=4)\nrun()\n")
    assert not any(r.input_from for r in _lint(tmp_path / "net.py").runs)


# -- PyTorch Lightning (lint/lightning.py): data_lightning's train.py changed ---------------------

LOADER = '''    loader = DataLoader(CIFAR10("data", transform=T.ToTensor()), batch_size=8)
    trainer.fit(model, train_dataloaders=loader)'''


def test_lightning_loader_given_to_fit(tmp_path):
    """``fit(model, train_dataloaders=loader)``: that loader's batch (the module has no
    val_dataloader of its own); torch fails on the marked line at that input."""
    root = _copy(tmp_path, "data_lightning")
    train = root / "train.py"
    train.write_text(train.read_text().replace("    trainer.fit(model, data)", LOADER))
    (f,) = _lint(root / "model.py").findings
    assert (f.line, f.code) == _marker(root / "model.py") and "input 8x3x32x32 " in f.message, f.message
    assert "input from train.py:61 (CIFAR10)" in f.message, f.message
    rc, err, seen = oracle(root, "train.py")
    assert rc != 0 and seen["SmallNet"] == "8x3x32x32" and 'model.py", line 17' in err, err


# (old, new) in train.py: each leaves the batch undecided -> no input, no finding
LIGHTNING_UNDECIDED = {
    "transform size from the environment": [
        ("import argparse", "import argparse\nimport os"),
        ("T.ToTensor()", 'T.Resize(int(os.environ.get("SIZE", "32"))), T.ToTensor()')],
    "a batch hook of the module": [
        ("    def configure_optimizers(self):", "    def on_after_batch_transfer(self, batch, dataloader_idx):\n"
         "        return batch[0][:, :, :28], batch[1]\n\n    def configure_optimizers(self):")],
    "the model attribute rebound": [
        ("        return torch.optim.SGD(", "        self.model = torch.nn.Flatten()\n        return torch.optim.SGD(")],
    "the datamodule not decided": [("    trainer.fit(model, data)", "    trainer.fit(model, args.data)")],
}


@pytest.mark.parametrize("name", list(LIGHTNING_UNDECIDED))
def test_lightning_undecided_gives_no_input(tmp_path, name):
    root = _copy(tmp_path, "data_lightning")
    train = root / "train.py"
    text = train.read_text()
    for old, new in LIGHTNING_UNDECIDED[name]:
        assert old in text
        text = text.replace(old, new)
    train.write_text(text)
    a = _lint(root / "model.py")
    assert a.findings == [] and not any(r.input_from for r in a.runs), [x.message for x in a.findings]


def test_lightning_transform_size_from_the_environment_is_undecidable(tmp_path):
    """Either guess would be wrong for one setting: torch fails at SIZE=32 and runs at SIZE=36."""
    root = _copy(tmp_path, "data_lightning")
    train = root / "train.py"
    text = train.read_text()
    for old, new in LIGHTNING_UNDECIDED["transform size from the environment"]:
        text = text.replace(old, new)
    train.write_text(text)
    rc, err, seen = oracle(root, "train.py", {"SIZE": "36"})
    assert rc == 0 and seen["SmallNet"] == "4x3x36x36", err
    rc, err, seen = oracle(root, "train.py", {"SIZE": "32"})
    assert rc != 0 and seen["SmallNet"] == "4x3x32x32", err


def test_a_script_in_python_36_syntax_still_tells_how_the_model_is_fed(tmp_path):
    """``input.cuda(async=True)`` (the pre-0.4 spelling; ``async`` is a keyword since Python 3.7):
    the script is read with 3.6's grammar, and the model file gets the same input and finding as
    with ``non_blocking=True`` (whose torch run test_torch_agrees checks)."""
    root = _copy(tmp_path, "data_module_dict")
    main = root / "main.py"
    main.write_text(main.read_text().replace("non_blocking=True", "async=True"))
    with pytest.raises(SyntaxError):
        compile(main.read_text(), str(main), "exec")
    (f,) = _lint(root / "vgg.py").findings
    assert (f.line, f.code) == _marker(root / "vgg.py")
    assert "input 4x3x32x32 " in f.message and "builds it with arch='vgg_w'" in f.message, f.message


def test_module_level_models_fed_by_the_files_loader(tmp_path):
    """The GAN tutorial's layout (module-level nn.Sequential models, trained in a module-level
    loop over MNIST): D's first call gets the loader's flattened batch, and the bug is reported
    there, where torch fails (its message names the same 8x784 batch); the fixed script runs."""
    root = _copy(tmp_path, "data_gan_sequential")
    main = root / "main.py"
    (f,) = _lint(main).findings
    assert (f.line, f.code) == _marker(main), f.message
    assert "for input 8x784" in f.message and "(input from main.py:17 (MNIST))" in f.message, f.message
    rc, err, _ = oracle(root, "main.py")
    assert rc != 0 and "(8x784 and 785x256)" in err, err
    frames = [(Path(p).resolve(), int(n)) for p, n in re.findall(r'File "([^"]+)", line (\d+)', err)]
    assert [fr for fr in frames if fr[0] == main.resolve()][-1][1] == f.line
    main.write_text(main.read_text().replace("nn.Linear(785, hidden_size)", "nn.Linear(image_size, hidden_size)"))
    assert _lint(main).findings == []
    rc, err, _ = oracle(root, "main.py")
    assert rc == 0, err


PAIRED_NETS = '''
import torch.nn as nn


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 5)
        self.fc = nn.Linear(6 * 24 * 24, 10)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


class CifarNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 5)
        self.fc = nn.Linear(6 * 28 * 28, 10)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))
'''

PAIRED_MAIN = '''
import argparse

import torch
from torchvision import datasets, transforms

from nets import CifarNet, LeNet

parser = argparse.ArgumentParser()
parser.add_argument("--model", default="lenet")
parser.add_argument("--dataset", choices=["mnist", "cifar10"], default="mnist")
args = parser.parse_args()

if args.model == "lenet":
    model = LeNet()
elif args.model == "cifarnet":
    model = CifarNet()

if args.dataset == "mnist":
    data = datasets.MNIST("./data", train=True, transform=transforms.ToTensor())
else:
    data = datasets.CIFAR10("./data", train=True, transform=transforms.ToTensor())
loader = torch.utils.data.DataLoader(data, batch_size=4)
for x, y in loader:
    model(x)
    break
'''


def test_a_model_flag_paired_with_a_dataset_flag_is_not_guessed(tmp_path):
    """--model cifarnet is meant with --dataset cifar10 (torch runs that pair); with the default
    --dataset mnist it fails, but which model goes with which dataset is the authors' to say:
    a non-default model is fed only when every choice of the other flags gives it the same input."""
    (tmp_path / "nets.py").write_text(PAIRED_NETS)
    (tmp_path / "main.py").write_text(PAIRED_MAIN)
    a = _lint(tmp_path / "nets.py")
    assert a.findings == []
    inputs = {c["class"]: c.get("input") for c in a.coverage}
    assert inputs["LeNet"] == "4x1x28x28 from main.py:23 (MNIST)" and not inputs["CifarNet"]
    rc, err, seen = oracle(tmp_path, "main.py --model cifarnet --dataset cifar10")
    assert rc == 0 and seen["CifarNet"] == "4x3x32x32", err
    rc, err, _ = oracle(tmp_path, "main.py --model cifarnet")
    assert rc != 0 and "expected input[4, 1, 28, 28] to have 3 channels" in err, err


CV2_DATASET = '''
import cv2
import torch.utils.data as data


class SegDataset(data.Dataset):
    def __init__(self, paths, transform=None, target_transform=None):
        self.paths = paths
        self.transform = transform
        self.target_transform = target_transform

    def __getitem__(self, index):
        w, h = (48, 40)
        pic = cv2.imread(self.paths[index])
        pic = cv2.resize(pic, (w, h))
        pic = pic.astype("float32") / 255
        if self.transform is not None:
            img = self.transform(pic)
        return img, 0, self.paths[index]

    def __len__(self):
        return len(self.paths)
'''

CV2_MAIN = '''
import glob

import torch
from torch.utils.data import DataLoader
from torchvision import transforms

from dataset import SegDataset
from probes import P0

x_transforms = transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5] * 3, [0.5] * 3)])
loader = DataLoader(SegDataset(sorted(glob.glob("data/images/a/*.png")), transform=x_transforms), batch_size=2)
model = P0()
for x, _, path in loader:
    model(x)
    break
'''


def test_an_opencv_dataset_gives_its_resized_size(tmp_path):
    """UNET-ZOO's datasets: ``cv2.imread`` (three channels, BGR, H x W x C), ``cv2.resize(pic,
    (width, height))``, a float array through ToTensor: C x height x width, a three-item sample."""
    root = tmp_path / "seg"
    root.mkdir()
    (root / "dataset.py").write_text(CV2_DATASET)
    (root / "main.py").write_text(CV2_MAIN)
    (root / "probes.py").write_text("import torch.nn as nn\n\n\nclass P0(nn.Module):\n"
                                    "    def forward(self, x):\n        return x\n")
    a = _lint(root / "probes.py")
    assert a.findings == []
    (run,) = [r for r in a.runs if r.input_from]
    assert "x".join(map(str, run.inputs[0])) == "2x3x40x48"
    assert run.input_from == "main.py:12 (SegDataset, cv2.resize((48, 40)))"
    pytest.importorskip("cv2")  # OpenCV itself, when installed, says the same
    rc, err, seen = oracle(root, "main.py")
    assert rc == 0, err
    assert seen["P0"] == "2x3x40x48"


DICT_SETUP = '''data_transform = {{
    "train": transforms.Compose([transforms.RandomResizedCrop({size}), transforms.ToTensor()]),
    "val": transforms.Compose([transforms.Resize((40, 40)), transforms.ToTensor()])}}
data = datasets.ImageFolder(os.path.join("data", "images"), transform=data_transform["train"]){extra}'''


@pytest.mark.parametrize("size", [32, 34])
def test_a_transform_picked_from_a_dict_literal(tmp_path, size):
    """``data_transform = {"train": Compose([...]), "val": ...}`` then ``transform=data_transform["train"]``
    (the classification course of fresh10): the entry the key selects is the transform."""
    (tmp_path / "net.py").write_text(NET)
    (tmp_path / "train.py").write_text(SCRIPT.format(setup=DICT_SETUP.format(size=size, extra=""),
                                                     loop="    model(x)"))
    a = _lint(tmp_path / "net.py")
    assert [r.inputs for r in a.runs if r.input_from] == [[(2, 3, size, size)]]
    assert [f.code for f in a.findings] == ([] if size == 32 else ["SHP002"])
    rc, err, seen = oracle(tmp_path, "train.py")
    assert seen["Net"] == f"2x3x{size}x{size}" and (rc == 0) == (size == 32), err


def test_a_dict_of_transforms_changed_later_gives_no_input(tmp_path):
    (tmp_path / "net.py").write_text(NET)
    extra = '\ndata_transform["train"] = transforms.ToTensor()'
    (tmp_path / "train.py").write_text(SCRIPT.format(setup=DICT_SETUP.format(size=32, extra=extra),
                                                     loop="    model(x)"))
    a = _lint(tmp_path / "net.py")
    assert [r.inputs for r in a.runs if r.input_from] == []


COURSE_UNDECIDED = {
    "no mode guard": ("my_dataset.py", "        if img.mode != 'RGB':\n            raise ValueError(\"image: {} isn't RGB mode.\".format(self.images_path[item]))\n", ""),
    "a guard for another mode": ("my_dataset.py", "img.mode != 'RGB'", "img.mode == 'RGB'"),
    "a collate stacking on dim 1": ("my_dataset.py", "torch.stack(images, dim=0)", "torch.stack(images, dim=1)"),
    "a collate changing the images": ("my_dataset.py", "labels = torch.as_tensor(labels)",
                                      "images = images[:, :1]"),
    "the loader's dataset replaced": ("utils.py", "data_loader.desc = ", "data_loader.dataset = "),
}


@pytest.mark.parametrize("name", list(COURSE_UNDECIDED))
def test_the_course_layout_undecided_gives_no_input(tmp_path, name):
    root = _copy(tmp_path, "data_course_utils")
    f, old, new = COURSE_UNDECIDED[name]
    text = (root / f).read_text()
    assert old in text
    (root / f).write_text(text.replace(old, new))
    a = _lint(root / "model.py")
    assert [r.inputs for r in a.runs if r.input_from] == [] and a.findings == [], name


NUMPY_UNDECIDED = {
    "no .float()": ("torch.from_numpy(img_chw).float()", "torch.from_numpy(img_chw)"),
    "channels last": ("img_hwc.transpose((2, 0, 1))", "img_hwc.transpose((0, 1, 2))"),
    "the HWC array itself": ("torch.from_numpy(img_chw).float()", "torch.from_numpy(img_hwc).float()"),
    "a mode not fixed": ("Image.open(self.paths[index]).convert('RGB')", "Image.open(self.paths[index])"),
}


@pytest.mark.parametrize("name", list(NUMPY_UNDECIDED))
def test_a_hand_made_layout_not_followed_gives_no_input(tmp_path, name):
    root = _copy(tmp_path, "data_numpy_dataset")
    ds = root / "seg" / "tools" / "my_dataset.py"
    old, new = NUMPY_UNDECIDED[name]
    assert old in ds.read_text()
    ds.write_text(ds.read_text().replace(old, new))
    a = _lint(root / "seg" / "tools" / "net.py")
    assert [r.inputs for r in a.runs if r.input_from] == [] and a.findings == [], name


PATH_UNDECIDED = {
    "a lambda that opens something else": ("lambda x: Image.open(x).convert('RGB')",
                                           "lambda x: Image.open(x.replace('a', 'b')).convert('RGB')"),
    "no mode given": ("lambda x: Image.open(x).convert('RGB')", "lambda x: Image.open(x)"),
    "a size the constructor does not decide statically": ("transforms.CenterCrop(self.resize)", "transforms.CenterCrop(self.crop)"),
}


@pytest.mark.parametrize("name", list(PATH_UNDECIDED))
def test_a_path_pipeline_not_followed_gives_no_input(tmp_path, name):
    root = _copy(tmp_path, "data_path_lambda")
    ds = root / "pokemon.py"
    old, new = PATH_UNDECIDED[name]
    assert old in ds.read_text()
    ds.write_text(ds.read_text().replace(old, new).replace("self.mode = mode", "self.mode = mode\n"
                                                           "        self.crop = resize if mode == 'x' else 40"))
    a = _lint(root / "resnet.py")
    assert [r.inputs for r in a.runs if r.input_from] == [] and a.findings == [], name


def test_importers_are_not_searched_in_a_large_tree(tmp_path, monkeypatch):
    """A project of more files than MAX_PROJECT_FILES (a library's source tree) is not searched for
    importers: each importer's analysis would read the whole tree again."""
    from shapelint import importers

    root = _copy(tmp_path, "reverse_blocks")
    assert importers.importers(str(root / "blocks.py"), str(root)) == [str(root / "model.py")]
    monkeypatch.setattr(importers, "MAX_PROJECT_FILES", 1)  # model.py and train.py: two
    assert importers.importers(str(root / "blocks.py"), str(root)) == []
    assert _lint(root / "blocks.py").findings == []


def test_a_helper_file_is_checked_through_the_models_that_import_it(tmp_path):
    """Reverse reach (lint/importers.py): nothing in blocks.py meets a real input; model.py imports its blocks
    and builds Net, which train.py feeds CIFAR. Linting blocks.py reports the view that fails
    there, at its own line, through model.py's Net; torch fails on that line. The fixed helper
    lints clean, and runs."""
    root = _copy(tmp_path, "reverse_blocks")
    blocks = root / "blocks.py"
    (f,) = _lint(blocks).findings
    assert (f.line, f.code) == _marker(blocks), f.message
    assert f.path == str(blocks) and "reached through Net() of model.py" in f.message, f.message
    assert "input from train.py:8 (CIFAR10)" in f.message
    rc, err, seen = oracle(root, "train.py")
    assert rc != 0 and seen["Net"] == "4x3x32x32", err
    frames = [(Path(p).resolve(), int(n)) for p, n in re.findall(r'File "([^"]+)", line (\d+)', err)]
    inside = [fr for fr in frames if fr[0].is_relative_to(root.resolve())]
    assert inside[-1] == (blocks.resolve(), f.line), err
    blocks.write_text(blocks.read_text().replace("self.channels * 3 * 3", "self.channels * 4 * 4"))
    assert _lint(blocks).findings == []
    rc, err, _ = oracle(root, "train.py")
    assert rc == 0, err
