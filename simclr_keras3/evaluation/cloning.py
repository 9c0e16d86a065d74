"""Copies of a network: with its trained weights (to fine-tune) or freshly initialised (controls)."""

import keras

from simclr_keras3.errors import UserInputError


def rebuild(layer, sample_input, copy_weights):
    """A new instance of ``layer``'s architecture, built on ``sample_input``.

    Rebuilt from ``layer.get_config()``, so it shares no variables with ``layer``: training the
    copy leaves the original untouched. With ``copy_weights`` it starts from the original's
    weights (trainable and BN moving statistics); otherwise it keeps its fresh random
    initialisation (drawn from Keras' global seed: ``keras.utils.set_random_seed`` fixes it).

    Args:
        layer: a Keras layer or model whose class can be rebuilt ``from_config``.
        sample_input: a small batch (or a ``keras.KerasTensor``) shaped like the layer's input;
            the copy is built on it symbolically.
        copy_weights: copy the weights of ``layer`` into the new instance.

    Returns:
        the new layer, built.

    Example:
        >>> control = rebuild(model.encoder, images[:2], copy_weights=False)
    """
    if not isinstance(layer, keras.layers.Layer):
        raise UserInputError(
            f"cannot copy a {type(layer).__name__}: pass a Keras layer or model as the encoder"
        )
    if copy_weights and not layer.built:
        build_symbolically(layer, sample_input)  # creates the weights to copy
    try:
        copy = layer.__class__.from_config(layer.get_config())
    except (NotImplementedError, TypeError) as error:
        raise UserInputError(
            f"cannot rebuild {type(layer).__name__} from its config ({error}): "
            "implement get_config() with every constructor argument"
        ) from error
    if not copy.built:
        build_symbolically(copy, sample_input)
    if copy_weights:
        copy.set_weights(layer.get_weights())
    return copy


def build_symbolically(layer, sample_input, training=False):
    """Create ``layer``'s weights by calling it on a symbolic tensor shaped like ``sample_input``.

    No computation runs (an eager call on JAX compiles every op for the new shape), and nothing
    changes: no BN statistics move, no random state advances.

    Returns:
        the symbolic output (a ``keras.KerasTensor``), to build a following layer on.
    """
    spec = keras.KerasTensor(tuple(sample_input.shape), dtype="float32")
    return layer(spec, training=training)
