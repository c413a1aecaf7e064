"""Callbacks for ``fit`` / ``evaluate`` / ``predict``, as ``keras.callbacks``.

``Callback`` is the base class; ``CallbackList`` is what the trainer drives.
Every Keras 3 callback that makes sense on PyTorch is here under its Keras
name: ``History``, ``ProgbarLogger``, ``EarlyStopping``, ``ModelCheckpoint``,
``ReduceLROnPlateau``, ``LearningRateScheduler``, ``CSVLogger``,
``TerminateOnNaN``, ``LambdaCallback``, ``TensorBoard``, ``BackupAndRestore``,
``RemoteMonitor``.

Example:

    >>> from kerasish import callbacks
    >>> cbs = [callbacks.EarlyStopping(patience=3, restore_best_weights=True),
    ...        callbacks.ModelCheckpoint("best.keras", save_best_only=True)]
    >>> # model.fit(x, y, validation_split=0.2, epochs=50, callbacks=cbs)
"""

from kerasish.callbacks.backup_and_restore import BackupAndRestore
from kerasish.callbacks.callback import Callback
from kerasish.callbacks.callback_list import CallbackList
from kerasish.callbacks.csv_logger import CSVLogger
from kerasish.callbacks.early_stopping import EarlyStopping
from kerasish.callbacks.history import History
from kerasish.callbacks.lambda_callback import LambdaCallback
from kerasish.callbacks.learning_rate_scheduler import LearningRateScheduler
from kerasish.callbacks.model_checkpoint import ModelCheckpoint
from kerasish.callbacks.monitor_callback import MonitorCallback
from kerasish.callbacks.progbar_logger import ProgbarLogger
from kerasish.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from kerasish.callbacks.remote_monitor import RemoteMonitor
from kerasish.callbacks.tensorboard import TensorBoard
from kerasish.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
    "LearningRateScheduler", "ModelCheckpoint", "MonitorCallback", "ProgbarLogger", "ReduceLROnPlateau",
    "RemoteMonitor", "TensorBoard", "TerminateOnNaN",
]
