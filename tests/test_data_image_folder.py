"""Folders of image files written with PIL: formats, modes, labels, bad files."""

import numpy as np
import pytest
from PIL import Image

from simclr_keras3.data import load_dataset, load_image_folder
from simclr_keras3.errors import UserInputError

RED = (255, 0, 0)


@pytest.fixture
def folder(tmp_path):
    """cat/: PNG, gray JPEG (upper-case extension), BMP; dog/: RGBA WEBP, nested palette PNG."""
    (tmp_path / "cat").mkdir()
    (tmp_path / "dog" / "nested").mkdir(parents=True)
    Image.new("RGB", (40, 50), RED).save(tmp_path / "cat" / "a.png")
    Image.new("L", (64, 48), 128).save(tmp_path / "cat" / "b.JPG", quality=95)
    Image.new("RGB", (20, 20), (0, 0, 255)).save(tmp_path / "cat" / "c.bmp")
    Image.new("RGBA", (33, 33), (0, 255, 0, 0)).save(tmp_path / "dog" / "d.webp", lossless=True)
    palette = Image.new("P", (16, 16), 1)
    palette.putpalette([0, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 6))
    palette.save(tmp_path / "dog" / "nested" / "e.png")
    (tmp_path / "cat" / "notes.txt").write_text("not an image, ignored")
    (tmp_path / "dog" / ".hidden.png").write_bytes(b"ignored: hidden")
    return tmp_path


def solid(rgb, size=24):
    return np.broadcast_to(np.array(rgb, np.float32), (size, size, 3))


def test_formats_modes_and_labels(folder):
    ds = load_image_folder(folder, image_size=24)
    assert list(ds.ids) == ["cat/a.png", "cat/b.JPG", "cat/c.bmp", "dog/d.webp", "dog/nested/e.png"]
    assert ds.class_names == ["cat", "dog"] and list(ds.labels) == [0, 0, 0, 1, 1]
    assert ds.images.shape == (5, 24, 24, 3) and ds.images.dtype == np.float32
    np.testing.assert_allclose(ds.images[0], solid([1.0, 0.0, 0.0]), atol=1e-6)
    np.testing.assert_allclose(ds.images[1], 128 / 255, atol=2 / 255)  # gray → 3 equal channels
    np.testing.assert_allclose(ds.images[2], solid([0.0, 0.0, 1.0]), atol=1e-6)
    np.testing.assert_allclose(ds.images[3], 1.0, atol=1e-6)  # fully transparent → white
    np.testing.assert_allclose(ds.images[4], solid([0.0, 1.0, 0.0]), atol=1e-6)
    assert ds.skipped == []


def test_order_is_deterministic_and_limit_keeps_the_classes(folder):
    ds = load_image_folder(folder, image_size=8, limit=2)
    assert list(ds.ids) == ["cat/a.png", "cat/b.JPG"] and ds.num_classes == 2


def test_corrupt_file_is_named(folder):
    (folder / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(UserInputError, match="broken.png"):
        load_image_folder(folder, image_size=8)


def test_skip_bad_records_the_file(folder):
    (folder / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
    Image.fromarray(noise).save(folder / "dog" / "half.png")
    (folder / "dog" / "half.png").write_bytes((folder / "dog" / "half.png").read_bytes()[:2000])
    ds = load_image_folder(folder, image_size=8, skip_bad=True)
    assert len(ds) == 5
    assert [rel for rel, _ in ds.skipped] == ["cat/broken.png", "dog/half.png"]
    assert all(reason for _, reason in ds.skipped)


def test_empty_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "readme.txt").write_text("no images")
    with pytest.raises(UserInputError, match="no images"):
        load_image_folder(tmp_path)


def test_single_subfolder_is_unlabelled(tmp_path):
    (tmp_path / "only").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "only" / "x.png")
    ds = load_image_folder(tmp_path, image_size=8)
    assert ds.labels is None and ds.class_names is None and list(ds.ids) == ["only/x.png"]


def test_stray_top_level_image_with_classes(folder):
    Image.new("RGB", (8, 8)).save(folder / "stray.png")
    with pytest.raises(UserInputError, match="stray.png"):
        load_image_folder(folder)


def test_split_subfolders_through_load_dataset(tmp_path_factory, folder):
    root = tmp_path_factory.mktemp("splits")
    for split in ("train", "test"):
        for label in ("a", "b"):
            (root / split / label).mkdir(parents=True)
            Image.new("RGB", (8, 8)).save(root / split / label / f"{split}.png")
    test = load_dataset(str(root), split="test", image_size=8)
    assert list(test.ids) == ["a/test.png", "b/test.png"] and test.class_names == ["a", "b"]
    assert len(load_dataset(str(folder), split="train", image_size=8)) == 5
    with pytest.raises(UserInputError, match="single \\(train\\) split"):
        load_dataset(str(folder), split="test")
