"""PyTorch adapter: one process per device under torchrun, collectives over torch.distributed."""

import torch.distributed as dist


def replica_count():
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def replica_id():
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return 0


def all_gather(x):
    if replica_count() == 1:
        return x
    raise NotImplementedError("Multi-process torch runs are not implemented yet.")


def all_reduce_mean(x):
    if replica_count() == 1:
        return x
    raise NotImplementedError("Multi-process torch runs are not implemented yet.")


def initialize(devices=1):
    if devices == 1:
        return None
    raise NotImplementedError("Multi-process torch runs are not implemented yet.")
