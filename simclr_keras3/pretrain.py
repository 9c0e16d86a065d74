"""``pretrain``: the typed function behind ``simclr run``."""

import dataclasses
import os

import keras

from simclr_keras3 import backends
from simclr_keras3.batches import ShuffledBatches
from simclr_keras3.callbacks import AtomicCheckpoint, StepHistory, TensorBoardScalars
from simclr_keras3.errors import UserInputError
from simclr_keras3.pretrain_config import ENCODER_DEPTHS, PretrainConfig


@dataclasses.dataclass
class PretrainResult:
    """What a run produced: file locations, the Keras history and the probe accuracies."""

    model: keras.Model
    out_dir: str
    checkpoint: str
    metrics_csv: str
    tensorboard_dir: str
    loss_curve: str
    history: dict
    probe: dict | None = None


def build_model(config: PretrainConfig):
    """The SimCLR model (encoder, head, augmentation) that ``config`` describes, built."""
    from simclr_keras3.augmentation.simclr_augment import SimCLRAugment
    from simclr_keras3.model import SimCLR
    from simclr_keras3.projection_head import ProjectionHead
    from simclr_keras3.resnet import ResNet

    encoder = ResNet(
        depth=ENCODER_DEPTHS[config.encoder],
        width_multiplier=config.width,
        cifar_stem=config.use_cifar_stem,
        name="encoder",
    )
    if config.image_size < encoder.min_input_size:
        raise UserInputError(
            f"image size {config.image_size} is too small for {config.encoder} "
            f"({'CIFAR' if config.use_cifar_stem else 'ImageNet'} stem): use --image-size "
            f"{encoder.min_input_size} or more"
        )
    head = ProjectionHead(
        num_layers=config.projection_layers,
        output_dim=config.projection_dim,
        output_batch_norm=config.projection_layers > 2,  # v1 (2 layers) vs v2 (BN everywhere)
        name="projection_head",
    )
    augment = SimCLRAugment(
        config.image_size,
        jitter_strength=config.jitter_strength,
        blur_probability=config.blur_probability,
        seed=config.seed,
        name="augment",
    )
    model = SimCLR(
        encoder,
        head,
        augment,
        temperature=config.temperature,
        loss_convention=config.loss_convention,
        name="simclr",
    )
    model.build((None, config.image_size, config.image_size, 3))
    return model


def build_optimizer(config: PretrainConfig, total_steps, steps_per_epoch):
    """The optimizer with the warm-up + cosine schedule and batch-size-scaled peak rate."""
    from simclr_keras3.lars import LARS
    from simclr_keras3.schedules import WarmupCosineDecay, scale_learning_rate

    if config.optimizer == "adamw" or config.lr_scaling == "none":
        peak = config.base_learning_rate
    else:
        peak = scale_learning_rate(config.base_learning_rate, config.batch_size, config.lr_scaling)
    warmup_epochs = (
        min(10.0, config.epochs / 10) if config.warmup_epochs is None else config.warmup_epochs
    )
    warmup_steps = min(total_steps, int(round(warmup_epochs * steps_per_epoch)))
    schedule = WarmupCosineDecay(peak, total_steps=total_steps, warmup_steps=warmup_steps)
    if config.optimizer == "lars":
        return LARS(learning_rate=schedule, momentum=0.9, weight_decay=config.weight_decay)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True)
    return keras.optimizers.AdamW(learning_rate=schedule, weight_decay=config.weight_decay)


