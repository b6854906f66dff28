from __future__ import annotations

import hashlib
import io
import resource
import struct
import time
import zlib

import numpy as np
import pytest
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from catalog.imaging import ImageInfo, ImageRejected, image_info, read_image
from tests.encoder_fixtures import image_bytes, make_product_photo


def _pixel(image: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    red, green, blue = image.getpixel((x, y))  # type: ignore[misc]
    return red, green, blue


def _close(actual: tuple[int, int, int], expected: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def _png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` black pixels: a few hundred KB on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = bytes(1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _rejection(source: object, **limits: int) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        read_image(source, **limits)  # type: ignore[arg-type]
    return caught.value


def test_exif_orientation_is_applied() -> None:
    stored = Image.new("RGB", (40, 20), "red")
    stored.paste((0, 0, 255), (20, 0, 40, 20))  # left red, right blue, as the sensor saw it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    image = read_image(image_bytes(stored, "JPEG", exif=exif, quality=95))
    assert image.size == (20, 40)
    assert _close(_pixel(image, 10, 5), (255, 0, 0), 30)
    assert _close(_pixel(image, 10, 35), (0, 0, 255), 30)


def test_cmyk_jpeg_becomes_rgb() -> None:
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # full magenta + yellow = red
    image = read_image(image_bytes(cmyk, "JPEG", quality=95))
    assert image.mode == "RGB"
    assert _close(_pixel(image, 8, 8), (255, 0, 0), 20)


def test_palette_png_keeps_its_colours() -> None:
    palette = Image.new("RGB", (16, 16), (10, 120, 200)).convert("P", palette=Image.Palette.ADAPTIVE)
    image = read_image(image_bytes(palette, "PNG"))
    assert image.mode == "RGB"
    assert _close(_pixel(image, 3, 3), (10, 120, 200), 4)


def test_transparent_palette_png_is_composited_on_white() -> None:
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0])
    image = read_image(image_bytes(palette, "PNG", transparency=1))
    assert _pixel(image, 4, 4) == (255, 255, 255)


def test_sixteen_bit_greyscale_png_is_scaled_to_eight_bits() -> None:
    deep = Image.fromarray(np.full((8, 8), 32896, dtype=np.uint16))  # 50% grey in 16 bits
    assert deep.mode.startswith("I;16")
    image = read_image(image_bytes(deep, "PNG"))
    assert image.mode == "RGB"
    assert _close(_pixel(image, 2, 2), (128, 128, 128), 1)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_composited_on_white(mode: str) -> None:
    half_red = Image.new("RGBA", (8, 8), (255, 0, 0, 128))
    half_red.paste((0, 0, 0, 0), (0, 0, 4, 8))  # left half fully transparent
    image = read_image(image_bytes(half_red.convert(mode), "PNG"))
    assert image.mode == "RGB"
    assert _pixel(image, 1, 4) == (255, 255, 255)
    expected = (255, 127, 127) if mode == "RGBA" else (166, 166, 166)  # LA: grey of red, 50% on white
    assert _close(_pixel(image, 6, 4), expected, 2)


def test_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (10, 10), colour) for colour in ("red", "blue", "green")]
    data = image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3  # type: ignore[attr-defined]
    image = read_image(data)
    assert image.mode == "RGB"
    assert _close(_pixel(image, 5, 5), (255, 0, 0), 2)


def test_webp_is_read() -> None:
    image = read_image(image_bytes(make_product_photo("circle", "blue", size=(64, 48)), "WEBP"))
    assert image.size == (64, 48)


def test_file_object_is_rewound_after_reading() -> None:
    stream = io.BytesIO(image_bytes(Image.new("RGB", (5, 5))))
    stream.seek(7)
    read_image(stream)
    assert stream.tell() == 0


def test_django_uploaded_file_is_read_and_rewound() -> None:
    upload = SimpleUploadedFile("photo.png", image_bytes(Image.new("RGB", (6, 4))), "image/png")
    assert read_image(upload).size == (6, 4)
    assert upload.tell() == 0


def test_not_an_image_is_refused() -> None:
    rejected = _rejection(b"%PDF-1.7 definitely not a picture" * 10)
    assert rejected.code == "not_image"
    assert str(rejected) == "The file is not an image we can read (PNG, JPEG, WebP, GIF, HEIC)."


def test_zero_bytes_are_refused() -> None:
    rejected = _rejection(io.BytesIO(b""))
    assert rejected.code == "empty"
    assert str(rejected) == "The file is empty."


def test_unsupported_format_is_refused() -> None:
    rejected = _rejection(image_bytes(Image.new("RGB", (4, 4)), "BMP"))
    assert rejected.code == "unsupported_format"
    assert "BMP" in str(rejected) and "PNG, JPEG, WebP, GIF or HEIC" in str(rejected)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_file_is_refused(fmt: str) -> None:
    data = image_bytes(make_product_photo("star", "orange", size=(120, 90), seed=3), fmt)
    rejected = _rejection(data[: len(data) * 2 // 3])
    assert rejected.code == "truncated"
    assert str(rejected) == "The image file is incomplete or damaged; please upload it again."


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file_is_refused_even_when_pillow_is_told_to_allow_it(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = image_bytes(make_product_photo("star", "orange", size=(120, 90), seed=3), fmt)
    assert _rejection(data[: len(data) // 2]).code == "truncated"


def test_file_over_byte_limit_is_refused() -> None:
    data = image_bytes(make_product_photo(size=(64, 64)))
    rejected = _rejection(data, max_bytes=1000)
    assert rejected.code == "too_large"
    assert str(rejected) == f"The file is too large ({len(data) / 1024:.1f} KB); the limit is 1000 bytes."


def test_byte_limit_defaults_to_setting(settings: object) -> None:
    settings.SHOPLENS_MAX_UPLOAD_BYTES = 2048  # type: ignore[attr-defined]
    upload = SimpleUploadedFile("big.png", image_bytes(make_product_photo(size=(128, 128))))
    assert _rejection(upload).code == "too_large"


def test_pixel_limit_is_checked_from_the_header(settings: object) -> None:
    settings.SHOPLENS_MAX_IMAGE_PIXELS = 10_000  # type: ignore[attr-defined]
    rejected = _rejection(image_bytes(Image.new("RGB", (101, 100))))
    assert rejected.code == "too_many_pixels"
    assert "101×100" in str(rejected)


@pytest.mark.parametrize("side", [7_000, 20_000])  # under and over Pillow's own bomb limit
def test_decompression_bomb_is_refused_fast_without_decoding(side: int) -> None:
    bomb = _png_bomb(side, side)
    assert len(bomb) < 1_000_000
    peak_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    rejected = _rejection(bomb, max_pixels=40_000_000)
    assert time.perf_counter() - started < 0.5
    assert rejected.code == "too_many_pixels"
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before_kib
    assert grown_kib < 100 * 1024  # decoding even the 7000² one as RGB would need 147 MB


def test_image_info_describes_the_upright_image() -> None:
    stored = make_product_photo("car", "green", size=(60, 30))
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90 degrees to display
    data = image_bytes(stored, "JPEG", exif=exif)
    assert image_info(File(io.BytesIO(data))) == ImageInfo(
        width=30, height=60, format="JPEG", sha256=hashlib.sha256(data).hexdigest()
    )


def test_image_info_validates_like_read_image() -> None:
    with pytest.raises(ImageRejected) as caught:
        image_info(_png_bomb(7_000, 7_000))
    assert caught.value.code == "too_many_pixels"


def test_jpeg_is_decoded_no_larger_than_the_model_needs() -> None:
    photo = image_bytes(make_product_photo("circle", "green", size=(800, 600)), "JPEG", quality=90)

    small = read_image(photo, min_side=224)
    full = read_image(photo)

    assert full.size == (800, 600)
    assert small.size == (400, 300)  # the 1/2-scale decode is the smallest with both sides >= 224
    centre = np.asarray(small)[150, 200].astype(int)
    assert np.abs(centre - np.asarray(full)[300, 400].astype(int)).max() < 12


def test_scaled_decoding_still_refuses_a_truncated_jpeg() -> None:
    photo = image_bytes(make_product_photo("circle", "green", size=(800, 600)), "JPEG", quality=90)

    with pytest.raises(ImageRejected) as caught:
        read_image(photo[: len(photo) // 2], min_side=224)
    assert caught.value.code == "truncated"
