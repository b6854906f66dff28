"""``CLIP_MODEL=random-*`` is a development name: devtools turns it into a generated model's
directory, and the production loader never knows such names."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.random_clip import resolve_random_clip_settings
from visualsearch.encoders.base import EncoderUnavailable
from visualsearch.encoders.clip import load_clip_model


def test_devtools_points_a_random_model_name_at_the_generated_directory(settings, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    settings.SHOPLENS_ENCODERS = {
        **settings.SHOPLENS_ENCODERS,
        "clip": {**settings.SHOPLENS_ENCODERS["clip"], "MODEL": "random-tiny"},
    }

    resolve_random_clip_settings()

    model = Path(settings.SHOPLENS_ENCODERS["clip"]["MODEL"])
    assert model.is_dir() and model.is_relative_to(tmp_path)
    assert load_clip_model(str(model), device="cpu") is not None


def test_the_production_loader_does_not_build_random_models(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(EncoderUnavailable, match="random-tiny"):
        load_clip_model("random-tiny", device="cpu")
