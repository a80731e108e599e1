"""Inline SVG bar charts, drawn in Python (no JavaScript, no external library).

Labels come from the results file and are escaped like any other text.

>>> svg = bar_chart([Bar("smollm2:135m/rag", 6.1, (5.2, 7.0), "rag")], title="Score", domain_max=10)
>>> svg.startswith("<svg") and "smollm2:135m/rag" in svg
True
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

KIND_COLORS = {
    "base": "#8a94a6",
    "finetuned": "#2f6fde",
    "rag": "#1f9d74",
    "rag+finetuned": "#8a4fd3",
}
OTHER_COLOR = "#c07a1a"

WIDTH = 620
LABEL_W = 200
VALUE_W = 64
ROW_H = 24
BAR_H = 14
TOP = 30
BOTTOM = 26
MAX_LABEL = 30


@dataclass
class Bar:
    label: str
    value: float
    ci: tuple[float, float] | None = None
    kind: str = ""
    value_text: str = ""


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _ticks(domain_max: float) -> list[float]:
    step = domain_max / 4
    return [round(i * step, 6) for i in range(5)]


def _tick_text(value: float, decimal: str) -> str:
    text = f"{value:g}"
    return text.replace(".", decimal)


def bar_chart(bars: list[Bar], *, title: str, domain_max: float = 1.0, decimal: str = ".") -> Markup:
    """A horizontal bar chart, one row per bar, with 95% CI whiskers when known."""
    plot_x = LABEL_W
    plot_w = WIDTH - LABEL_W - VALUE_W
    height = TOP + ROW_H * len(bars) + BOTTOM

    def x_of(v: float) -> float:
        v = min(max(v, 0.0), domain_max)
        return plot_x + plot_w * v / domain_max

    parts = [
        Markup(
            '<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
            'width="{w}" height="{h}" role="img" aria-label="{t}">'
        ).format(w=WIDTH, h=height, t=title),
        Markup('<text class="chart-title" x="0" y="16">{}</text>').format(title),
    ]
    axis_y = TOP + ROW_H * len(bars)
    for tick in _ticks(domain_max):
        x = x_of(tick)
        parts.append(
            Markup(
                '<line class="grid" x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y1}"/>'
                '<text class="tick" x="{x:.1f}" y="{ty}" text-anchor="middle">{t}</text>'
            ).format(x=x, y0=TOP - 4, y1=axis_y, ty=axis_y + 16, t=_tick_text(tick, decimal))
        )
    for i, bar in enumerate(bars):
        y = TOP + i * ROW_H
        cy = y + ROW_H / 2
        color = KIND_COLORS.get(bar.kind, OTHER_COLOR)
        x_end = x_of(bar.value)
        parts.append(
            Markup(
                '<g><title>{full}: {vt}</title>'
                '<text class="label" x="{lx}" y="{ty:.1f}" text-anchor="end">{label}</text>'
                '<rect x="{x0}" y="{by:.1f}" width="{bw:.1f}" height="{bh}" rx="2" fill="{color}"/>'
            ).format(
                full=bar.label,
                vt=bar.value_text or f"{bar.value:g}",
                lx=LABEL_W - 8,
                ty=cy + 4,
                label=_short(bar.label),
                x0=plot_x,
                by=cy - BAR_H / 2,
                bw=max(x_end - plot_x, 0.5),
                bh=BAR_H,
                color=color,
            )
        )
        right = x_end
        if bar.ci is not None:
            lo, hi = x_of(bar.ci[0]), x_of(bar.ci[1])
            right = max(right, hi)
            parts.append(
                Markup(
                    '<path class="whisker" d="M{lo:.1f} {cy:.1f}H{hi:.1f}'
                    "M{lo:.1f} {a:.1f}V{b:.1f}M{hi:.1f} {a:.1f}V{b:.1f}\"/>"
                ).format(lo=lo, hi=hi, cy=cy, a=cy - 5, b=cy + 5)
            )
        parts.append(
            Markup('<text class="value" x="{x:.1f}" y="{y:.1f}">{v}</text></g>').format(
                x=right + 6, y=cy + 4, v=bar.value_text or f"{bar.value:g}"
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def kind_legend(kinds: list[tuple[str, str]]) -> Markup:
    """Colour swatches for the system kinds shown: ``[(kind, translated label)]``."""
    items = [
        Markup('<span class="legend-item"><span class="swatch" style="background:{}"></span>{}</span>').format(
            KIND_COLORS.get(kind, OTHER_COLOR), label
        )
        for kind, label in kinds
    ]
    return Markup('<div class="legend">{}</div>').format(Markup("").join(items))


__all__ = ["Bar", "bar_chart", "kind_legend", "KIND_COLORS"]
