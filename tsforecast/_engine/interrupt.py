"""Turn Ctrl+C during a fit into a graceful stop instead of a lost model.

Lightning answers a ``KeyboardInterrupt`` inside ``Trainer.fit`` with ``sys.exit(1)`` after
setting SIGINT to be ignored, which would end an interactive session and lose the model.
While a fit runs, :class:`GracefulInterrupt` catches SIGINT itself and only records it; the
training module (:mod:`tsforecast._engine.training`) then stops after the current chunk of
minibatches.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any, NoReturn

# The exit status of a process ended by SIGTERM (128 + 15), as a shell reports it.
SIGTERM_EXIT_STATUS = 143


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(SIGTERM_EXIT_STATUS)


@contextmanager
def sigterm_raises_system_exit() -> Iterator[None]:
    """Within the block, SIGTERM raises ``SystemExit(143)`` (main thread only).

    Python's default is to die at once, which skips every ``except``/``finally``: an Optuna
    trial in progress would stay RUNNING. Raised as an exception, it unwinds the fit (which
    leaves the estimator as it was), marks the trial failed, and still ends the process with
    the status a shell expects of a terminated process.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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


class Terminated(KeyboardInterrupt):
    """SIGTERM inside a trial, carried through Optuna as an interrupt so that the trial is
    recorded as failed (Optuna leaves a trial ended by SystemExit RUNNING forever)."""

    def __init__(self, code: Any) -> None:
        super().__init__(code)
        self.code = code
