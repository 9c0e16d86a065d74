"""IDX parsing on hand-made bytes and, when installed, on the real Fashion-MNIST files."""

import gzip
import os
import struct

import numpy as np
import pytest

from simclr_keras3.data import idx
from simclr_keras3.errors import UserInputError

DEBIAN_FILES_PRESENT = os.path.isfile(
    os.path.join(idx.DEBIAN_FASHION_MNIST_DIR, "t10k-labels-idx1-ubyte.gz")
)
needs_debian = pytest.mark.skipif(
    not DEBIAN_FILES_PRESENT,
    reason=f"Fashion-MNIST IDX files not in {idx.DEBIAN_FASHION_MNIST_DIR} "
    "(apt-get install dataset-fashion-mnist)",
)


def idx_bytes(type_code, shape, payload):
    """An IDX file written by hand: 0, 0, type, ndim, big-endian uint32 dims, payload."""
    return bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def test_parse_uint8_images():
    data = idx_bytes(0x08, (2, 2, 3), bytes(range(12)))
    array = idx.parse_idx(data)
    assert array.dtype == np.uint8 and array.shape == (2, 2, 3)
    np.testing.assert_array_equal(array, np.arange(12).reshape(2, 2, 3))


def test_parse_big_endian_int_and_float():
    ints = idx.parse_idx(idx_bytes(0x0C, (3,), struct.pack(">3i", 1, -2, 70000)))
    np.testing.assert_array_equal(ints, [1, -2, 70000])
    assert ints.dtype.isnative
    floats = idx.parse_idx(idx_bytes(0x0D, (2,), struct.pack(">2f", 0.5, -1.25)))
    np.testing.assert_array_equal(floats, [0.5, -1.25])


@pytest.mark.parametrize("compress", [True, False], ids=["gz", "raw"])
def test_read_idx_gz_or_raw(tmp_path, compress):
    data = idx_bytes(0x08, (4,), bytes([9, 8, 7, 6]))
    path = tmp_path / ("labels.gz" if compress else "labels")
    path.write_bytes(gzip.compress(data) if compress else data)
    np.testing.assert_array_equal(idx.read_idx(path), [9, 8, 7, 6])


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x01\x02\x08\x01", "not an IDX file"),
        (bytes([0, 0, 8, 2, 0, 0]), "truncated"),
        (idx_bytes(0x08, (5,), bytes(3)), "corrupt"),
    ],
    ids=["bad-magic", "short-header", "short-data"],
)
def test_corrupt_idx_names_the_file(tmp_path, data, message):
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(data)
    with pytest.raises(UserInputError, match=message) as err:
        idx.read_idx(path)
    assert str(path) in str(err.value)


def test_fashion_mnist_from_a_data_dir(tmp_path):
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(0x08, images.shape, images.tobytes()))
    )
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(0x08, (3,), bytes([3, 1, 4])))
    ds = idx.load_fashion_mnist("test", image_size=28, data_dir=tmp_path)
    assert ds.images.shape == (3, 28, 28, 3)
    np.testing.assert_allclose(ds.images[..., 1], images / 255.0, atol=1e-7)
    np.testing.assert_array_equal(ds.labels, [3, 1, 4])
    assert list(ds.ids) == ["fashion_mnist/test/0", "fashion_mnist/test/1", "fashion_mnist/test/2"]


def test_missing_files_say_where_and_how(tmp_path):
    with pytest.raises(UserInputError) as err:
        idx.read_fashion_mnist("train", data_dir=tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message and "apt-get install dataset-fashion-mnist" in message
    assert "--data-dir" in message and "\n" not in message


def test_unknown_split():
    with pytest.raises(UserInputError, match="'train' and 'test'"):
        idx.read_fashion_mnist("validation")


@needs_debian
@pytest.mark.parametrize("split, count", [("train", 60000), ("test", 10000)])
def test_real_fashion_mnist(split, count):
    images, labels = idx.read_fashion_mnist(split)
    assert images.shape == (count, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (count,)
    np.testing.assert_array_equal(np.bincount(labels), [count // 10] * 10)
