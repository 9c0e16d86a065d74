import pytest

from simclr_keras3.errors import UserInputError
from simclr_keras3.pretrain_config import PretrainConfig


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"batch_size": 1}, "batch size must be at least 2"),
        ({"encoder": "vgg16"}, "resnet18, resnet34"),
        ({"optimizer": "rmsprop"}, "lars, sgd, adamw"),
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"width": 0}, "width must be positive"),
        ({"temperature": -0.1}, "temperature must be positive"),
        ({"steps_per_epoch": 0}, "steps-per-epoch"),
    ],
)
def test_invalid_settings_name_the_problem(changes, message):
    with pytest.raises(UserInputError, match=message):
        PretrainConfig(**changes).validate()


def test_defaults_follow_the_cifar_recipe():
    config = PretrainConfig().validate()
    assert config.use_cifar_stem  # 32 px images
    assert PretrainConfig(image_size=224).use_cifar_stem is False
    assert config.base_learning_rate == 1.0
    assert PretrainConfig(optimizer="adamw").base_learning_rate == 1e-3
    assert (config.temperature, config.jitter_strength, config.blur_probability) == (0.5, 0.5, 0.0)
