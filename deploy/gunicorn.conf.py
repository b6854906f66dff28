"""gunicorn settings for shoplens (``gunicorn -c deploy/gunicorn.conf.py config.wsgi``).

Processes x threads never exceed the cores by default, and each worker's torch gets its share of
them; every worker loads the models before it takes a request (``SHOPLENS_WARMUP``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

_cores = os.cpu_count() or 1

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(max(1, _cores))))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Sync workers: one request at a time uses the worker's torch threads; slow clients are buffered
# by the gateway (nginx), not held by a worker.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s ua="%(a)s"'
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


def on_starting(server: Any) -> None:
    """A fresh folder for the workers' Prometheus samples (old workers' files would be summed)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def post_worker_init(worker: Any) -> None:
    """Share the cores between the worker processes' torch, then load the models."""
    from operations.warmup import warm_up, warm_up_enabled
    from visualsearch.encoders import share_cores

    share_cores(processes=workers * threads)
    if warm_up_enabled():
        warm_up(between=worker.notify)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
