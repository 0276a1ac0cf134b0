"""Charts drawn on the server as SVG: no script, and readable without one."""
from __future__ import annotations

from dataclasses import dataclass

from engine.views.funnel import Comparison
from engine.views.monitoring import Week

WIDTH, HEIGHT = 720, 240
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 40, 36, 16


@dataclass
class Bar:
    """One bar of the chart, in SVG coordinates."""

    x: float
    y: float
    width: float
    height: float
    value: int
    kind: str


def weekly_chart(weeks: list[Week]) -> dict:
    """Geometry of the weekly throughput chart: a pair of bars (started, ended) per week, axis ticks, labels."""
    peak = max([w.started for w in weeks] + [w.ended for w in weeks] + [1])
    step = max(1, -(-peak // 4))
    top = step * 4
    plot_width = WIDTH - MARGIN_LEFT - 8
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = plot_width / max(len(weeks), 1)
    bar_width = slot * 0.36
    bars, labels = [], []
    for index, week in enumerate(weeks):
        left = MARGIN_LEFT + index * slot + slot * 0.12
        for offset, value, kind in ((0, week.started, "started"), (bar_width, week.ended, "ended")):
            height = plot_height * value / top
            bars.append(Bar(round(left + offset, 1), round(MARGIN_TOP + plot_height - height, 1),
                            round(bar_width, 1), round(height, 1), value, kind))
        labels.append({"x": round(MARGIN_LEFT + index * slot + slot / 2, 1), "text": week.start.strftime("%d/%m")})
    ticks = [{"y": round(MARGIN_TOP + plot_height - plot_height * n * step / top, 1), "value": n * step}
             for n in range(5)]
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "labels": labels, "ticks": ticks, "weeks": weeks,
            "left": MARGIN_LEFT, "right": WIDTH - 8, "baseline": MARGIN_TOP + plot_height,
            "label_y": HEIGHT - MARGIN_BOTTOM + 18}


FUNNEL_LABELS, FUNNEL_ROW, FUNNEL_BAR = 150, 44, 16


def funnel_chart(comparison: Comparison) -> dict:
    """Geometry of a campaign's funnel beside the previous campaign's a year earlier: per stage, a bar for each,
    its value written after it."""
    stages = comparison.stages()
    peak = max([now for *_, now, _then in stages] + [then for *_, then in stages] + [1])
    plot_width = WIDTH - FUNNEL_LABELS - 48
    rows = []
    for index, (stage, label, now, then) in enumerate(stages):
        top = MARGIN_TOP + index * FUNNEL_ROW
        bars = []
        for offset, value, kind in ((0, now, "now"), (FUNNEL_BAR + 2, then, "then")):
            width = plot_width * value / peak
            bars.append(Bar(FUNNEL_LABELS, top + offset, round(width, 1), FUNNEL_BAR, value, kind))
        rows.append({"stage": stage, "label": label, "label_y": top + FUNNEL_BAR + 5, "bars": bars})
    return {"width": WIDTH, "height": MARGIN_TOP * 2 + len(stages) * FUNNEL_ROW - 8, "rows": rows,
            "left": FUNNEL_LABELS, "comparison": comparison}
