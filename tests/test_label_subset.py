"""Labelled subsets: stratified fractions and official-style id lists."""

import numpy as np
import pytest

from simclr_keras3.errors import UserInputError
from simclr_keras3.evaluation.label_subset import stratified_label_subset, subset_from_id_file


def test_exact_fraction_per_class():
    labels = np.repeat(np.arange(10), [100, 200, 300, 100, 100, 100, 100, 100, 100, 1000])
    indices = stratified_label_subset(labels, 0.1, seed=0)
    counts = np.bincount(labels[indices], minlength=10)
    np.testing.assert_array_equal(counts, [10, 20, 30, 10, 10, 10, 10, 10, 10, 100])
    assert len(np.unique(indices)) == len(indices)  # no repeats
    assert np.all(np.diff(indices) > 0)  # sorted


def test_at_least_one_example_per_class():
    labels = np.array([0] * 1000 + [1] * 3 + [2])
    counts = np.bincount(labels[stratified_label_subset(labels, 0.01, seed=0)])
    np.testing.assert_array_equal(counts, [10, 1, 1])


def test_the_seed_alone_decides_the_subset():
    labels = np.arange(1000) % 7
    first = stratified_label_subset(labels, 0.05, seed=3)
    np.testing.assert_array_equal(first, stratified_label_subset(labels, 0.05, seed=3))
    assert not np.array_equal(first, stratified_label_subset(labels, 0.05, seed=4))
    np.testing.assert_array_equal(stratified_label_subset(labels, 1.0, seed=0), np.arange(1000))


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5, float("nan"), "0.1", True])
def test_fraction_outside_the_unit_interval_is_a_user_error(fraction):
    with pytest.raises(UserInputError, match=r"fraction must be in \(0, 1\]"):
        stratified_label_subset(np.arange(10) % 2, fraction, seed=0)


def test_missing_labels_are_a_user_error():
    with pytest.raises(UserInputError, match="no labels"):
        stratified_label_subset(None, 0.1, seed=0)


def test_id_file_selects_the_listed_examples_in_file_order(tmp_path):
    ids = np.array(["n01/n01_1.JPEG", "n01/n01_2.JPEG", "n02/n02_7.JPEG", "n02/n02_9.JPEG"])
    path = tmp_path / "1percent.txt"
    # Official lists hold base names; exact ids match too; blanks, comments, repeats are ignored.
    path.write_text("n02_9.JPEG\n\n# a comment\nn01/n01_1.JPEG\nn02_9.JPEG\n")
    np.testing.assert_array_equal(subset_from_id_file(ids, path), [3, 0])


def test_unknown_ids_are_named(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("a\nzzz1\nzzz2\nzzz3\nzzz4\n")
    with pytest.raises(UserInputError, match=r"4 id\(s\).*'zzz1', 'zzz2', 'zzz3' and 1 more"):
        subset_from_id_file(np.array(["a", "b"]), path)


def test_missing_or_empty_id_file(tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        subset_from_id_file(np.array(["a"]), tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(UserInputError, match="lists no ids"):
        subset_from_id_file(np.array(["a"]), tmp_path / "empty.txt")
