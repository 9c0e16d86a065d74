"""Per-image colour jitter in a random order, applied with a probability."""

import keras
from keras import ops

from simclr_keras3.augmentation import image_ops
from simclr_keras3.augmentation.per_image_layer import PerImageLayer


@keras.saving.register_keras_serializable(package="simclr_keras3")
class ColorJitter(PerImageLayer):
    """Random brightness, contrast, saturation and hue, in a random order per image.

    With ``b, c, s, h`` = the magnitudes times ``strength``, each image draws a brightness factor
    in ``[max(0, 1-b), 1+b]`` (multiplicative, as SimCLR v2), a contrast factor in
    ``[max(0, 1-c), 1+c]`` around the per-channel mean, a saturation factor in
    ``[max(0, 1-s), 1+s]`` and a hue shift in ``[-h, h]`` (fraction of the hue circle), plus its
    own order of the four ops. Values are clipped to [0, 1] after every op. The whole jitter is
    applied to an image with probability ``probability``; other images pass unchanged.

    Parameters (``sample_parameters``), all with leading axis B:
        ``"apply"`` (B,) bool; ``"brightness"``, ``"contrast"``, ``"saturation"`` (B,) float
        factors; ``"hue"`` (B,) float shift; ``"order"`` (B, 4) int32, a permutation of
        ``[0, 1, 2, 3]`` (0 brightness, 1 contrast, 2 saturation, 3 hue); ``order[b, k]`` is the
        op applied at step ``k``.

    Args:
        strength: colour distortion strength ``s`` (1.0 ImageNet, 0.5 CIFAR in the paper).
        probability: chance that an image is jittered.
        brightness, contrast, saturation, hue: magnitudes at strength 1.
        seed: int or None, seeds this layer's ``keras.random.SeedGenerator``.
        **kwargs: base ``keras.layers.Layer`` arguments.

    Example:
        >>> jitter = ColorJitter(strength=0.5, seed=0)
        >>> out = jitter(keras.random.uniform((8, 32, 32, 3)))

    Reference:
        Chen et al. 2020, Appendix A: "Color distortion is composed by color jittering and color
        dropping. We find stronger color jittering usually helps, so we set a strength
        parameter." Its pseudo-code jitters brightness 0.8s, contrast 0.8s, saturation 0.8s and
        hue 0.2s with p = 0.8 and notes "one can also shuffle the order of following
        augmentations each time they are applied", which the authors' code does. The paper's
        brightness is additive; SimCLR v2's code (used here) makes it multiplicative.
    """

    config_keys = ("strength", "probability", "brightness", "contrast", "saturation", "hue", "seed")

    def __init__(
        self,
        strength=1.0,
        probability=0.8,
        brightness=0.8,
        contrast=0.8,
        saturation=0.8,
        hue=0.2,
        seed=None,
        **kwargs,
    ):
        super().__init__(probability, seed, **kwargs)
        self.strength = float(strength)
        self.brightness = float(brightness)
        self.contrast = float(contrast)
        self.saturation = float(saturation)
        self.hue = float(hue)

    def sample_parameters(self, batch_size, image_height=None, image_width=None):
        # One draw per call (fewer random ops to compile): column 0 the flag, 1-4 the four
        # magnitudes, 5-8 the order.
        u = keras.random.uniform((batch_size, 9), seed=self.seed_generator)
        b, c, s, h = (
            m * self.strength for m in (self.brightness, self.contrast, self.saturation, self.hue)
        )

        def between(column, low, high):
            return low + (high - low) * u[:, column]

        return {
            "apply": u[:, 0] < self.probability,
            "brightness": between(1, max(0.0, 1.0 - b), 1.0 + b),
            "contrast": between(2, max(0.0, 1.0 - c), 1.0 + c),
            "saturation": between(3, max(0.0, 1.0 - s), 1.0 + s),
            "hue": between(4, -h, h),
            # argsort of i.i.d. uniforms is a uniformly random permutation, one per row
            "order": ops.cast(ops.argsort(u[:, 5:], axis=1), "int32"),
        }

    def apply(self, images, parameters):
        images, parameters = image_ops.as_tensors(images, parameters)
        p = parameters
        factors = p["brightness"], p["contrast"], p["saturation"], p["hue"]
        return image_ops.color_jitter(images, *factors, p["order"], p["apply"])
