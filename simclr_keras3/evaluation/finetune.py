"""Semi-supervised fine-tuning: the whole pretrained network plus a new linear classifier."""

import keras

from simclr_keras3.errors import UserInputError
from simclr_keras3.evaluation.accuracy import check_labels, infer_num_classes, top_k_accuracy
from simclr_keras3.evaluation.cloning import build_symbolically, rebuild
from simclr_keras3.evaluation.features import check_images, predict_in_batches
from simclr_keras3.evaluation.training import fit_classifier

# SimCLR B.5: Nesterov momentum 0.9, lr 0.05 x B/256, no weight decay, 60 epochs for 1 % of the
# labels and 30 for 10 %; logits layer initialised to zero.
DEFAULTS = dict(
    epochs=30,
    batch_size=256,
    learning_rate=0.05,
    momentum=0.9,
    nesterov=True,
    weight_decay=0.0,
)


class FineTuneClassifier(keras.Model):
    """Encoder (+ projection head layers up to ``from_head_layer``) + a zero-initialised linear layer.

    Everything trains; BN runs in training mode during ``fit`` and in inference mode otherwise.

    Args:
        encoder: images -> h.
        num_classes: outputs of the new linear layer.
        projection_head: needed when ``from_head_layer`` > 0; must offer
            ``layer_outputs(h, training)`` -> [h, out_1, ..., z].
        from_head_layer: 0 = classify h; j = classify the output of head layer j.
        augment: optional layer applied to the images in training only (e.g. crop + flip).
    """

    def __init__(
        self, encoder, num_classes, projection_head=None, from_head_layer=0, augment=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.projection_head = projection_head
        self.from_head_layer = int(from_head_layer)
        self.augment = augment
        self.classifier = keras.layers.Dense(
            num_classes, kernel_initializer="zeros", name="classifier"
        )

    def call(self, images, training=False):
        if training and self.augment is not None:
            images = self.augment(images, training=True)
        features = self.encoder(images, training=training)
        if self.from_head_layer:
            features = self.projection_head.layer_outputs(features, training=training)[
                self.from_head_layer
            ]
        return self.classifier(features)


def finetune(
    encoder,
    train_images,
    train_labels,
    test_images,
    test_labels,
    *,
    projection_head=None,
    from_head_layer=0,
    epochs=DEFAULTS["epochs"],
    batch_size=DEFAULTS["batch_size"],
    learning_rate=DEFAULTS["learning_rate"],
    momentum=DEFAULTS["momentum"],
    nesterov=DEFAULTS["nesterov"],
    weight_decay=DEFAULTS["weight_decay"],
    num_classes=None,
    augment=None,
    seed=0,
    verbose=0,
    return_model=False,
):
    """Fine-tune a copy of the pretrained network on a labelled subset; report test accuracy.

    The encoder (and head, when used) are COPIED first (rebuilt from their config, weights copied),
    so the caller's model is untouched. The copy plus a new zero-initialised linear classifier is
    trained end to end with cross-entropy, momentum SGD and a cosine decay, on fixed-size shuffled
    batches drawn with ``seed``.

    Args:
        encoder: Keras layer/model mapping images (B, H, W, 3) in [0, 1] to h (B, D).
        train_images, train_labels: the labelled subset (e.g. from ``stratified_label_subset``).
        test_images, test_labels: the full test split.
        projection_head: the pretrained head, needed when ``from_head_layer`` > 0.
        from_head_layer: SimCLRv2's j: 0 = fine-tune from h; j = keep head layers 1..j.
        epochs, batch_size, learning_rate, momentum, nesterov, weight_decay: the optimiser;
            ``learning_rate`` is the peak of the cosine schedule.
        num_classes: defaults to 1 + the largest label.
        augment: optional Keras layer applied to training batches (the official recipe uses random
            crop + horizontal flip only).
        seed: batch order.
        verbose: passed to ``fit``.
        return_model: also return the trained ``FineTuneClassifier``.

    Returns:
        dict with ``top1``, ``top5`` (test), ``train_top1``, ``num_train``, ``num_test``,
        ``num_classes``, ``from_head_layer``; with ``return_model``, ``(metrics, model)``.

    Example:
        >>> subset = stratified_label_subset(y_train, 0.1, seed=0)
        >>> finetune(model.encoder, x_train[subset], y_train[subset], x_test, y_test,
        ...          projection_head=model.projection_head, from_head_layer=1)["top1"]

    Reference:
        Chen et al. 2020, §6: "we fine-tune the whole base network on the labeled data without
        regularization"; Chen et al. 2020b (SimCLRv2), §2: "fine-tuning from a middle layer of the
        projection head instead of the input layer of the projection head".
    """
    train_images = check_images(train_images, "training images")
    test_images = check_images(test_images, "test images")
    train_y = check_labels(train_labels, len(train_images), "training split")
    test_y = check_labels(test_labels, len(test_images), "test split")
    num_classes = infer_num_classes(num_classes, train_y, test_y)
    if int(epochs) < 1 or int(batch_size) < 1:
        raise UserInputError(f"epochs and batch size must be >= 1, got {epochs} and {batch_size}")

    sample = train_images[:2]
    encoder_copy = rebuild(encoder, sample, copy_weights=True)
    head_copy = _head_copy(projection_head, int(from_head_layer), encoder_copy, sample)
    model = FineTuneClassifier(encoder_copy, num_classes, head_copy, from_head_layer, augment)
    build_symbolically(model, sample)
    if augment is not None:
        build_symbolically(augment, sample, training=True)  # inference mode skips it

    batch_size = fit_classifier(
        model, train_images, train_y, epochs=epochs, batch_size=batch_size,
        learning_rate=learning_rate, momentum=momentum, nesterov=nesterov,
        weight_decay=weight_decay, seed=seed, verbose=verbose,
    )
    train_logits = predict_in_batches(model, train_images, batch_size)
    test_logits = predict_in_batches(model, test_images, batch_size)
    metrics = {
        "top1": top_k_accuracy(test_logits, test_y, 1),
        "top5": top_k_accuracy(test_logits, test_y, 5),
        "train_top1": top_k_accuracy(train_logits, train_y, 1),
        "num_train": len(train_y),
        "num_test": len(test_y),
        "num_classes": num_classes,
        "from_head_layer": int(from_head_layer),
    }
    return (metrics, model) if return_model else metrics


def _head_copy(projection_head, from_head_layer, encoder, sample):
    if from_head_layer < 0:
        raise UserInputError(f"from_head_layer must be >= 0, got {from_head_layer}")
    if from_head_layer == 0:
        return None  # fine-tune from h: the head is discarded, as in SimCLRv1
    if projection_head is None:
        raise UserInputError(
            f"from_head_layer={from_head_layer} needs the projection head: pass projection_head="
        )
    h = build_symbolically(encoder, sample)
    head = rebuild(projection_head, h, copy_weights=True)
    num_layers = len(head.layer_outputs(h, training=False)) - 1
    if from_head_layer > num_layers:
        raise UserInputError(
            f"from_head_layer={from_head_layer} but the projection head has {num_layers} layers: "
            f"choose 0..{num_layers}"
        )
    # Layers after j feed nothing the classifier sees: freeze them (no "missing gradient" warnings,
    # and frozen BN keeps its statistics). Duck-typed on ProjectionHead's layer lists.
    for layer in (
        list(getattr(head, "dense_layers", []))[from_head_layer:]
        + list(getattr(head, "batch_norm_layers", []))[from_head_layer:]
    ):
        layer.trainable = False
    return head
