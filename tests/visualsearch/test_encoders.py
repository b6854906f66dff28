from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import pytest

from devtools.random_clip import build_random_clip
from tests.encoder_fixtures import Shape, make_product_photo
from visualsearch.encoders import (
    EncoderCapabilityError,
    EncoderUnavailable,
    get_encoder,
    reset_encoders,
)

pytestmark = pytest.mark.usefixtures("use_tiny_clip")


def _override(settings: Any, name: str, **changes: object) -> None:
    """Replace one encoder's settings without touching the shared dict."""
    encoders = {key: dict(value) for key, value in settings.SHOPLENS_ENCODERS.items()}
    encoders[name].update(changes)
    settings.SHOPLENS_ENCODERS = encoders


def _assert_unit_rows(vectors: np.ndarray, rows: int, dimension: int) -> None:
    assert vectors.shape == (rows, dimension)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


PHOTOS = [make_product_photo("car", "green", seed=1), make_product_photo("star", "red", size=(300, 200), seed=2)]
TEXTS = ["red running shoes", "15 inch laptop with backlit keyboard", "green ceramic mug"]


@pytest.mark.parametrize("name", ["clip", "visual"])
def test_image_encoders_return_unit_float32_rows(name: str) -> None:
    encoder = get_encoder(name)
    _assert_unit_rows(encoder.encode_images(PHOTOS), len(PHOTOS), encoder.dimension)


@pytest.mark.parametrize("name", ["clip", "text"])
def test_text_encoders_return_unit_float32_rows(name: str) -> None:
    encoder = get_encoder(name)
    _assert_unit_rows(encoder.encode_texts(TEXTS), len(TEXTS), encoder.dimension)


@pytest.mark.parametrize("name", ["clip", "visual", "text"])
def test_empty_input_gives_an_empty_matrix(name: str) -> None:
    encoder = get_encoder(name)
    empty = encoder.encode_texts([]) if name == "text" else encoder.encode_images([])
    assert empty.shape == (0, encoder.dimension)


def test_clip_puts_images_and_texts_in_one_512_dimensional_space() -> None:
    clip = get_encoder("clip")
    assert clip.dimension == 512
    images, texts = clip.encode_images(PHOTOS), clip.encode_texts(TEXTS)
    similarities = images @ texts.T
    assert similarities.shape == (2, 3)
    assert np.all(np.abs(similarities) <= 1.0 + 1e-5)


def test_clip_fast_preprocessing_matches_sentence_transformers() -> None:
    clip = get_encoder("clip")
    reference = clip._model.encode(PHOTOS, normalize_embeddings=True)  # type: ignore[attr-defined]
    ours = clip.encode_images(PHOTOS)
    assert np.all(np.sum(reference * ours, axis=1) > 0.999)


def test_batches_give_the_same_rows_as_one_by_one(settings: Any) -> None:
    _override(settings, "clip", BATCH_SIZE=2)
    photos = [make_product_photo("circle", colour, seed=index) for index, colour in enumerate(["red", "blue", "green"])]
    together = get_encoder("clip").encode_images(photos)
    alone = np.concatenate([get_encoder("clip").encode_images([photo]) for photo in photos])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_clip_int8_precision_agrees_with_fp32(settings: Any) -> None:
    fp32 = get_encoder("clip").encode_images(PHOTOS)
    _override(settings, "clip", PRECISION="int8", DEVICE="cpu")
    int8_encoder = get_encoder("clip")
    assert int8_encoder.version.endswith("-int8")
    assert np.all(np.sum(fp32 * int8_encoder.encode_images(PHOTOS), axis=1) >= 0.99)


def test_clip_version_changes_when_the_model_changes(settings: Any, tmp_path: Path) -> None:
    first = get_encoder("clip").version
    reset_encoders()
    assert get_encoder("clip").version == first  # stable across loads
    _override(settings, "clip", MODEL=str(build_random_clip(tmp_path / "other", size="tiny", seed=1)))
    assert get_encoder("clip").version != first


