"""Any TensorFlow Datasets image dataset, as an ``ImageDataset``.

TensorFlow and tensorflow-datasets are imported inside the functions, so users who train on
arrays with JAX or PyTorch never need them installed.
"""

import numpy as np

from simclr_keras3.data.image_dataset import ImageDataset
from simclr_keras3.data.preprocess import check_image_size, eval_preprocess, preprocess_images
from simclr_keras3.errors import UserInputError


def import_tfds():
    """Import tensorflow_datasets, or say how to install it."""
    try:
        import tensorflow_datasets as tfds
    except ImportError as err:
        raise UserInputError(
            f"TFDS datasets need tensorflow-datasets ({err}): pip install 'simclr-keras3[tfds]'"
        ) from err
    return tfds


def _feature_keys(tfds, features, name):
    """The image feature ('image', else the first Image feature) and 'label' if a ClassLabel."""
    images = [k for k, f in features.items() if isinstance(f, tfds.features.Image)]
    if not images:
        raise UserInputError(
            f"TFDS dataset {name!r} has no image feature (it has {list(features)})"
        )
    image_key = "image" if "image" in images else images[0]
    has_label = "label" in features and isinstance(features["label"], tfds.features.ClassLabel)
    return image_key, "label" if has_label else None


def load_tfds(name, split="train", image_size=32, data_dir=None, limit=None, download=True):
    """Load a split of a TFDS image dataset into memory.

    Fixed-size images (MNIST, CIFAR) are converted with ``preprocess_images`` (bilinear resize);
    datasets of varying size (ImageNet-like) get the evaluation centre crop, image by image.
    The whole split is held in memory as float32: use ``limit`` for large datasets.

    Args:
        name: the TFDS name, e.g. "cifar10" or "mnist:3.0.1".
        split: a TFDS split string, e.g. "train", "test" or "train[:10%]".
        image_size: side of the square output images.
        data_dir: TFDS data folder; default TFDS's own (``~/tensorflow_datasets``).
        limit: keep only the first ``limit`` examples.
        download: let TFDS download and prepare the dataset if it is not in ``data_dir``.

    Example:
        >>> ds = load_tfds("cifar10", split="test", image_size=32, limit=1000)
        >>> ds.images.shape, ds.class_names[:2]
        ((1000, 32, 32, 3), ['airplane', 'automobile'])
    """
    image_size = check_image_size(image_size)
    tfds = import_tfds()
    try:
        tf_ds, info = tfds.load(
            name, split=split, data_dir=data_dir, download=download, with_info=True
        )
    except tfds.core.registered.DatasetNotFoundError as err:
        raise UserInputError(f"no TFDS dataset named {name!r}: see tfds.list_builders()") from err
    except AssertionError as err:
        # What TFDS raises when the data is not prepared and download=False.
        raise UserInputError(
            f"TFDS dataset {name!r} is not prepared in {data_dir or 'the default TFDS folder'}: "
            "pass the data_dir where it was prepared, or download=True (needs internet)"
        ) from err
    except ValueError as err:  # e.g. an unknown split
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserInputError(f"TFDS dataset {name!r}, split {split!r}: {first_line}") from err
    image_key, label_key = _feature_keys(tfds, info.features, name)
    if limit is not None:
        tf_ds = tf_ds.take(limit)

    images, labels = [], []
    fixed_shape = None not in info.features[image_key].shape[:2]
    for example in tfds.as_numpy(tf_ds):
        image = example[image_key]
        images.append(image if fixed_shape else eval_preprocess(image, image_size))
        if label_key:
            labels.append(example[label_key])
    if not images:
        raise UserInputError(f"TFDS dataset {name!r}, split {split!r} is empty")
    images = np.stack(images)
    return ImageDataset(
        images=preprocess_images(images, image_size) if fixed_shape else images,
        labels=np.array(labels, np.int64) if label_key else None,
        ids=np.array([f"{name}/{split}/{i}" for i in range(len(images))]),
        name=f"tfds:{name}",
        class_names=info.features[label_key].names if label_key else None,
    )
