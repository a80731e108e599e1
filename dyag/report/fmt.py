"""Number formatting for the report, French or English conventions.

>>> fmt_number(2.2661, "fr"), fmt_number(2.2661, "en")
('2,266', '2.266')
>>> fmt_duration(144.2)
'2 min 24 s'
>>> fmt_int(12600, "fr")
'12\u202f600'
"""

from __future__ import annotations

import math
from typing import Any

from dyag.report.i18n import number_style

MISSING = "—"


def as_number(value: Any) -> float | None:
    """``value`` as a finite float, or None (missing, NaN, text, bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _localize(text: str, lang: str) -> str:
    """English-formatted ``text`` in ``lang``'s conventions (see :data:`dyag.report.i18n.NUMBERS`)."""
    return number_style(lang).localize(text)


def decimal_mark(lang: str) -> str:
    return number_style(lang).decimal


def _percent(text: str, lang: str) -> str:
    return number_style(lang).percent.format(text)


def fmt_number(value: Any, lang: str, digits: int | None = None) -> str:
    """3 decimals below 10, 2 below 100, 1 below 1000, none above (unless ``digits``)."""
    x = as_number(value)
    if x is None:
        return MISSING
    if digits is None:
        digits = auto_digits(x)
    return _localize(f"{x:,.{digits}f}", lang)


def auto_digits(x: float) -> int:
    mag = abs(x)
    return 3 if mag < 10 else 2 if mag < 100 else 1 if mag < 1000 else 0


def fmt_signed(value: Any, lang: str, digits: int | None = None) -> str:
    x = as_number(value)
    if x is None:
        return MISSING
    text = fmt_number(abs(x), lang, digits)
    return ("+" if x > 0 else "−" if x < 0 else "±") + text


def fmt_int(value: Any, lang: str) -> str:
    x = as_number(value)
    return MISSING if x is None else _localize(f"{round(x):,d}", lang)


def fmt_percent(value: Any, lang: str) -> str:
    """A rate in [0, 1] as a percentage: 0.953 -> '95,3 %' (fr) / '95.3%' (en)."""
    x = as_number(value)
    if x is None:
        return MISSING
    text = f"{100 * x:.1f}".removesuffix(".0")
    return _percent(_localize(text, lang), lang)


def fmt_duration(value: Any) -> str:
    """Seconds as '2 min 24 s', '1 h 05 min', '0.8 s'."""
    x = as_number(value)
    if x is None:
        return MISSING
    if x < 10:
        return f"{x:.1f} s"
    seconds = round(x)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def fmt_params(count: Any, pct: Any, lang: str) -> str:
    """Trainable parameters as '12,6 M (1,13 %)'."""
    x = as_number(count)
    if x is None:
        return MISSING
    if x >= 1e9:
        text = f"{fmt_number(x / 1e9, lang, 2)} G"
    elif x >= 1e6:
        text = f"{fmt_number(x / 1e6, lang, 1)} M"
    elif x >= 1e3:
        text = f"{fmt_number(x / 1e3, lang, 1)} k"
    else:
        text = fmt_int(x, lang)
    p = as_number(pct)
    if p is not None:
        text += f" ({_percent(fmt_number(p, lang, 2), lang)})"
    return text


def fmt_p_value(value: Any, lang: str) -> str:
    x = as_number(value)
    if x is None:
        return MISSING
    if x < 0.001:
        return "< " + fmt_number(0.001, lang, 3)
    return fmt_number(x, lang, 3)


def fmt_timestamp(value: Any) -> str:
    """An ISO timestamp as '2025-06-12 09:14:03'; anything else as given."""
    from datetime import datetime

    if not isinstance(value, str):
        return MISSING if value is None else str(value)
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return value


def fmt_plain(value: Any, lang: str) -> str:
    """Any JSON value as short text (numbers localized, containers compact JSON)."""
    import json

    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value) if abs(value) < 10_000 else fmt_int(value, lang)
    if isinstance(value, float):
        if not math.isfinite(value):
            return MISSING
        text = f"{value:.4g}"
        return text if "e" in text else _localize(text, lang)
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return ", ".join(fmt_plain(v, lang) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
