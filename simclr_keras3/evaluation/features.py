"""Features of a frozen network: run it in inference mode, batch by batch, into one NumPy array."""

import keras
import numpy as np

from simclr_keras3.errors import UserInputError
from simclr_keras3.evaluation.accuracy import check_labels
from simclr_keras3.evaluation.cloning import build_symbolically

LAYERS = ("h", "z")


class InferenceModel(keras.Model):
    """Wrap an encoder (and optionally a projection head) so ``predict`` can compile it.

    ``predict`` gives a jit-compiled / ``tf.function`` step on every backend, which a Python loop of
    eager calls does not. Every sub-layer runs with ``training=False``: BN uses its moving
    statistics and nothing is updated.

    Args:
        encoder: a Keras layer or model mapping images to h.
        projection_head: optional layer mapping h to z; when given the output is z.
    """

    def __init__(self, encoder, projection_head=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.projection_head = projection_head

    def call(self, images, training=False):
        # Inference mode whatever the caller asks: features of a frozen network.
        h = self.encoder(images, training=False)
        if self.projection_head is None:
            return h
        return self.projection_head(h, training=False)


def inference_model(encoder):
    """Wrap a Keras encoder once, so several ``extract_features`` calls share one compiled step.

    Non-Keras callables (and models already wrapped) are returned as they are.

    Example:
        >>> frozen = inference_model(model.encoder)
        >>> train_h, test_h = extract_features(frozen, x_train), extract_features(frozen, x_test)
    """
    if isinstance(encoder, keras.layers.Layer) and not isinstance(encoder, InferenceModel):
        return InferenceModel(encoder)
    return encoder


def check_images(images, what="images"):
    """Return ``images`` as a float32 array of shape (N, H, W, C) with N > 0, else UserInputError."""
    if images is None:
        raise UserInputError(f"no {what} given: pass an array of shape (N, H, W, 3)")
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4:
        raise UserInputError(
            f"{what} must have shape (N, H, W, C), got {images.shape}: add a batch/channel axis"
        )
    if len(images) == 0:
        raise UserInputError(f"{what} is empty: give at least one image")
    return images


def check_features(features, what):
    """Return ``features`` as a float32 array (N, D), N > 0, further axes flattened into D."""
    if features is None:
        raise UserInputError(f"no {what} given")
    features = np.asarray(features, dtype="float32")
    if features.ndim < 2 or len(features) == 0:
        raise UserInputError(f"{what} must be a non-empty array (N, D), got shape {features.shape}")
    return features.reshape(len(features), -1)


def check_feature_pair(train_features, test_features):
    """``check_features`` of both splits, then UserInputError when their sizes D differ."""
    train = check_features(train_features, "train features")
    test = check_features(test_features, "test features")
    if train.shape[1] != test.shape[1]:
        raise UserInputError(
            f"train and test features differ in size ({train.shape[1]} vs {test.shape[1]})"
        )
    return train, test


def labelled_split_features(
    encoder, train_images, train_labels, test_images, test_labels, batch_size, progress
):
    """Check both labelled splits, then features of each from ``encoder`` in inference mode.

    Returns:
        ``(train_features, test_features)``, float32 arrays (N, D).
    """
    check_labels(train_labels, len(check_images(train_images, "training images")), "training split")
    check_labels(test_labels, len(check_images(test_images, "test images")), "test split")
    encoder = inference_model(encoder)  # one compiled step for both splits
    train_features = extract_features(encoder, train_images, batch_size, progress)
    test_features = extract_features(encoder, test_images, batch_size, progress)
    return train_features, test_features


def extract_features(encoder_or_callable, images, batch_size=256, progress=False):
    """Run a frozen encoder over ``images`` in inference mode and return its outputs.

    Keras layers and models run through a compiled ``predict`` with ``training=False`` (BN in
    inference mode, no statistics updated). Any other callable is called batch by batch as
    ``fn(batch)``.

    Args:
        encoder_or_callable: a Keras layer/model mapping images (B, H, W, 3) to features (B, D),
            or a plain function doing the same.
        images: array (N, H, W, 3), float in [0, 1].
        batch_size: images per forward pass.
        progress: show a progress bar.

    Returns:
        float32 array (N, D); further output axes are flattened into D.

    Example:
        >>> encoder = keras.Sequential([keras.layers.Conv2D(8, 3), keras.layers.GlobalAveragePooling2D()])
        >>> extract_features(encoder, np.zeros((10, 16, 16, 3), "float32")).shape
        (10, 8)

    Reference:
        Chen et al. 2020, §2: "we use h [...] as the representation"; it is computed by the
        frozen base network f.
    """
    images = check_images(images)
    batch_size = _check_batch_size(batch_size)
    if isinstance(encoder_or_callable, InferenceModel):
        model = encoder_or_callable  # already wrapped: reuse its compiled predict step
    elif isinstance(encoder_or_callable, keras.layers.Layer):
        model = InferenceModel(encoder_or_callable)
    else:
        return _loop(encoder_or_callable, images, batch_size)
    return _predict(model, images, batch_size, progress)


def embed_model_outputs(model, images, layer="h", batch_size=256, progress=False):
    """Embeddings of a SimCLR model: h (the encoder output) or z (after the projection head).

    Args:
        model: an object with ``.encoder`` and, for ``layer="z"``, ``.projection_head``.
        images: array (N, H, W, 3), float in [0, 1].
        layer: "h" (representation used for downstream tasks) or "z" (what the loss sees).
        batch_size: images per forward pass.
        progress: show a progress bar.

    Returns:
        float32 array (N, D).

    Example:
        >>> z = embed_model_outputs(simclr_model, images, layer="z")

    Reference:
        Chen et al. 2020, §4.2: "the hidden layer before the projection head is a better
        representation than the layer after" (h is the default for that reason).
    """
    if layer not in LAYERS:
        raise UserInputError(f"layer must be one of {LAYERS}, got {layer!r}")
    encoder = getattr(model, "encoder", None)
    if encoder is None:
        raise UserInputError("the model has no .encoder: pass a SimCLR model or a checkpoint of one")
    head = None
    if layer == "z":
        head = getattr(model, "projection_head", None)
        if head is None:
            raise UserInputError("the model has no projection head: use layer 'h'")
    return _predict(InferenceModel(encoder, head), check_images(images), batch_size, progress)


def predict_in_batches(model, inputs, batch_size, verbose=0):
    """``model.predict`` with every batch the same size: the last one is padded, then trimmed.

    One batch shape means one compiled step (jit and XLA recompile for each new shape). Rows are
    independent in inference mode, so the padding rows change nothing else.

    Args:
        model: a Keras model.
        inputs: array (N, ...).
        batch_size: rows per step (capped at N).
        verbose: passed to ``predict``.

    Returns:
        the predictions for the N rows, as a NumPy array.
    """
    batch_size = min(_check_batch_size(batch_size), len(inputs))
    full = len(inputs) - len(inputs) % batch_size
    outputs = []
    if full:
        outputs.append(model.predict(inputs[:full], batch_size=batch_size, verbose=verbose))
    if full < len(inputs):
        rest = inputs[full:]
        padding = np.repeat(rest[-1:], batch_size - len(rest), axis=0)
        padded = np.concatenate([rest, padding], axis=0)
        outputs.append(model.predict(padded, batch_size=batch_size, verbose=verbose)[: len(rest)])
    return np.concatenate([np.asarray(part) for part in outputs], axis=0)


def _predict(model, images, batch_size, progress):
    batch_size = _check_batch_size(batch_size)
    # Build (symbolically: no compute) so predict finds every layer built on all backends.
    if not model.built:
        build_symbolically(model, images[:1])
    return _as_matrix(predict_in_batches(model, images, batch_size, verbose=1 if progress else 0))


def _loop(fn, images, batch_size):
    outputs = [
        _as_matrix(keras.ops.convert_to_numpy(fn(images[start : start + batch_size])))
        for start in range(0, len(images), batch_size)
    ]
    return np.concatenate(outputs, axis=0)


def _as_matrix(array):
    array = np.asarray(array, dtype="float32")
    return array.reshape(len(array), -1)


def _check_batch_size(batch_size):
    if int(batch_size) < 1:
        raise UserInputError(f"batch size must be a positive integer, got {batch_size}")
    return int(batch_size)
