"""An evaluation's output folder: ``metrics.json`` and a 2-D map of the embeddings."""

import json
import os

import numpy as np

from simclr_keras3.errors import UserInputError
from simclr_keras3.atomic_write import write_atomically

# More points than this make an unreadable scatter and a slow SVD; a fixed-seed sample is drawn.
MAX_POINTS = 5000
# Legend entries beyond this would hide the plot; the colour bar of label ids is used instead.
MAX_LEGEND_CLASSES = 20


def write_report(out_dir, metrics, features=None, labels=None, class_names=None, name="embedding"):
    """Write ``metrics.json`` and ``<name>.png`` (PCA map of the features coloured by label).

    Args:
        out_dir: folder to write into (created if needed).
        metrics: JSON-able dict (NumPy scalars and arrays are converted).
        features: array (N, D), or a dict ``{title: (N, D) array}`` for side-by-side panels (e.g.
            the SimCLR encoder next to the random-init control). None writes no PNG.
        labels: int array (N,) colouring the points, or None (one colour).
        class_names: names of the label values, for the legend.
        name: PNG file name (without extension) and figure title.

    Returns:
        dict of the written paths: ``metrics`` and, with features, ``plot``.

    Example:
        >>> write_report("runs/eval", {"top1": 0.81}, {"SimCLR": f, "random init": f0}, labels)
    """
    os.makedirs(out_dir, exist_ok=True)
    paths = {"metrics": os.path.join(out_dir, "metrics.json")}
    text = json.dumps(_jsonable(metrics), indent=2, sort_keys=True) + "\n"
    write_atomically(paths["metrics"], lambda handle: handle.write(text.encode("utf-8")))
    if features is not None:
        panels = features if isinstance(features, dict) else {name: features}
        paths["plot"] = os.path.join(out_dir, f"{name}.png")
        figure = _embedding_figure(panels, labels, class_names, name)
        write_atomically(paths["plot"], lambda handle: figure.savefig(handle, format="png", dpi=100))
    return paths


def pca_2d(features):
    """Project (N, D) features onto their first two principal components (NumPy SVD).

    Example:
        >>> pca_2d(np.random.rand(100, 16)).shape
        (100, 2)
    """
    features = np.asarray(features, dtype="float64").reshape(len(features), -1)
    centred = features - features.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ components[:2].T
    if projected.shape[1] < 2:  # 1-D features: pad so the plot still has two axes
        projected = np.pad(projected, ((0, 0), (0, 2 - projected.shape[1])))
    return projected


def _embedding_figure(panels, labels, class_names, title):
    # The object-oriented API with the Agg canvas: no pyplot, no global backend switch, no display.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5 * len(panels), 4.8))
    FigureCanvasAgg(figure)
    for column, (panel_title, features) in enumerate(panels.items()):
        features = np.asarray(features)
        if features.ndim < 2 or len(features) == 0:
            raise UserInputError(f"features for {panel_title!r} must be a non-empty (N, D) array")
        if labels is not None and len(labels) != len(features):
            raise UserInputError(f"{len(labels)} labels for {len(features)} feature rows")
        keep = _sample(len(features))
        points = pca_2d(features[keep])
        axes = figure.add_subplot(1, len(panels), column + 1)
        _scatter(axes, points, None if labels is None else np.asarray(labels)[keep], class_names)
        axes.set_title(panel_title)
        axes.set_xlabel("PC 1")
        axes.set_ylabel("PC 2")
    if len(panels) > 1:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def _scatter(axes, points, labels, class_names):
    if labels is None:
        axes.scatter(points[:, 0], points[:, 1], s=4, alpha=0.6)
        return
    classes = np.unique(labels)
    if len(classes) > MAX_LEGEND_CLASSES:
        image = axes.scatter(points[:, 0], points[:, 1], c=labels, s=4, alpha=0.6, cmap="viridis")
        axes.figure.colorbar(image, ax=axes, label="label")
        return
    from matplotlib import colormaps

    colours = colormaps["tab20" if len(classes) > 10 else "tab10"]
    for index, label in enumerate(classes):
        mask = labels == label
        text = class_names[label] if class_names is not None and label < len(class_names) else label
        colour = colours(index % colours.N)
        axes.scatter(points[mask, 0], points[mask, 1], s=4, alpha=0.6, label=str(text), color=colour)
    axes.legend(markerscale=3, fontsize="small", loc="best")


def _sample(count):
    if count <= MAX_POINTS:
        return np.arange(count)
    return np.sort(np.random.default_rng(0).choice(count, MAX_POINTS, replace=False))


def _jsonable(value):
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None  # JSON has no NaN/inf
    return value
