"""Weighted k-nearest-neighbour classification of L2-normalised features, and a training monitor."""

import math

import keras
import numpy as np

from simclr_keras3.errors import UserInputError
from simclr_keras3.evaluation.accuracy import check_labels, infer_num_classes, top_k_accuracy
from simclr_keras3.evaluation.features import (
    check_feature_pair,
    check_features,
    check_images,
    extract_features,
    inference_model,
    labelled_split_features,
)


def knn_scores(
    train_features, train_labels, test_features, k=200, temperature=0.1, num_classes=None,
    chunk_size=512,
):
    """Class scores of the weighted kNN vote: sum over the k nearest of exp(cosine / temperature).

    Features are L2-normalised, so the dot product is the cosine similarity. Similarities and the
    top-k search run in ``keras.ops`` (on the accelerator when there is one), ``chunk_size`` test
    rows at a time; the vote runs in float64 NumPy. Weights are shifted by each row's largest
    similarity before ``exp``, which rescales a row's scores by one constant (same ranking, no
    overflow at small temperatures).

    Args:
        train_features: array (N_train, D), the memory bank.
        train_labels: int array (N_train,).
        test_features: array (N_test, D), the queries.
        k: neighbours that vote (capped at N_train).
        temperature: τ in exp(sim / τ).
        num_classes: defaults to 1 + the largest training label.
        chunk_size: queries per similarity block (memory is chunk_size x N_train floats).

    Returns:
        float64 array (N_test, num_classes).

    Example:
        >>> scores = knn_scores(bank, bank_labels, queries, k=20)
        >>> predictions = scores.argmax(axis=1)
    """
    bank, queries = map(_normalise, check_feature_pair(train_features, test_features))
    labels = check_labels(train_labels, len(bank), "kNN memory bank")
    num_classes = infer_num_classes(num_classes, labels)
    if int(k) < 1 or not temperature > 0:
        raise UserInputError(f"k must be >= 1 and temperature > 0, got k={k}, τ={temperature}")
    k = min(int(k), len(bank))
    bank_T = keras.ops.transpose(keras.ops.convert_to_tensor(bank))
    scores = np.zeros((len(queries), num_classes), dtype="float64")
    for start in range(0, len(queries), int(chunk_size)):
        block = keras.ops.convert_to_tensor(queries[start : start + int(chunk_size)])
        similarity, index = keras.ops.top_k(keras.ops.matmul(block, bank_T), k=k)
        similarity = keras.ops.convert_to_numpy(similarity).astype("float64")
        index = keras.ops.convert_to_numpy(index)
        weights = np.exp((similarity - similarity[:, :1]) / temperature)  # top_k is sorted
        rows = np.arange(len(index))[:, None]
        # Scatter-add each neighbour's weight into its class: bincount over (row, class) pairs.
        flat = (rows * num_classes + labels[index]).ravel()
        scores[start : start + len(index)] = np.bincount(
            flat, weights=weights.ravel(), minlength=len(index) * num_classes
        ).reshape(len(index), num_classes)
    return scores


def knn_classify(
    train_features, train_labels, test_features, test_labels, k=200, temperature=0.1,
    num_classes=None, chunk_size=512,
):
    """Weighted kNN accuracy of ``test_features`` against the labelled ``train_features``.

    Args:
        train_features, test_features: arrays (N, D).
        train_labels, test_labels: int arrays (N,).
        k, temperature, num_classes, chunk_size: as for ``knn_scores``.

    Returns:
        dict with ``top1``, ``top5`` (fractions in [0, 1]), ``k`` (after capping), ``temperature``,
        ``num_train``, ``num_test``.

    Example:
        >>> knn_classify(f_train, y_train, f_test, y_test, k=200, temperature=0.1)["top1"]

    Reference:
        Wu et al. 2018 (InstDisc), §3.4: "weighted k-nearest neighbor classifier [...] each neighbor
        weighted by exp(s_i / τ)"; the monitor recipe many SimCLR reproductions report.
    """
    test_y = check_labels(
        test_labels, len(check_features(test_features, "test features")), "kNN queries"
    )
    train_y = check_labels(
        train_labels, len(check_features(train_features, "train features")), "kNN memory bank"
    )
    num_classes = infer_num_classes(num_classes, train_y, test_y)
    scores = knn_scores(
        train_features, train_y, test_features, k, temperature, num_classes, chunk_size
    )
    return {
        "top1": top_k_accuracy(scores, test_y, 1),
        "top5": top_k_accuracy(scores, test_y, 5),
        "k": min(int(k), len(train_y)),
        "temperature": float(temperature),
        "num_train": len(train_y),
        "num_test": len(test_y),
    }


