import csv
import os

import numpy as np
import pytest

from simclr_keras3.errors import UserInputError
from simclr_keras3.pretrain import pretrain
from simclr_keras3.pretrain_config import PretrainConfig

TINY = dict(width=0.125, image_size=16, projection_dim=16, batch_size=32, epochs=2,
            steps_per_epoch=2, limit=128)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    return pretrain(PretrainConfig(out=str(out), **TINY), verbose=0, log=lambda *a: None)


def test_writes_checkpoint_metrics_tensorboard_and_curve(run):
    assert os.path.isfile(run.checkpoint) and os.path.isfile(run.checkpoint + ".json")
    with open(run.metrics_csv) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and {"epoch", "loss", "contrastive_accuracy"} <= set(rows[0])
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(run.tensorboard_dir))
    with open(run.loss_curve, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_probe_reports_trained_and_random_init(run):
    assert set(run.probe) == {"simclr_top1", "random_init_top1"}
    for value in run.probe.values():
        assert 0.1 <= value <= 1.0  # ten classes: at least chance on the embedded test split


def test_same_seed_same_losses(run, tmp_path):
    again = pretrain(PretrainConfig(out=str(tmp_path), probe=False, **TINY), verbose=0,
                     log=lambda *a: None)
    np.testing.assert_allclose(again.history["loss"], run.history["loss"], rtol=1e-5)


def test_dataset_smaller_than_batch_is_a_user_error(tmp_path):
    with pytest.raises(UserInputError, match="lower --batch-size"):
        pretrain(PretrainConfig(out=str(tmp_path), **dict(TINY, limit=8)), verbose=0)


def test_image_too_small_for_the_encoder_is_a_user_error(tmp_path):
    config = PretrainConfig(out=str(tmp_path), **dict(TINY, image_size=16, cifar_stem=False))
    with pytest.raises(UserInputError, match="too small"):
        pretrain(config, verbose=0)