def test_random_clip_build_is_deterministic(tmp_path: Path, tiny_clip_dir: Path) -> None:
    rebuilt = build_random_clip(tmp_path / "again", size="tiny", seed=0)
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (rebuilt / name).read_bytes() == (tiny_clip_dir / name).read_bytes()


@pytest.mark.parametrize("shape", ["car", "star"])
def test_visual_ranks_same_colour_above_other_colour(shape: Shape) -> None:
    query = make_product_photo(shape, "green", seed=1, angle=10, scale=0.5)
    green = make_product_photo(shape, "green", seed=2, angle=-10, scale=0.65)
    blue = make_product_photo(shape, "blue", seed=2, angle=-10, scale=0.65)
    query_row, green_row, blue_row = get_encoder("visual").encode_images([query, green, blue])
    assert query_row @ green_row > query_row @ blue_row + 0.1


def test_visual_still_tells_shapes_apart() -> None:
    query = make_product_photo("circle", "red", seed=1, angle=10)
    circle = make_product_photo("circle", "red", seed=2, scale=0.7)
    star = make_product_photo("star", "red", seed=2, scale=0.7)
    query_row, circle_row, star_row = get_encoder("visual").encode_images([query, circle, star])
    assert query_row @ circle_row > query_row @ star_row


def test_visual_version_names_weights_and_descriptor() -> None:
    version = get_encoder("visual").version
    assert version.startswith("efficientnet-lite0@")
    assert "+hsv" in version


def test_text_ranks_the_matching_description_first() -> None:
    query, shoe, laptop = get_encoder("text").encode_texts(
        [
            "red running shoes",
            "Lightweight trainers for road running, breathable mesh upper, in red.",
            "14-inch notebook computer with 16 GB RAM and an SSD.",
        ]
    )
    assert query @ shoe > query @ laptop


def test_visual_encoder_refuses_text() -> None:
    with pytest.raises(EncoderCapabilityError):
        get_encoder("visual").encode_texts(["green car"])


def test_text_encoder_refuses_images() -> None:
    with pytest.raises(EncoderCapabilityError):
        get_encoder("text").encode_images(PHOTOS)


def _assert_actionable(error: EncoderUnavailable, model: str) -> None:
    message = str(error)
    assert f'CLIP model "{model}" could not be loaded (' in message
    assert "needs network access to download it once" in message
    assert "set CLIP_MODEL to a local directory" in message
    assert 'SentenceTransformer("clip-ViT-B-32").save(path)' in message
    assert "SHOPLENS_ENABLED_ENCODERS" in message


