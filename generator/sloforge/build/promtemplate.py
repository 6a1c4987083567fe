"""Render the small part of Prometheus' alert templating that generated tests need.

promtool compares annotations exactly, so a generated test must know how
Prometheus will render ``{{ $value | humanizePercentage }}`` and friends for the
value the test injects. Anything beyond ``$value``, ``$labels.x`` and the
humanize functions raises ``Unsupported``: such an alert is reported untested
rather than given a guessed expectation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)


class Unsupported(ValueError):
    """The template uses something this renderer does not reproduce exactly."""


def render(text: str, value: float, labels: Mapping[str, str]) -> str:
    def action(match: re.Match[str]) -> str:
        return _evaluate(match.group(1), value, labels)

    if "{{" not in text:
        return text
    if re.search(r"\{\{-|-\}\}", text):
        raise Unsupported("whitespace-trimming template actions")
    return _ACTION.sub(action, text)


def _evaluate(body: str, value: float, labels: Mapping[str, str]) -> str:
    stages = [s.strip() for s in body.split("|")]
    head, funcs = stages[0], stages[1:]
    printf = re.fullmatch(r'printf\s+"(%[-+ 0#]*\d*(?:\.\d+)?[fgde])"\s+\$value', head)
    if printf:
        result: object = _go_printf(printf.group(1), value)
    elif head in ("$value", ".Value"):
        result = value
    elif re.fullmatch(r"(\$labels|\.Labels)\.[a-zA-Z_][a-zA-Z0-9_]*", head):
        result = labels.get(head.split(".")[-1], "")
    else:
        raise Unsupported(f"template action {{{{ {body} }}}}")
    for func in funcs:
        if not isinstance(result, float | int) or func not in _FUNCS:
            raise Unsupported(f"template function {func!r}")
        result = _FUNCS[func](float(result))
    if isinstance(result, float | int):
        return go_float(float(result))
    return str(result)


def render_stable(
    annotations: Mapping[str, str], value: float, labels: Mapping[str, str]
) -> dict[str, str]:
    """Annotations rendered for a value Prometheus computes in floating point: a template that
    prints it to the last digit could differ from ours by a rounding, so it is not guessed."""
    rendered = {k: render(v, value, labels) for k, v in annotations.items()}
    for nearby in (value * (1 - 1e-9), value * (1 + 1e-9)):
        if rendered != {k: render(v, nearby, labels) for k, v in annotations.items()}:
            raise Unsupported(
                "an annotation prints $value to the last digit, which a computed value "
                "cannot be predicted to; use humanize or printf"
            )
    return rendered


def referenced_labels(text: str) -> list[str]:
    """Label names a template reads through ``$labels.name``."""
    return sorted(set(re.findall(r"(?:\$labels|\.Labels)\.([a-zA-Z_][a-zA-Z0-9_]*)", text)))


def go_float(v: float) -> str:
    """Go's %v for a float64: shortest repr, exponent only below 1e-4 or from 1e21."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "0"
    exponent = math.floor(math.log10(abs(v)))
    if -4 <= exponent < 21:
        text = repr(v)
        if "e" in text:
            text = format(v, "f")
        return text[:-2] if text.endswith(".0") else text
    mantissa, _, exp = repr(v).partition("e")
    if not exp:
        mantissa, _, exp = format(v, "e").partition("e")
    sign = exp[0] if exp[0] in "+-" else "+"
    digits = exp.lstrip("+-").lstrip("0").rjust(2, "0")
    return f"{mantissa.removesuffix('.0')}e{sign}{digits}"


def _g4(v: float) -> str:
    """Go's %.4g."""
    text = format(v, ".4g")
    if "e" in text:
        mantissa, exp = text.split("e")
        sign = exp[0]
        text = f"{mantissa}e{sign}{exp[1:].lstrip('0').rjust(2, '0')}"
    return text


def humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    if abs(v) >= 1:
        prefix = ""
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return _g4(v) + prefix
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return _g4(v) + prefix


def humanize_1024(v: float) -> str:
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix, v = p, v / 1024
    return _g4(v) + prefix


def humanize_percentage(v: float) -> str:
    return _g4(v * 100) + "%"


def humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        total = int(v)
        seconds, minutes = total % 60, (total // 60) % 60
        hours, days = (total // 3600) % 24, total // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return f"{_g4(v)}{prefix}s"


def _go_printf(spec: str, v: float) -> str:
    if spec.endswith("g"):
        raise Unsupported(f"printf {spec}")
    return spec % v


_FUNCS = {
    "humanize": humanize,
    "humanize1024": humanize_1024,
    "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration,
}
