"""IDX files (the MNIST / Fashion-MNIST format) and the full Fashion-MNIST loader.

IDX layout: two zero bytes, a type code, the number of dimensions, each dimension as a big-endian
uint32, then the values in C order, big-endian. Files may be gzip-compressed.
"""

import gzip
import os

import numpy as np

from simclr_keras3.data.image_dataset import ImageDataset
from simclr_keras3.errors import UserInputError

# Where the Debian/Ubuntu package `dataset-fashion-mnist` installs the files.
DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
# Split name → file prefix used by the original distribution.
_FASHION_MNIST_PREFIX = {"train": "train", "test": "t10k"}

_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def parse_idx(data, source="<bytes>"):
    """Parse the bytes of an (uncompressed) IDX file into a NumPy array.

    Args:
        data: the file's bytes.
        source: name used in error messages.

    Returns:
        array with the file's shape, in native byte order.

    Example:
        >>> parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]))
        array([7, 9], dtype=uint8)
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise UserInputError(
            f"{source} is not an IDX file (bad header): re-download it or pass another file"
        )
    dtype, ndim = _IDX_DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise UserInputError(f"{source} is truncated (incomplete IDX header); re-download it")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) != header + count * dtype.itemsize:
        raise UserInputError(
            f"{source} holds {len(data) - header} data bytes but its header promises "
            f"{count * dtype.itemsize}; the file is corrupt, re-download it"
        )
    array = np.frombuffer(data, dtype, count=count, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def read_idx(path):
    """Read an IDX file, gzip-compressed or raw (detected from its first bytes).

    Args:
        path: path of the file.

    Example:
        >>> labels = read_idx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
        >>> labels.shape
        (10000,)
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
        if data[:2] == _GZIP_MAGIC:
            data = gzip.decompress(data)
    except (OSError, EOFError) as err:
        raise UserInputError(f"cannot read IDX file {path}: {err}") from err
    return parse_idx(data, source=str(path))


def _find_idx(directory, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    raise UserInputError(
        f"Fashion-MNIST file {stem}[.gz] not found in {directory}: install it with "
        "`apt-get install dataset-fashion-mnist` or pass data_dir (CLI: --data-dir) pointing to "
        "a folder with the four IDX files"
    )


def read_fashion_mnist(split="train", data_dir=None):
    """Read the raw Fashion-MNIST arrays of one split.

    Args:
        split: "train" (60,000 images) or "test" (10,000).
        data_dir: folder holding ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``;
            default the Debian package's ``/usr/share/datasets/fashion-mnist``.

    Returns:
        ``(images, labels)``: uint8 (N, 28, 28) and uint8 (N,).

    Example:
        >>> images, labels = read_fashion_mnist("test")
    """
    if split not in _FASHION_MNIST_PREFIX:
        raise UserInputError(f"Fashion-MNIST has splits 'train' and 'test', not {split!r}")
    directory = os.path.expanduser(data_dir or DEBIAN_FASHION_MNIST_DIR)
    prefix = _FASHION_MNIST_PREFIX[split]
    images = read_idx(_find_idx(directory, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(_find_idx(directory, f"{prefix}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.shape != images.shape[:1]:
        raise UserInputError(
            f"Fashion-MNIST files in {directory} do not match: images {images.shape}, "
            f"labels {labels.shape}; re-install them"
        )
    return images, labels


def load_fashion_mnist(split="train", image_size=32, data_dir=None, limit=None):
    """Load full Fashion-MNIST from its IDX files as an ``ImageDataset``.

    Args:
        split: "train" or "test".
        image_size: side of the square output images (28 → 32 by default, bilinear).
        data_dir: folder with the IDX files; default the Debian package's folder.
        limit: keep only the first ``limit`` images.

    Example:
        >>> ds = load_fashion_mnist("test", image_size=32, limit=100)
        >>> ds.images.shape, ds.ids[0]
        ((100, 32, 32, 3), 'fashion_mnist/test/0')
    """
    images, labels = read_fashion_mnist(split, data_dir)
    images, labels = images[:limit], labels[:limit]
    return ImageDataset.from_arrays(
        images,
        labels,
        ids=np.array([f"fashion_mnist/{split}/{i}" for i in range(len(images))]),
        name="fashion_mnist",
        class_names=FASHION_MNIST_CLASS_NAMES,
        image_size=image_size,
    )
