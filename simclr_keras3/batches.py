"""Full, reshuffled batches of images for ``model.fit`` on every backend."""

import numpy as np

import keras


class ShuffledBatches(keras.utils.PyDataset):
    """Yield full batches of ``images`` in a new seeded order every epoch.

    The remainder that does not fill a batch is dropped each epoch (a different remainder every
    epoch): NT-Xent's negatives and batch-norm statistics depend on the batch size, and
    data-parallel runs need the global batch to split evenly over devices. The order of epoch e
    depends only on (seed, e), so a resumed run sees the same batches as an uninterrupted one.

    Args:
        images: array (N, H, W, C).
        batch_size: images per batch (≤ N).
        seed: base seed of the shuffles.
        start_epoch: the epoch whose order ``__getitem__`` serves first.
        shard: ``(index, count)``: serve only slice ``index`` of ``count`` equal slices of every
            global batch (one process per device feeds its own slice; see
            ``backends.input_shard``). Every shard uses the same order, so the slices together
            are exactly the single-process batch.

    Example:
        >>> batches = ShuffledBatches(np.zeros((10, 8, 8, 3), "float32"), batch_size=4)
        >>> len(batches), batches[0].shape
        (2, (4, 8, 8, 3))
    """

    def __init__(self, images, batch_size, seed=0, start_epoch=0, shard=(0, 1)):
        super().__init__()
        if batch_size > len(images):
            raise ValueError(f"batch size {batch_size} exceeds the {len(images)} images")
        if batch_size % shard[1]:
            raise ValueError(f"batch size {batch_size} does not split into {shard[1]} shards")
        self.shard = shard
        self.images = images
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = start_epoch
        self._order = self._order_for(start_epoch)

    def _order_for(self, epoch):
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.images))

    def __len__(self):
        return len(self.images) // self.batch_size

    def __getitem__(self, index):
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        shard_index, shard_count = self.shard
        local = self.batch_size // shard_count
        return self.images[rows[shard_index * local : (shard_index + 1) * local]]

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._order_for(self.epoch)
