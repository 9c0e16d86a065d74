"""Value and gradients through the running backend's own autodiff (a test helper).

Library code must stay backend-neutral; tests may branch on the backend, and this is the one
place they do it, so that every test (and the parity suite) asks the same question: "what does
this backend's autodiff give for this Keras-ops function?"
"""

import keras
import numpy as np


def value_and_grad(fn, *arrays, dtype=None, jit=False):
    """Evaluate ``fn(*tensors)`` and its gradient with respect to every argument.

    Args:
        fn: a function of backend tensors returning a scalar (built from ``keras.ops``).
        *arrays: NumPy arrays (or anything ``keras.ops.convert_to_tensor`` takes), one per
            argument of ``fn``; each becomes a backend tensor the gradient is taken against.
        dtype: optional dtype (e.g. ``"bfloat16"``, which NumPy lacks) for the argument tensors;
            defaults to each array's own dtype.
        jit: compile value and gradient together (``jax.jit``, ``tf.function``; torch stays
            eager), as inside a training step. ``fn`` must then be traceable: no NumPy
            conversion, no variable updates. Each call compiles afresh.

    Returns:
        ``(value, grads)``: ``value`` a NumPy scalar and ``grads`` a tuple of NumPy arrays, one
        per argument, in the argument's dtype (bfloat16 as ``ml_dtypes.bfloat16``; zeros where
        ``fn`` does not depend on it).

    Example:
        >>> value, (g_x,) = value_and_grad(lambda x: keras.ops.sum(x**2), np.ones(3, "float32"))
    """
    backend = keras.backend.backend()
    tensors = [keras.ops.convert_to_tensor(a, dtype=dtype) for a in arrays]
    if backend == "jax":
        import jax

        function = jax.value_and_grad(fn, argnums=tuple(range(len(tensors))))
        value, grads = (jax.jit(function) if jit else function)(*tensors)
    elif backend == "torch":
        import torch

        tensors = [t.detach().clone().requires_grad_(True) for t in tensors]
        value = fn(*tensors)
        grads = torch.autograd.grad(value, tensors, allow_unused=True)
        grads = [torch.zeros_like(t) if g is None else g for t, g in zip(tensors, grads)]
        value = value.detach()
    elif backend == "tensorflow":
        import tensorflow as tf

        def function(*tensors):
            with tf.GradientTape() as tape:
                for t in tensors:
                    tape.watch(t)
                value = fn(*tensors)
            grads = tape.gradient(value, tensors)
            return value, [tf.zeros_like(t) if g is None else g for t, g in zip(tensors, grads)]

        value, grads = (tf.function(function) if jit else function)(*tensors)
    else:
        raise NotImplementedError(f"value_and_grad has no autodiff for backend {backend!r}.")
    return to_numpy(value), tuple(to_numpy(g) for g in grads)


def to_numpy(x):
    """A backend tensor as a NumPy array (bfloat16 as ``ml_dtypes.bfloat16``)."""
    if keras.backend.standardize_dtype(x.dtype) == "bfloat16":
        # NumPy has no bfloat16: go through float32 (exact) to ml_dtypes' bfloat16, a Keras
        # dependency, which avoids Keras' own deprecated conversion path.
        import ml_dtypes

        x = keras.ops.convert_to_numpy(keras.ops.cast(x, "float32"))
        return np.asarray(x).astype(ml_dtypes.bfloat16)
    return np.asarray(keras.ops.convert_to_numpy(x))
