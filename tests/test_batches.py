import numpy as np
import pytest

from simclr_keras3.batches import ShuffledBatches


def _images(n):
    # Each image holds its own index, so batches can be traced back to rows.
    return np.arange(n, dtype="float32").reshape(n, 1, 1, 1) * np.ones((1, 2, 2, 3), "float32")


def _epoch_rows(batches):
    return [batches[i][:, 0, 0, 0].astype(int) for i in range(len(batches))]


def test_full_batches_drop_a_different_remainder_each_epoch():
    batches = ShuffledBatches(_images(10), batch_size=4, seed=3)
    assert len(batches) == 2
    first = np.concatenate(_epoch_rows(batches))
    assert all(len(rows) == 4 for rows in _epoch_rows(batches))
    assert len(set(first.tolist())) == 8  # no row twice within an epoch
    dropped = []
    for _ in range(6):
        batches.on_epoch_end()
        dropped.append(frozenset(set(range(10)) - set(np.concatenate(_epoch_rows(batches)).tolist())))
    assert len(set(dropped)) > 1


def test_order_depends_only_on_seed_and_epoch():
    a = ShuffledBatches(_images(12), batch_size=4, seed=7)
    a.on_epoch_end()
    a.on_epoch_end()
    resumed = ShuffledBatches(_images(12), batch_size=4, seed=7, start_epoch=2)
    np.testing.assert_array_equal(np.concatenate(_epoch_rows(a)), np.concatenate(_epoch_rows(resumed)))
    other_seed = ShuffledBatches(_images(12), batch_size=4, seed=8, start_epoch=2)
    assert not np.array_equal(np.concatenate(_epoch_rows(a)), np.concatenate(_epoch_rows(other_seed)))


def test_batch_larger_than_data_is_rejected():
    with pytest.raises(ValueError, match="exceeds"):
        ShuffledBatches(_images(3), batch_size=4)


def test_shards_together_are_the_single_process_batch():
    whole = ShuffledBatches(_images(20), batch_size=8, seed=1)
    shards = [ShuffledBatches(_images(20), batch_size=8, seed=1, shard=(i, 4)) for i in range(4)]
    for index in range(len(whole)):
        np.testing.assert_array_equal(np.concatenate([s[index] for s in shards]), whole[index])
    with pytest.raises(ValueError, match="does not split"):
        ShuffledBatches(_images(20), batch_size=6, shard=(0, 4))
