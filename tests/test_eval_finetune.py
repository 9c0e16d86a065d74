"""Fine-tuning trains a copy (the caller's network is untouched) and learns digits."""

import json

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from eval_testing import TinySimCLR, digits, tiny_checkpoint, tiny_encoder, weights_of

from simclr_keras3.errors import UserInputError
from simclr_keras3.evaluation.finetune import finetune
from simclr_keras3.evaluation.label_subset import stratified_label_subset

BACKEND = keras.backend.backend()


@pytest.fixture(scope="module")
def data():
    images, labels = digits(image_size=16)
    subset = stratified_label_subset(labels[:1000], 0.25, seed=0)
    return images[subset], labels[subset], images[1000:1400], labels[1000:1400]


def test_finetune_trains_a_copy_and_beats_chance(data):
    train_x, train_y, test_x, test_y = data
    encoder = tiny_encoder(16)
    before = weights_of(encoder)
    metrics, classifier = finetune(encoder, train_x, train_y, test_x, test_y, epochs=4,
                                   batch_size=25, learning_rate=0.5, return_model=True)

    for old, new in zip(before, weights_of(encoder)):
        np.testing.assert_array_equal(old, new)  # the caller's encoder is untouched
    copied = weights_of(classifier.encoder)
    assert any(not np.array_equal(old, new) for old, new in zip(before, copied))
    assert classifier.encoder is not encoder
    assert metrics["top1"] > 0.3  # chance is 0.1
    assert metrics["top5"] >= metrics["top1"]
    assert metrics["num_train"] == len(train_y) and metrics["num_test"] == 400


def test_finetune_from_a_projection_head_layer_leaves_the_head_untouched(data):
    train_x, train_y, test_x, test_y = data
    model = TinySimCLR(16)
    head_before = weights_of(model.projection_head)
    metrics, classifier = finetune(model.encoder, train_x[:100], train_y[:100], test_x, test_y,
                                   projection_head=model.projection_head, from_head_layer=1,
                                   epochs=1, batch_size=50, return_model=True)
    assert metrics["from_head_layer"] == 1
    for old, new in zip(head_before, weights_of(model.projection_head)):
        np.testing.assert_array_equal(old, new)
    # Head layers after j feed nothing: frozen, so their weights are the copied ones.
    last = classifier.projection_head.dense_layers[1]
    np.testing.assert_array_equal(weights_of(last)[0], weights_of(model.projection_head.dense_layers[1])[0])


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(from_head_layer=1), "needs the projection head"),
     (dict(from_head_layer=3, with_head=True), "has 2 layers"),
     (dict(labels=None), "no labels")],
)
def test_bad_input_raises_user_input_error(kwargs, message):
    model = TinySimCLR(16)
    images = np.zeros((4, 16, 16, 3), "float32")
    labels = kwargs.pop("labels", np.array([0, 1, 0, 1]))
    head = model.projection_head if kwargs.pop("with_head", False) else None
    with pytest.raises(UserInputError, match=message):
        finetune(model.encoder, images, labels, images, np.array([0, 1, 0, 1]),
                 projection_head=head, epochs=1, **kwargs)


def test_cli_eval_finetune_with_label_fraction(tmp_path):
    from simclr_keras3.cli.main import main

    result = CliRunner().invoke(main, [
        "eval", "finetune", "--backend", BACKEND, "--checkpoint", tiny_checkpoint(), "--dataset",
        "digits", "--limit", "100", "--label-fraction", "0.2", "--epochs", "1", "--batch-size",
        "10", "--from-head-layer", "1", "--no-augment", "--out", str(tmp_path),
    ])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["options"]["labels"]["fraction"] == 0.2
    assert metrics["options"]["labels"]["classes"] == 10
    assert set(metrics["results"]) == {"simclr", "random_init"}
    assert (tmp_path / "finetune_embeddings.png").is_file()


def test_cli_eval_finetune_needs_exactly_one_label_choice(tmp_path):
    from simclr_keras3.cli.main import main

    result = CliRunner().invoke(main, [
        "eval", "finetune", "--backend", BACKEND, "--checkpoint", tiny_checkpoint(),
        "--out", str(tmp_path),
    ])
    assert result.exit_code == 2
    assert "exactly one of --label-fraction" in result.output
