"""A real Celery worker process for tests (pytest plugin; listed in ``pytest_plugins``).

The worker is ``celery -A config worker`` in a child process, pointed at the test database that
pytest-django created, the same broker (and key prefix) as the test process, and a media folder
both sides share. Tests that use it need ``transactional_db``: the worker only sees committed rows.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from devtools import processes

BASE_DIR = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT = 90.0


WorkerProcess = processes.ChildProcess


def database_url() -> str:
    """The URL of the database this test process uses (pytest-django's ``test_<NAME>``)."""
    return processes.database_url(connection.settings_dict)


def worker_environment(*, media_root: Path, clip_model: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Settings for the child, passed the way production passes them: environment variables."""
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    inherited = {key: value for key, value in os.environ.items() if key != "SHOPLENS_TEST_DB_NAME"}
    env = {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_KEY_PREFIX": str(options.get("global_keyprefix", "")),
        # A killed worker's batch is handed out again after 3 s, looked for every second.
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "DJANGO_TEST_MEDIA_ROOT": str(media_root),
        "CLIP_MODEL": clip_model,
        "SHOPLENS_ENABLED_ENCODERS": ",".join(settings.SHOPLENS_ENABLED_ENCODERS),
        "SHOPLENS_INDEX_IN_PROCESS": "false",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": str(BASE_DIR),
    }
    return env | (extra or {})


def start_worker(
    *, env: dict[str, str], log_path: Path, queues: str = "embeddings,default", concurrency: int = 1
) -> WorkerProcess:
    """Start ``celery -A config worker`` (prefork, ``concurrency`` children, in its own process
    group so a kill takes them all) and wait until it consumes."""
    command = processes.worker_command(queues=queues, name="test", concurrency=concurrency)
    worker = processes.start(command, env=env, log_path=log_path)
    try:
        worker.wait_for_log(" ready.", timeout=WORKER_START_TIMEOUT)
    except BaseException:
        worker.kill()
        raise
    return worker


def wait_until(condition: Callable[[], bool], *, timeout: float = 60.0, interval: float = 0.2) -> None:
    """Poll ``condition`` (it may query the database) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Condition not met within {timeout}s")
        time.sleep(interval)


@pytest.fixture(scope="session")
def worker_media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("worker-media")


@pytest.fixture(scope="session")
def worker_clip_model(tiny_clip_dir: Path) -> str:
    return str(tiny_clip_dir)


@pytest.fixture
def worker_settings(settings, worker_media_root: Path, worker_clip_model: str, transactional_db) -> None:
    """This process writes photos where the worker reads them and uses the worker's CLIP."""
    settings.MEDIA_ROOT = str(worker_media_root)
    settings.SHOPLENS_ENCODERS = {
        **settings.SHOPLENS_ENCODERS,
        "clip": {**settings.SHOPLENS_ENCODERS["clip"], "MODEL": worker_clip_model},
    }


@pytest.fixture
def worker_factory(
    django_db_blocker, worker_media_root: Path, worker_clip_model: str, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start workers with extra environment; all are stopped at the end of the test."""
    started: list[WorkerProcess] = []

    def start(*, extra: dict[str, str] | None = None, name: str = "worker", concurrency: int = 1) -> WorkerProcess:
        with django_db_blocker.unblock():
            env = worker_environment(media_root=worker_media_root, clip_model=worker_clip_model, extra=extra)
        worker = start_worker(env=env, log_path=tmp_path / f"{name}-{len(started)}.log", concurrency=concurrency)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
        print(f"--- {worker.log_path} (end) ---\n{worker.log()[-5000:]}")  # shown when the test fails
