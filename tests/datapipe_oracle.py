"""Runs a fixture project's training script in real torch + torchvision, on tiny data files it
writes in torchvision's own formats (no download): the sample sizes then come from torchvision's
dataset classes, the transforms and the DataLoader are torchvision's and torch's.

    python datapipe_oracle.py PROJECT_COPY SCRIPT [ARG ...]

torchvision: the installed package, else the source folder named by SHAPELINT_TORCHVISION_SRC (its
``datasets`` and ``transforms`` are imported without the package's compiled ops). Exit 3: no
torchvision (or no PIL) here.
"""
import os
import pickle
import runpy
import struct
import sys
import types

import numpy as np


def _torchvision():
    try:
        import torchvision  # noqa: F401
        return
    except Exception:
        sys.modules.pop("torchvision", None)
    src = os.environ.get("SHAPELINT_TORCHVISION_SRC")
    if not src or not os.path.isdir(os.path.join(src, "datasets")):
        sys.exit(3)
    pkg = types.ModuleType("torchvision")
    pkg.__path__ = [src]  # the package without its __init__ (which loads compiled ops)
    pkg.get_image_backend = lambda: "PIL"
    sys.modules["torchvision"] = pkg


def _cifar(root, n=8):
    d = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in ["data_batch_%d" % i for i in range(1, 6)] + ["test_batch"]:
        with open(os.path.join(d, name), "wb") as f:
            pickle.dump({"data": rng.integers(0, 255, (n, 3072), dtype=np.uint8), "labels": [0, 1] * (n // 2)}, f)
    with open(os.path.join(d, "batches.meta"), "wb") as f:
        pickle.dump({"label_names": [str(i) for i in range(10)]}, f)


def _cifar100(root, n=8):
    d = os.path.join(root, "cifar-100-python")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in ("train", "test"):
        with open(os.path.join(d, name), "wb") as f:
            pickle.dump({"data": rng.integers(0, 255, (n, 3072), dtype=np.uint8), "fine_labels": [0, 1] * (n // 2)}, f)
    with open(os.path.join(d, "meta"), "wb") as f:
        pickle.dump({"fine_label_names": [str(i) for i in range(100)]}, f)


def _mnist(root, n=8):
    d = os.path.join(root, "MNIST", "raw")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(0)
    for split in ("train", "t10k"):
        with open(os.path.join(d, f"{split}-images-idx3-ubyte"), "wb") as f:
            f.write(struct.pack(">IIII", 2051, n, 28, 28) + rng.integers(0, 255, n * 28 * 28, dtype=np.uint8).tobytes())
        with open(os.path.join(d, f"{split}-labels-idx1-ubyte"), "wb") as f:
            f.write(struct.pack(">II", 2049, n) + bytes([i % 10 for i in range(n)]))


def _image_folder(root, n=4, size=(100, 80)):
    from PIL import Image

    for cls in ("a", "b"):
        os.makedirs(os.path.join(root, cls), exist_ok=True)
        for i in range(n):
            arr = np.random.default_rng(i).integers(0, 255, (size[0], size[1], 3), dtype=np.uint8)
            Image.fromarray(arr).save(os.path.join(root, cls, f"{i}.png"))


def _record_inputs(project):
    """Prints ``oracle-input CLASS SHAPE`` for the first call of each of the project's modules."""
    import torch

    seen = set()

    def hook(module, args):
        cls = type(module)
        path = getattr(sys.modules.get(cls.__module__), "__file__", "") or ""
        if cls.__name__ not in seen and os.path.abspath(path).startswith(os.path.abspath(project)) and \
                args and isinstance(args[0], torch.Tensor):
            seen.add(cls.__name__)
            # on a line of its own: a progress bar (tqdm) may have left its line open on stderr
            print(f"\noracle-input {cls.__name__} {'x'.join(map(str, args[0].shape))}", file=sys.stderr, flush=True)

    torch.nn.modules.module.register_module_forward_pre_hook(hook)


def _lightning_stub():
    """pytorch_lightning, when not installed: a minimal stand-in that runs what ``Trainer.fit``
    runs first (the validation sanity check, then a training step) on the first batch of the
    loaders the real one would use (the DataModule's, those given to fit, or the module's own)."""
    import importlib.util

    import torch

    if importlib.util.find_spec("pytorch_lightning") is not None:
        return
    pl = types.ModuleType("pytorch_lightning")

    class LightningModule(torch.nn.Module):
        def log(self, *args, **kwargs):
            pass

    class LightningDataModule:
        def __init__(self):
            pass

    class Trainer:
        def __init__(self, **kwargs):
            pass

        def fit(self, model, train_dataloaders=None, val_dataloaders=None, datamodule=None):
            if isinstance(train_dataloaders, LightningDataModule):
                datamodule, train_dataloaders = train_dataloaders, None
            src = datamodule or model
            val = val_dataloaders or (src.val_dataloader() if hasattr(src, "val_dataloader") else None)
            if val is not None and hasattr(model, "validation_step"):
                model.validation_step(next(iter(val)), 0)
            model.training_step(next(iter(train_dataloaders or src.train_dataloader())), 0)

    pl.LightningModule, pl.LightningDataModule, pl.Trainer = LightningModule, LightningDataModule, Trainer
    sys.modules["pytorch_lightning"] = pl


def main(project, script, *argv):
    _torchvision()
    try:
        import PIL  # noqa: F401
        import torchvision.datasets as datasets
        import torchvision.datasets.cifar as cifar
    except ImportError:
        sys.exit(3)
    import torchvision.transforms as transforms

    # the deprecated names older scripts use, as torchvision < 0.15 defined them (subclasses)
    if not hasattr(transforms, "Scale"):
        transforms.Scale = type("Scale", (transforms.Resize,), {})
    if not hasattr(transforms, "RandomSizedCrop"):
        transforms.RandomSizedCrop = type("RandomSizedCrop", (transforms.RandomResizedCrop,), {})
    cifar.check_integrity = lambda *a, **k: True  # the md5 sums are of the real files
    datasets.CIFAR10._check_integrity = lambda self: True
    os.chdir(project)
    _cifar("data")
    _cifar100("data")
    _mnist("data")
    _image_folder(os.path.join("data", "images"))
    sys.path.insert(0, project)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))  # as `python dir/script.py` does
    sys.argv = [script, *argv]
    _record_inputs(project)
    _lightning_stub()
    runpy.run_path(os.path.abspath(script), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *sys.argv[3:])
