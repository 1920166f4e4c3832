"""torchvision's datasets and transforms, statically, for lint/datapipe.py: the size of a
dataset's sample image and what each transform of a ``Compose`` does to it (``RandomCrop(32,
padding=4)``, ``Resize(64)``, ``ToTensor()``...). A transform not modelled here (a ``Lambda``, a
project's own class) raises _Unknown: the input stays unknown. Only ``ast``; no torchvision.
"""
from __future__ import annotations

import ast
from typing import Any, Dict, List, Optional, Tuple

from .staticeval import _Unknown
from .pyflow import Ctx, _arg, _dict_entry, _mutated, _qual, _reach, _short, _static

# torchvision.datasets class -> (channels, height, width) of one sample image (after ToTensor),
# None where a transform must fix it. Checked against torchvision's source (datasets/*.py):
#   MNIST and its subclasses FashionMNIST, KMNIST, EMNIST, QMNIST: mnist.py gives
#     ``_Image_fromarray(img.numpy(), mode="L")`` of the 28x28 idx images (one channel);
#   CIFAR10, CIFAR100 (a subclass): cifar.py ``reshape(-1, 3, 32, 32)``, an RGB image;
#   SVHN: svhn.py transposes the .mat's 32x32x3xN array to N x 3 x 32 x 32, an RGB image;
#   STL10: stl10.py ``np.reshape(everything, (-1, 3, 96, 96))``;
#   ImageFolder, ImageNet (an ImageFolder), LSUN: the default loader's ``.convert("RGB")``, any size;
#   CelebA: the RGB JPEGs of img_align_celeba, opened as they are (size left to a transform).
DATASETS: Dict[str, Tuple[int, Optional[int], Optional[int]]] = {
    "MNIST": (1, 28, 28), "FashionMNIST": (1, 28, 28), "KMNIST": (1, 28, 28), "EMNIST": (1, 28, 28),
    "QMNIST": (1, 28, 28), "CIFAR10": (3, 32, 32), "CIFAR100": (3, 32, 32), "SVHN": (3, 32, 32),
    "STL10": (3, 96, 96), "ImageFolder": (3, None, None), "ImageNet": (3, None, None),
    "LSUN": (3, None, None), "CelebA": (3, None, None),
}

# where ``transform`` stands among each constructor's positional parameters (else a keyword)
_TRANSFORM_POS = {"MNIST": 2, "FashionMNIST": 2, "KMNIST": 2, "CIFAR10": 2, "CIFAR100": 2, "SVHN": 2,
                  "STL10": 3, "ImageFolder": 1, "LSUN": 2, "CelebA": 3}


# transforms that keep the image's size and channels, on a PIL image or a float tensor ...
_KEEP = {"RandomHorizontalFlip", "RandomVerticalFlip", "ColorJitter", "RandomAffine", "RandomPerspective",
         "RandomGrayscale", "GaussianBlur", "RandomAutocontrast", "RandomAdjustSharpness"}

# ... on a PIL image only (these want uint8 tensors) ...
_KEEP_PIL = {"RandomInvert", "RandomPosterize", "RandomSolarize", "RandomEqualize", "AutoAugment", "RandAugment",
             "TrivialAugmentWide", "AugMix"}

# ... on a float tensor only
_KEEP_TENSOR = {"Normalize", "RandomErasing"}


Img = Tuple[str, Optional[int], Optional[int], Optional[int]]  # ('pil' | 'tensor' | 'u8' | 'nd', C, H, W)


def _dataset_name(q: str) -> Optional[str]:
    n = _short(q, "torchvision.datasets")
    return n if n in DATASETS else None


def _transform_name(q: str) -> Optional[str]:
    if q.startswith("torchvision.transforms.v2"):
        return None  # v2's ToTensor/ToImage differ: not modelled
    return _short(q, "torchvision.transforms")


