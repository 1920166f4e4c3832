"""Resampling and padding: interpolate/Upsample, pixel (un)shuffle, F.pad and the padding layers."""
from __future__ import annotations

from ....core import dims as D
from ....core.facts import Unknowable, Violation, positive
from ....core.values import Tensor
from ....rules import shp007_invalid_config as C
from ....rules import shp008_wrong_rank as R8
from ....rules.shp004_spatial_collapse import Collapse
from .table import R, _out, functional, layer, need, need_int, shape_of, tup


def _interp_rule(a, x):
    s = shape_of(x)
    n = len(s) - 2
    if n < 1:
        raise Violation(R8.InterpolateRank(layer="interpolate", got=len(s), shape=s))
    size, scale = need(a.get("size")), need(a.get("scale_factor"))
    if size is not None and scale is not None:
        raise Violation(C.SizeAndScale())
    if size is None and scale is None:
        raise Violation(C.NeitherSizeNorScale())
    if size is not None:
        out = tup(size, n) if not isinstance(size, (list, tuple)) else tuple(need(v) for v in size)
        if len(out) != n:
            # torch: "Input and output must have the same number of spatial dimensions"
            raise Violation(R8.InterpolateSpatialRank(layer="interpolate", got=len(s), shape=s, rank=len(out) + 2,
                                                      arg="size", value=size))
    else:
        sc = tup(scale, n) if not isinstance(scale, (list, tuple)) else tuple(need(v) for v in scale)
        if len(sc) != n:
            # torch: "Input and scale_factor must have the same number of spatial dimensions"
            raise Violation(R8.InterpolateSpatialRank(layer="interpolate", got=len(s), shape=s, rank=len(sc) + 2,
                                                      arg="scale_factor", value=scale))
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in sc):
            raise Unknowable()
        out = tuple(D.floor_scale(L, f) for L, f in zip(s[2:], sc))
    mode = a.get("mode", "nearest")
    rank = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}.get(mode) if isinstance(mode, str) else None
    if rank is not None and rank != len(s):
        # torch: "Got 4D input, but linear mode needs 3D input"
        raise Violation(R8.InterpolateModeRank(layer="interpolate", got=len(s), shape=s, mode=mode, rank=rank))
    for i, o in enumerate(out):
        if D.at_least(o, 1) == D.NEVER:
            raise Violation(Collapse("interpolate", i, s[2 + i], output=o))
    return _out(x, (*s[:2], *out))


layer("Upsample", (R("size", None), R("scale_factor", None), R("mode", "nearest"), R("align_corners", None),
                   R("recompute_scale_factor", None)))(_interp_rule)
layer("UpsamplingNearest2d", (R("size", None), R("scale_factor", None)))(_interp_rule)
layer("UpsamplingBilinear2d", (R("size", None), R("scale_factor", None)))(
    lambda a, x: _interp_rule(dict(a, mode="bilinear"), x))  # torch: F.interpolate(mode='bilinear')
functional(["torch.nn.functional.interpolate", "torch.nn.functional.upsample",
            "torch.nn.functional.upsample_nearest", "torch.nn.functional.upsample_bilinear"],
           (R("input"), R("size", None), R("scale_factor", None), R("mode", "nearest"), R("align_corners", None),
            R("recompute_scale_factor", None), R("antialias", False)), _interp_rule)


