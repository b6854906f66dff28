"""Downloading an import row's photos over http(s) so that it cannot be turned against the
shop's own network (no SSRF through the importer); local files are ``photos.ImageLoader``'s.

A download resolves the host once, refuses the request unless every address is public, then
connects to the checked address itself (no second lookup, so no DNS rebinding). Redirects are
followed by hand and checked the same way. Each photo has one total deadline (connects, reads,
redirects and retries together), so a server that drips bytes cannot hold the import.

Photos are not decoded here: catalog.services decodes each new photo once, after its SHA-256
shows it is new; a quick signature check gives an early reason for files that are no image.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings

from catalog.imaging import has_image_signature, not_image_message

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
MAX_REDIRECTS = 5


class ImageFetchError(Exception):
    """A photo that could not be read; ``str(exc)`` is the reason in the import summary."""


class UnsafeURL(ImageFetchError):
    """A URL refused before any connection: wrong scheme or a non-public address."""


@dataclass(frozen=True)
class FetchedImage:
    content: bytes
    name: str  # a file name for storage ("2.jpg")

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def is_public_address(address: IPAddress) -> bool:
    """True for globally routable unicast addresses only."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ImageFetchError(f"cannot resolve {host}: {exc.strerror}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class SafeFetcher:
    """Downloads images over http(s) with timeouts, a size limit, retries with backoff and a
    content check. ``resolver`` and ``is_allowed`` exist for tests; keep the defaults elsewhere."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        deadline: float = 30.0,
        max_bytes: int | None = None,
        retries: int = 2,
        backoff: float = 0.5,
        resolver: Resolver = system_resolver,
        is_allowed: Callable[[IPAddress], bool] = is_public_address,
    ) -> None:
        self.timeout = timeout
        self.deadline = deadline
        self._expires = 0.0
        self.max_bytes = max_bytes if max_bytes is not None else int(settings.SHOPLENS_MAX_UPLOAD_BYTES)
        self.retries = retries
        self.backoff = backoff
        self.resolver = resolver
        self.is_allowed = is_allowed

    def fetch(self, url: str) -> FetchedImage:
        self._expires = time.monotonic() + self.deadline
        attempt = 0
        while True:
            try:
                content = self._fetch_following_redirects(url)
                break
            except _Retryable as exc:
                pause = self.backoff * 2**attempt
                if attempt >= self.retries or self._remaining() <= pause:
                    raise ImageFetchError(f"{url}: {exc}") from None
                time.sleep(pause)
                attempt += 1
        if not has_image_signature(content):
            raise ImageFetchError(f"{url}: {not_image_message()}")
        return FetchedImage(content=content, name=PurePosixPath(urlsplit(url).path).name or "photo")

    def _remaining(self) -> float:
        return self._expires - time.monotonic()

    def _timeout(self, url: str) -> float:
        """Seconds the next connect or read may take: the per-step timeout, cut to the deadline."""
        remaining = self._remaining()
        if remaining <= 0:
            raise ImageFetchError(f"{url}: not downloaded within the {self.deadline:g} s deadline")
        return min(self.timeout, remaining)

    def check(self, url: str) -> tuple[str, str, int, str]:
        """(scheme, host, port, address to connect to) for ``url``, or UnsafeURL."""
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"}:
            raise UnsafeURL(f"{url}: only http and https URLs are fetched")
        host = parts.hostname
        if not host:
            raise UnsafeURL(f"{url}: no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UnsafeURL(f"{url}: bad port") from None
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in self.resolver(host, port)]
        if not addresses:
            raise UnsafeURL(f"{url}: {host} has no address")
        refused = [a for a in addresses if not self.is_allowed(a)]
        if refused:
            raise UnsafeURL(f"{url}: refused, {host} resolves to a non-public address ({refused[0]})")
        return parts.scheme, host, port, str(addresses[0])

    def _fetch_following_redirects(self, url: str) -> bytes:
        for _ in range(MAX_REDIRECTS + 1):
            scheme, host, port, address = self.check(url)
            with self._pool(scheme, host, port, address) as pool:
                response = self._request(pool, host, port, url)
                try:
                    return self._body(response, url)
                except _Redirect as redirect:
                    url = redirect.url
                finally:
                    response.release_conn()
        raise ImageFetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _body(self, response: urllib3.BaseHTTPResponse, url: str) -> bytes:
        if response.status in {301, 302, 303, 307, 308}:
            location = response.headers.get("Location")
            if not location:
                raise ImageFetchError(f"{url}: redirect without a Location")
            raise _Redirect(urljoin(url, location))  # checked like any URL on the next round
        if response.status >= 500 or response.status == 429:
            raise _Retryable(f"HTTP {response.status}")
        if response.status != 200:
            raise ImageFetchError(f"{url}: HTTP {response.status}")
        return self._read_limited(response, url)

    def _pool(self, scheme: str, host: str, port: int, address: str) -> urllib3.HTTPConnectionPool:
        seconds = self._timeout(f"{scheme}://{host}")
        timeout = urllib3.Timeout(connect=seconds, read=seconds)
        if scheme == "https":
            # Connect to the checked address; SNI and the certificate still use the host name.
            return urllib3.HTTPSConnectionPool(
                address, port, timeout=timeout, server_hostname=host, assert_hostname=host, retries=False
            )
        return urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)

    def _request(self, pool: urllib3.HTTPConnectionPool, host: str, port: int, url: str) -> urllib3.BaseHTTPResponse:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = host if parts.port is None else f"{host}:{port}"
        try:
            return pool.urlopen(
                "GET",
                target,
                headers={"Host": host_header, "User-Agent": "shoplens-importer/1", "Accept": "image/*"},
                redirect=False,
                preload_content=False,
                assert_same_host=False,
            )
        except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ProtocolError) as exc:
            raise _Retryable(type(exc).__name__) from None
        except urllib3.exceptions.HTTPError as exc:
            raise ImageFetchError(f"{url}: {exc}") from None

    def _read_limited(self, response: urllib3.BaseHTTPResponse, url: str) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise ImageFetchError(f"{url}: larger than the {self.max_bytes} byte limit")
        chunks: list[bytes] = []
        total = 0
        sock = getattr(response.connection, "sock", None)  # the HTTP(S) connection's socket
        try:
            while True:
                seconds = self._timeout(url)  # raises once the deadline has passed
                if sock is not None:
                    sock.settimeout(seconds)  # so no single read outlasts the deadline
                chunk = response.read1(64 * 1024)  # one socket read: returns what has arrived
                if not chunk:
                    break
                total += len(chunk)
                if total > self.max_bytes:
                    raise ImageFetchError(f"{url}: larger than the {self.max_bytes} byte limit")
                chunks.append(chunk)
        except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ProtocolError, TimeoutError) as exc:
            if self._remaining() <= 0:
                raise ImageFetchError(f"{url}: not downloaded within the {self.deadline:g} s deadline") from None
            raise _Retryable(type(exc).__name__) from None
        return b"".join(chunks)


class _Retryable(Exception):
    pass


class _Redirect(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url