def _transform(node: ast.expr, ctx: Ctx, img: Img, steps: List[str], depth: int = 0) -> Img:
    """The image after the transform ``node`` (a Compose, or one transform)."""
    if depth > 12:
        raise _Unknown
    if isinstance(node, ast.Name):
        if _mutated(ctx, node.id, node):
            raise _Unknown
        b = _reach(ctx, node.id, node)
        if b[0] == "param":
            got = ctx.env.get(id(b[1]), {}).get(node.id)
            if got is None:
                raise _Unknown
            return _transform(got[0], got[1], img, steps, depth + 1)
        if b[0] != "assign" or b[2]:
            raise _Unknown
        return _transform(b[1], ctx, img, steps, depth + 1)
    if isinstance(node, ast.IfExp):
        taken = node.body if _static(node.test, ctx) else node.orelse
        return _transform(taken, ctx, img, steps, depth + 1)
    if isinstance(node, ast.Subscript):  # data_transform["train"], a dict literal of transforms
        return _transform(_dict_entry(node, ctx), ctx, img, steps, depth + 1)
    if not isinstance(node, ast.Call) or any(k.arg is None for k in node.keywords) or \
            any(isinstance(a, ast.Starred) for a in node.args):
        raise _Unknown
    name = _transform_name(_qual(node.func, ctx))
    if name == "Compose":
        if len(node.args) != 1 or node.keywords:
            raise _Unknown
        for e in _list_items(node.args[0], ctx):
            img = _transform(e, ctx, img, steps, depth + 1)
        return img
    if name is None:
        raise _Unknown
    return _step(name, node, ctx, img, steps)


def _list_items(node: ast.expr, ctx: Ctx, depth: int = 0) -> List[ast.expr]:
    """The elements of a transform list: a literal, ``a + b``, a name bound once to one."""
    if depth > 8:
        raise _Unknown
    if isinstance(node, (ast.List, ast.Tuple)):
        if any(isinstance(e, ast.Starred) for e in node.elts):
            raise _Unknown
        return list(node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _list_items(node.left, ctx, depth + 1) + _list_items(node.right, ctx, depth + 1)
    if isinstance(node, ast.IfExp):
        taken = node.body if _static(node.test, ctx) else node.orelse
        return _list_items(taken, ctx, depth + 1)
    if isinstance(node, ast.Name):
        if _mutated(ctx, node.id, node):
            raise _Unknown
        b = _reach(ctx, node.id, node)
        if b[0] != "assign" or b[2]:
            raise _Unknown
        return _list_items(b[1], ctx, depth + 1)
    raise _Unknown


def _size(v: Any) -> Tuple[int, int]:
    if isinstance(v, (tuple, list)) and len(v) == 1:
        v = v[0]
    if isinstance(v, int) and not isinstance(v, bool) and v > 0:
        return v, v
    if isinstance(v, (tuple, list)) and len(v) == 2 and \
            all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in v):
        return v[0], v[1]
    raise _Unknown


def _padding(v: Any) -> Tuple[int, int]:
    """(added to H, added to W) by a ``padding`` of F.pad: p, (left/right, top/bottom) or (l, t, r, b)."""
    if isinstance(v, (tuple, list)) and len(v) == 1:
        v = v[0]
    ok = all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in (v if isinstance(v, (tuple, list)) else [v]))
    if not ok:
        raise _Unknown
    if isinstance(v, int):
        return 2 * v, 2 * v
    if len(v) == 2:
        return 2 * v[1], 2 * v[0]
    if len(v) == 4:
        return v[1] + v[3], v[0] + v[2]
    raise _Unknown


