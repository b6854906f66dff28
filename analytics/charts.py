"""Small SVG charts drawn on the server (no JavaScript, no chart library): bars and lines."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 36
COLOURS = ("#2f6fb3", "#c2410c", "#15803d", "#7c3aed")


def bar_chart(
    labels: Sequence[str], values: Sequence[float], *, title: str, fmt: Callable[[float], str] = str
) -> SafeString:
    """One bar per label, its value written above it."""
    top = _nice_max(max(values, default=0))
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(values))
    parts = [_axes(top, fmt)]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = _y_span(value, top)
        x = LEFT + index * slot + slot * 0.15
        y = HEIGHT - BOTTOM - height
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
                _n(x),
                _n(y),
                _n(slot * 0.7),
                _n(height),
                COLOURS[0],
                label,
                fmt(value),
            )
        )
        if len(values) <= 31:
            parts.append(_text(x + slot * 0.35, y - 3, fmt(value), anchor="middle", size=10))
    parts.extend(_x_labels(labels, slot))
    return _svg(title, parts)


def line_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    fmt: Callable[[float], str] = str,
) -> SafeString:
    """One line per series (gaps where a value is missing), with a legend."""
    top = _nice_max(max((v for values in series.values() for v in values if v is not None), default=0))
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    parts = [_axes(top, fmt)]
    for number, (name, values) in enumerate(series.items()):
        colour = COLOURS[number % len(COLOURS)]
        points = [
            (LEFT + slot * (index + 0.5), HEIGHT - BOTTOM - _y_span(value, top))
            for index, value in enumerate(values)
            if value is not None
        ]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(format_html('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>', path, colour))
            parts.extend(
                format_html('<circle cx="{}" cy="{}" r="3" fill="{}"/>', _n(x), _n(y), colour) for x, y in points
            )
        legend_x = LEFT + 8 + number * 140
        parts.append(format_html('<rect x="{}" y="2" width="10" height="10" fill="{}"/>', legend_x, colour))
        parts.append(_text(legend_x + 14, 11, name, size=11))
    parts.extend(_x_labels(labels, slot))
    return _svg(title, parts)


def percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def milliseconds(value: float) -> str:
    return f"{value:.0f} ms"


def count(value: float) -> str:
    return f"{value:.0f}"


def _svg(title: str, parts: Sequence[str]) -> SafeString:
    return format_html(
        '<svg class="chart" role="img" viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMidYMid meet" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>',
        WIDTH, HEIGHT, title, mark_safe("".join(parts)),  # every part is built with format_html
    )  # fmt: skip


def _axes(top: float, fmt: Callable[[float], str]) -> SafeString:
    lines = []
    for step in range(5):
        value = top * step / 4
        y = HEIGHT - BOTTOM - _y_span(value, top)
        lines.append(
            format_html('<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ddd"/>', LEFT, WIDTH - RIGHT, _n(y), _n(y))
        )
        lines.append(_text(LEFT - 4, y + 4, fmt(value), anchor="end", size=10))
    return mark_safe("".join(lines))  # built with format_html


def _x_labels(labels: Sequence[str], slot: float) -> list[SafeString]:
    every = max(1, len(labels) // 10)  # at most about ten labels under the axis
    return [
        _text(LEFT + slot * (index + 0.5), HEIGHT - BOTTOM + 14, label, anchor="middle", size=10)
        for index, label in enumerate(labels)
        if index % every == 0
    ]


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11) -> SafeString:
    return format_html(
        '<text x="{}" y="{}" text-anchor="{}" font-size="{}" fill="#333">{}</text>', _n(x), _n(y), anchor, size, text
    )


def _n(value: float) -> str:
    return f"{value:.1f}"


def _y_span(value: float, top: float) -> float:
    return (HEIGHT - TOP - BOTTOM) * (value / top) if top else 0.0


def _nice_max(value: float) -> float:
    """A round axis top at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    scale = 10 ** len(str(int(value))) / 10 if value >= 1 else 0.1
    while scale / 10 >= value:
        scale /= 10
    for factor in (1, 2, 5, 10):
        if value <= factor * scale:
            return factor * scale
    return 10 * scale
