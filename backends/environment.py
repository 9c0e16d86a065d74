"""Process set-up that must happen before keras (and the backend framework) is imported."""

import os
import sys


def prepare_environment(backend, devices):
    """Set the environment a run on ``devices`` local devices needs; call before importing keras.

    JAX simulates ``devices`` CPU devices when it finds no accelerators (the flag only affects
    JAX's host platform, so it is harmless on GPU and TPU machines). TensorFlow configures its
    logical CPU devices in ``initialize``; torch needs one process per device (``torch_launch``).
    """
    if backend == "jax" and devices > 1:
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_force_host_platform_device_count" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={devices}".strip()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def launch_command(backend, devices, argv):
    """The command that reruns this CLI with one process per device, or None to run here.

    Only torch needs it (JAX and TensorFlow drive all local devices from one process). None when
    one device is asked for or when this process already runs under a launcher (torchrun, SLURM
    via torchrun) that set WORLD_SIZE.
    """
    if backend != "torch" or devices == 1 or "WORLD_SIZE" in os.environ:
        return None
    return [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc_per_node={devices}", "-m", "simclr_keras3.cli.main", *argv,
    ]
