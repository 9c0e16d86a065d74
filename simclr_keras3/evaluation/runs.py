"""``evaluate_checkpoint``: the typed function behind ``simclr eval linear | knn | finetune``.

Loads a checkpoint and a dataset's train/test splits, runs one protocol on the SimCLR encoder and
on its random-init control, writes ``metrics.json`` and an embedding map into the output folder.
"""

import dataclasses
import os

import keras
import numpy as np

from simclr_keras3.errors import UserInputError
from simclr_keras3.evaluation import control
from simclr_keras3.evaluation.label_subset import stratified_label_subset, subset_from_id_file
from simclr_keras3.evaluation.report import write_report

PROTOCOLS = ("linear", "knn", "finetune")
DEFAULT_IMAGE_SIZE = 32
# Display names of the contenders, in table and plot order.
TITLES = {
    control.MODEL: "SimCLR",
    control.CONTROL: "random init",
    control.RAW_PIXELS: "raw pixels",
}


@dataclasses.dataclass
class EvalResult:
    """What an evaluation produced.

    Args:
        metrics: everything written to ``metrics.json`` (settings and per-contender results).
        paths: ``{"metrics": ..., "plot": ...}``.
    """

    metrics: dict
    paths: dict

    def table(self):
        """A small text table: one line per contender with top-1 and top-5."""
        lines = [f"{'':<12} {'top-1':>8} {'top-5':>8}"]
        for key, result in self.metrics["results"].items():
            lines.append(f"{TITLES.get(key, key):<12} {result['top1']:>8.2%} {result['top5']:>8.2%}")
        return "\n".join(lines)


def training_image_size(model, default=DEFAULT_IMAGE_SIZE):
    """The image size a SimCLR model was trained at (its augmentation's ``image_size``).

    Example:
        >>> training_image_size(load_checkpoint("runs/simclr/model.keras"))
        32
    """
    size = getattr(getattr(model, "augment", None), "image_size", None)
    return int(size) if size else default


def evaluate_checkpoint(
    protocol,
    checkpoint,
    out,
    *,
    dataset="fashion_mnist_subset",
    data_dir=None,
    image_size=None,
    limit=None,
    seed=0,
    label_fraction=None,
    label_ids=None,
    progress=False,
    **options,
):
    """Evaluate a SimCLR checkpoint with one protocol, next to a random-init control.

    Args:
        protocol: "linear", "knn" or "finetune".
        checkpoint: a ``.keras`` file from ``simclr run``.
        out: output folder for ``metrics.json`` and ``<protocol>_embeddings.png``.
        dataset: any name ``load_dataset`` accepts; needs labelled "train" and "test" splits.
        data_dir: where the dataset's files are.
        image_size: default: the checkpoint's training image size.
        limit: use only the first ``limit`` images of each split.
        seed: the control's initialisation, shuffling and the label subset.
        label_fraction, label_ids: finetune only, exactly one: a stratified fraction of the
            training labels, or a file of example ids.
        progress: progress bars while extracting features.
        **options: protocol options: ``linear_probe_features``' (epochs, batch_size,
            learning_rate, ...), ``knn_classify``'s (k, temperature) or ``finetune``'s.

    Returns:
        an ``EvalResult``.

    Example:
        >>> result = evaluate_checkpoint("linear", "runs/simclr/model.keras", "runs/eval")
        >>> print(result.table())
    """
    from simclr_keras3.checkpoint import load_checkpoint
    from simclr_keras3.data import load_dataset

    if protocol not in PROTOCOLS:
        raise UserInputError(f"unknown protocol {protocol!r}: use one of {', '.join(PROTOCOLS)}")
    if protocol == "finetune":  # cheap checks before the checkpoint and data load
        _check_label_choice(label_fraction, label_ids)
    model = load_checkpoint(checkpoint, compile=False)
    image_size = int(image_size) if image_size else training_image_size(model)
    keras.utils.set_random_seed(seed)  # the control's initialisation
    train = load_dataset(dataset, "train", image_size, data_dir, limit)
    test = load_dataset(dataset, "test", image_size, data_dir, limit)
    for split in (train, test):
        if split.labels is None:
            raise UserInputError(
                f"dataset {split.name!r} has no labels: evaluation needs labelled train and test splits"
            )
    settings = dict(options)
    if protocol == "linear":
        comparison = control.linear_with_control(
            model.encoder, train.images, train.labels, test.images, test.labels,
            num_classes=_num_classes(train, test), seed=seed, progress=progress, **options,
        )
    elif protocol == "knn":
        comparison = control.knn_with_control(
            model.encoder, train.images, train.labels, test.images, test.labels,
            progress=progress, **options,
        )
    else:
        subset, settings["labels"] = _label_subset(train, label_fraction, label_ids, seed)
        augment = _finetune_augment(image_size, seed) if options.pop("augment", True) else None
        # Paper B.5: 60 epochs on 1 % of the labels, 30 on 10 % (and more).
        options.setdefault("epochs", 60 if len(subset) <= 0.02 * len(train) else 30)
        settings.update(options, augment=augment is not None)
        comparison = control.finetune_with_control(
            model.encoder, train.images[subset], train.labels[subset], test.images, test.labels,
            projection_head=model.projection_head, num_classes=_num_classes(train, test),
            augment=augment, seed=seed, **options,
        )
    metrics = {
        "protocol": protocol,
        "checkpoint": os.path.abspath(os.fspath(checkpoint)),
        "dataset": dataset,
        "image_size": image_size,
        "num_train": len(train),
        "num_test": len(test),
        "seed": seed,
        "backend": keras.backend.backend(),
        "options": settings,
        "results": comparison.metrics,
    }
    features = {TITLES[key]: value for key, value in comparison.features.items()}
    paths = write_report(
        out, metrics, features, test.labels, test.class_names, name=f"{protocol}_embeddings"
    )
    return EvalResult(metrics, paths)


def _num_classes(train, test):
    largest = int(max(train.labels.max(), test.labels.max())) + 1
    return max(largest, train.num_classes or 0)


def _check_label_choice(label_fraction, label_ids):
    if (label_fraction is None) == (label_ids is None):
        raise UserInputError("give exactly one of --label-fraction F or --label-ids FILE")
    if label_fraction is not None and not 0 < label_fraction <= 1:
        raise UserInputError(f"label fraction must be in (0, 1], e.g. 0.01 or 0.1; got {label_fraction}")
    if label_ids is not None and not os.path.isfile(label_ids):
        raise UserInputError(f"label id file not found: {label_ids}")


def _label_subset(train, label_fraction, label_ids, seed):
    if label_ids is not None:
        indices = subset_from_id_file(train.ids, label_ids)
        description = {"ids_file": os.path.abspath(os.fspath(label_ids))}
    else:
        indices = stratified_label_subset(train.labels, label_fraction, seed)
        description = {"fraction": float(label_fraction)}
    description["count"] = int(len(indices))
    description["classes"] = int(len(np.unique(train.labels[indices])))
    return indices, description


def _finetune_augment(image_size, seed):
    # The official fine-tuning preprocessing: random crop (resized back) and horizontal flip only.
    from simclr_keras3.augmentation import RandomHorizontalFlip, RandomResizedCrop

    return keras.Sequential(
        [RandomResizedCrop(image_size, seed=seed), RandomHorizontalFlip(seed=seed + 1)],
        name="finetune_augment",
    )
