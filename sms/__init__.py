"""The SMS mechanism: gateway client, outbox, jobs, sweeps, callbacks, segments and a local sandbox;
broadcasts, meetings and their reminders, and incoming SMS (STOP, START, replies) on top of them."""

from .callbacks import bp
from .outbox import BATCH_SIZE, enqueue_send, queue_message
from .segments import Segments, count_segments

__all__ = ["bp", "queue_message", "enqueue_send", "BATCH_SIZE", "count_segments", "Segments"]
