"""Datasets saved as NumPy ``.npz`` files.

A file holds either one split, as arrays ``images`` and optionally ``labels`` and ``ids``, or
several, as ``{split}_images``, ``{split}_labels``, ``{split}_ids`` (e.g. ``train_images`` and
``test_images``). An optional ``class_names`` array applies to every split. Files are read with
``allow_pickle=False``: only plain arrays, never code.
"""

import os
import zipfile
import zlib

import numpy as np

from simclr_keras3.data.image_dataset import ImageDataset
from simclr_keras3.errors import UserInputError


def _split_prefix(keys, split, path):
    if f"{split}_images" in keys:
        return f"{split}_"
    if "images" in keys:
        if split == "train":
            return ""
        # One split only: answering "test" with the training images would silently leak.
        raise UserInputError(
            f"{path} holds a single split (array 'images'), so it has no {split!r} split: "
            f"save it as {split}_images / {split}_labels next to train_images / train_labels"
        )
    raise UserInputError(
        f"{path} has no 'images' or '{split}_images' array (it has {sorted(keys)}): save it "
        "with np.savez(path, images=..., labels=...)"
    )


def load_npz(path, split="train", image_size=32, limit=None, name=None):
    """Load one split of an ``.npz`` dataset.

    Args:
        path: the ``.npz`` file (or an open binary file object).
        split: which split; a single-split file answers only "train".
        image_size: side of the square output images.
        limit: keep only the first ``limit`` images.
        name: dataset name; default ``path``.

    Example:
        >>> np.savez("toy.npz", images=np.zeros((10, 28, 28), np.uint8), labels=np.arange(10) % 2)
        >>> load_npz("toy.npz").images.shape
        (10, 32, 32, 3)
    """
    name = str(path) if name is None else name
    try:
        arrays = np.load(path, allow_pickle=False)
        if not isinstance(arrays, np.lib.npyio.NpzFile):  # a bare .npy array under an .npz name
            raise UserInputError(
                f"{name} is a single .npy array, not an .npz archive: save it with np.savez"
            )
        with arrays:
            prefix = _split_prefix(arrays.files, split, name)

            def get(key):
                return arrays[prefix + key][:limit] if prefix + key in arrays.files else None

            images, labels, ids = get("images"), get("labels"), get("ids")
            class_names = list(arrays["class_names"]) if "class_names" in arrays.files else None
    except UserInputError:
        raise
    except FileNotFoundError as err:
        raise UserInputError(f"no such .npz file: {path}") from err
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        # Corrupt archives, pickled object arrays (refused), truncated members.
        raise UserInputError(f"cannot read {name} as an .npz of plain arrays: {err}") from err
    if ids is None:
        ids = np.array([f"{os.path.basename(name)}/{split}/{i}" for i in range(len(images))])
    return ImageDataset.from_arrays(
        images, labels, ids, name=name, class_names=class_names, image_size=image_size
    )
