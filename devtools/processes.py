"""One launcher for the child processes the demo, the benchmarks and the tests start: a Celery
worker or the development server, with settings passed the way production passes them
(environment variables), stopped with their whole process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from django.conf import settings

MANAGE_PY = Path(settings.BASE_DIR) / "manage.py"


def database_url(db: dict[str, Any]) -> str:
    """A ``DATABASE_URL`` for a Django database settings dict. A socket directory goes in
    ``?host=``: django-environ does not decode ``%2F`` in the host part."""
    user = quote(str(db.get("USER") or ""), safe="")
    password = f":{quote(str(db['PASSWORD']), safe='')}" if db.get("PASSWORD") else ""
    host = str(db.get("HOST") or (db.get("OPTIONS") or {}).get("host") or "")
    if host.startswith("/"):
        return f"postgres://{user}{password}@/{db['NAME']}?host={quote(host)}"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


def worker_command(*, queues: str = "embeddings,default", concurrency: int = 1, loglevel: str = "INFO",
                   name: str = "dev", quiet: bool = True) -> list[str]:  # fmt: skip
    """``celery -A config worker`` (prefork); ``quiet`` drops gossip, mingle and heartbeats."""
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "--pool=prefork",
        f"--concurrency={concurrency}", f"--loglevel={loglevel}", "-n", f"{name}-{uuid.uuid4().hex[:8]}@%h",
    ]  # fmt: skip
    return command + (["--without-gossip", "--without-mingle", "--without-heartbeat"] if quiet else [])


def runserver_command(host: str, port: int) -> list[str]:
    addrport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [sys.executable, str(MANAGE_PY), "runserver", addrport, "--noreload", "--skip-checks"]


@dataclass
class ChildProcess:
    """A started child in its own process group, and where its output goes."""

    process: subprocess.Popen[bytes]
    log_path: Path | None = None
    env: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        path = self.log_path
        return path.read_text(errors="replace") if path is not None and path.exists() else ""

    def wait_for_log(self, text: str, *, timeout: float = 30.0, after: int = 0) -> None:
        """Wait until ``text`` appears in the log (past character ``after``)."""
        deadline = time.monotonic() + timeout
        while text not in self.log()[after:]:
            if not self.alive:
                raise RuntimeError(f"Process exited ({self.process.returncode}):\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} not in the log after {timeout}s:\n{self.log()[-4000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL to the group, as the OOM killer or a lost machine would: no cleanup, no ack."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the group; SIGKILL if it has not exited within ``timeout``."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def start(command: list[str], *, env: dict[str, str], log_path: Path | None = None) -> ChildProcess:
    """Start ``command`` in the project directory, in a new process group; its output goes to
    ``log_path`` (appended) or, without one, to this process's terminal."""
    log: IO[bytes] | None = log_path.open("ab") if log_path is not None else None
    try:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT if log else None,
            start_new_session=True,
        )  # fmt: skip
    finally:
        if log is not None:
            log.close()
    return ChildProcess(process=process, log_path=log_path, env=env)


def port_in_use(host: str, port: int) -> bool:
    target = "127.0.0.1" if host in {"0.0.0.0", ""} else "::1" if host == "::" else host
    try:
        with socket.create_connection((target, port), timeout=0.3):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        return int(server.getsockname()[1])
