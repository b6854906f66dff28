"""A bounded load test of a running shop on this machine: N clients for S seconds per scenario
(product list, text search, photo search with a new photo each time), reporting requests/s,
p50/p95 latency and errors. Loopback addresses only; every loop ends by its deadline."""

from __future__ import annotations

import http.client
import io
import ipaddress
import random
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from PIL import Image, ImageDraw

TEXT_QUERIES = ("red shoe", "blue car", "green lamp", "leather bag", "gold watch", "round cushion", "phone")
MAX_REQUESTS_PER_CLIENT = 100_000


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ScenarioResult:
    name: str
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + sum(self.errors.values())

    def as_row(self) -> dict[str, object]:
        ordered = sorted(self.latencies_ms) or [0.0]
        return {
            "scenario": self.name,
            "requests": self.requests,
            "requests_per_s": round(self.requests / self.seconds, 1),
            "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
        }


def require_loopback(url: str) -> tuple[str, int]:
    """Host and port of ``url``, refusing anything that does not resolve to a loopback address."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError("Give an http:// URL of a server on this machine.")
    port = parts.port or 80
    for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP):
        if not ipaddress.ip_address(info[4][0]).is_loopback:
            raise ValueError(f"{parts.hostname} is not a loopback address; the load test only targets this machine.")
    return parts.hostname, port


def product_list(rng: random.Random) -> Request:
    return Request("GET", f"/api/v1/products/?page={rng.randint(1, 2)}")


def text_search(rng: random.Random) -> Request:
    query = f"{rng.choice(TEXT_QUERIES)} {rng.randint(1, 10**6)}"  # new words: no cache can answer it
    return Request("GET", "/api/v1/search/text?q=" + query.replace(" ", "+") + "&limit=24")


def photo_search(rng: random.Random) -> Request:
    """A photo never seen before (random shapes and colours), so every request runs the models."""
    picture = Image.new("RGB", (480, 480), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(picture)
    for _ in range(4):
        box = sorted(rng.sample(range(480), 2)), sorted(rng.sample(range(480), 2))
        draw.ellipse((box[0][0], box[1][0], box[0][1], box[1][1]), fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=85)
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="images"; filename="q.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + buffer.getvalue()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return Request("POST", "/api/v1/search/image", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


SCENARIOS: dict[str, Callable[[random.Random], Request]] = {
    "product_list": product_list,
    "text_search": text_search,
    "photo_search": photo_search,
}


def run_scenario(*, host: str, port: int, name: str, clients: int, seconds: float) -> ScenarioResult:
    result = ScenarioResult(name=name, seconds=seconds)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)
        connection = http.client.HTTPConnection(host, port, timeout=60)
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                break
            request = SCENARIOS[name](rng)
            started = time.perf_counter()
            try:
                connection.request(request.method, request.path, body=request.body or None, headers=request.headers)
                response = connection.getresponse()
                response.read()
                outcome = None if 200 <= response.status < 300 else f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if outcome is None:
                    result.latencies_ms.append(elapsed)
                else:
                    result.errors[outcome] = result.errors.get(outcome, 0) + 1
        connection.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return result
