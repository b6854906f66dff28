"""A process manager stops ``runserver`` with SIGTERM (or a terminal with SIGINT/SIGHUP): the
embedded PostgreSQL and Valkey it started must stop with it, not stay behind with no user."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from config.embedded import _pid_alive
from devtools import processes
from tests.config.test_embedded import _wait_until

ROOT = Path(__file__).resolve().parents[2]
# Local settings, but with the embedded servers under the test's own folder.
SETTINGS = """
from pathlib import Path
from config.settings.base import *  # noqa: F403
from config.embedded import configure_services

DEBUG = True
SECRET_KEY = "signal-test"
ALLOWED_HOSTS = ["127.0.0.1"]
configure_services(globals(), Path({var_dir!r}))
"""


@pytest.mark.parametrize(
    ("signum", "reload"), [(signal.SIGTERM, False), (signal.SIGTERM, True), (signal.SIGINT, False)]
)  # fmt: skip
def test_runserver_stopped_by_a_signal_leaves_no_embedded_server_running(tmp_path: Path, signum, reload) -> None:
    var_dir = tmp_path / "var"
    (tmp_path / "signal_settings.py").write_text(SETTINGS.format(var_dir=str(var_dir)))
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DJANGO_SETTINGS_MODULE": "signal_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    port = processes.free_port()
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--skip-checks"]
    process = subprocess.Popen(
        [*command, *([] if reload else ["--noreload"])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # SIGINT reaches a background process only when it is not ignored: start it as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    valkey_pid = postgres_pid = 0
    try:
        assert _wait_until(lambda: processes.port_in_use("127.0.0.1", port), timeout=120), "runserver did not start"
        valkey_pid = json.loads((var_dir / "valkey" / "state.json").read_text())["pid"]
        postgres_pid = int((var_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        assert _pid_alive(valkey_pid) and _pid_alive(postgres_pid)

        process.send_signal(signum)
        process.wait(timeout=60)

        assert _wait_until(lambda: not _pid_alive(valkey_pid), timeout=30), "embedded Valkey left running"
        assert _wait_until(lambda: not _pid_alive(postgres_pid), timeout=30), "embedded PostgreSQL left running"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        for pid, stop in ((valkey_pid, signal.SIGTERM), (postgres_pid, signal.SIGINT)):  # after a failure
            if _pid_alive(pid):
                os.kill(pid, stop)
