"""gunicorn of this checkout with the production settings, on a free loopback port, for the
deployment benchmarks and tests (and any server they put in front of it, such as nginx)."""

from __future__ import annotations

import os
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from devtools import processes
from devtools.processes import free_port

__all__ = ["GUNICORN_CONFIG", "Server", "free_port", "production_environment", "start_gunicorn", "start_server"]

GUNICORN_CONFIG = Path(settings.BASE_DIR) / "deploy" / "gunicorn.conf.py"


@dataclass
class Server:
    """A started server: its process, the URL it answers on (and a gateway's plain-HTTP port)."""

    name: str
    child: processes.ChildProcess
    url: str
    http_url: str = ""

    def log(self) -> str:
        return self.child.log()

    def stop(self) -> None:
        self.child.stop(timeout=20)


def start_server(
    name: str,
    command: list[str],
    *,
    env: dict[str, str],
    log_path: Path,
    url: str,
    context: ssl.SSLContext | None = None,
) -> Server:
    """Start ``command`` and wait until ``url``/healthz/ answers with any status."""
    server = Server(name, processes.start(command, env=env, log_path=log_path), url)
    deadline = time.monotonic() + 120
    while True:
        if not server.child.alive:
            raise RuntimeError(f"{name} exited ({server.child.process.returncode}):\n{server.log()[-4000:]}")
        try:
            urllib.request.urlopen(f"{url}/healthz/", timeout=2, context=context)
            return server
        except urllib.error.HTTPError:
            return server  # it answers (a gateway may answer 502 until gunicorn is up)
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise TimeoutError(f"{name} did not answer within 120 s:\n{server.log()[-4000:]}") from None
            time.sleep(0.2)


def production_environment(**values: str) -> dict[str, str]:
    """The variables production reads, for a gunicorn of this checkout on loopback."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    return (
        inherited
        | {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_LOG_LEVEL": "INFO",
            "SHOPLENS_WARMUP": "false",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONPATH": str(settings.BASE_DIR),
        }
        | values
    )


def start_gunicorn(*, env: dict[str, str], folder: Path, workers: int = 2) -> Server:
    """``gunicorn -c deploy/gunicorn.conf.py config.wsgi`` on a free loopback port."""
    port = free_port()
    env = env | {"GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "config.wsgi"]
    return start_server("gunicorn", command, env=env, log_path=folder / "gunicorn.log", url=f"http://127.0.0.1:{port}")
