"""The ``simclr`` command line: thin wrappers over the typed functions of simclr_keras3.

Nothing here imports keras at module level: the backend must be chosen (KERAS_BACKEND set)
before keras is first imported.
"""

import subprocess
import sys

import click

from simclr_keras3.cli.common import backend_option, select_backend, user_errors


@click.group()
@click.version_option(package_name="simclr-keras3")
def main():
    """SimCLR in Keras 3 on JAX, PyTorch or TensorFlow."""


@main.command()
@backend_option
@click.option("--dataset", default="fashion_mnist_subset", show_default=True,
              help="fashion_mnist_subset (embedded), fashion_mnist, digits, tfds:NAME, FILE.npz or a folder.")
@click.option("--data-dir", default=None, help="Where the dataset's files are (IDX files, TFDS data_dir).")
@click.option("--encoder", default="resnet18", show_default=True,
              type=click.Choice(["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]))
@click.option("--width", default=0.25, show_default=True, type=float, help="Width multiplier.")
@click.option("--image-size", default=32, show_default=True, type=int)
@click.option("--batch-size", default=128, show_default=True, type=int, help="Global batch size.")
@click.option("--epochs", default=2, show_default=True, type=int)
@click.option("--steps-per-epoch", default=None, type=int, help="Default: one pass over the data.")
@click.option("--optimizer", default="lars", show_default=True, type=click.Choice(["lars", "sgd", "adamw"]))
@click.option("--lr", default=None, type=float,
              help="Base learning rate before batch-size scaling (lars 1.0, sgd 0.1, adamw 1e-3).")
@click.option("--lr-scaling", default="linear", show_default=True, type=click.Choice(["linear", "sqrt", "none"]))
@click.option("--weight-decay", default=1e-4, show_default=True, type=float)
@click.option("--temperature", default=0.5, show_default=True, type=float)
@click.option("--jitter-strength", default=0.5, show_default=True, type=float)
@click.option("--blur-probability", default=0.0, show_default=True, type=float)
@click.option("--knn-every", default=0, show_default=True, type=int,
              help="Log kNN top-1 on the test split every N epochs (0: off).")
@click.option("--limit", default=None, type=int, help="Use only the first N training images.")
@click.option("--devices", default=1, show_default=True, type=int,
              help="Local devices for data parallelism (simulated on a CPU-only machine).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", default="runs/simclr", show_default=True, help="Output folder.")
@click.option("--no-probe", is_flag=True, help="Skip the closing linear probe.")
@user_errors
def run(backend, dataset, data_dir, encoder, width, image_size, batch_size, epochs, steps_per_epoch,
        optimizer, lr, lr_scaling, weight_decay, temperature, jitter_strength, blur_probability,
        knn_every, limit, devices, seed, out, no_probe):
    """Pretrain SimCLR and report a linear probe against a random-init encoder."""
    from simclr_keras3.pretrain_config import PretrainConfig

    config = PretrainConfig(
        dataset=dataset, data_dir=data_dir, encoder=encoder, width=width, image_size=image_size,
        batch_size=batch_size, epochs=epochs, steps_per_epoch=steps_per_epoch, optimizer=optimizer,
        learning_rate=lr, lr_scaling=lr_scaling, weight_decay=weight_decay,
        temperature=temperature, jitter_strength=jitter_strength,
        blur_probability=blur_probability, knn_every=knn_every, limit=limit, devices=devices,
        seed=seed, out=out, probe=not no_probe,
    ).validate()  # cheap checks before the backend loads
    from simclr_keras3.backends.environment import launch_command, prepare_environment

    launch = launch_command(backend, devices, sys.argv[1:])
    if launch is not None:  # one process per device, as torchrun would start them
        sys.exit(subprocess.run(launch).returncode)
    prepare_environment(backend, devices)
    select_backend(backend)
    from simclr_keras3.pretrain import pretrain

    result = pretrain(config)
    click.echo(f"checkpoint:      {result.checkpoint}")
    click.echo(f"metrics:         {result.metrics_csv}")
    click.echo(f"tensorboard:     {result.tensorboard_dir}")
    click.echo(f"loss curve:      {result.loss_curve}")


from simclr_keras3.cli.embed_command import embed  # noqa: E402  (after main: no cycle)
from simclr_keras3.cli.eval_commands import eval as eval_group  # noqa: E402

main.add_command(embed)
main.add_command(eval_group)

if __name__ == "__main__":
    main()
