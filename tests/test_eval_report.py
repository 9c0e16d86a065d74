"""Report: metrics.json (valid JSON from NumPy values) and a PNG map of the embeddings."""

import json

import matplotlib.image
import numpy as np
import pytest

from simclr_keras3.errors import UserInputError
from simclr_keras3.evaluation.report import pca_2d, write_report


def _features(n=120, dim=10, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    return rng.normal(size=(n, dim)) + labels[:, None] * 3.0, labels


def test_metrics_json_is_valid_and_plain(tmp_path):
    features, labels = _features()
    metrics = {"results": {"simclr": {"top1": np.float32(0.5), "top5": np.float64(0.75)}},
               "count": np.int64(3), "curve": np.arange(3), "missing": float("nan")}
    paths = write_report(tmp_path, metrics, features, labels, ["a", "b", "c"], name="map")
    loaded = json.loads((tmp_path / "metrics.json").read_text())
    assert loaded == {"results": {"simclr": {"top1": 0.5, "top5": 0.75}}, "count": 3,
                      "curve": [0, 1, 2], "missing": None}
    assert paths == {"metrics": str(tmp_path / "metrics.json"), "plot": str(tmp_path / "map.png")}
    image = matplotlib.image.imread(paths["plot"])
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_side_by_side_panels_widen_the_figure(tmp_path):
    features, labels = _features()
    one = write_report(tmp_path / "one", {}, features, labels)
    two = write_report(tmp_path / "two", {}, {"SimCLR": features, "random init": -features}, labels)
    width_one = matplotlib.image.imread(one["plot"]).shape[1]
    width_two = matplotlib.image.imread(two["plot"]).shape[1]
    assert width_two > 1.5 * width_one


def test_without_features_only_metrics_are_written(tmp_path):
    assert list(write_report(tmp_path, {"top1": 1.0})) == ["metrics"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_many_classes_and_no_labels_still_plot(tmp_path):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 4))
    write_report(tmp_path / "many", {}, features, np.arange(300) % 50)
    write_report(tmp_path / "none", {}, features, None)
    assert (tmp_path / "many" / "embedding.png").is_file()
    assert (tmp_path / "none" / "embedding.png").is_file()


def test_pca_matches_the_top_principal_directions():
    features, _ = _features(dim=6)
    projected = pca_2d(features)
    centred = features - features.mean(0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(centred, rowvar=False))
    top = eigenvectors[:, ::-1][:, :2]  # eigh sorts ascending
    expected = centred @ top
    for column in range(2):  # each component is defined up to its sign
        sign = np.sign(projected[:, column] @ expected[:, column])
        np.testing.assert_allclose(projected[:, column], sign * expected[:, column], atol=1e-8)
    assert projected[:, 0].var() >= projected[:, 1].var()


def test_mismatched_labels_are_a_user_error(tmp_path):
    features, labels = _features()
    with pytest.raises(UserInputError, match="labels for"):
        write_report(tmp_path, {}, features, labels[:-1])
