"""Shared test helpers (on sys.path through pytest's ``pythonpath = tests``)."""

import keras
import numpy as np


def assert_serializable(obj, *call_args, atol=1e-6, **call_kwargs):
    """Check that ``obj`` round-trips through ``get_config`` and Keras serialization.

    Rebuilds ``obj`` from its config and from ``keras.saving.serialize_keras_object``; checks the
    configs are identical and, when ``call_args`` are given and ``obj`` has weights, copies the
    weights and checks both copies give the same outputs.
    """
    config = obj.get_config()
    clone = obj.__class__.from_config(config)
    assert clone.get_config() == config
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(obj))
    assert type(revived) is type(obj)
    assert revived.get_config() == config
    if call_args:
        expected = obj(*call_args, **call_kwargs)
        if getattr(obj, "weights", None):
            revived(*call_args, **call_kwargs)  # build
            revived.set_weights(obj.get_weights())
        actual = revived(*call_args, **call_kwargs)
        for e, a in zip(keras.tree.flatten(expected), keras.tree.flatten(actual)):
            np.testing.assert_allclose(
                keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(e), atol=atol
            )
    return revived
