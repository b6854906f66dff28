"""The production stack on loopback for tests: gunicorn with the production settings behind the
real nginx rendered from deploy/nginx, each on a free port in a temporary folder."""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

from devtools.production import Server, free_port, start_server

BASE_DIR = Path(__file__).resolve().parents[2]

NGINX_DIR = BASE_DIR / "deploy" / "nginx"


def render_template(text: str, values: dict[str, str]) -> str:
    """What envsubst does in the nginx image: ``${NAME}`` of the given names, nothing else."""
    return re.sub(r"\$\{(SHOPLENS_[A-Z_]+)\}", lambda match: values[match.group(1)], text)


def collect_static(*, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR, env=env, check=True, timeout=300,
    )  # fmt: skip


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost made with openssl (installed by .ci/run like nginx)."""
    certificate, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return certificate, key


def start_nginx(
    *,
    upstream: str,
    folder: Path,
    static_root: Path,
    media_root: Path,
    max_request_bytes: int,
    tls: tuple[Path, Path] | None = None,
) -> Server:
    """nginx from PATH with the repository's plain-HTTP site, or its TLS site when a certificate
    and key are given (then ``url`` is the HTTPS one and ``http_url`` the redirecting port).
    nginx must be installed: nothing is skipped without it."""
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        raise RuntimeError("nginx is not installed (apt-get install nginx); the gateway test needs it.")
    port, tls_port = free_port(), free_port()
    folder.mkdir(parents=True, exist_ok=True)
    conf_dir = folder / "conf.d"
    conf_dir.mkdir(parents=True, exist_ok=True)
    values = {
        "SHOPLENS_UPSTREAM": upstream,
        "SHOPLENS_HTTP_PORT": f"127.0.0.1:{port}",
        "SHOPLENS_HTTPS_PORT": f"127.0.0.1:{tls_port}",
        "SHOPLENS_PUBLIC_HTTPS_PORT": str(tls_port),
        "SHOPLENS_TLS_CERTIFICATE": str(tls[0]) if tls else "",
        "SHOPLENS_TLS_CERTIFICATE_KEY": str(tls[1]) if tls else "",
        "SHOPLENS_STATIC_ROOT": str(static_root),
        "SHOPLENS_MEDIA_ROOT": str(media_root),
        "SHOPLENS_MAX_REQUEST_BYTES": str(max_request_bytes),
        "SHOPLENS_NGINX_CONF_DIR": str(conf_dir),
    }
    for template in (NGINX_DIR / "templates").glob("*.template"):
        (conf_dir / template.name.removesuffix(".template")).write_text(render_template(template.read_text(), values))
    site = (NGINX_DIR / "sites" / ("tls" if tls else "http")).with_suffix(".conf.template").read_text()
    (conf_dir / "default.conf").write_text(render_template(site, values))
    user = "user root root;" if os.geteuid() == 0 else ""  # workers must read the test's private folders
    main = folder / "nginx.conf"
    main.write_text(f"""{user}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log info;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log {folder}/nginx-access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {conf_dir}/*.conf;
}}
""")
    command = [binary, "-c", str(main), "-p", str(folder), "-e", str(folder / "nginx-error.log")]
    subprocess.run([*command, "-t"], check=True, capture_output=True, timeout=30)
    url = f"https://localhost:{tls_port}" if tls else f"http://127.0.0.1:{port}"
    context = ssl.create_default_context(cafile=str(tls[0])) if tls else None
    log_path = folder / "nginx.log"
    server = start_server("nginx", command, env=dict(os.environ), log_path=log_path, url=url, context=context)
    server.http_url = f"http://127.0.0.1:{port}"
    return server
