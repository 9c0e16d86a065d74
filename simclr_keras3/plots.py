"""Plots written by training runs."""

import os


def plot_loss_curve(steps, losses, path, title="SimCLR pretraining"):
    """Write a PNG of the training loss against the step number.

    Args:
        steps: step numbers.
        losses: the loss after each step (Keras reports the running mean within an epoch).
        path: the PNG to write.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(steps, losses)
    axes.set_xlabel("step")
    axes.set_ylabel("NT-Xent loss (running mean in epoch)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
