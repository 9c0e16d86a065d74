"""Linear evaluation: a softmax classifier on the features of a frozen encoder."""

import keras

from simclr_keras3.errors import UserInputError
from simclr_keras3.evaluation.accuracy import check_labels, infer_num_classes, top_k_accuracy
from simclr_keras3.evaluation.features import (
    check_feature_pair,
    check_images,
    labelled_split_features,
)
from simclr_keras3.evaluation.training import fit_classifier

# Official recipe (paper B.6 / README): Nesterov momentum 0.9, lr 0.1 x B/256, 90-100 epochs, no
# weight decay, logits layer initialised to zero.
DEFAULTS = dict(
    epochs=90,
    batch_size=256,
    learning_rate=0.1,
    momentum=0.9,
    nesterov=True,
    weight_decay=0.0,
    standardize=True,
)


def linear_probe_features(
    train_features,
    train_labels,
    test_features,
    test_labels,
    *,
    num_classes=None,
    epochs=DEFAULTS["epochs"],
    batch_size=DEFAULTS["batch_size"],
    learning_rate=DEFAULTS["learning_rate"],
    momentum=DEFAULTS["momentum"],
    nesterov=DEFAULTS["nesterov"],
    weight_decay=DEFAULTS["weight_decay"],
    standardize=DEFAULTS["standardize"],
    seed=0,
    verbose=0,
):
    """Train a linear softmax classifier on fixed feature vectors and report test accuracy.

    The classifier is one ``keras.layers.Dense`` initialised to zero (as the official code's
    ``zero_init_logits_layer``), trained with cross-entropy, momentum SGD and a cosine decay.
    With ``standardize`` the features are first shifted and scaled by the training split's
    per-dimension mean and standard deviation: a fixed affine map the classifier could absorb, which
    lets one learning rate serve every encoder (trained, random-init control, raw pixels).

    Args:
        train_features, test_features: float arrays (N, D); further axes are flattened.
        train_labels, test_labels: int arrays (N,).
        num_classes: defaults to 1 + the largest label seen.
        epochs, batch_size, learning_rate, momentum, nesterov, weight_decay: the optimiser;
            ``learning_rate`` is the peak of the cosine schedule.
        standardize: standardise features with training statistics (False = the raw recipe).
        seed: shuffling order; the run depends on nothing else.
        verbose: passed to ``fit``.

    Returns:
        dict with ``top1``, ``top5`` (test, fractions in [0, 1]), ``train_top1``, ``num_classes``,
        ``feature_dim``, ``num_train``, ``num_test``.

    Example:
        >>> metrics = linear_probe_features(f_train, y_train, f_test, y_test, epochs=30)
        >>> metrics["top1"]

    Reference:
        Chen et al. 2020, §3: "a linear classifier is trained on top of the frozen base network,
        and test accuracy is used as a proxy for representation quality."
    """
    train_x, test_x = check_feature_pair(train_features, test_features)
    train_y = check_labels(train_labels, len(train_x), "training split")
    test_y = check_labels(test_labels, len(test_x), "test split")
    num_classes = infer_num_classes(num_classes, train_y, test_y)
    if int(epochs) < 1 or int(batch_size) < 1:
        raise UserInputError(f"epochs and batch size must be >= 1, got {epochs} and {batch_size}")

    if standardize:
        mean = train_x.mean(axis=0)
        std = train_x.std(axis=0)
        std[std < 1e-8] = 1.0  # constant dimensions (e.g. blank image borders) stay as they are
        train_x = (train_x - mean) / std
        test_x = (test_x - mean) / std

    classifier = keras.Sequential(
        [
            keras.Input((train_x.shape[1],)),
            keras.layers.Dense(num_classes, kernel_initializer="zeros", name="linear"),
        ]
    )
    fit_classifier(
        classifier, train_x, train_y, epochs=epochs, batch_size=batch_size,
        learning_rate=learning_rate, momentum=momentum, nesterov=nesterov,
        weight_decay=weight_decay, seed=seed, verbose=verbose,
    )
    # The classifier is x W + b: NumPy computes the logits without compiling a predict step.
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in classifier.get_layer("linear").weights)
    train_logits = train_x @ kernel + bias
    test_logits = test_x @ kernel + bias
    return {
        "top1": top_k_accuracy(test_logits, test_y, 1),
        "top5": top_k_accuracy(test_logits, test_y, 5),
        "train_top1": top_k_accuracy(train_logits, train_y, 1),
        "num_classes": num_classes,
        "feature_dim": int(train_x.shape[1]),
        "num_train": len(train_x),
        "num_test": len(test_x),
    }


def linear_eval(
    encoder,
    train_images,
    train_labels,
    test_images,
    test_labels,
    *,
    feature_batch_size=256,
    progress=False,
    **probe_options,
):
    """Linear evaluation of a frozen encoder: features of h computed once, then a linear probe.

    The encoder runs in inference mode (``training=False``): its weights and its BN moving
    statistics are left exactly as they were. Features are computed once and cached, so the
    classifier's epochs cost no encoder passes (unlike the official code, no crop/flip augmentation
    is applied while training the classifier).

    Args:
        encoder: Keras layer/model (or callable) mapping images (B, H, W, 3) in [0, 1] to h (B, D).
        train_images, test_images: arrays (N, H, W, 3).
        train_labels, test_labels: int arrays (N,).
        feature_batch_size: images per encoder pass.
        progress: progress bars while extracting features.
        **probe_options: as for ``linear_probe_features`` (epochs, batch_size, learning_rate,
            momentum, nesterov, weight_decay, standardize, num_classes, seed, verbose).

    Returns:
        the ``linear_probe_features`` metrics dict.

    Example:
        >>> linear_eval(model.encoder, x_train, y_train, x_test, y_test, epochs=90)["top1"]

    Reference:
        Chen et al. 2020, §3: "a linear classifier is trained on top of the frozen base network";
        B.6: "we use the Nesterov momentum optimizer [...] and train for 90 epochs".
    """
    train_features, test_features = labelled_split_features(
        encoder, train_images, train_labels, test_images, test_labels, feature_batch_size, progress
    )
    return linear_probe_features(
        train_features, train_labels, test_features, test_labels, **probe_options
    )


def linear_eval_raw_pixels(train_images, train_labels, test_images, test_labels, **probe_options):
    """The raw-pixel baseline: the same linear probe on flattened pixels.

    Example:
        >>> linear_eval_raw_pixels(x_train, y_train, x_test, y_test)["top1"]

    Reference:
        A logistic regression on CIFAR-10 pixels reaches about 39 %: any representation worth
        having must beat it.
    """
    return linear_probe_features(
        check_images(train_images, "training images"),
        train_labels,
        check_images(test_images, "test images"),
        test_labels,
        **probe_options,
    )
