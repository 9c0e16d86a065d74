"""An ``ImageDataset`` as a batched ``tf.data.Dataset``, for TensorFlow input pipelines.

TensorFlow is imported inside the function: nothing else in the data module needs it.
"""

from simclr_keras3.errors import UserInputError


def as_tf_dataset(dataset, batch_size, shuffle=True, seed=0):
    """Batches of ``images`` (with ``labels`` when the dataset has them) as a ``tf.data.Dataset``.

    Args:
        dataset: an ``ImageDataset``.
        batch_size: images per batch; the last batch may be smaller.
        shuffle: reshuffle the whole dataset every epoch.
        seed: shuffle seed, for a reproducible order.

    Returns:
        a ``tf.data.Dataset`` yielding ``images`` or ``(images, labels)`` batches.

    Example:
        >>> for images, labels in as_tf_dataset(load_dataset("fashion_mnist_subset"), 256).take(1):
        ...     print(images.shape)
        (256, 32, 32, 3)
    """
    try:
        import tensorflow as tf
    except ImportError as err:
        raise UserInputError(
            f"as_tf_dataset needs TensorFlow ({err}): pip install 'simclr-keras3[tensorflow]'"
        ) from err
    elements = dataset.images if dataset.labels is None else (dataset.images, dataset.labels)
    tf_ds = tf.data.Dataset.from_tensor_slices(elements)
    if shuffle:
        tf_ds = tf_ds.shuffle(len(dataset), seed=seed, reshuffle_each_iteration=True)
    return tf_ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
