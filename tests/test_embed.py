"""Embedding export: .npy / .npz / .parquet read back against the encoder, skipped sidecar, CLI."""

import os

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from eval_testing import TinySimCLR, tiny_checkpoint

from simclr_keras3.data import ImageDataset
from simclr_keras3.embed import embed
from simclr_keras3.errors import UserInputError

BACKEND = keras.backend.backend()


@pytest.fixture(scope="module")
def model():
    return TinySimCLR(16)


def _dataset(labels=True, skipped=()):
    images = np.random.default_rng(0).uniform(size=(10, 16, 16, 3)).astype("float32")
    return ImageDataset(
        images=images, labels=np.arange(10) % 3 if labels else None,
        ids=np.array([f"img/{i}.png" for i in range(10)]), name="toy",
        class_names=["a", "b", "c"] if labels else None, skipped=list(skipped),
    )


def _direct(model, images, layer):
    h = model.encoder(images, training=False)
    return keras.ops.convert_to_numpy(h if layer == "h" else model.projection_head(h, training=False))


def test_npy_holds_the_encoder_output(model, tmp_path):
    dataset = _dataset()
    result = embed(model, dataset, tmp_path / "h.npy", batch_size=4, progress=False)
    stored = np.load(tmp_path / "h.npy")
    assert stored.shape == (10, 32) and stored.dtype == np.float32
    np.testing.assert_allclose(stored, _direct(model, dataset.images, "h"), atol=1e-5)
    assert (result.count, result.dim, result.skipped, result.skipped_path) == (10, 32, 0, None)
    assert [name for name in os.listdir(tmp_path) if name.startswith(".tmp")] == []


def test_npz_holds_z_ids_labels_and_class_names(model, tmp_path):
    dataset = _dataset()
    embed(model, dataset, tmp_path / "z.npz", layer="z", batch_size=3, progress=False)
    with np.load(tmp_path / "z.npz") as stored:  # no pickles needed
        np.testing.assert_allclose(stored["embeddings"], _direct(model, dataset.images, "z"), atol=1e-5)
        np.testing.assert_array_equal(stored["ids"], dataset.ids)
        np.testing.assert_array_equal(stored["labels"], dataset.labels)
        assert list(stored["class_names"]) == ["a", "b", "c"]


def test_npz_without_labels_has_no_labels_entry(model, tmp_path):
    embed(model, _dataset(labels=False), tmp_path / "u.npz", progress=False)
    with np.load(tmp_path / "u.npz") as stored:
        assert sorted(stored.files) == ["embeddings", "ids"]


def test_parquet_has_one_row_per_image(model, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    dataset = _dataset()
    embed(model, dataset, tmp_path / "h.parquet", progress=False)
    table = pq.read_table(tmp_path / "h.parquet")
    assert table.column_names == ["id", "label", "embedding"] and table.num_rows == 10
    assert table.column("id").to_pylist() == list(dataset.ids)
    assert table.column("label").to_pylist() == list(dataset.labels)
    rows = np.array(table.column("embedding").to_pylist(), dtype="float32")
    np.testing.assert_allclose(rows, _direct(model, dataset.images, "h"), atol=1e-5)
    assert table.schema.metadata[b"layer"] == b"h"


def test_missing_pyarrow_is_a_user_error_naming_the_extra(model, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError("no pyarrow")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(UserInputError, match=r"simclr-keras3\[parquet\]"):
        embed(model, _dataset(), tmp_path / "h.parquet", progress=False)


def test_skipped_inputs_go_to_a_sidecar(model, tmp_path):
    dataset = _dataset(skipped=[("img/bad.png", "cannot identify image file")])
    result = embed(model, dataset, tmp_path / "e.npy", progress=False)
    assert result.skipped == 1
    assert result.skipped_path == str(tmp_path / "e.npy.skipped.txt")
    assert open(result.skipped_path).read() == "img/bad.png\tcannot identify image file\n"
    # A later run with nothing skipped removes the stale list.
    embed(model, _dataset(), tmp_path / "e.npy", progress=False)
    assert not os.path.exists(tmp_path / "e.npy.skipped.txt")


@pytest.mark.parametrize(
    "out, kwargs, message",
    [("e.csv", {}, "unknown embedding format '.csv'"), ("e", {}, r"'\(none\)'"),
     ("e.npy", {"layer": "q"}, "layer must be one of")],
)
def test_bad_arguments_are_user_errors(model, tmp_path, out, kwargs, message):
    with pytest.raises(UserInputError, match=message):
        embed(model, _dataset(), tmp_path / out, progress=False, **kwargs)
    assert not os.path.exists(tmp_path / out)


def test_cli_embeds_an_image_folder_skipping_a_bad_file(tmp_path):
    from PIL import Image

    from simclr_keras3.cli.main import main

    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        os.makedirs(tmp_path / "photos" / cls)
        for i in range(3):
            pixels = rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "photos" / cls / f"{i}.png")
    (tmp_path / "photos" / "dog" / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "emb.npz"
    result = CliRunner().invoke(main, [
        "embed", "--backend", BACKEND, "--checkpoint", tiny_checkpoint(), "--input",
        str(tmp_path / "photos"), "--out", str(out), "--skip-bad", "--batch-size", "4",
    ])
    assert result.exit_code == 0, result.output
    assert "embedded 6 images (h, 32 dims)" in result.output
    assert "skipped 1" in result.output
    with np.load(out) as stored:
        assert stored["embeddings"].shape == (6, 32)
        assert list(stored["ids"]) == ["cat/0.png", "cat/1.png", "cat/2.png", "dog/0.png",
                                       "dog/1.png", "dog/2.png"]
        np.testing.assert_array_equal(stored["labels"], [0, 0, 0, 1, 1, 1])
    assert open(f"{out}.skipped.txt").read().startswith("dog/broken.png\t")


def test_cli_embed_rejects_an_unknown_format_in_one_line(tmp_path):
    from simclr_keras3.cli.main import main

    result = CliRunner().invoke(main, ["embed", "--backend", BACKEND, "--checkpoint",
                                       tiny_checkpoint(), "--input", "digits", "--out",
                                       str(tmp_path / "e.txt")])
    assert result.exit_code == 2 and result.output.count("error:") == 1
