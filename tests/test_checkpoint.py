import os
import zipfile

import keras
import numpy as np
import pytest

from simclr_keras3.checkpoint import load_checkpoint, load_run_state, save_checkpoint
from simclr_keras3.errors import UserInputError
from simclr_keras3.pretrain import build_model
from simclr_keras3.pretrain_config import PretrainConfig


@pytest.fixture(scope="module")
def model():
    return build_model(PretrainConfig(width=0.125, image_size=16, projection_dim=8))


def test_round_trip_gives_the_same_embeddings_and_state(model, tmp_path):
    path = str(tmp_path / "model.keras")
    save_checkpoint(model, path, {"epoch": 2, "step": 10})
    restored = load_checkpoint(path)
    images = np.random.default_rng(0).uniform(size=(4, 16, 16, 3)).astype("float32")
    for layer in ("h", "z"):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(restored.embed(images, layer=layer)),
            keras.ops.convert_to_numpy(model.embed(images, layer=layer)),
            rtol=1e-6, atol=1e-6,
        )
    assert load_run_state(path) == {"epoch": 2, "step": 10}
    assert [f for f in os.listdir(tmp_path) if f.startswith(".tmp")] == []


def test_a_failed_save_keeps_the_last_good_checkpoint(model, tmp_path, monkeypatch):
    path = str(tmp_path / "model.keras")
    save_checkpoint(model, path)
    before = open(path, "rb").read()

    def broken_save(target, *args, **kwargs):
        with open(target, "wb") as handle:
            handle.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(model, path)
    assert open(path, "rb").read() == before
    assert [f for f in os.listdir(tmp_path) if f.startswith(".tmp")] == []


def test_bad_checkpoints_get_clear_errors(tmp_path):
    with pytest.raises(UserInputError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.keras")
    text = tmp_path / "notes.keras"
    text.write_text("hello")
    with pytest.raises(UserInputError, match="not a .keras checkpoint"):
        load_checkpoint(text)
    other = tmp_path / "other.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(other)
    with pytest.raises(UserInputError, match="not a SimCLR checkpoint"):
        load_checkpoint(other)
    empty_zip = tmp_path / "empty.keras"
    with zipfile.ZipFile(empty_zip, "w") as archive:
        archive.writestr("readme.txt", "x")
    with pytest.raises(UserInputError, match="no config.json"):
        load_checkpoint(empty_zip)
    with pytest.raises(UserInputError, match="must end in .keras"):
        save_checkpoint(None, str(tmp_path / "model.h5"))
