"""Encoder registry: each configured model is loaded once per process, on first use.

A model that cannot load (no network for a download, a missing directory) is not tried again
for ``RETRY_UNAVAILABLE_AFTER_S``: every indexing batch and every search would otherwise repeat
the cache lookup and the hub probe before giving up the same way.

Importing this package stays cheap (no torch); a backend module is imported when first asked for.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from visualsearch import events

from .base import (
    IMAGE,
    TEXT,
    Encoder,
    EncoderCapabilityError,
    EncoderConfig,
    EncoderUnavailable,
)

__all__ = [
    "IMAGE",
    "TEXT",
    "Encoder",
    "EncoderCapabilityError",
    "EncoderConfig",
    "EncoderUnavailable",
    "encoder_config",
    "get_encoder",
    "load_encoders",
    "reset_encoders",
]

logger = logging.getLogger(__name__)

RETRY_UNAVAILABLE_AFTER_S = 60.0

_lock = threading.Lock()
_encoders: dict[EncoderConfig, Encoder] = {}
_unavailable: dict[EncoderConfig, tuple[float, str]] = {}  # config -> (when it failed, why)


def get_encoder(name: str) -> Encoder:
    """The loaded encoder ``name``, configured by ``settings.SHOPLENS_ENCODERS[name]``.

    Cached per configuration, so a settings override (tests) gets its own instance. Loading holds
    a lock: two threads asking at once load the model once. ``EncoderUnavailable`` when it cannot
    load, repeated without a new attempt for ``RETRY_UNAVAILABLE_AFTER_S``.
    """
    config = encoder_config(name)
    encoder = _encoders.get(config)
    if encoder is not None:
        return encoder
    with _lock:
        encoder = _encoders.get(config)
        if encoder is None:
            failure = _unavailable.get(config)
            if failure and time.monotonic() - failure[0] < RETRY_UNAVAILABLE_AFTER_S:
                raise EncoderUnavailable(failure[1])
            _apply_torch_threads()
            backend = import_string(config.backend)
            loading_started = time.perf_counter()
            try:
                encoder = backend(config)
            except EncoderUnavailable as exc:
                _unavailable[config] = (time.monotonic(), str(exc))
                raise
            _unavailable.pop(config, None)
            events.encoder_loaded.send(sender=Encoder, encoder=name, seconds=time.perf_counter() - loading_started)
            # Drop the model of an older configuration of the same name: it will not be asked for.
            for stale in [key for key in _encoders if key.name == name]:
                del _encoders[stale]
            _encoders[config] = encoder
    return encoder


def encoder_config(name: str) -> EncoderConfig:
    """``settings.SHOPLENS_ENCODERS[name]`` parsed, or ``ImproperlyConfigured``."""
    configured = getattr(settings, "SHOPLENS_ENCODERS", {})
    if name not in configured:
        raise ImproperlyConfigured(f"Unknown encoder {name!r}; SHOPLENS_ENCODERS defines {sorted(configured)}.")
    try:
        return EncoderConfig.from_settings(name, configured[name])
    except (KeyError, TypeError, ValueError) as error:
        raise ImproperlyConfigured(f"SHOPLENS_ENCODERS[{name!r}] is invalid: {error!r}") from error


def load_encoders(modality: str, *, names: Iterable[str] | None = None) -> tuple[list[Encoder], dict[str, str]]:
    """The enabled encoders (or ``names``) for ``modality`` that load here, and why each of the
    others does not.

    Product texts go only to text-only encoders: a joint image-text model (CLIP) embeds the
    query text at search time against image vectors instead.
    """
    wanted = list(names) if names is not None else list(settings.SHOPLENS_ENABLED_ENCODERS)
    encoders: list[Encoder] = []
    unavailable: dict[str, str] = {}
    for name in wanted:
        backend = settings.SHOPLENS_ENCODERS.get(name, {}).get("BACKEND")
        try:
            modalities = import_string(str(backend)).modalities if backend else frozenset()
        except ImportError:
            modalities = frozenset({IMAGE, TEXT})  # let get_encoder report the real problem
        if not _wants(modality, modalities):
            continue
        try:
            encoder = get_encoder(name)
        except EncoderUnavailable as exc:
            unavailable[name] = str(exc)
            logger.warning("Encoder %r is unavailable, indexing continues without it: %s", name, exc)
            continue
        if _wants(modality, encoder.modalities):
            encoders.append(encoder)
    return encoders, unavailable


def _wants(modality: str, modalities: frozenset[str]) -> bool:
    return modality in modalities and (modality == IMAGE or IMAGE not in modalities)


def reset_encoders() -> None:
    """Forget every loaded encoder and every failure to load one (tests; after changing model
    files on disk)."""
    with _lock:
        _encoders.clear()
        _unavailable.clear()


_shared_threads = 0  # set by share_cores() in a worker that forks several processes


def share_cores(*, processes: int) -> None:
    """This process is one of ``processes`` sharing the machine: models loaded from now on use
    ``cores // processes`` torch threads, unless ``SHOPLENS_TORCH_THREADS`` says otherwise."""
    global _shared_threads
    _shared_threads = max(1, (os.cpu_count() or 1) // max(1, processes))
    cores = os.cpu_count()
    logger.info("%d worker processes share %s cores: %d torch thread(s) each", processes, cores, _shared_threads)


def _apply_torch_threads() -> None:
    """CPU threads for torch: ``SHOPLENS_TORCH_THREADS``, else the worker's share of the cores."""
    threads = settings.SHOPLENS_TORCH_THREADS or _shared_threads
    if threads:
        import torch

        torch.set_num_threads(int(threads))