def _pixel_shuffle(a, x):
    s = shape_of(x)
    r = need_int(a["upscale_factor"])
    if len(s) < 3:
        raise Violation(R8.RankAtLeast(layer="PixelShuffle", got=len(s), shape=s, least=3))
    c = s[-3]
    if isinstance(c, int) and c % (r * r):
        raise Violation(C.PixelShuffleChannels(c, r * r))
    if not isinstance(c, int):
        raise Unknowable()
    return _out(x, (*s[:-3], c // (r * r), D.mul(s[-2], r), D.mul(s[-1], r)))


def _pixel_unshuffle(a, x):
    s = shape_of(x)
    r = need_int(a["downscale_factor"])
    if len(s) < 3:
        raise Violation(R8.RankAtLeast(layer="PixelUnshuffle", got=len(s), shape=s, least=3))
    for v in s[-2:]:
        if isinstance(v, int) and v % r:
            raise Violation(C.PixelUnshuffleSize(s[-2], s[-1], r))
        if not isinstance(v, int):
            raise Unknowable()
    return _out(x, (*s[:-3], D.mul(s[-3], r * r), s[-2] // r, s[-1] // r))


layer("PixelShuffle", (R("upscale_factor"),))(_pixel_shuffle)
layer("PixelUnshuffle", (R("downscale_factor"),))(_pixel_unshuffle)
functional(["torch.nn.functional.pixel_shuffle", "torch.pixel_shuffle"], (R("input"), R("upscale_factor")),
           _pixel_shuffle)
functional(["torch.nn.functional.pixel_unshuffle", "torch.pixel_unshuffle"], (R("input"), R("downscale_factor")),
           _pixel_unshuffle)


def pad_shape(x: Tensor, pad, mode="constant", layer_name="pad"):
    """F.pad: pad is (last_left, last_right, prev_left, prev_right, ...)."""
    s = shape_of(x)
    # a one-element constant tensor stands for its value, as torch converts it (U-Net's diffX // 2)
    pad = tuple(v.data[0] if isinstance(v, Tensor) and v.data is not None and len(v.data) == 1 else need(v)
                for v in need(pad))
    if len(pad) % 2 or len(pad) // 2 > len(s):
        raise Violation(C.PadLength(len(pad), len(s)))
    out = list(s)
    for i in range(len(pad) // 2):
        d = len(s) - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if not (isinstance(lo, int) and isinstance(hi, int)):
            # a pad sized by the input (hifi-gan's `self.period - (t % self.period)`): the new size
            # is the sum; the mode's limits are for the numbers torch is given, not checked here
            if not all(D.is_dim(v) for v in (lo, hi)):
                raise Unknowable()
            out[d] = D.add(s[d], D.add(lo, hi))
            continue
        if mode == "reflect":
            L = s[d]
            if isinstance(L, int) and (lo >= L or hi >= L):
                raise Violation(C.ReflectionPadTooLarge(lo, hi, L))
            if not isinstance(L, int) and max(lo, hi) > 0:
                positive(D.sub(L, max(lo, hi)))  # torch: "Padding size should be less than ... input dimension"
        if mode == "circular":
            # torch: "Padding value causes wrapping around more than once" when a pad > the size
            L = s[d]
            if isinstance(L, int) and (lo > L or hi > L):
                raise Violation(C.CircularPadTooLarge(lo, hi, L))
        out[d] = D.add(s[d], lo + hi)
        # torch's constant pad may crop to an empty dim (size 0); only a negative size raises
        if D.at_least(out[d], 0 if mode == "constant" else 1) == D.NEVER:
            raise Violation(Collapse(layer_name, d, s[d], output=out[d]))
    return _out(x, out)


def _pad_layer(n, mode):
    def rule(a, x):
        s = shape_of(x)
        if len(s) not in (n + 1, n + 2):
            raise Violation(R8.RankBatchedOrNot(layer=f"Pad{n}d", got=len(s), shape=s, unbatched=n + 1, labelled=False))
        p = need(a["padding"])
        p = (p,) * (2 * n) if isinstance(p, int) else tuple(p)
        return pad_shape(x, p, mode)
    return rule


for _n in (1, 2, 3):
    layer(f"ZeroPad{_n}d", (R("padding"),), transparent=True)(_pad_layer(_n, "constant"))
    layer(f"ConstantPad{_n}d", (R("padding"), R("value")), transparent=True)(_pad_layer(_n, "constant"))
    layer(f"ReflectionPad{_n}d", (R("padding"),), transparent=True)(_pad_layer(_n, "reflect"))
    layer(f"ReplicationPad{_n}d", (R("padding"),), transparent=True)(_pad_layer(_n, "replicate"))
    layer(f"CircularPad{_n}d", (R("padding"),), transparent=True)(_pad_layer(_n, "circular"))
functional(["torch.nn.functional.pad"], (R("input"), R("pad"), R("mode", "constant"), R("value", None)),
           lambda a, x: pad_shape(x, a["pad"], need(a["mode"])))


# ------------------------------------------------------------------------------------------------
# Spatial transformers: F.affine_grid, F.grid_sample
# ------------------------------------------------------------------------------------------------

def _affine_grid(a, theta):
    """``F.affine_grid(theta, size)``: a sampling grid ``(N, H, W, 2)`` for a 4-D ``size`` ``[N, C, H,
    W]``, ``(N, D, H, W, 3)`` for a 5-D one; theta is ``(N, 2, 3)`` (``(N, 3, 4)``), which torch checks."""
    size = need(a["size"])
    if not isinstance(size, (tuple, list)) or len(size) not in (4, 5):
        raise Unknowable()
    size = tuple(need(d) for d in size)
    if not all(isinstance(d, int) and not isinstance(d, bool) or D.is_dim(d) for d in size):
        raise Unknowable()
    return Tensor((size[0], *size[2:], len(size) - 2), theta.dtype, 0 if theta.batch_dim == 0 else None)


def _grid_sample(a, x, grid):
    """``F.grid_sample(input, grid)``: ``(N, C, H_in, W_in)`` sampled at a ``(N, H_out, W_out, 2)`` grid
    gives ``(N, C, H_out, W_out)`` (5-D alike); the channels are the input's, the sizes the grid's."""
    s, g = shape_of(x), shape_of(grid)
    if len(s) not in (4, 5) or len(g) != len(s):
        raise Unknowable()
    return _out(x, (s[0], s[1], *g[1:-1]))


functional(["torch.nn.functional.affine_grid"], (R("theta"), R("size"), R("align_corners", None)), _affine_grid,
           ("theta",))
functional(["torch.nn.functional.grid_sample"], (R("input"), R("grid"), R("mode", "bilinear"),
                                                  R("padding_mode", "zeros"), R("align_corners", None)),
           _grid_sample, ("input", "grid"))
