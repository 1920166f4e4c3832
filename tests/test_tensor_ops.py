"""Shape rules of torch functions that are not layers, against torch itself."""
import os

import pytest
import torch

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.frameworks.torch import tensor_ops as T  # noqa: E402
from shapelint.frameworks.torch.layers import Unknowable, Violation  # noqa: E402
from shapelint.core.values import Tensor  # noqa: E402

EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk->ik", [(2, 3), (4, 4)]),
    ("bhid,bhjd->bhij", [(2, 4, 5, 8), (2, 4, 7, 8)]), ("bhij,bhjd->bhid", [(2, 4, 5, 7), (2, 4, 7, 8)]),
    ("bhij,bhjd->bhid", [(2, 4, 5, 7), (2, 4, 6, 8)]), ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
    ("ij->ji", [(2, 3)]), ("ij,ij->", [(2, 3), (2, 3)]), ("ii->i", [(3, 3)]), ("ij,kj", [(2, 3), (4, 3)]),
    ("bi,bi->b", [(2, 3), (1, 3)]), ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ij,jk->ik", [(2, 3), (1, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ijk,jk->i", [(2, 3, 4), (3, 5)]),
]


def _static(fn):
    try:
        return fn().shape, None
    except (Violation, Unknowable) as e:
        return None, e


@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum_matches_torch(eq, shapes):
    try:
        ref, err = tuple(torch.einsum(eq, *[torch.randn(*s) for s in shapes]).shape), None
    except RuntimeError as e:
        ref, err = None, e
    got, serr = _static(lambda: T.einsum(eq, [Tensor(s) for s in shapes]))
    if err is None:
        assert got == ref
    else:
        assert isinstance(serr, Violation)


@pytest.mark.parametrize("shape,args", [((2, 10, 7), (1, 3, 2)), ((4, 5), (0, 2, 1)), ((2, 3, 8, 8), (2, 4, 4)),
                                        ((3, 9), (1, 9, 1)), ((3, 9), (1, 10, 1))])
def test_tensor_unfold_matches_torch(shape, args):
    try:
        ref, err = tuple(torch.randn(*shape).unfold(*args).shape), None
    except RuntimeError as e:
        ref, err = None, e
    got, serr = _static(lambda: T.unfold(Tensor(shape), *args))
    if err is None:
        assert got == ref
    else:
        assert isinstance(serr, Violation)


# advanced indexing: (x shape, key); "L:shape" an integer index tensor, "B:shape" a boolean mask,
# a list of ints, int, slice, None, Ellipsis (checked against torch's own result shapes)
ADVANCED = [
    ((5, 6, 7), ("L:3",)), ((5, 6, 7), (slice(None), "L:3")), ((5, 6, 7), ("L:3", slice(None), 0)),
    ((5, 6, 7), (0, slice(None), "L:3")), ((5, 6, 7), (slice(None), 0, "L:3")), ((5, 6, 7), ("L:3", 0, slice(None))),
    ((5, 6, 7), ("L:2,1", slice(None), "L:3")), ((5, 6, 7), ([0, 1],)), ((5, 6, 7), ([0, 1], [1, 2])),
    ((5, 6, 7), (Ellipsis, "L:3")), ((5, 6, 7), ("L:3", Ellipsis)), ((5, 6, 7), (None, "L:3")),
    ((2, 64, 3), ("L:2,1", "L:2,16", slice(None))), ((2, 16, 32), ("L:2,16,8",)),
    ((2, 64, 3), ("L:2,16", "L:2,16", slice(None))), ((5, 6, 7), ("L:4", "L:3")),
    ((5, 6, 7), ("B:5,6",)), ((5, 6, 7), (slice(None), "B:6")), ((5, 6, 7), ("B:5,7",)),
]


def _key(k):
    if isinstance(k, str) and k[:2] in ("L:", "B:"):
        shape = tuple(int(v) for v in k[2:].split(","))
        dtype = "long" if k[0] == "L" else "bool"
        real = torch.zeros(shape, dtype=torch.long) if dtype == "long" else torch.ones(shape, dtype=torch.bool)
        return real, Tensor(shape, dtype)
    return k, k


@pytest.mark.parametrize("shape,key", ADVANCED, ids=[f"{s}-{k}" for s, k in ADVANCED])
def test_advanced_indexing_matches_torch(shape, key):
    real = tuple(_key(k)[0] for k in key)
    static = tuple(_key(k)[1] for k in key)
    try:
        ref, err = tuple(torch.zeros(shape)[real].shape), None
    except (IndexError, RuntimeError) as e:
        ref, err = None, e
    got, serr = _static(lambda: T.index(Tensor(shape), static))
    if err is not None:
        assert got is None  # never a shape torch refuses (unknown, or a finding)
    elif any(isinstance(k, str) and k.startswith("B:") for k in key):
        # a mask's count of True values is data: that dim is unknown, the others are torch's
        assert got is not None and len(got) == len(ref)
        assert [g for g, r in zip(got, ref) if isinstance(g, int)] == [r for g, r in zip(got, ref) if isinstance(g, int)]
    else:
        assert got == ref, (got, ref)


@pytest.mark.parametrize("call", ["sort(dim=-1)", "sort(1)", "argsort(dim=0)", "topk(3)", "topk(2, dim=1)",
                                  "topk(5, 0)", "sort(dim=2)"])
def test_sort_and_topk_match_torch(call):
    from shapelint.frameworks.torch.tensor_methods import _m_sort

    x = torch.randn(4, 6)
    name, rest = call.split("(", 1)
    args, kwargs = [], {}
    for part in filter(None, (p.strip() for p in rest.rstrip(")").split(","))):
        if "=" in part:
            k, v = part.split("=")
            kwargs[k] = int(v)
        else:
            args.append(int(part))
    try:
        ref = getattr(x, name)(*args, **kwargs)
        ref_shapes = [tuple(t.shape) for t in ref] if isinstance(ref, tuple) else [tuple(ref.shape)]
        err = None
    except (IndexError, RuntimeError) as e:
        ref_shapes, err = None, e
    try:
        got = _m_sort(None, Tensor((4, 6)), name, args, kwargs, None)
        got_shapes = [t.shape for t in got] if isinstance(got, tuple) else [got.shape]
    except (Violation, Unknowable):
        got_shapes = None
    if err is not None:
        assert got_shapes is None
    else:
        assert got_shapes == ref_shapes