def test_unknown_clip_model_offline_fails_fast_with_instructions(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    _override(settings, "clip", MODEL="no-such-clip-model")
    started = time.perf_counter()
    with pytest.raises(EncoderUnavailable) as caught:
        get_encoder("clip")
    assert time.perf_counter() - started < 10
    _assert_actionable(caught.value, "no-such-clip-model")
    assert "HF_HUB_OFFLINE" in str(caught.value)


def test_unreachable_hub_fails_fast_with_instructions(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import HfApi, constants

    def no_network(*args: object, **kwargs: object) -> None:
        raise httpx2.ConnectError("[Errno -2] Name or service not known")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(HfApi, "model_info", no_network)
    _override(settings, "clip", MODEL="clip-ViT-B-32")
    started = time.perf_counter()
    with pytest.raises(EncoderUnavailable) as caught:
        get_encoder("clip")
    assert time.perf_counter() - started < 10
    _assert_actionable(caught.value, "clip-ViT-B-32")
    assert "cannot be reached" in str(caught.value)


def test_missing_local_clip_directory_is_reported(settings: Any, tmp_path: Path) -> None:
    _override(settings, "clip", MODEL=str(tmp_path / "not-there"))
    with pytest.raises(EncoderUnavailable) as caught:
        get_encoder("clip")
    _assert_actionable(caught.value, str(tmp_path / "not-there"))


def test_an_unavailable_model_is_tried_again_only_after_the_retry_interval(
    settings: Any, tmp_path: Path, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import visualsearch.encoders as registry
    from visualsearch.encoders.clip import ClipEncoder

    attempts: list[str] = []
    original_init = ClipEncoder.__init__

    def counting_init(self: ClipEncoder, config: Any) -> None:
        attempts.append(config.model_name)
        original_init(self, config)

    monkeypatch.setattr(ClipEncoder, "__init__", counting_init)
    model_dir = tmp_path / "clip"
    _override(settings, "clip", MODEL=str(model_dir))
    for _ in range(3):  # batches or searches in a row: one attempt, the same explanation each time
        with pytest.raises(EncoderUnavailable) as caught:
            get_encoder("clip")
        _assert_actionable(caught.value, str(model_dir))
    assert attempts == [str(model_dir)]

    shutil.copytree(tiny_clip_dir, model_dir)  # the model arrives
    with pytest.raises(EncoderUnavailable):
        get_encoder("clip")  # still within the interval
    monkeypatch.setattr(registry, "RETRY_UNAVAILABLE_AFTER_S", 0.0)
    assert get_encoder("clip").encode_texts(["red shoes"]).shape == (1, 512)
    assert len(attempts) == 2


def test_registry_returns_the_same_encoder_each_time() -> None:
    assert get_encoder("visual") is get_encoder("visual")


def test_registry_loads_once_under_concurrent_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from visualsearch.encoders.clip import ClipEncoder

    loads: list[int] = []
    original_init = ClipEncoder.__init__

    def slow_init(self: ClipEncoder, config: Any) -> None:
        loads.append(threading.get_ident())
        time.sleep(0.2)  # widen the window two unlocked loaders would both fall into
        original_init(self, config)

    monkeypatch.setattr(ClipEncoder, "__init__", slow_init)
    start = threading.Barrier(6)
    results: list[object] = []

    def first_use() -> None:
        start.wait()
        results.append(get_encoder("clip"))

    threads = [threading.Thread(target=first_use) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert len(results) == 6 and all(result is results[0] for result in results)


def test_changed_settings_get_a_freshly_loaded_encoder(settings: Any) -> None:
    before = get_encoder("clip")
    _override(settings, "clip", BATCH_SIZE=3)
    after = get_encoder("clip")
    assert after is not before and after.batch_size == 3


def test_enabling_an_unconfigured_encoder_is_reported_by_the_system_check(settings: Any) -> None:
    from visualsearch.checks import enabled_encoders_are_configured

    settings.SHOPLENS_ENABLED_ENCODERS = ["clip", "sketch"]
    errors = enabled_encoders_are_configured()
    assert [error.id for error in errors] == ["visualsearch.E001"] and "sketch" in errors[0].msg
    settings.SHOPLENS_ENABLED_ENCODERS = ["visual", "text"]
    assert enabled_encoders_are_configured() == []


@pytest.fixture
def torch_threads() -> Iterator[None]:
    import torch

    import visualsearch.encoders as registry

    before, shared = torch.get_num_threads(), registry._shared_threads
    yield
    torch.set_num_threads(before)
    registry._shared_threads = shared


@pytest.mark.usefixtures("torch_threads")
def test_worker_processes_share_the_cores(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from visualsearch.encoders import _apply_torch_threads, share_cores

    monkeypatch.setattr("os.cpu_count", lambda: 4)
    settings.SHOPLENS_TORCH_THREADS = 0
    share_cores(processes=2)
    _apply_torch_threads()
    assert torch.get_num_threads() == 2

    settings.SHOPLENS_TORCH_THREADS = 1  # an explicit setting wins
    _apply_torch_threads()
    assert torch.get_num_threads() == 1
