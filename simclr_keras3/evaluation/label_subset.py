"""The labelled subset for semi-supervised fine-tuning: a stratified fraction, or an id list."""

import os
from numbers import Real

import numpy as np

from simclr_keras3.errors import UserInputError


def stratified_label_subset(labels, fraction, seed=0):
    """Indices of a class-balanced random ``fraction`` of the labelled examples.

    Each class keeps round(fraction x its count) examples, at least one, drawn without replacement
    by a NumPy generator seeded with ``seed`` (same seed, same subset, on every machine).

    Args:
        labels: int array (N,) of class ids.
        fraction: in (0, 1]; 0.01 and 0.1 are the paper's 1 % and 10 % settings.
        seed: which subset.

    Returns:
        sorted int64 array of indices into ``labels``.

    Example:
        >>> stratified_label_subset(np.repeat(np.arange(10), 100), 0.1, seed=0).shape
        (100,)

    Reference:
        Chen et al. 2020, §6: "we sample 1% or 10% of the labeled ILSVRC-12 training datasets in a
        class-balanced way (∼12.8 and ∼128 images per class respectively)".
    """
    if labels is None:
        raise UserInputError("the dataset has no labels: a labelled subset needs a labelled dataset")
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise UserInputError(f"labels must be a non-empty 1-D array, got shape {labels.shape}")
    if isinstance(fraction, bool) or not isinstance(fraction, Real) or not 0 < fraction <= 1:
        raise UserInputError(f"label fraction must be in (0, 1], e.g. 0.01 or 0.1; got {fraction!r}")
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = max(1, int(np.floor(fraction * len(members) + 0.5)))
        chosen.append(rng.choice(members, size=count, replace=False))
    return np.sort(np.concatenate(chosen)).astype("int64")


def subset_from_id_file(ids, path):
    """Indices of the examples listed in a text file of example ids (one per line).

    The format of the official ImageNet 1 % / 10 % lists (``1percent.txt``: one file name per line).
    Blank lines and lines starting with ``#`` are ignored. An id matches a dataset id exactly or, when
    that fails, by its base name (so ``n01440764_10026.JPEG`` finds ``n01440764/n01440764_10026.JPEG``)
    provided the base name is unique in the dataset.

    Args:
        ids: the dataset's example ids (N,).
        path: the id list.

    Returns:
        int64 array of indices in file order, duplicates dropped.

    Example:
        >>> indices = subset_from_id_file(dataset.ids, "1percent.txt")
        >>> subset = dataset.take(indices)

    Reference:
        Chen et al. 2020, §6 and the official code's ``imagenet_subsets/{1,10}percent.txt``.
    """
    if not os.path.isfile(path):
        raise UserInputError(f"label id file not found: {path}")
    with open(path, encoding="utf-8") as handle:
        wanted = [line.strip() for line in handle]
    wanted = [line for line in wanted if line and not line.startswith("#")]
    if not wanted:
        raise UserInputError(f"label id file {path} lists no ids: put one example id per line")
    ids = [str(item) for item in np.asarray(ids).ravel()]
    exact = {item: index for index, item in enumerate(ids)}
    by_base = {}
    for index, item in enumerate(ids):
        by_base.setdefault(_base_name(item), []).append(index)

    indices, unknown, seen = [], [], set()
    for item in wanted:
        index = exact.get(item)
        if index is None:
            matches = by_base.get(_base_name(item), [])
            index = matches[0] if len(matches) == 1 else None
        if index is None:
            unknown.append(item)
        elif index not in seen:
            seen.add(index)
            indices.append(index)
    if unknown:
        shown = ", ".join(repr(item) for item in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise UserInputError(
            f"{len(unknown)} id(s) in {path} are not in the dataset: {shown}{more}; "
            "check the file matches this dataset and split"
        )
    return np.asarray(indices, dtype="int64")


def _base_name(item):
    return item.replace("\\", "/").rsplit("/", 1)[-1]
