"""Full, reshuffled batches of images for ``model.fit`` on every backend."""

import numpy as np

import keras


class ShuffledBatches(keras.utils.PyDataset):
    """An endless stream of full batches of ``images``, in a new seeded order every epoch.

    Batch ``i`` of the stream is batch ``i % batches_per_epoch`` of epoch
    ``i // batches_per_epoch`` — a pure function of ``i``, with no state changed between epochs, so
    prefetching input pipelines (tf.data runs ahead of ``on_epoch_end``) cannot mix epochs, and a
    resumed run sees the same batches as an uninterrupted one. Pass ``steps_per_epoch`` to ``fit``.

    The remainder that does not fill a batch is dropped each epoch (a different remainder every
    epoch): NT-Xent's negatives and batch-norm statistics depend on the batch size, and
    data-parallel runs need the global batch to split evenly over devices.

    Args:
        images: array (N, H, W, C).
        batch_size: images per GLOBAL batch (≤ N).
        seed: base seed of the shuffles.
        start_epoch: the epoch the stream starts at (for resuming).
        shard: ``(index, count)``: serve only slice ``index`` of ``count`` equal slices of every
            global batch (one process per device feeds its own slice; see
            ``backends.input_shard``). Every shard uses the same order, so the slices together
            are exactly the single-process batch.

    Example:
        >>> batches = ShuffledBatches(np.zeros((10, 8, 8, 3), "float32"), batch_size=4)
        >>> batches.batches_per_epoch, batches[0].shape
        (2, (4, 8, 8, 3))
    """

    def __init__(self, images, batch_size, seed=0, start_epoch=0, shard=(0, 1)):
        super().__init__()
        if batch_size > len(images):
            raise ValueError(f"batch size {batch_size} exceeds the {len(images)} images")
        if batch_size % shard[1]:
            raise ValueError(f"batch size {batch_size} does not split into {shard[1]} shards")
        self.images = images
        self.batch_size = batch_size
        self.seed = seed
        self.start_epoch = start_epoch
        self.shard = shard
        self._cached = (None, None)  # (epoch, order): one permutation per epoch, computed once

    @property
    def batches_per_epoch(self):
        return len(self.images) // self.batch_size

    @property
    def num_batches(self):
        return None  # endless: fit's steps_per_epoch marks the epochs

    def order(self, epoch):
        """The permutation of the images that epoch ``epoch`` uses."""
        if self._cached[0] != epoch:
            self._cached = (epoch, np.random.default_rng([self.seed, epoch]).permutation(len(self.images)))
        return self._cached[1]

    def __getitem__(self, index):
        epoch, position = divmod(index, self.batches_per_epoch)
        order = self.order(self.start_epoch + epoch)
        rows = order[position * self.batch_size : (position + 1) * self.batch_size]
        shard_index, shard_count = self.shard
        local = self.batch_size // shard_count
        return self.images[rows[shard_index * local : (shard_index + 1) * local]]
