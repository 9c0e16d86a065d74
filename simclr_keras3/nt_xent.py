"""NT-Xent, the normalized temperature-scaled cross-entropy loss of SimCLR."""

import keras
from keras import ops

from simclr_keras3 import backends

_CONVENTIONS = ("mean", "sum_of_directions")

# Finite stand-in for -inf on the masked self-similarity: exp() of it is exactly 0 in float32, it
# never overflows (unlike -1e9 in float16: logits are always float32 here), and unlike -inf it
# cannot turn a later `0 * logit` (one-hot cross-entropy, logging) into NaN.
_FLOAT32_MIN = -3.4028234663852886e38

# Squared-norm floor for the L2 normalization: keeps an all-zero projection finite (as
# tf.math.l2_normalize does) without changing any vector of norm above 1e-6.
_SQUARED_NORM_EPSILON = 1e-12


@keras.saving.register_keras_serializable(package="simclr_keras3")
class NTXentLoss(keras.losses.Loss):
    """Normalized temperature-scaled cross-entropy (NT-Xent) over two augmented views.

    ``loss(z_a, z_b)`` takes two ``(N, D)`` batches of projections, where row ``i`` of ``z_a`` and
    row ``i`` of ``z_b`` are two views of the same image, and returns a float32 scalar. The
    projections are L2-normalized here, so pass the raw projection-head outputs. Each of the 2N
    views is an anchor; its positive is the other view of the same image and every other view in
    the batch is a negative (2N - 2 of them); the anchor's similarity with itself is excluded.
    Logits are cosine similarities divided by ``temperature`` and are always computed in float32,
    whatever the input dtype (float16 / bfloat16 inputs are cast before normalizing).

    With several replicas (``simclr_keras3.backends``) each replica's anchors are its local views
    and its candidates are the views of every replica, gathered with ``backends.all_gather``, so
    negatives span the global batch; the value is the mean over the local anchors. On one device
    (and on JAX, where one program sees the whole batch) this is exactly the single-batch loss.

    A batch of one pair (N = 1) is defined: the positive is the only candidate, so the loss is 0
    (and its gradient 0) and the contrastive accuracy is 1. An empty batch raises ``ValueError``.

    Args:
        temperature: positive float τ dividing the cosine similarities. The paper uses 0.1 for
            ImageNet and 0.5 for CIFAR-10.
        convention: ``"mean"`` (default) averages the per-anchor loss over all 2N anchors, the
            paper's ``L = 1/(2N) Σ_k [ℓ(2k−1, 2k) + ℓ(2k, 2k−1)]``. ``"sum_of_directions"``
            returns the official TensorFlow code's value, the a→b mean plus the b→a mean, which is
            exactly twice ``"mean"`` and so doubles the effective learning rate.
        name: name of the loss.
        **kwargs: passed to ``keras.losses.Loss`` (``reduction`` has no effect on the scalar
            result; ``dtype`` sets the dtype of the returned value only).

    Example:
        >>> loss_fn = NTXentLoss(temperature=0.5)
        >>> z_a = keras.random.normal((8, 128), seed=1)
        >>> z_b = z_a + 0.1 * keras.random.normal((8, 128), seed=2)
        >>> loss = loss_fn(z_a, z_b)  # float32 scalar
        >>> loss, accuracy = loss_fn.loss_and_accuracy(z_a, z_b)

    Reference:
        Chen et al. 2020, "A Simple Framework for Contrastive Learning of Visual Representations",
        arXiv 2002.05709, §2.1, eq. (1): "ℓ_{i,j} = −log exp(sim(z_i, z_j)/τ) /
        Σ_{k=1}^{2N} 1[k≠i] exp(sim(z_i, z_k)/τ)" ... "The final loss is computed across all
        positive pairs, both (i, j) and (j, i), in a mini-batch." We "treat the other 2(N − 1)
        augmented examples within a minibatch as negative examples."
    """

    def __init__(self, temperature=0.1, convention="mean", name="nt_xent", **kwargs):
        super().__init__(name=name, **kwargs)
        temperature = float(temperature)
        if not temperature > 0.0:
            raise ValueError(f"`temperature` must be positive, got {temperature}.")
        if convention not in _CONVENTIONS:
            raise ValueError(f"`convention` must be one of {_CONVENTIONS}, got {convention!r}.")
        self.temperature = temperature
        self.convention = convention

    def call(self, z_a, z_b):
        logits, positive_mask = self._logits(z_a, z_b)
        return self._loss_from_logits(logits, positive_mask)

    def loss_and_accuracy(self, z_a, z_b):
        """Return ``(loss, accuracy)`` for two ``(N, D)`` projection batches.

        ``loss`` is what calling the loss returns. ``accuracy`` is the contrastive accuracy: the
        float32 fraction of (local) anchors whose positive has the highest logit among all their
        candidates (ties go to the lower candidate index).
        """
        logits, positive_mask = self._logits(z_a, z_b)
        loss = self._loss_from_logits(logits, positive_mask)
        predicted = ops.argmax(logits, axis=1)
        target = ops.argmax(ops.cast(positive_mask, "int32"), axis=1)
        accuracy = ops.mean(ops.cast(ops.equal(predicted, target), "float32"))
        return loss, accuracy

    def _logits(self, z_a, z_b):
        """Masked float32 logits of local anchors vs global candidates, and the positive mask.

        Anchors (rows) are ``[z_a; z_b]`` of this replica (2n rows). Candidates (columns) are
        ``[gathered z_a; gathered z_b]`` over all replicas (2m columns, m = replicas × n).
        """
        z_a = self._normalize(z_a, "z_a")
        z_b = self._normalize(z_b, "z_b")
        # Static check only; a dimension unknown at trace time (None) matches anything.
        if any(a is not None and b is not None and a != b for a, b in zip(z_a.shape, z_b.shape)):
            raise ValueError(
                f"z_a and z_b must have the same shape, got {z_a.shape} and {z_b.shape}."
            )
        if z_a.shape[0] == 0:
            raise ValueError("NTXentLoss needs at least one pair of views, got an empty batch.")

        anchors = ops.concatenate([z_a, z_b], axis=0)
        candidates_a = backends.all_gather(z_a)
        candidates = ops.concatenate([candidates_a, backends.all_gather(z_b)], axis=0)
        logits = ops.matmul(anchors, ops.transpose(candidates)) / self.temperature

        # Global index of this replica's rows among the gathered ones: view i of replica r sits at
        # column r·n + i of the a-block and m + r·n + i of the b-block.
        n = ops.shape(z_a)[0]
        m = ops.shape(candidates_a)[0]
        local = ops.arange(n, dtype="int32") + ops.cast(backends.replica_id(), "int32") * n
        self_index = ops.concatenate([local, local + m], axis=0)
        positive_index = ops.concatenate([local + m, local], axis=0)
        columns = ops.arange(2 * m, dtype="int32")[None, :]
        self_mask = ops.equal(columns, self_index[:, None])
        positive_mask = ops.equal(columns, positive_index[:, None])

        logits = ops.where(self_mask, ops.cast(_FLOAT32_MIN, "float32"), logits)
        return logits, positive_mask

    def _loss_from_logits(self, logits, positive_mask):
        positive_logit = ops.sum(ops.where(positive_mask, logits, 0.0), axis=1)
        per_anchor = ops.logsumexp(logits, axis=1) - positive_logit
        loss = ops.mean(per_anchor)
        if self.convention == "sum_of_directions":
            # mean over a→b anchors + mean over b→a anchors, both halves of equal size.
            loss = 2.0 * loss
        return loss

    @staticmethod
    def _normalize(z, label):
        # Cast before squaring: float16 overflows at |z| ≈ 256 once squared.
        z = ops.cast(ops.convert_to_tensor(z), "float32")
        if len(z.shape) != 2:
            raise ValueError(f"{label} must have shape (N, D), got {z.shape}.")
        squared_norm = ops.sum(ops.square(z), axis=1, keepdims=True)
        return z * ops.rsqrt(ops.maximum(squared_norm, _SQUARED_NORM_EPSILON))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "temperature": self.temperature,
                "convention": self.convention,
                "dtype": self.dtype,
            }
        )
        return config
