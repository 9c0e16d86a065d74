"""Build simclr_keras3/data/fashion_mnist_subset.npz from the real Fashion-MNIST IDX files.

Takes, per class, 500 training and 100 test images, drawn without replacement by a seeded
generator, keeps them in their original order and records their original indices. Running it
again on the same files gives the same arrays.

Usage:
    apt-get install dataset-fashion-mnist
    python scripts/make_embedded_subset.py [--data-dir DIR] [--out PATH] [--seed 0]
"""

import argparse
import os

import numpy as np

from simclr_keras3.data.idx import FASHION_MNIST_CLASS_NAMES, read_fashion_mnist

PER_CLASS = {"train": 500, "test": 100}
DEFAULT_OUT = os.path.join(
    os.path.dirname(__file__), "..", "simclr_keras3", "data", "fashion_mnist_subset.npz"
)


def stratified_indices(labels, per_class, rng):
    """``per_class`` indices of every class, drawn without replacement, sorted ascending."""
    chosen = [
        rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False)
        for c in range(len(FASHION_MNIST_CLASS_NAMES))
    ]
    return np.sort(np.concatenate(chosen))


def build(data_dir=None, seed=0):
    """Return the arrays to save: ``{split}_images/labels/ids/source_indices`` and class names."""
    rng = np.random.default_rng(seed)
    arrays = {"class_names": np.array(FASHION_MNIST_CLASS_NAMES)}
    for split, per_class in PER_CLASS.items():
        images, labels = read_fashion_mnist(split, data_dir)
        indices = stratified_indices(labels, per_class, rng)
        arrays[f"{split}_images"] = images[indices]
        arrays[f"{split}_labels"] = labels[indices]
        arrays[f"{split}_ids"] = np.array([f"fashion_mnist/{split}/{i}" for i in indices])
        arrays[f"{split}_source_indices"] = indices.astype(np.int32)
    return arrays


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder with the IDX files (default: Debian's)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="output .npz path")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    np.savez_compressed(args.out, **build(args.data_dir, args.seed))
    print(f"wrote {os.path.normpath(args.out)} ({os.path.getsize(args.out):,} bytes)")


if __name__ == "__main__":
    main()
