import keras
import numpy as np

from simclr_keras3.model import SimCLR
from simclr_keras3.nt_xent import NTXentLoss
from simclr_keras3.pretrain import build_model
from simclr_keras3.pretrain_config import PretrainConfig
from testing_utils import assert_serializable

TINY = dict(width=0.125, image_size=16, projection_dim=8, temperature=0.5)


def _images(n, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, 16, 16, 3)).astype("float32")


def test_call_returns_projections_of_both_views_stacked():
    model = build_model(PretrainConfig(**TINY))
    z = keras.ops.convert_to_numpy(model(_images(6), training=True))
    assert z.shape == (12, 8)
    # Two views of the same image differ (augmentation ran), and differ from other images.
    assert not np.allclose(z[:6], z[6:])


def test_compute_loss_is_nt_xent_of_the_two_halves():
    model = build_model(PretrainConfig(**TINY))
    z = np.random.default_rng(1).normal(size=(10, 8)).astype("float32")
    loss = keras.ops.convert_to_numpy(model.compute_loss(y_pred=keras.ops.convert_to_tensor(z)))
    expected = keras.ops.convert_to_numpy(NTXentLoss(temperature=0.5)(z[:5], z[5:]))
    np.testing.assert_allclose(loss, expected, rtol=1e-6)


def test_fit_trains_and_reports_loss_and_contrastive_accuracy():
    keras.utils.set_random_seed(0)
    model = build_model(PretrainConfig(**TINY))
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    before = [w.copy() for w in model.encoder.get_weights()]
    history = model.fit(_images(32), batch_size=16, epochs=2, verbose=0)
    assert set(history.history) >= {"loss", "contrastive_accuracy"}
    losses = history.history["loss"]
    assert all(np.isfinite(losses))
    # One positive among 2N - 1 = 31 candidates: the loss starts near ln(31).
    assert 0.5 * np.log(31) < losses[0] < 2 * np.log(31)
    assert 0.0 <= history.history["contrastive_accuracy"][-1] <= 1.0
    after = model.encoder.get_weights()
    assert any(not np.allclose(b, a) for b, a in zip(before, after))


def test_embed_layers_and_config_round_trip():
    model = build_model(PretrainConfig(**TINY))
    images = _images(3)
    h = keras.ops.convert_to_numpy(model.embed(images, layer="h"))
    z = keras.ops.convert_to_numpy(model.embed(images, layer="z"))
    assert h.shape == (3, model.encoder.output_dim) and z.shape == (3, 8)
    clone = SimCLR.from_config(model.get_config())
    clone.build((None, 16, 16, 3))
    assert clone.get_config() == model.get_config()
    # from_config leaves the sub-layers unbuilt (Keras' loader builds the model, under its own
    # name scope); round-trip that unbuilt state too.
    assert_serializable(SimCLR.from_config(model.get_config()))
