"""Keyword forms of the tensor methods and torch functions shapelint models, against torch.

Every method with a shape handler is listed in CASES with a call in keyword form (and, where torch
has one, the positional form); torch runs both and shapelint must give the same shapes (or say
nothing: an unknown result, never a wrong one). A method added to the dispatch table without a case
here fails test_every_modelled_method_has_a_keyword_case."""
import os

import pytest
import torch

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.frameworks.torch import tensor_methods as M  # noqa: E402
from shapelint.frameworks.torch.layers import Unknowable, Violation  # noqa: E402
from shapelint.core.values import Tensor, UNKNOWN  # noqa: E402

S = (2, 3, 4)
O = "OTHER"  # placeholder for a second tensor of shape S (or the listed shape)

# method -> list of (kwargs, positional args or None); the receiver has shape S
CASES = {
    "view": [({"size": (6, 4)}, ((6, 4),)), ({"size": (-1,)}, (-1,))],
    "reshape": [({"shape": (2, 2, 2, 3)}, (2, 2, 2, 3)), ({"shape": (4, -1)}, ((4, -1),))],
    "permute": [({"dims": (2, 0, 1)}, (2, 0, 1))],
    "expand": [({"size": (5, 2, 3, 4)}, (5, 2, 3, 4))],
    "repeat": [({"repeats": (1, 2, 1)}, (1, 2, 1))],
    "new_zeros": [({"size": (5, 6)}, (5, 6))], "new_ones": [({"size": (5,)}, (5,))],
    "new_empty": [({"size": (1, 2)}, ((1, 2),))],
    "new_full": [({"size": (5, 6), "fill_value": 1.0}, ((5, 6), 1.0))],
    "new": [({"size": (5, 6)}, (5, 6))],
    "flatten": [({"start_dim": 1}, (1,)), ({"start_dim": 0, "end_dim": 1}, (0, 1)), ({"end_dim": 1}, None)],
    "unflatten": [({"dim": 2, "sizes": (2, 2)}, (2, (2, 2)))],
    "transpose": [({"dim0": 0, "dim1": 2}, (0, 2))], "swapdims": [({"dim0": 0, "dim1": 2}, (0, 2))],
    "swapaxes": [({"axis0": 0, "axis1": 2}, (0, 2))],
    "squeeze": [({"dim": 0}, (0,))], "squeeze_": [({"dim": 0}, (0,))],
    "unsqueeze": [({"dim": 1}, (1,)), ({"dim": -1}, (-1,))], "unsqueeze_": [({"dim": 0}, (0,))],
    "size": [({"dim": 1}, (1,)), ({"dim": -1}, (-1,))],
    "unbind": [({"dim": 1}, (1,))], "chunk": [({"chunks": 2, "dim": 2}, (2, 2))],
    "split": [({"split_size": 2, "dim": 2}, (2, 2)), ({"split_size": [1, 3], "dim": -1}, ([1, 3], -1))],
    "unfold": [({"dimension": 2, "size": 2, "step": 1}, (2, 2, 1))],
    "std": [({"dim": 1, "keepdim": True}, (1, True, True)), ({"dim": 1, "unbiased": False}, (1, False)),
            ({"dim": 1, "correction": 0, "keepdim": True}, None)],
    "var": [({"dim": 1, "keepdim": True}, (1, False, True)), ({"dim": 2, "unbiased": True}, (2, True))],
    "norm": [({"p": 2, "dim": 1, "keepdim": True}, (2, 1, True))],
    "max": [({"dim": 1, "keepdim": True}, (1, True)), ({"other": O}, (O,))],
    "min": [({"dim": 1}, (1,)), ({"other": O}, (O,))],
    "median": [({"dim": 1, "keepdim": True}, (1, True))], "mode": [({"dim": 0}, (0,))],
    "view_as": [({"other": O}, (O,))], "reshape_as": [({"other": (4, 6)}, ((4, 6),))],
    "expand_as": [({"other": (5, 2, 3, 4)}, ((5, 2, 3, 4),))],
    "matmul": [({"other": (4, 5)}, ((4, 5),))], "mm": [({"mat2": (4, 5)}, ((4, 5),))],
    "bmm": [({"mat2": (2, 4, 5)}, ((2, 4, 5),))],
    "dim": [({}, ())], "ndimension": [({}, ())], "numel": [({}, ())], "t": [({}, ())],
    "count_nonzero": [({"dim": 1}, (1,)), ({"axis": 2}, None)],
    "sort": [({"dim": 1}, (1,)), ({"dim": 0, "descending": True}, (0, True))],
    "argsort": [({"dim": 2}, (2,)), ({"dim": 1, "descending": True}, (1, True))],
    "topk": [({"k": 2, "dim": 1}, (2, 1)), ({"k": 1, "dim": 0, "largest": False}, (1, 0, False))],
}
for _r in sorted(M._REDUCE - {"count_nonzero"}):
    CASES[_r] = [({"dim": 1, "keepdim": True}, (1, True)), ({"dim": 2}, (2,)), ({"axis": 1}, None),
                 ({"dim": 1, "keepdims": True}, None)]
