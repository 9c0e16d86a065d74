"""Training callbacks: atomic checkpoints and the per-step loss history behind the loss curve."""

import keras

from simclr_keras3.checkpoint import save_checkpoint


class AtomicCheckpoint(keras.callbacks.Callback):
    """Save the model atomically at the end of every ``every_epochs`` epochs and at the end.

    A crash mid-save leaves the previous checkpoint intact (see ``save_checkpoint``).

    Args:
        path: the ``.keras`` file to (over)write.
        run_state: dict saved with each checkpoint; ``epoch`` and ``step`` are filled in.
        every_epochs: checkpoint period in epochs.
    """

    def __init__(self, path, run_state=None, every_epochs=1):
        super().__init__()
        self.path = path
        self.run_state = dict(run_state or {})
        self.every_epochs = every_epochs
        self.saved_epoch = None

    def _save(self, epoch):
        state = dict(self.run_state, epoch=epoch + 1)
        # convert_to_tensor first: reads a tf.distribute MirroredVariable's value, too.
        iterations = keras.ops.convert_to_tensor(self.model.optimizer.iterations)
        state["step"] = int(keras.ops.convert_to_numpy(iterations))
        save_checkpoint(self.model, self.path, state)
        self.saved_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_epochs == 0:
            self._save(epoch)

    def on_train_end(self, logs=None):
        last_epoch = self.params.get("epochs", 1) - 1 if self.params else 0
        if self.saved_epoch != last_epoch:
            self._save(last_epoch)


class StepHistory(keras.callbacks.Callback):
    """Record the running mean loss after every training step (for the loss-curve plot)."""

    def __init__(self):
        super().__init__()
        self.steps = []
        self.losses = []
        self._step = 0

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if logs and "loss" in logs:
            self.steps.append(self._step)
            self.losses.append(float(logs["loss"]))


class TensorBoardScalars(keras.callbacks.Callback):
    """Write every epoch's logged metrics as TensorBoard scalars.

    Keras' own TensorBoard callback needs TensorFlow; this one writes event files through the
    ``tensorboard`` package alone, so JAX and torch runs get logs without installing TensorFlow.

    Args:
        log_dir: folder for the event files (open it with ``tensorboard --logdir``).
    """

    def __init__(self, log_dir):
        super().__init__()
        self.log_dir = log_dir
        self._writer = None

    def on_train_begin(self, logs=None):
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._writer = EventFileWriter(self.log_dir)

    def on_epoch_end(self, epoch, logs=None):
        import time

        from tensorboard.compat.proto import event_pb2, summary_pb2

        values = [
            summary_pb2.Summary.Value(tag=f"epoch_{name}", simple_value=float(value))
            for name, value in (logs or {}).items()
            if isinstance(value, (int, float)) or hasattr(value, "__float__")
        ]
        event = event_pb2.Event(
            wall_time=time.time(), step=epoch + 1, summary=summary_pb2.Summary(value=values)
        )
        self._writer.add_event(event)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
