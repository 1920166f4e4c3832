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
