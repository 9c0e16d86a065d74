"""Top-k accuracy and label checks shared by the evaluation protocols."""

import numpy as np

from simclr_keras3.errors import UserInputError


def top_k_accuracy(scores, labels, k):
    """Fraction of rows whose true label is among the ``k`` highest scores.

    ``k`` is capped at the number of classes (top-5 of a 3-class problem is top-3 = 1.0). Ties
    count against the example only when more than ``k`` classes score above the label.

    Args:
        scores: array (N, C) of logits or class scores.
        labels: int array (N,).
        k: how many top classes count as a hit.

    Example:
        >>> top_k_accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]), k=1)
        0.5
    """
    scores = np.asarray(scores, dtype="float64")
    labels = np.asarray(labels)
    k = min(int(k), scores.shape[1])
    label_scores = scores[np.arange(len(labels)), labels]
    # Rank of the true label = number of classes scoring strictly higher.
    rank = np.sum(scores > label_scores[:, None], axis=1)
    return float(np.mean(rank < k))


def check_labels(labels, count, what):
    """Return ``labels`` as int64 (N,) matching ``count`` examples, else UserInputError."""
    if labels is None:
        raise UserInputError(
            f"{what} has no labels: this protocol needs a labelled dataset (use `simclr embed` "
            "for unlabelled images)"
        )
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != count:
        raise UserInputError(
            f"{what}: expected {count} labels of shape ({count},), got shape {labels.shape}"
        )
    if count == 0:
        raise UserInputError(f"{what} is empty: give at least one labelled example")
    if not np.issubdtype(labels.dtype, np.integer):
        raise UserInputError(f"{what}: labels must be integer class ids, got dtype {labels.dtype}")
    if labels.min() < 0:
        raise UserInputError(f"{what}: labels must be >= 0, got {labels.min()}")
    return labels.astype("int64")


def infer_num_classes(num_classes, *label_arrays):
    """``num_classes`` if given (checked against the labels), else 1 + the largest label."""
    largest = max(int(labels.max()) for labels in label_arrays)
    if num_classes is None:
        return largest + 1
    if largest >= num_classes:
        raise UserInputError(
            f"label {largest} does not fit num_classes={num_classes}: raise num_classes"
        )
    return int(num_classes)
