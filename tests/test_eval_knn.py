"""Weighted kNN against a NumPy brute-force loop of the vote, and the training monitor."""

import csv
import math

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from eval_testing import tiny_checkpoint, tiny_encoder

from simclr_keras3.errors import UserInputError
from simclr_keras3.evaluation.knn import KNNMonitor, knn_classify, knn_scores

BACKEND = keras.backend.backend()


def _brute_force_scores(train, train_labels, test, k, temperature, num_classes):
    """The InstDisc vote, one query at a time: sum of exp(cos / τ) over the k most similar."""
    scores = np.zeros((len(test), num_classes))
    for q, query in enumerate(test):
        similarities = []
        for i, item in enumerate(train):
            cosine = query @ item / (np.linalg.norm(query) * np.linalg.norm(item))
            similarities.append((cosine, i))
        similarities.sort(reverse=True)
        for cosine, i in similarities[:k]:
            scores[q, train_labels[i]] += math.exp(cosine / temperature)
    return scores


def _random_problem(seed=0, n_train=60, n_test=25, dim=8, num_classes=4):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n_train, dim)), rng.integers(0, num_classes, n_train),
            rng.normal(size=(n_test, dim)), rng.integers(0, num_classes, n_test))


@pytest.mark.parametrize("k, temperature", [(7, 0.1), (20, 0.5), (60, 0.07)])
def test_predictions_equal_a_brute_force_loop(k, temperature):
    train, train_labels, test, test_labels = _random_problem()
    expected = _brute_force_scores(train, train_labels, test, k, temperature, 4)
    actual = knn_scores(train, train_labels, test, k=k, temperature=temperature, num_classes=4,
                        chunk_size=10)
    np.testing.assert_array_equal(actual.argmax(axis=1), expected.argmax(axis=1))
    # Same scores up to one factor per row (the max-similarity shift before exp).
    np.testing.assert_allclose(actual / actual.sum(1, keepdims=True),
                               expected / expected.sum(1, keepdims=True), rtol=1e-4)
    metrics = knn_classify(train, train_labels, test, test_labels, k=k, temperature=temperature)
    assert metrics["top1"] == np.mean(expected.argmax(axis=1) == test_labels)
    assert metrics["top5"] >= metrics["top1"]


def test_k_equal_one_is_the_nearest_neighbour_by_cosine():
    train, train_labels, test, test_labels = _random_problem(seed=1)
    cosine = (test / np.linalg.norm(test, axis=1, keepdims=True)) @ (
        train / np.linalg.norm(train, axis=1, keepdims=True)).T
    nearest_labels = train_labels[cosine.argmax(axis=1)]
    scores = knn_scores(train, train_labels, test, k=1, temperature=0.1)
    np.testing.assert_array_equal(scores.argmax(axis=1), nearest_labels)
    # A query identical to a training point is its own nearest neighbour.
    assert knn_classify(train, train_labels, train, train_labels, k=1)["top1"] == 1.0


def test_large_k_is_capped_and_tiny_temperature_does_not_overflow():
    train, train_labels, test, test_labels = _random_problem(seed=2, n_train=12)
    metrics = knn_classify(train, train_labels, test, test_labels, k=200, temperature=1e-4)
    assert metrics["k"] == 12 and 0.0 <= metrics["top1"] <= 1.0


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(train_labels=None), "no labels"), (dict(k=0), "k must be"),
     (dict(temperature=0.0), "temperature")],
)
def test_bad_input_raises_user_input_error(kwargs, message):
    train, train_labels, test, test_labels = _random_problem()
    arguments = dict(train_features=train, train_labels=train_labels, test_features=test,
                     test_labels=test_labels)
    arguments.update(kwargs)
    with pytest.raises(UserInputError, match=message):
        knn_classify(**arguments)


class ModelWithEncoder(keras.Model):
    """A supervised toy model exposing ``.encoder`` like SimCLR does."""

    def __init__(self, encoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.classifier = keras.layers.Dense(3)

    def call(self, images, training=False):
        return self.classifier(self.encoder(images, training=training))


def test_knn_monitor_writes_knn_top1_into_the_epoch_logs(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(40, 16, 16, 3)).astype("float32")
    labels = np.arange(40) % 3
    model = ModelWithEncoder(tiny_encoder(16))
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    monitor = KNNMonitor(images[:24], labels[:24], images[24:], labels[24:], every_epochs=2, k=5)
    log_path = tmp_path / "log.csv"
    history = model.fit(images, labels, batch_size=20, epochs=3, verbose=0,
                        callbacks=[monitor, keras.callbacks.CSVLogger(str(log_path))])

    values = history.history["knn_top1"]
    assert math.isnan(values[0])  # not an evaluation epoch: NaN keeps the column in place
    assert all(0.0 <= value <= 1.0 for value in values[1:])  # epoch 2, and the last epoch
    rows = list(csv.DictReader(log_path.open()))
    assert len(rows) == 3 and "knn_top1" in rows[0]
    assert float(rows[2]["knn_top1"]) == pytest.approx(values[2])
    # Matches an independent evaluation of the trained encoder.
    assert monitor.evaluate()["top1"] == pytest.approx(values[2])


def test_knn_monitor_needs_labels():
    images = np.zeros((4, 8, 8, 3), "float32")
    with pytest.raises(UserInputError, match="no labels"):
        KNNMonitor(images, None, images, np.zeros(4, int))


def test_cli_eval_knn(tmp_path):
    from simclr_keras3.cli.main import main

    result = CliRunner().invoke(main, [
        "eval", "knn", "--backend", BACKEND, "--checkpoint", tiny_checkpoint(), "--dataset",
        "digits", "--limit", "64", "--k", "5", "--out", str(tmp_path),
    ])
    assert result.exit_code == 0, result.output
    assert "SimCLR" in result.output and "random init" in result.output
    assert (tmp_path / "metrics.json").is_file() and (tmp_path / "knn_embeddings.png").is_file()
