"""Training with a rich progress bar: seeded, deterministic on CPU, quiet otherwise."""

from __future__ import annotations

from typing import Optional

import numpy as np

from hcp_fpga.data import Dataset


def _rich_epoch_callback(total_epochs: int, description: str):
    import tensorflow as tf
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    class RichEpochs(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(), transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(description, total=total_epochs, status="")

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            status = " ".join(f"{k}={v:.3f}" for k, v in logs.items() if k in ("loss", "accuracy", "val_accuracy"))
            self.progress.update(self.task, advance=1, status=status)

        def on_train_end(self, logs=None):
            self.progress.stop()

    return RichEpochs()


def train_classifier(
    model,
    data: Dataset,
    epochs: int = 30,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    seed: int = 0,
    show_progress: bool = True,
    description: str = "training",
    callbacks: Optional[list] = None,
):
    """Fit ``model`` (softmax outputs) on ``data`` with Adam and sparse cross-entropy; returns the model.
    ``callbacks`` run too (e.g. a pruning mask callback)."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks = list(callbacks or []) + ([_rich_epoch_callback(epochs, description)] if show_progress else [])
    model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True, callbacks=callbacks)
    return model


def accuracy(model, x: np.ndarray, y: np.ndarray, batch_size: Optional[int] = 512) -> float:
    """Top-1 accuracy of ``model`` on (x, y)."""
    pred = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(pred, axis=1) == y))