CASES["norm"] = [({"p": 2, "dim": 1, "keepdim": True}, (2, 1, True)), ({"dim": 1}, None)]
CASES["std"] = [({"dim": 1, "keepdim": True}, (1, True, True)), ({"dim": 1, "unbiased": False}, (1, False)),
                ({"dim": 1, "correction": 0, "keepdim": True}, None), ({"axis": 1}, None)]
CASES["var"] = [({"dim": 1, "keepdim": True}, (1, False, True)), ({"dim": 2, "unbiased": True}, (2, True))]
CASES["all"] = [({"dim": 1, "keepdim": True}, (1, True)), ({"dim": 2}, (2,))]
CASES["any"] = CASES["all"]
CASES["logsumexp"] = [({"dim": 1, "keepdim": True}, (1, True)), ({"dim": 2}, (2,))]

FUNCTIONS = [  # (torch function, kwargs) with the first tensor as input=/tensor=/tensors=
    ("reshape", {"input": "X", "shape": (6, 4)}), ("flatten", {"input": "X", "start_dim": 1}),
    ("permute", {"input": "X", "dims": (1, 0, 2)}), ("transpose", {"input": "X", "dim0": 0, "dim1": 1}),
    ("squeeze", {"input": "X", "dim": 0}), ("unsqueeze", {"input": "X", "dim": 2}),
    ("sum", {"input": "X", "dim": 1, "keepdim": True}), ("mean", {"input": "X", "axis": 2}),
    ("chunk", {"input": "X", "chunks": 3, "dim": 1}), ("split", {"tensor": "X", "split_size_or_sections": 1,
                                                                  "dim": 1}),
    ("cat", {"tensors": ["X", "X"], "dim": 1}), ("cat", {"tensors": ["X", "X"], "axis": 2}),
    ("stack", {"tensors": ["X", "X"], "dim": 1}), ("matmul", {"input": "X", "other": (4, 5)}),
    ("max", {"input": "X", "dim": 1}), ("swapaxes", {"input": "X", "axis0": 0, "axis1": 1}),
]


class _Interp:
    """The two interpreter services the dispatch uses."""

    def tensor_rule(self, thunk, node, module=None):
        try:
            return thunk()
        except (Violation, Unknowable):
            return Tensor(None)

    def items_of(self, v):
        return list(v) if isinstance(v, (list, tuple)) else None


def _real(v, like):
    if v == O:
        return torch.randn(*like)
    if v == "X":
        return torch.randn(*S)
    if isinstance(v, list) and v and v[0] == "X":
        return [torch.randn(*S) for _ in v]
    return v


def _static_arg(v, method):
    if v == O or v == "X":
        return Tensor(S)
    if isinstance(v, list) and v and v[0] == "X":
        return [Tensor(S) for _ in v]
    if isinstance(v, tuple) and method in ("matmul", "mm", "bmm", "reshape_as", "expand_as") \
            or isinstance(v, tuple) and method == "functions-other":
        return Tensor(v)
    return v


def _shapes(v):
    if isinstance(v, torch.Tensor):
        return tuple(v.shape)
    if isinstance(v, Tensor):
        return v.shape
    if isinstance(v, (tuple, list)) and not isinstance(v, torch.Size):
        return tuple(_shapes(e) for e in v)
    if isinstance(v, torch.Size):
        return tuple(v)
    return v


def _agrees(static, real) -> bool:
    """Equal, or the static side is unknown (never a different known shape)."""
    if static is None or static is UNKNOWN:
        return True
    if isinstance(real, tuple) and isinstance(static, tuple) and len(real) == len(static):
        return all(_agrees(s, r) for s, r in zip(static, real))
    return static == real


