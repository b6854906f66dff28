"""Termination signals as a normal exit, so the exit handlers that release shared embedded servers run."""

from __future__ import annotations

import logging
import signal
import threading

logger = logging.getLogger(__name__)


def exit_cleanly_on_termination_signals() -> None:
    """Turn SIGTERM, SIGHUP (and SIGINT, where it would kill outright) into a normal exit, so the
    exit handlers that release the embedded servers run: Python's default for these signals ends
    the process without them, and the last user's servers would be left running. Handlers that a
    process installed itself (Celery, gunicorn, Django's reloader) are left alone."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        if signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _exit_on_signal)


def _exit_on_signal(signum: int, frame: object) -> None:
    logger.info("Received %s; stopping (embedded servers are released on exit)", signal.Signals(signum).name)
    raise SystemExit(128 + signum)
