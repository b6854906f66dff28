"""Shop exports often carry HTML descriptions; the catalogue stores and shows plain text."""

from __future__ import annotations

import html
import re
from typing import Final

import nh3

_LOOKS_LIKE_HTML: Final = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*|/[a-zA-Z]|!--)[^>]*>")
_LINE_BREAKS: Final = re.compile(r"<br\s*/?>|</(?:p|div|li|h[1-6]|tr|ul|ol|table|blockquote)\s*>", re.IGNORECASE)
_SPACES: Final = re.compile(r"[ \t\r\f\v\u00a0]+")


def html_to_text(value: str) -> str:
    """The text of an HTML fragment: tags, comments, scripts and styles removed by nh3 (the
    ammonia sanitiser), entities decoded, one line per paragraph or list item. Text that holds
    no tag is returned as it is, so "size < 5" stays intact."""
    if not _LOOKS_LIKE_HTML.search(value):
        return value
    marked = _LINE_BREAKS.sub("\n", value)
    cleaned = html.unescape(nh3.clean(marked, tags=set(), clean_content_tags={"script", "style"}))
    lines = (_SPACES.sub(" ", line).strip() for line in cleaned.splitlines())
    return "\n".join(line for line in lines if line)
