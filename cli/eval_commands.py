"""``simclr eval linear | knn | finetune``: evaluate a checkpoint next to a random-init control."""

import click

from simclr_keras3.cli.common import backend_option, select_backend, user_errors


def _shared_options(command):
    """Options every protocol takes: checkpoint, data, output folder, backend, seed."""
    options = [
        backend_option,
        click.option("--checkpoint", required=True, help="A .keras checkpoint from `simclr run`."),
        click.option("--dataset", default="fashion_mnist_subset", show_default=True,
                     help="Needs labelled train and test splits: fashion_mnist_subset, fashion_mnist, "
                          "digits, tfds:NAME, FILE.npz or a folder with train/ and test/."),
        click.option("--data-dir", default=None, help="Where the dataset's files are."),
        click.option("--image-size", default=None, type=click.IntRange(min=1),
                     help="Default: the checkpoint's training image size."),
        click.option("--limit", default=None, type=click.IntRange(min=1),
                     help="Use only the first N images of each split."),
        click.option("--out", default=None, help="Output folder.  [default: runs/eval/PROTOCOL]"),
        click.option("--seed", default=0, show_default=True, type=int),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _run(protocol, backend, checkpoint, dataset, data_dir, image_size, limit, out, seed, **options):
    select_backend(backend)
    from simclr_keras3.evaluation.runs import evaluate_checkpoint

    options = {key: value for key, value in options.items() if value is not None}
    result = evaluate_checkpoint(
        protocol, checkpoint, out or f"runs/eval/{protocol}", dataset=dataset, data_dir=data_dir,
        image_size=image_size, limit=limit, seed=seed, **options,
    )
    metrics = result.metrics
    click.echo(
        f"{protocol} evaluation on {metrics['dataset']} ({metrics['num_train']} train / "
        f"{metrics['num_test']} test images, {metrics['image_size']} px), backend {metrics['backend']}"
    )
    click.echo(result.table())
    click.echo(f"metrics:  {result.paths['metrics']}")
    click.echo(f"plot:     {result.paths['plot']}")


@click.group(name="eval")
def eval_group():
    """Evaluate a SimCLR checkpoint (linear, kNN, fine-tuning) against a random-init control."""


@eval_group.command()
@_shared_options
@click.option("--epochs", default=90, show_default=True, type=click.IntRange(min=1))
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(min=1))
@click.option("--lr", "learning_rate", default=0.1, show_default=True, type=float,
              help="Peak learning rate (cosine decay, Nesterov momentum 0.9).")
@click.option("--weight-decay", default=0.0, show_default=True, type=float)
@click.option("--standardize/--no-standardize", default=True, show_default=True,
              help="Standardise features with training-split statistics before the probe.")
@click.option("--raw-pixels/--no-raw-pixels", default=True, show_default=True,
              help="Also probe raw pixels (the no-learning baseline).")
@user_errors
def linear(**kwargs):
    """Linear evaluation: a softmax classifier on the frozen encoder's features (h)."""
    _run("linear", **kwargs)


@eval_group.command()
@_shared_options
@click.option("--k", default=200, show_default=True, type=click.IntRange(min=1), help="Neighbours.")
@click.option("--temperature", default=0.1, show_default=True, type=float,
              help="Neighbour weight exp(cosine / temperature).")
@user_errors
def knn(**kwargs):
    """Weighted kNN on L2-normalised features of the frozen encoder."""
    _run("knn", **kwargs)


@eval_group.command()
@_shared_options
@click.option("--label-fraction", default=None, type=float,
              help="Fine-tune on this class-balanced fraction of the training labels (0.01, 0.1).")
@click.option("--label-ids", default=None, type=click.Path(dir_okay=False),
              help="Fine-tune on the training examples listed in this file (one id per line).")
@click.option("--from-head-layer", default=0, show_default=True, type=click.IntRange(min=0),
              help="0: fine-tune from h; j: keep projection head layers 1..j (SimCLRv2 uses 1).")
@click.option("--epochs", default=None, type=click.IntRange(min=1),
              help="Default: 60 for <= 2 % of the labels, else 30 (paper).")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(min=1))
@click.option("--lr", "learning_rate", default=0.05, show_default=True, type=float,
              help="Peak learning rate (cosine decay, Nesterov momentum 0.9).")
@click.option("--weight-decay", default=0.0, show_default=True, type=float)
@click.option("--augment/--no-augment", default=True, show_default=True,
              help="Random resized crop + horizontal flip on the training images (official recipe).")
@user_errors
def finetune(**kwargs):
    """Fine-tune the whole network on a labelled subset; the control trains from scratch."""
    _run("finetune", **kwargs)


# The name cli/main.py registers.
eval = eval_group  # noqa: A001