def knn_eval(
    encoder, train_images, train_labels, test_images, test_labels, *, k=200, temperature=0.1,
    num_classes=None, batch_size=256, progress=False,
):
    """kNN evaluation of a frozen encoder: features of h for both splits, then ``knn_classify``.

    Example:
        >>> knn_eval(model.encoder, x_train, y_train, x_test, y_test)["top1"]
    """
    train_features, test_features = labelled_split_features(
        encoder, train_images, train_labels, test_images, test_labels, batch_size, progress
    )
    return knn_classify(
        train_features, train_labels, test_features, test_labels, k, temperature, num_classes
    )


class KNNMonitor(keras.callbacks.Callback):
    """Write the kNN accuracy of ``model.encoder`` into the epoch logs during ``fit``.

    Every ``every_epochs`` epochs (and after the last one) it embeds a labelled memory split and a
    held-out query split with the encoder in inference mode and sets ``logs[log_name]``; other
    epochs get NaN, so the column exists from the first epoch. Put it BEFORE CSVLogger /
    TensorBoard in the callbacks list: they read the same logs dict after it.

    Args:
        train_images, train_labels: the labelled memory bank (e.g. a few thousand training images).
        test_images, test_labels: the held-out queries.
        every_epochs: evaluation period.
        k, temperature: as for ``knn_classify``.
        batch_size: images per encoder pass.
        encoder: what to embed with; default ``self.model.encoder``.
        log_name: key written into the logs.

    Example:
        >>> monitor = KNNMonitor(x_bank, y_bank, x_val, y_val, every_epochs=10)
        >>> model.fit(dataset, epochs=100, callbacks=[monitor, keras.callbacks.CSVLogger("log.csv")])
    """

    def __init__(
        self, train_images, train_labels, test_images, test_labels, every_epochs=1, k=200,
        temperature=0.1, batch_size=256, encoder=None, log_name="knn_top1",
    ):
        super().__init__()
        self.train_images = check_images(train_images, "kNN memory images")
        self.test_images = check_images(test_images, "kNN query images")
        self.train_labels = check_labels(train_labels, len(self.train_images), "kNN memory bank")
        self.test_labels = check_labels(test_labels, len(self.test_images), "kNN queries")
        if int(every_epochs) < 1:
            raise UserInputError(f"every_epochs must be >= 1, got {every_epochs}")
        self.every_epochs = int(every_epochs)
        self.k = k
        self.temperature = temperature
        self.batch_size = batch_size
        self.encoder = encoder
        self.log_name = log_name
        self._inference = None  # built once, so its compiled predict step is reused

    def on_train_begin(self, logs=None):
        encoder = self.encoder if self.encoder is not None else getattr(self.model, "encoder", None)
        if encoder is None:
            raise UserInputError("KNNMonitor needs a model with .encoder, or pass encoder=")
        self._inference = inference_model(encoder)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        last = (epoch + 1) == self.params.get("epochs") if self.params else False
        if (epoch + 1) % self.every_epochs and not last:
            logs[self.log_name] = math.nan
            return
        logs[self.log_name] = self.evaluate()["top1"]

    def evaluate(self):
        """Embed both splits now and return the ``knn_classify`` metrics."""
        if self._inference is None:
            self.on_train_begin()
        bank = extract_features(self._inference, self.train_images, self.batch_size)
        queries = extract_features(self._inference, self.test_images, self.batch_size)
        return knn_classify(
            bank, self.train_labels, queries, self.test_labels, self.k, self.temperature
        )


def _normalise(features):
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-12)
