"""Turn Ctrl+C during a fit into a graceful stop instead of a lost model.

Lightning answers a ``KeyboardInterrupt`` inside ``Trainer.fit`` with ``sys.exit(1)`` after
setting SIGINT to be ignored, which would end an interactive session and lose the model.
While a fit runs, :class:`GracefulInterrupt` catches SIGINT itself and only records it; the
training module (:mod:`tsforecast._training`) then stops after the current chunk of minibatches.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any


class GracefulInterrupt:
    """Context manager recording SIGINT in :attr:`requested` (main thread only).

    Signal handlers can only be set from the main thread; elsewhere (e.g. a search running
    fits in threads) the context manager does nothing and Ctrl+C behaves as usual.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:  # a second Ctrl+C: stop now, without waiting for the chunk
            raise KeyboardInterrupt
        self.requested = True

    def __getstate__(self) -> dict[str, Any]:
        # Spawned training workers receive a copy; the previous handler stays here.
        return {"requested": self.requested, "_previous": None}

    def __enter__(self) -> GracefulInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
