import numpy as np
import pytest

from simclr_keras3.batches import ShuffledBatches


def _images(n):
    # Each image holds its own index, so batches can be traced back to rows.
    return np.arange(n, dtype="float32").reshape(n, 1, 1, 1) * np.ones((1, 2, 2, 3), "float32")


def _rows(batches, epoch):
    per_epoch = batches.batches_per_epoch
    return [batches[epoch * per_epoch + i][:, 0, 0, 0].astype(int) for i in range(per_epoch)]


def test_full_batches_drop_a_different_remainder_each_epoch():
    batches = ShuffledBatches(_images(10), batch_size=4, seed=3)
    assert batches.batches_per_epoch == 2 and batches.num_batches is None  # endless stream
    first = np.concatenate(_rows(batches, 0))
    assert all(len(rows) == 4 for rows in _rows(batches, 0))
    assert len(set(first.tolist())) == 8  # no row twice within an epoch
    dropped = {frozenset(set(range(10)) - set(np.concatenate(_rows(batches, e)).tolist()))
               for e in range(1, 7)}
    assert len(dropped) > 1


def test_batches_are_a_pure_function_of_the_index():
    a = ShuffledBatches(_images(12), batch_size=4, seed=7)
    late = a[7].copy()
    early = a[0].copy()  # going back in the stream gives the same batch again
    np.testing.assert_array_equal(a[7], late)
    np.testing.assert_array_equal(a[0], early)
    resumed = ShuffledBatches(_images(12), batch_size=4, seed=7, start_epoch=2)
    np.testing.assert_array_equal(np.concatenate(_rows(a, 2)), np.concatenate(_rows(resumed, 0)))
    other_seed = ShuffledBatches(_images(12), batch_size=4, seed=8, start_epoch=2)
    assert not np.array_equal(np.concatenate(_rows(a, 2)), np.concatenate(_rows(other_seed, 0)))


def test_batch_larger_than_data_is_rejected():
    with pytest.raises(ValueError, match="exceeds"):
        ShuffledBatches(_images(3), batch_size=4)


def test_shards_together_are_the_single_process_batch():
    whole = ShuffledBatches(_images(20), batch_size=8, seed=1)
    shards = [ShuffledBatches(_images(20), batch_size=8, seed=1, shard=(i, 4)) for i in range(4)]
    for index in range(5):
        np.testing.assert_array_equal(np.concatenate([s[index] for s in shards]), whole[index])
    with pytest.raises(ValueError, match="does not split"):
        ShuffledBatches(_images(20), batch_size=6, shard=(0, 4))
