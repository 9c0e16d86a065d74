"""Every protocol next to its control: the same architecture with random weights.

A number like "82 % linear accuracy" means little alone: a random-init ResNet with a linear probe
is far above chance too. Each function here runs the protocol on the given encoder and on a
freshly initialised copy of its architecture (rebuilt from its config), and returns both.
The control's initialisation comes from Keras' global seed (``keras.utils.set_random_seed``).
"""

import dataclasses

from simclr_keras3.evaluation.cloning import build_symbolically, rebuild
from simclr_keras3.evaluation.features import check_images, extract_features, inference_model
from simclr_keras3.evaluation.finetune import finetune
from simclr_keras3.evaluation.knn import knn_classify
from simclr_keras3.evaluation.linear_eval import linear_probe_features

MODEL = "simclr"
CONTROL = "random_init"
RAW_PIXELS = "raw_pixels"


@dataclasses.dataclass
class Comparison:
    """Metrics of each contender, and test features for the report's embedding map.

    Args:
        metrics: ``{"simclr": {...}, "random_init": {...}}`` (plus ``"raw_pixels"`` for linear).
        features: test-split features per contender (same keys), for ``write_report``.
    """

    metrics: dict
    features: dict

    def top1(self):
        """``{contender: top1}``, for printing."""
        return {name: result["top1"] for name, result in self.metrics.items()}


def random_init_like(layer, sample_images):
    """A randomly initialised layer of the same architecture as ``layer``, built on a sample.

    Example:
        >>> control = random_init_like(model.encoder, images[:2])
    """
    return rebuild(layer, check_images(sample_images)[:2], copy_weights=False)


def linear_with_control(
    encoder, train_images, train_labels, test_images, test_labels, *, raw_pixels=True,
    feature_batch_size=256, progress=False, **probe_options,
):
    """Linear evaluation of ``encoder``, of a random-init control and (optionally) of raw pixels.

    Args:
        encoder, train_images, train_labels, test_images, test_labels: as for ``linear_eval``.
        raw_pixels: also probe the flattened pixels (the no-learning baseline).
        feature_batch_size, progress: feature extraction.
        **probe_options: as for ``linear_probe_features``.

    Example:
        >>> comparison = linear_with_control(model.encoder, x_tr, y_tr, x_te, y_te, epochs=90)
        >>> comparison.top1()  # {"simclr": ..., "random_init": ..., "raw_pixels": ...}

    Reference:
        Chen et al. 2020, §3: "a linear classifier is trained on top of the frozen base network".
    """
    train_images = check_images(train_images, "training images")
    test_images = check_images(test_images, "test images")
    contenders = {MODEL: encoder, CONTROL: random_init_like(encoder, train_images)}
    metrics, features = {}, {}
    for name, network in contenders.items():
        network = inference_model(network)  # one compiled step for both splits
        train_features = extract_features(network, train_images, feature_batch_size, progress)
        features[name] = extract_features(network, test_images, feature_batch_size, progress)
        metrics[name] = linear_probe_features(
            train_features, train_labels, features[name], test_labels, **probe_options
        )
    if raw_pixels:
        metrics[RAW_PIXELS] = linear_probe_features(
            train_images, train_labels, test_images, test_labels, **probe_options
        )
        features[RAW_PIXELS] = test_images.reshape(len(test_images), -1)
    return Comparison(metrics, features)


def knn_with_control(
    encoder, train_images, train_labels, test_images, test_labels, *, k=200, temperature=0.1,
    batch_size=256, progress=False,
):
    """Weighted kNN accuracy of ``encoder`` and of a random-init control.

    Example:
        >>> knn_with_control(model.encoder, x_tr, y_tr, x_te, y_te, k=200).top1()
    """
    train_images = check_images(train_images, "training images")
    test_images = check_images(test_images, "test images")
    contenders = {MODEL: encoder, CONTROL: random_init_like(encoder, train_images)}
    metrics, features = {}, {}
    for name, network in contenders.items():
        network = inference_model(network)
        bank = extract_features(network, train_images, batch_size, progress)
        features[name] = extract_features(network, test_images, batch_size, progress)
        metrics[name] = knn_classify(
            bank, train_labels, features[name], test_labels, k=k, temperature=temperature
        )
    return Comparison(metrics, features)


def finetune_with_control(
    encoder, train_images, train_labels, test_images, test_labels, *, projection_head=None,
    from_head_layer=0, feature_batch_size=256, **finetune_options,
):
    """Fine-tune the pretrained network and, as the control, the same architecture from scratch.

    The control is a supervised baseline trained on the same labelled subset with the same
    recipe; both start from copies, so ``encoder`` and ``projection_head`` are untouched. The
    features returned are h of each fine-tuned encoder on the test split.

    Example:
        >>> finetune_with_control(model.encoder, x_sub, y_sub, x_te, y_te, epochs=60).top1()

    Reference:
        Chen et al. 2020, §6 / Table 7: fine-tuned SimCLR against a supervised baseline trained
        on the same 1 % / 10 % of the labels.
    """
    train_images = check_images(train_images, "training images")
    test_images = check_images(test_images, "test images")
    sample = train_images[:2]
    control_encoder = random_init_like(encoder, sample)
    control_head = None
    if projection_head is not None and from_head_layer:
        control_head = rebuild(
            projection_head, build_symbolically(control_encoder, sample), copy_weights=False
        )
    contenders = {MODEL: (encoder, projection_head), CONTROL: (control_encoder, control_head)}
    metrics, features = {}, {}
    for name, (network, head) in contenders.items():
        metrics[name], classifier = finetune(
            network, train_images, train_labels, test_images, test_labels,
            projection_head=head, from_head_layer=from_head_layer, return_model=True,
            **finetune_options,
        )
        features[name] = extract_features(classifier.encoder, test_images, feature_batch_size)
    return Comparison(metrics, features)
