"""The in-memory image dataset every loader returns."""

import dataclasses

import numpy as np

from simclr_keras3.data.preprocess import preprocess_images
from simclr_keras3.errors import UserInputError


# repr/eq off: the generated ones would print whole arrays and compare arrays ambiguously.
@dataclasses.dataclass(repr=False, eq=False)
class ImageDataset:
    """Images ready for the model, with their labels and where each one came from.

    Args:
        images: float32 array (N, H, W, 3) with values in [0, 1].
        labels: int64 array (N,), or None for unlabelled data.
        ids: str array (N,) naming each image's origin, e.g. ``"fashion_mnist/train/123"`` or a
            path relative to an image folder; kept so embeddings can be traced back to inputs.
        name: the dataset name the images were loaded under.
        class_names: one name per label value, or None.
        skipped: ``(id, reason)`` for every input a loader skipped (``skip_bad=True``).

    Example:
        >>> ds = ImageDataset.from_arrays(np.zeros((4, 28, 28), np.uint8), [0, 1, 0, 1], name="toy")
        >>> ds.images.shape, ds.num_classes, len(ds.take([0, 2]))
        ((4, 32, 32, 3), 2, 2)
    """

    images: np.ndarray
    labels: np.ndarray | None
    ids: np.ndarray
    name: str
    class_names: list[str] | None = None
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def __post_init__(self):
        self.images = np.asarray(self.images, dtype=np.float32)
        if self.images.ndim != 4 or self.images.shape[-1] != 3:
            raise UserInputError(
                f"dataset {self.name!r}: images must have shape (N, H, W, 3), got "
                f"{self.images.shape}; use ImageDataset.from_arrays to convert other layouts"
            )
        n = len(self.images)
        self.ids = np.asarray(self.ids, dtype=str)
        if self.ids.shape != (n,):
            raise UserInputError(
                f"dataset {self.name!r}: need one id per image ({n}), got {self.ids.shape}"
            )
        if self.labels is not None:
            self.labels = np.asarray(self.labels)
            if self.labels.shape != (n,) or not np.issubdtype(self.labels.dtype, np.integer):
                raise UserInputError(
                    f"dataset {self.name!r}: labels must be integers of shape ({n},), got "
                    f"{self.labels.dtype} {self.labels.shape}"
                )
            self.labels = self.labels.astype(np.int64)
        if self.class_names is not None:
            self.class_names = [str(c) for c in self.class_names]

    @classmethod
    def from_arrays(cls, images, labels=None, ids=None, *, name, class_names=None, image_size=32):
        """Build a dataset from raw arrays, converting them with ``preprocess_images``.

        Args:
            images: uint8 or float [0, 1] array (N, H, W) or (N, H, W, C), C in 1, 3, 4.
            labels: integer labels (N,) or None.
            ids: str ids (N,); default ``"{name}/{index}"``.
            name: dataset name.
            class_names: one name per label value, or None.
            image_size: side of the square output images.

        Example:
            >>> ds = ImageDataset.from_arrays(np.ones((2, 8, 8, 3)), name="ones", image_size=4)
            >>> ds.images.shape
            (2, 4, 4, 3)
        """
        images = np.asarray(images)
        if ids is None:
            ids = np.array([f"{name}/{i}" for i in range(len(images))])
        return cls(
            images=preprocess_images(images, image_size),
            labels=labels,
            ids=ids,
            name=name,
            class_names=class_names,
        )

    @property
    def num_classes(self):
        """``len(class_names)``, else ``max(label) + 1``; None when unlabelled."""
        if self.class_names is not None:
            return len(self.class_names)
        if self.labels is None:
            return None
        return int(self.labels.max()) + 1 if len(self.labels) else 0

    def __len__(self):
        return len(self.images)

    def __repr__(self):
        return (
            f"ImageDataset(name={self.name!r}, images={self.images.shape}, "
            f"num_classes={self.num_classes}, skipped={len(self.skipped)})"
        )

    def take(self, indices):
        """Return the subset at ``indices`` (a sequence of ints or a boolean mask), in that order.

        Example:
            >>> ds = load_dataset("fashion_mnist_subset", split="test")
            >>> len(ds.take(np.arange(10))), len(ds.take(ds.labels == 0))
            (10, 100)
        """
        indices = np.asarray(indices)
        if indices.ndim != 1:
            raise UserInputError(
                f"take() needs a 1-D list of indices or a mask, got shape {indices.shape}"
            )
        return dataclasses.replace(
            self,
            images=self.images[indices],
            labels=None if self.labels is None else self.labels[indices],
            ids=self.ids[indices],
            class_names=None if self.class_names is None else list(self.class_names),
            skipped=list(self.skipped),
        )
