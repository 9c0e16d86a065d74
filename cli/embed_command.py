"""``simclr embed``: write the embeddings of a dataset, .npz or image folder to a file."""

import click

from simclr_keras3.cli.common import backend_option, select_backend, user_errors


@click.command()
@backend_option
@click.option("--checkpoint", required=True, help="A .keras checkpoint from `simclr run`.")
@click.option("--input", "source", required=True,
              help="A dataset name (fashion_mnist_subset, digits, tfds:NAME, ...), a FILE.npz or a folder of images.")
@click.option("--out", required=True, help="Output file: .npy (embeddings), .npz (+ ids, labels) or .parquet.")
@click.option("--layer", default="h", show_default=True, type=click.Choice(["h", "z"]),
              help="h: encoder output (the representation); z: projection head output.")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(min=1))
@click.option("--image-size", default=None, type=click.IntRange(min=1),
              help="Default: the checkpoint's training image size (32 if unknown).")
@click.option("--split", default="train", show_default=True, help="Split of a named dataset or .npz.")
@click.option("--data-dir", default=None, help="Where the dataset's files are (IDX files, TFDS data_dir).")
@click.option("--limit", default=None, type=click.IntRange(min=1), help="Embed only the first N images.")
@click.option("--skip-bad", is_flag=True, help="Skip undecodable image files (listed in OUT.skipped.txt).")
@user_errors
def embed(backend, checkpoint, source, out, layer, batch_size, image_size, split, data_dir, limit,
          skip_bad):
    """Embed images with a SimCLR checkpoint's encoder (h) or projection head (z)."""
    select_backend(backend)
    from simclr_keras3.embed import embed_checkpoint

    result = embed_checkpoint(
        checkpoint, source, out, layer=layer, batch_size=batch_size, image_size=image_size,
        split=split, data_dir=data_dir, limit=limit, skip_bad=skip_bad,
    )
    click.echo(f"embedded {result.count} images ({layer}, {result.dim} dims) into {result.path}")
    if result.skipped:
        click.echo(f"skipped {result.skipped} unreadable inputs, listed in {result.skipped_path}")
