"""PyTorch adapter: one process per device (torchrun), collectives over ``torch.distributed``.

``model.fit`` in each process trains on that process's slice of the global batch. Three things
make the processes train ONE model on the global batch (each checked by the equivalence tests):
the loss gathers the projections of every process with a gradient-carrying all-gather, batch
norm averages its moments over processes, and the gradients are averaged over processes before
the optimizer step (hooks on the parameters; Keras' torch trainer bypasses a DDP wrapper).
"""

import contextlib
import os

import torch
import torch.distributed as dist

from simclr_keras3.errors import UserInputError


def _distributed():
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def initialize(devices=1):
    if "WORLD_SIZE" not in os.environ:
        if devices > 1:
            raise UserInputError(
                f"--devices {devices} with torch needs one process per device: launch with "
                f"`torchrun --nproc_per_node {devices} -m simclr_keras3.cli.main run ...` "
                "(`simclr run` does this itself)"
            )
        return contextlib.nullcontext()
    world_size = int(os.environ["WORLD_SIZE"])
    if devices not in (1, world_size) and int(os.environ.get("LOCAL_WORLD_SIZE", world_size)) != devices:
        raise UserInputError(
            f"--devices {devices} but the launcher started {world_size} processes: make them match"
        )
    if not dist.is_initialized():
        if torch.cuda.is_available():
            local_rank = int(os.environ.get("LOCAL_RANK", 0))
            if local_rank >= torch.cuda.device_count():
                raise UserInputError(
                    f"process {local_rank} has no GPU ({torch.cuda.device_count()} visible): "
                    "lower --nproc_per_node"
                )
            torch.cuda.set_device(local_rank)
            dist.init_process_group("nccl")
        else:
            dist.init_process_group("gloo")
    return contextlib.nullcontext()


def replica_count():
    return dist.get_world_size() if _distributed() else 1


def replica_id():
    return dist.get_rank() if _distributed() else 0


class _AllGather(torch.autograd.Function):
    """Concatenate over processes; the backward pass returns each process its slice of the
    summed incoming gradient (every process's loss depends on every slice)."""

    @staticmethod
    def forward(ctx, x):
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad.chunk(dist.get_world_size(), dim=0)[dist.get_rank()]


class _AllReduceMean(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x = x.clone()
        dist.all_reduce(x, op=dist.ReduceOp.SUM)
        return x / dist.get_world_size()

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad / dist.get_world_size()


def all_gather(x):
    return _AllGather.apply(x) if _distributed() else x


def all_reduce_mean(x):
    return _AllReduceMean.apply(x) if _distributed() else x


def scale_loss(loss):
    return loss  # gradients are averaged (prepare_model), so the local mean loss is right


def _average_gradient(grad):
    grad = grad.clone()
    dist.all_reduce(grad, op=dist.ReduceOp.SUM)
    return grad / dist.get_world_size()


def prepare_model(model):
    """Average every trainable variable's gradient over processes as backward computes it."""
    if _distributed() and not getattr(model, "_simclr_gradient_hooks", False):
        for variable in model.trainable_variables:
            variable.value.register_hook(_average_gradient)
        model._simclr_gradient_hooks = True
    return model


def input_shard():
    return (dist.get_rank(), dist.get_world_size()) if _distributed() else (0, 1)
