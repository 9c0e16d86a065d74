"""Packing many small named arrays into three arrays of an ``.npz`` (no keras here).

A ResNet has hundreds of variables; one ``.npz`` member per variable costs a few hundred bytes
of zip headers each, more than the int8 weights themselves. ``pack`` stores a ``{path: array}``
dict as ``<key>/paths`` (str), ``<key>/shapes`` (str, "3,3,8,8") and ``<key>/values`` (flat).
"""

import numpy as np


def pack(key, arrays, dtype):
    """``{f"{key}/paths", f"{key}/shapes", f"{key}/values"}`` for ``arrays`` cast to ``dtype``."""
    paths = list(arrays)
    return {
        f"{key}/paths": np.array(paths),
        f"{key}/shapes": np.array([",".join(str(d) for d in np.shape(arrays[p])) for p in paths]),
        f"{key}/values": np.concatenate([np.ravel(arrays[p]).astype(dtype) for p in paths]),
    }


def unpack(fixture, key):
    """The ``{path: array}`` dict that ``pack(key, ...)`` stored, in its original order."""
    out, start = {}, 0
    values = fixture[f"{key}/values"]
    for path, shape in zip(fixture[f"{key}/paths"], fixture[f"{key}/shapes"]):
        shape = tuple(int(d) for d in str(shape).split(",") if d)
        size = int(np.prod(shape, dtype=np.int64))
        out[str(path)] = values[start : start + size].reshape(shape)
        start += size
    return out


def decode_weights(fixture, key="weights"):
    """float32 weights ``{path: array}`` from int8 ``q`` and per-tensor ``[offset, scale]``.

    Scales are powers of two and offsets 0 or 1, so every value is exact in float32.
    """
    q = unpack(fixture, f"{key}/q")
    offset_scale = fixture[f"{key}/offset_scale"]
    return {
        path: (values.astype(np.float64) * scale + offset).astype(np.float32)
        for (path, values), (offset, scale) in zip(q.items(), offset_scale)
    }
