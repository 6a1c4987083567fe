"""Prometheus durations: parsed to seconds, printed in Prometheus' canonical form."""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import excerpt

_UNITS = (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_PATTERN = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)


def parse_duration(text: str) -> int:
    """Seconds in a Prometheus duration such as ``30d`` or ``1h30m``; ValueError if invalid."""
    if not isinstance(text, str):
        raise ValueError(
            f"invalid duration {excerpt(text)}: use a Prometheus duration like 5m, 1h or 30d"
        )
    return _parse(text)


@lru_cache(maxsize=4096)  # a repository repeats a handful of durations thousands of times
def _parse(text: str) -> int:
    match = _PATTERN.match(text.strip())
    if not match or not text.strip() or not any(match.groups()):
        raise ValueError(
            f"invalid duration {excerpt(text)}: use a Prometheus duration like 5m, 1h or 30d"
        )
    parts = match.groups()
    millis = int(parts[6] or 0)
    if millis % 1000:
        raise ValueError(f"invalid duration {excerpt(text)}: sub-second precision is not supported")
    seconds = sum(
        int(value or 0) * unit for value, (_, unit) in zip(parts[:6], _UNITS, strict=True)
    )
    return seconds + millis // 1000


# Every artifact prints the same few durations, thousands of times over.
@lru_cache(maxsize=4096, typed=True)
def format_duration(seconds: int) -> str:
    """Canonical Prometheus form without weeks or years:
    3600 -> 1h, 5400 -> 1h30m, 2592000 -> 30d."""
    if seconds <= 0:
        return "0s"
    out = []
    for unit, size in _UNITS[2:]:
        count, seconds = divmod(seconds, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def humanize(seconds: float) -> str:
    """Short human form for prose and tables: 90 -> 1.5m, 7200 -> 2h, 129600 -> 1.5d."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.1f}".rstrip("0").rstrip(".") + unit
    return f"{seconds:.0f}s"