def pretrain(config: PretrainConfig, verbose="auto", log=print):
    """Pretrain SimCLR as ``config`` says; write checkpoint, metrics, TensorBoard logs, loss curve.

    Args:
        config: the run's settings (validated here).
        verbose: passed to ``model.fit`` (``"auto"`` shows a progress bar).
        log: where progress lines go (``print`` for the CLI; tests may silence it).

    Returns:
        PretrainResult.

    Example:
        >>> result = pretrain(PretrainConfig(epochs=1, limit=256, out="/tmp/run"))  # doctest: +SKIP
        >>> result.probe["simclr_top1"], result.probe["random_init_top1"]             # doctest: +SKIP

    Reference:
        Chen et al. 2020, §2.2: "we train with the LARS optimizer ... for all batch sizes",
        "linear warmup for the first 10 epochs, and decay the learning rate with the cosine
        decay schedule without restarts".
    """
    from simclr_keras3.data import load_dataset
    from simclr_keras3.plots import plot_loss_curve

    config.validate()
    # Before any framework op: TensorFlow fixes its devices when its runtime starts.
    scope = backends.initialize(config.devices)
    shard_index, shard_count = backends.input_shard()
    chief = shard_index == 0  # one process writes files and prints
    if not chief:
        log, verbose = (lambda *args: None), 0
    keras.utils.set_random_seed(config.seed)  # the same initial weights in every process
    train = load_dataset(
        config.dataset, split="train", image_size=config.image_size, data_dir=config.data_dir,
        limit=config.limit,
    )
    if len(train) < config.batch_size:
        raise UserInputError(
            f"the dataset has {len(train)} images, fewer than the batch size {config.batch_size}: "
            "lower --batch-size"
        )
    batches = ShuffledBatches(
        train.images, config.batch_size, seed=config.seed, shard=(shard_index, shard_count)
    )
    steps_per_epoch = config.steps_per_epoch or batches.batches_per_epoch
    out_dir = os.path.abspath(config.out)
    paths = {
        "checkpoint": os.path.join(out_dir, "model.keras"),
        "metrics_csv": os.path.join(out_dir, "metrics.csv"),
        "tensorboard_dir": os.path.join(out_dir, "tensorboard"),
        "loss_curve": os.path.join(out_dir, "loss_curve.png"),
    }
    steps = StepHistory()
    callbacks = [steps]
    if chief:
        os.makedirs(out_dir, exist_ok=True)
        callbacks += [
            keras.callbacks.CSVLogger(paths["metrics_csv"]),
            TensorBoardScalars(paths["tensorboard_dir"]),
            AtomicCheckpoint(paths["checkpoint"], run_state={"config": config.to_dict()}),
        ]
        if config.knn_every:
            callbacks.insert(1, _knn_monitor(config))
    log(
        f"SimCLR pretraining on {len(train)} {train.name} images: {config.encoder} "
        f"(width {config.width}), batch {config.batch_size} over {config.devices} device(s), "
        f"{config.epochs} epochs × {steps_per_epoch} steps, backend {keras.backend.backend()}"
    )
    with scope:  # entered once: a tf.distribute scope is not re-entrant
        model = build_model(config)
        optimizer = build_optimizer(config, steps_per_epoch * config.epochs, steps_per_epoch)
        model.compile(optimizer=optimizer)
        backends.prepare_model(model)
        # The control for the probe: the very same initial weights, never trained.
        initial_encoder = _copy_of(model.encoder, config.image_size)
        history = model.fit(
            batches, epochs=config.epochs, steps_per_epoch=steps_per_epoch, callbacks=callbacks,
            verbose=verbose,
        )
    result = PretrainResult(model=model, out_dir=out_dir, history=history.history, **paths)
    if chief:
        plot_loss_curve(steps.steps, steps.losses, paths["loss_curve"])
        if config.probe:
            result.probe = _linear_probe(config, train, model.encoder, initial_encoder, log)
    return result


def _copy_of(encoder, image_size):
    copy = encoder.__class__.from_config(encoder.get_config())
    copy.build((None, image_size, image_size, 3))
    copy.set_weights(encoder.get_weights())
    return copy


def _knn_monitor(config):
    from simclr_keras3.data import load_dataset
    from simclr_keras3.evaluation.knn import KNNMonitor

    held_out = load_dataset(config.dataset, split="test", image_size=config.image_size,
                            data_dir=config.data_dir, limit=config.limit)
    train = load_dataset(config.dataset, split="train", image_size=config.image_size,
                         data_dir=config.data_dir, limit=config.limit)
    return KNNMonitor(train.images, train.labels, held_out.images, held_out.labels,
                      every_epochs=config.knn_every)


def _linear_probe(config, train, encoder, initial_encoder, log):
    """Linear probe on the dataset's test split: the trained encoder next to its initial weights."""
    from simclr_keras3.data import load_dataset
    from simclr_keras3.evaluation.features import extract_features
    from simclr_keras3.evaluation.linear_eval import linear_probe_features

    try:
        test = load_dataset(config.dataset, split="test", image_size=config.image_size,
                            data_dir=config.data_dir)
    except UserInputError as error:
        log(f"no linear probe: {error}")
        return None
    if train.labels is None or test.labels is None:
        log("no linear probe: the dataset has no labels")
        return None
    probe = {}
    for name, enc in (("simclr", encoder), ("random_init", initial_encoder)):
        train_features = extract_features(enc, train.images)
        test_features = extract_features(enc, test.images)
        # 30 epochs over cached features: a quick probe; `simclr eval linear` runs the full 90.
        metrics = linear_probe_features(
            train_features, train.labels, test_features, test.labels, epochs=30, seed=config.seed
        )
        probe[f"{name}_top1"] = float(metrics["top1"])
    log(
        f"linear probe top-1 on {len(test)} {test.name} test images: "
        f"SimCLR {probe['simclr_top1']:.2%} vs random init {probe['random_init_top1']:.2%}"
    )
    return probe