def _other_shape(method):
    return (4, 6) if method == "reshape_as" else S


RECEIVER = {"mm": (3, 4), "t": (3, 4)}


def _run(method, args, kwargs):
    shape0 = RECEIVER.get(method, S)
    x = torch.randn(*shape0)
    real_args = [torch.randn(*a) if isinstance(a, tuple) and method in ("matmul", "mm", "bmm", "reshape_as",
                                                                         "expand_as") else _real(a, S)
                 for a in args]
    real_kw = {k: (torch.randn(*v) if isinstance(v, tuple) and method in ("matmul", "mm", "bmm", "reshape_as",
                                                                        "expand_as") else _real(v, S))
               for k, v in kwargs.items()}
    real = _shapes(getattr(x, method)(*real_args, **real_kw))
    st = M.call_tensor_method(_Interp(), Tensor(shape0), method, [_static_arg(a, method) for a in args],
                              {k: _static_arg(v, method) for k, v in kwargs.items()}, None)
    return _shapes(st), real


@pytest.mark.parametrize("method,kwargs,positional",
                         [(m, kw, pos) for m, cases in sorted(CASES.items()) for kw, pos in cases])
def test_keyword_form_matches_torch(method, kwargs, positional):
    static, real = _run(method, (), kwargs)
    assert static is not None and static is not UNKNOWN, f"{method}(**{kwargs}) left unknown"
    assert _agrees(static, real), f"{method}(**{kwargs}): shapelint {static}, torch {real}"
    if positional is not None:
        static_p, real_p = _run(method, positional, {})
        assert real_p == real
        assert static_p == static, f"{method}{positional}: shapelint {static_p}, keyword form {static}"


@pytest.mark.parametrize("fn,kwargs", FUNCTIONS)
def test_function_keyword_form_matches_torch(fn, kwargs):
    real_kw = {k: (torch.randn(*v) if k == "other" else _real(v, S)) for k, v in kwargs.items()}
    real = _shapes(getattr(torch, fn)(**real_kw))
    st_kw = {k: (Tensor(v) if k == "other" else _static_arg(v, fn)) for k, v in kwargs.items()}
    static = _shapes(M.call_torch_function(_Interp(), "torch." + fn, [], st_kw, None))
    assert static is not None and static is not UNKNOWN, f"torch.{fn}(**{kwargs}) left unknown"
    assert _agrees(static, real), f"torch.{fn}(**{kwargs}): shapelint {static}, torch {real}"


def test_every_modelled_method_has_a_keyword_case():
    skip = set(M._SAME) | {"shape", "T"} | {n for n, h in M._METHODS.items() if h in (M._m_binary, M._m_opaque,
                                                                       M._m_unknowable)}
    modelled = set(M._METHODS) - skip
    assert modelled <= set(M._SIGNATURES), sorted(modelled - set(M._SIGNATURES))
    assert modelled <= set(CASES), sorted(modelled - set(CASES))


@pytest.mark.parametrize("method,kwargs", [("reshape", {"size": (6, 4)}), ("view", {"shape": (6, 4)}),
                                           ("flatten", {"start_axis": 1}), ("repeat", {"sizes": (1, 2, 1)}),
                                           ("sum", {"dims": 1}), ("view", {"dtype": "torch.int32"})])
def test_unknown_keyword_is_unknown_never_a_finding(method, kwargs):
    """torch rejects these (or reinterprets elements); shapelint must not guess a shape from them."""
    st = M.call_tensor_method(_Interp(), Tensor(S), method, [], kwargs, None)
    assert st is UNKNOWN or (isinstance(st, Tensor) and st.shape is None)


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (5,)])
def test_T_property_matches_torch(shape):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        real = tuple(torch.randn(*shape).T.shape)
    assert M.call_tensor_method(_Interp(), Tensor(shape), "T", [], {}, None).shape == real
    from shapelint.frameworks.torch.framework import tensor_attr
    assert tensor_attr(_Interp(), Tensor(shape), "T", None).shape == real
    if len(shape) >= 2:
        assert tensor_attr(_Interp(), Tensor(shape), "mT", None).shape == tuple(torch.randn(*shape).mT.shape)
