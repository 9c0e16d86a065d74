"""Linear evaluation: frozen encoder (weights and BN statistics untouched), probe accuracy, CLI."""

import json

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from eval_testing import digits, tiny_checkpoint, tiny_encoder, weights_of

from simclr_keras3.errors import UserInputError
from simclr_keras3.evaluation.accuracy import top_k_accuracy
from simclr_keras3.evaluation.control import knn_with_control, random_init_like
from simclr_keras3.evaluation.features import extract_features
from simclr_keras3.evaluation.linear_eval import (
    linear_eval,
    linear_eval_raw_pixels,
    linear_probe_features,
)

BACKEND = keras.backend.backend()


def _encoder_with_trained_bn_statistics(images):
    """A tiny encoder whose BN moving statistics are far from their initial 0 / 1."""
    encoder = tiny_encoder(images.shape[1])
    rng = np.random.default_rng(1)
    for layer in encoder.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(size=layer.moving_mean.shape).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2, layer.moving_variance.shape).astype("float32"))
    return encoder


def test_linear_eval_keeps_the_encoder_frozen_and_uses_bn_in_inference_mode():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(48, 16, 16, 3)).astype("float32")
    labels = np.arange(48) % 3
    encoder = _encoder_with_trained_bn_statistics(images)
    before = weights_of(encoder)

    metrics = linear_eval(encoder, images[:32], labels[:32], images[32:], labels[32:], epochs=2,
                          batch_size=16, feature_batch_size=10)

    after = weights_of(encoder)
    assert len(before) == len(after) == 10  # 2 kernels + 2 x (gamma, beta, moving mean, moving var)
    for old, new in zip(before, after):
        np.testing.assert_array_equal(old, new)
    # Features are the inference-mode output (moving statistics, not batch statistics).
    expected = keras.ops.convert_to_numpy(encoder(images, training=False))
    np.testing.assert_allclose(extract_features(encoder, images, batch_size=7), expected, atol=1e-5)
    batch_mode = keras.ops.convert_to_numpy(encoder(images, training=True))
    assert not np.allclose(batch_mode, expected, atol=1e-3)
    assert metrics["num_train"] == 32 and metrics["num_test"] == 16 and metrics["feature_dim"] == 32


def test_probe_on_linearly_separable_features_is_perfect():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16)) * 5
    labels = rng.integers(0, 4, size=240)
    features = centres[labels] + rng.normal(size=(240, 16)) * 0.3
    metrics = linear_probe_features(features[:160], labels[:160], features[160:], labels[160:],
                                    epochs=5, batch_size=32, seed=0)
    assert metrics["top1"] == 1.0 and metrics["train_top1"] == 1.0
    assert metrics["top5"] >= metrics["top1"]


def test_raw_pixel_probe_on_digits_is_sensible():
    images, labels = digits(image_size=8)
    metrics = linear_eval_raw_pixels(images[:1200], labels[:1200], images[1200:], labels[1200:],
                                     epochs=6, batch_size=100, seed=3)
    assert metrics["top1"] > 0.85
    assert metrics["top5"] >= metrics["top1"]
    assert metrics["feature_dim"] == 8 * 8 * 3


def test_the_probe_is_determined_by_its_seed():
    images, labels = digits(image_size=8)
    x, y = images[:600].reshape(600, -1), labels[:600]

    def run(seed):
        return linear_probe_features(x[:400], y[:400], x[400:], y[400:], epochs=1, batch_size=50,
                                     learning_rate=0.01, seed=seed, standardize=False)

    first = run(seed=0)
    assert run(seed=0) == first
    assert run(seed=1) != first  # another batch order gives another classifier


def test_top_k_accuracy_against_hand_computed_values():
    scores = np.array([[0.1, 0.5, 0.4], [0.9, 0.05, 0.05], [0.2, 0.3, 0.5]])
    labels = np.array([2, 0, 0])
    assert top_k_accuracy(scores, labels, 1) == pytest.approx(1 / 3)
    assert top_k_accuracy(scores, labels, 2) == pytest.approx(2 / 3)
    assert top_k_accuracy(scores, labels, 5) == 1.0  # k capped at the 3 classes


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x, y: linear_probe_features(x, None, x, y), "has no labels"),
        (lambda x, y: linear_probe_features(x[:0], y[:0], x, y), "non-empty"),
        (lambda x, y: linear_probe_features(x, y, x[:, :3], y), "differ in size"),
        (lambda x, y: linear_probe_features(x, y + 0.5, x, y), "integer"),
        (lambda x, y: linear_probe_features(x, y, x, y, num_classes=2), "num_classes"),
    ],
)
def test_bad_input_raises_user_input_error(call, message):
    x = np.random.default_rng(0).normal(size=(10, 6)).astype("float32")
    y = np.arange(10) % 5
    with pytest.raises(UserInputError, match=message):
        call(x, y)


def test_control_is_a_random_init_copy_and_the_encoder_is_untouched():
    images, labels = digits(image_size=16)
    encoder = tiny_encoder(16)
    before = weights_of(encoder)
    comparison = knn_with_control(encoder, images[:64], labels[:64], images[64:96], labels[64:96],
                                  k=5)
    assert set(comparison.metrics) == {"simclr", "random_init"}
    assert comparison.features["simclr"].shape == comparison.features["random_init"].shape == (32, 32)
    assert not np.allclose(comparison.features["simclr"], comparison.features["random_init"])
    control = random_init_like(encoder, images[:2])
    assert type(control) is type(encoder) and control.get_config() == encoder.get_config()
    assert [w.shape for w in weights_of(control)] == [w.shape for w in before]
    for old, new in zip(before, weights_of(encoder)):
        np.testing.assert_array_equal(old, new)


def test_cli_eval_linear_writes_metrics_and_plot(tmp_path):
    from simclr_keras3.cli.main import main

    result = CliRunner().invoke(main, [
        "eval", "linear", "--backend", BACKEND, "--checkpoint", tiny_checkpoint(),
        "--dataset", "digits", "--limit", "64", "--epochs", "1", "--out", str(tmp_path / "out"),
    ])
    assert result.exit_code == 0, result.output
    assert "SimCLR" in result.output and "random init" in result.output and "raw pixels" in result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["image_size"] == 16  # read from the checkpoint's augmentation
    assert set(metrics["results"]) == {"simclr", "random_init", "raw_pixels"}
    assert (tmp_path / "out" / "linear_embeddings.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_reports_a_missing_checkpoint_in_one_line(tmp_path):
    from simclr_keras3.cli.main import main

    result = CliRunner().invoke(main, ["eval", "linear", "--backend", BACKEND, "--checkpoint",
                                       str(tmp_path / "nope.keras"), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.count("error:") == 1 and "does not exist" in result.output
