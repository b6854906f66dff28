"""The search-by-photo form: one or more photos, from the file chooser or the phone camera.
The storefront puts its filters beside it (``storefront.forms.StorefrontFilter``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from catalog.imaging import ImageRejected, image_info
from visualsearch.search.types import SearchQuery

ACCEPTED_TYPES = "image/png,image/jpeg,image/webp,image/gif,image/heic,image/heif,.heic,.heif"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class PhotoSearchForm(forms.Form):
    """Validated photos become ``SearchQuery.images``; each refusal names the file and the reason."""

    images = MultipleFileField(
        label="Photos",
        required=False,
        widget=MultipleFileInput(attrs={"accept": ACCEPTED_TYPES, "class": "file-input"}),
    )
    camera = forms.FileField(
        label="Take a photo",
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/*", "capture": "environment", "class": "file-input"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        uploads = [*(data.get("images") or []), *([data["camera"]] if data.get("camera") else [])]
        if not uploads and not self.has_error("images") and not self.has_error("camera"):
            self.add_error("images", "Choose a photo to search with (or drop one onto the page).")
            return data
        limit = settings.SHOPLENS_UI_MAX_QUERY_IMAGES
        if len(uploads) > limit:
            self.add_error("images", f"Please choose at most {limit} photos at a time.")
            return data
        photos: list[bytes] = []
        for upload in uploads:
            try:
                image_info(upload)
            except ImageRejected as exc:
                self.add_error("images", f"“{upload.name}”: {exc}")
                continue
            photos.append(upload.read())
        data["photos"] = tuple(photos)
        return data

    def search_query(self) -> SearchQuery:
        return SearchQuery(images=self.cleaned_data["photos"])
