"""A focused accessibility check of the basics, run on every page's HTML: labelled inputs,
alt text on images, one h1 and no skipped heading levels, one main landmark, a page language."""

from __future__ import annotations

from html.parser import HTMLParser

_UNLABELLED_TYPES = frozenset({"hidden", "submit", "button", "reset", "image"})


class _PageAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.label_for: set[str] = set()
        self.label_depth = 0
        self.controls: list[tuple[str, dict[str, str], bool]] = []  # (tag, attrs, inside a label)
        self.images: list[dict[str, str]] = []
        self.headings: list[int] = []
        self.mains = 0
        self.lang = ""

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {key: value or "" for key, value in attrs_list}
        if tag == "html":
            self.lang = attrs.get("lang", "")
        elif tag == "label":
            self.label_depth += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in {"input", "select", "textarea"}:
            if not (tag == "input" and attrs.get("type", "text").lower() in _UNLABELLED_TYPES):
                self.controls.append((tag, attrs, self.label_depth > 0))
        elif tag == "img":
            self.images.append(attrs)
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.headings.append(int(tag[1]))
        elif tag == "main" or attrs.get("role") == "main":
            self.mains += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth = max(0, self.label_depth - 1)


def accessibility_problems(html: str) -> list[str]:
    """Everything on the page that fails the basic checks, in words; empty when it passes."""
    audit = _PageAudit()
    audit.feed(html)
    audit.close()
    problems: list[str] = []
    if not audit.lang:
        problems.append("<html> has no lang attribute")
    if audit.mains != 1:
        problems.append(f"expected one <main> landmark, found {audit.mains}")
    for tag, attrs, wrapped in audit.controls:
        labelled = (
            wrapped
            or attrs.get("id", "") in audit.label_for
            or attrs.get("aria-label", "").strip()
            or attrs.get("aria-labelledby", "").strip()
        )
        if not labelled:
            problems.append(f"<{tag} name={attrs.get('name')!r} id={attrs.get('id')!r}> has no label")
    for attrs in audit.images:
        if "alt" not in attrs:
            problems.append(f"<img src={attrs.get('src')!r}> has no alt attribute")
    if audit.headings.count(1) != 1:
        problems.append(f"expected exactly one <h1>, found {audit.headings.count(1)}")
    if audit.headings and audit.headings[0] != 1:
        problems.append(f"the first heading is <h{audit.headings[0]}>, not <h1>")
    for previous, current in zip(audit.headings, audit.headings[1:], strict=False):
        if current > previous + 1:
            problems.append(f"heading level skipped: <h{previous}> then <h{current}>")
    return problems