def _step(name: str, node: ast.Call, ctx: Ctx, img: Img, steps: List[str]) -> Img:
    kind, c, h, w = img

    def val(pos, kw, default=None):
        a = _arg(node, pos, kw)
        return default if a is None else _static(a, ctx)

    if kind == "nd" and name not in ("ToTensor", "ToPILImage"):
        raise _Unknown  # torchvision's other transforms take a PIL image or a tensor, not an array
    if name in ("ToTensor", "PILToTensor"):
        if kind not in ("pil", "nd") or (kind == "nd" and name == "PILToTensor"):
            raise _Unknown
        return ("tensor" if name == "ToTensor" else "u8", c, h, w)
    if name == "ToPILImage":
        if kind == "pil" or c not in (1, 3, 4) or node.args or node.keywords:
            raise _Unknown
        return ("pil", c, h, w)
    if name == "Normalize" and kind == "tensor":
        try:
            mean = val(0, "mean")
        except _Unknown:
            mean = None  # a mean the source does not decide: says nothing of the channels
        if isinstance(mean, (tuple, list)) and len(mean) > 1:
            if c is not None and c != len(mean):
                raise _Unknown  # torch fails: the mean broadcast over the channels
            return (kind, len(mean), h, w)  # only an image of that many channels passes
        return img
    if name in _KEEP or (name in _KEEP_PIL and kind == "pil") or (name in _KEEP_TENSOR and kind == "tensor"):
        return img
    if name == "RandomRotation":
        if val(2, "expand", False) is not False:
            raise _Unknown
        return img
    if name == "Grayscale":
        k = val(0, "num_output_channels", 1)
        if k not in (1, 3) or kind == "u8":
            raise _Unknown
        steps.append(f"Grayscale({k})")
        return (kind, k, h, w)
    if name == "Pad":
        dh, dw = _padding(val(0, "padding"))
        steps.append(f"Pad({_render(val(0, 'padding'))})")
        return (kind, c, None if h is None else h + dh, None if w is None else w + dw)
    if name in ("RandomCrop", "CenterCrop", "RandomResizedCrop", "RandomSizedCrop"):  # RandomSizedCrop:
        # torchvision < 0.15's deprecated name of RandomResizedCrop (as Scale was Resize's)
        sh, sw = _size(val(0, "size"))
        text = _render(val(0, "size"))
        if name == "RandomCrop":
            pad = val(1, "padding")
            if pad is not None:
                dh, dw = _padding(pad)
                h, w = (None if h is None else h + dh), (None if w is None else w + dw)
                text += f", padding={_render(pad)}"
            if not val(2, "pad_if_needed", False) and h is not None and w is not None and (h < sh or w < sw):
                raise _Unknown  # torch refuses the crop
        steps.append(f"{name}({text})")
        return (kind, c, sh, sw)
    if name in ("Resize", "Scale"):
        size = val(0, "size")
        if val(None, "max_size") is not None:
            raise _Unknown
        steps.append(f"{name}({_render(size)})")
        if isinstance(size, (tuple, list)) and len(size) == 2:
            return (kind, c) + _size(size)
        s = _size(size)[0]
        if h is None or w is None:
            return (kind, c, None, None)
        short, long = min(h, w), max(h, w)
        new_long = int(s * long / short)
        return (kind, c, s, new_long) if h <= w else (kind, c, new_long, s)
    if name == "Lambda" and kind == "tensor" and len(node.args) == 1 and not node.keywords and \
            isinstance(node.args[0], ast.Lambda) and _keeps_shape(node.args[0], ctx):
        steps.append("Lambda")
        return img  # lambda x: x + torch.rand_like(x) / 128 (dequantisation), x * 2 - 1
    raise _Unknown  # other Lambdas, FiveCrop, a class of the project...


# element-wise, shape-keeping tensor methods and torch functions a Lambda transform may apply
_ELEMENTWISE = {"clamp", "clamp_", "clip", "mul", "mul_", "add", "add_", "sub", "sub_", "div", "div_", "float",
                "abs", "sigmoid", "tanh", "exp", "log", "sqrt", "pow", "neg", "round", "floor", "ceil"}
_LIKE = {"rand_like", "randn_like", "zeros_like", "ones_like", "full_like", "clamp", "clip", "tanh", "sigmoid",
         "abs", "exp", "log", "sqrt", "round"}


def _keeps_shape(fn: ast.Lambda, ctx: Ctx) -> bool:
    """A ``lambda x: ...`` whose value has the shape of ``x``: ``x`` itself, numbers, element-wise
    arithmetic of those, element-wise methods of those with numeric arguments, and
    ``torch.rand_like(x)``-style functions of them (a broadcast against another shape, an index or
    a view is not among these)."""
    a = fn.args
    if len(a.args) != 1 or a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
        return False
    x = a.args[0].arg

    def num(e) -> bool:
        return isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool) \
            or isinstance(e, ast.UnaryOp) and num(e.operand) or \
            isinstance(e, ast.BinOp) and num(e.left) and num(e.right)

    def same(e, depth=0) -> bool:  # has x's shape
        if depth > 20:
            return False
        if isinstance(e, ast.Name):
            return e.id == x
        if isinstance(e, ast.UnaryOp):
            return same(e.operand, depth + 1)
        if isinstance(e, ast.BinOp) and not isinstance(e.op, ast.MatMult):
            return same(e.left, depth + 1) and (same(e.right, depth + 1) or num(e.right)) or \
                num(e.left) and same(e.right, depth + 1)
        if isinstance(e, ast.Call) and not e.keywords or isinstance(e, ast.Call) and \
                all(k.arg is not None and num(k.value) for k in e.keywords):
            f = e.func
            if isinstance(f, ast.Attribute) and f.attr in _ELEMENTWISE and same(f.value, depth + 1):
                return all(num(arg) for arg in e.args)
            if isinstance(f, ast.Attribute) and f.attr in _LIKE and e.args and same(e.args[0], depth + 1):
                try:
                    q = _qual(f, ctx)
                except _Unknown:
                    return False
                return q == f"torch.{f.attr}" and all(num(arg) for arg in e.args[1:])
        return False

    return same(fn.body)


def _render(v: Any) -> str:
    return repr(tuple(v)) if isinstance(v, list) else repr(v)
