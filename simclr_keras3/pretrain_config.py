"""The settings of one SimCLR pretraining run, with their validation."""

import dataclasses

from simclr_keras3.errors import UserInputError

ENCODER_DEPTHS = {"resnet18": 18, "resnet34": 34, "resnet50": 50, "resnet101": 101, "resnet152": 152}
OPTIMIZERS = ("lars", "sgd", "adamw")
# Base learning rates before batch-size scaling. LARS: the CIFAR-10 recipe (1.0 × B/256, README of
# the official code); SGD: the usual 0.1 × B/256; AdamW is not scaled.
BASE_LEARNING_RATES = {"lars": 1.0, "sgd": 0.1, "adamw": 1e-3}


@dataclasses.dataclass
class PretrainConfig:
    """Everything a pretraining run depends on; the defaults finish in minutes on 2 CPU cores.

    The defaults follow the official CIFAR-10 recipe (ResNet-18 with the CIFAR stem, τ = 0.5,
    colour strength 0.5, no blur, LARS with lr 1.0 × B/256, weight decay 1e-4) at a CPU-sized
    width, batch and epoch count.

    Example:
        >>> PretrainConfig(epochs=1, batch_size=64).validate()
    """

    dataset: str = "fashion_mnist_subset"
    data_dir: str | None = None
    encoder: str = "resnet18"
    width: float = 0.25
    cifar_stem: bool | None = None  # None: the CIFAR stem for images of at most 64 px
    image_size: int = 32
    projection_layers: int = 2
    projection_dim: int = 128
    batch_size: int = 128
    epochs: int = 2
    steps_per_epoch: int | None = None
    optimizer: str = "lars"
    learning_rate: float | None = None  # base rate before scaling; None: BASE_LEARNING_RATES
    lr_scaling: str = "linear"
    warmup_epochs: float | None = None  # None: 10 epochs, at most a tenth of the run
    weight_decay: float = 1e-4
    temperature: float = 0.5
    loss_convention: str = "mean"
    jitter_strength: float = 0.5
    blur_probability: float = 0.0
    devices: int = 1
    seed: int = 0
    out: str = "runs/simclr"
    limit: int | None = None
    knn_every: int = 0
    probe: bool = True

    def validate(self):
        """Raise UserInputError for settings that cannot work, before any heavy import."""
        if self.encoder not in ENCODER_DEPTHS:
            raise UserInputError(
                f"unknown encoder {self.encoder!r}; choose one of {', '.join(ENCODER_DEPTHS)}"
            )
        if self.optimizer not in OPTIMIZERS:
            raise UserInputError(
                f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}"
            )
        if self.batch_size < 2:
            raise UserInputError(
                f"batch size must be at least 2 (NT-Xent needs another pair as negatives), got {self.batch_size}"
            )
        for name in ("epochs", "image_size", "projection_dim", "projection_layers"):
            if getattr(self, name) < 1:
                raise UserInputError(f"{name.replace('_', '-')} must be at least 1")
        if self.width <= 0:
            raise UserInputError(f"width must be positive, got {self.width}")
        if self.temperature <= 0:
            raise UserInputError(f"temperature must be positive, got {self.temperature}")
        if self.devices < 1:
            raise UserInputError(f"devices must be at least 1, got {self.devices}")
        if self.batch_size % self.devices:
            raise UserInputError(
                f"global batch size {self.batch_size} does not split evenly over {self.devices} "
                f"devices: use a multiple of {self.devices}"
            )
        if self.steps_per_epoch is not None and self.steps_per_epoch < 1:
            raise UserInputError("steps-per-epoch must be at least 1")
        return self

    @property
    def use_cifar_stem(self):
        return self.image_size <= 64 if self.cifar_stem is None else self.cifar_stem

    @property
    def base_learning_rate(self):
        return BASE_LEARNING_RATES[self.optimizer] if self.learning_rate is None else self.learning_rate

    def to_dict(self):
        return dataclasses.asdict(self)
