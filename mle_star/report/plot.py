"""The score over the run as an inline SVG that scales to the page.

Every scored script is a point (shape = what produced it, colour = its path); each path has
its own best-so-far step line, so an improvement on one path is visible even when another
path is ahead; failed scripts are red crosses on the time axis. Points link to the script's
node in the search tree.
"""

from __future__ import annotations

import html
import math

from mle_star.report.facts import Story, fmt
from mle_star.steps import PLOTTED

WIDTH, HEIGHT = 900, 340
LEFT, RIGHT, TOP, BOTTOM = 74, 18, 14, 50
PATH_COLOURS = ("#1f77b4", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#666666")
OTHER_COLOUR = "#222222"  # scripts of no path: ensemble rounds, the submission


def nice_ticks(lo: float, hi: float, target: int = 5, outward: bool = False) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) inside [lo, hi], or, with
    ``outward``, from the last tick at or below ``lo`` to the first at or above ``hi``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        hi = lo + (abs(lo) * 0.01 or 1.0)
    raw = (hi - lo) / max(1, target)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = (math.floor(lo / step + 1e-9) if outward else math.ceil(lo / step - 1e-9)) * step
    last = math.ceil(hi / step - 1e-9) * step if outward else hi
    ticks, value = [], first
    while value <= last + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _decimals(ticks: list[float]) -> int:
    if len(ticks) < 2:
        return 3
    step = abs(ticks[1] - ticks[0])
    return max(0, min(8, -math.floor(math.log10(step)) + (1 if round(step / 10 ** math.floor(math.log10(step)), 6)
                                                              == 2.5 else 0)))


def _time_unit(seconds: float) -> tuple[float, str]:
    if seconds <= 180:
        return 1.0, "seconds"
    if seconds <= 3 * 3600:
        return 60.0, "minutes"
    return 3600.0, "hours"


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    r = 4.5
    if shape == "merge":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" fill="{colour}"/>'
    if shape == "refinement":
        return (f'<polygon points="{x:.1f},{y - r - 1:.1f} {x + r + 1:.1f},{y:.1f} {x:.1f},{y + r + 1:.1f} '
                f'{x - r - 1:.1f},{y:.1f}" fill="{colour}"/>')
    if shape in ("ensemble", "data usage"):
        d = -1 if shape == "ensemble" else 1
        return (f'<polygon points="{x:.1f},{y + d * (r + 1):.1f} {x + r + 1:.1f},{y - d * r:.1f} '
                f'{x - r - 1:.1f},{y - d * r:.1f}" fill="{colour}"/>')
    if shape == "submission":
        pts = " ".join(f"{x + (r + 2.5 if i % 2 == 0 else 2.5) * math.sin(i * math.pi / 5):.1f},"
                       f"{y - (r + 2.5 if i % 2 == 0 else 2.5) * math.cos(i * math.pi / 5):.1f}" for i in range(10))
        return f'<polygon points="{pts}" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}"/>'


def score_plot(story: Story, anchor: dict[str, str]) -> str:
    """The SVG (viewBox, width 100%) and its legend; ``anchor`` maps a script to its tree node id."""
    record = story.record
    stages = record.get("stages", [])
    points = []  # (time, score, kind, path, script name, trusted)
    failures = []  # (time, script name, status)
    for s in stages:
        if s["node"] not in PLOTTED or not s.get("scripts"):
            continue
        name = s["scripts"][-1]
        script = story.scripts.get(name)
        end_time = s["start"] + s["duration"]
        elapsed = s["start"]
        for each in s["scripts"]:  # every failed run of the stage, placed when it ended
            ran = story.scripts.get(each)
            elapsed += float(ran.entry.get("duration") or 0.0) if ran is not None else 0.0
            if ran is not None and ran.status in ("failed", "not run", "untrusted"):
                failures.append((min(elapsed, end_time), each, ran.status))
        score = s.get("score")
        if script is not None and not script.ok:
            continue
        if isinstance(score, int | float) and math.isfinite(score):
            trusted = script is None or not script.entry.get("untrusted")
            points.append((end_time, float(score), PLOTTED[s["node"]], s.get("path"), name, trusted))
    if not points:
        return "<p>No scored scripts to plot.</p>"
    t0 = min(s["start"] for s in stages)
    xmax = max([t for t, *_ in points] + [f[0] for f in failures]) - t0 or 1.0
    unit, unit_name = _time_unit(xmax)
    xticks = nice_ticks(0.0, xmax / unit, 6)
    xhi = max(xticks[-1] if xticks else 0.0, xmax / unit) or 1.0
    scores = [p[1] for p in points]
    lo, hi = min(scores), max(scores)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.01 or 1.0
    yticks = nice_ticks(lo - pad, hi + pad, 5, outward=True)
    ylo, yhi = min([lo - pad, *yticks]), max([hi + pad, *yticks])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(t: float) -> float:
        return LEFT + plot_w * ((t - t0) / unit) / xhi

    def py(y: float) -> float:
        return TOP + plot_h * (yhi - y) / (yhi - ylo)

    lower = story.lower
    out = [f'<svg class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" xmlns="http://www.w3.org/2000/svg" '
           f'role="img" aria-label="validation score over the run">',
           f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fbfbfb" stroke="#bbb"/>']
    digits = _decimals(yticks)
    for y in yticks:
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#e4e4e4"/>')
        out.append(f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" font-size="13" text-anchor="end">{y:.{digits}f}</text>')
    xdigits = _decimals(xticks) if xticks and xticks[-1] < 10 else 0
    for x in xticks:
        xp = LEFT + plot_w * x / xhi
        out.append(f'<line x1="{xp:.1f}" x2="{xp:.1f}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#eeeeee"/>')
        out.append(f'<line x1="{xp:.1f}" x2="{xp:.1f}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 4}" stroke="#888"/>')
        out.append(f'<text x="{xp:.1f}" y="{TOP + plot_h + 18}" font-size="13" text-anchor="middle">'
                   f'{x:.{xdigits}f}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 8}" font-size="14" text-anchor="middle">{unit_name} '
               f'since the start</text>')
    out.append(f'<text x="16" y="{TOP + plot_h / 2:.0f}" font-size="14" text-anchor="middle" '
               f'transform="rotate(-90 16 {TOP + plot_h / 2:.0f})">{html.escape(str(record.get("metric")))} '
               f'({"lower" if lower else "higher"} is better)</text>')
    paths = sorted({p[3] for p in points if p[3] is not None})
    for path in paths:
        best, line = None, []
        for t, y, _kind, _p, _name, trusted in sorted((p for p in points if p[3] == path), key=lambda p: p[0]):
            if not trusted or not (best is None or (y < best if lower else y > best)):
                continue
            if best is not None:
                line.append(f"{px(t):.1f},{py(best):.1f}")
            best = y
            line.append(f"{px(t):.1f},{py(best):.1f}")
        end = max(p[0] for p in points)
        if best is not None:
            line.append(f"{px(end):.1f},{py(best):.1f}")
        colour = PATH_COLOURS[int(path) % len(PATH_COLOURS)]
        out.append(f'<polyline class="best" points="{" ".join(line)}" fill="none" stroke="{colour}" '
                   f'stroke-width="1.6" stroke-opacity="0.75" stroke-dasharray="5 3"><title>path {path}: best so far'
                   f'</title></polyline>')
    for t, name, status in failures:
        x, y = px(t), TOP + plot_h - 6
        out.append(f'<a href="#{anchor.get(name, "")}"><path d="M{x - 4:.1f},{y - 4:.1f}L{x + 4:.1f},{y + 4:.1f}'
                   f'M{x - 4:.1f},{y + 4:.1f}L{x + 4:.1f},{y - 4:.1f}" stroke="#c00" stroke-width="2"><title>'
                   f'{html.escape(name)} {status}</title></path></a>')
    for t, y, kind, path, name, trusted in points:
        colour = PATH_COLOURS[int(path) % len(PATH_COLOURS)] if path is not None else OTHER_COLOUR
        tip = f"{name} ({kind}{'' if path is None else f', path {path}'}): {fmt(y)}" + ("" if trusted else
                                                                                     " (untrusted)")
        # a transparent, larger circle under each marker: an easier target to hover and click
        out.append(f'<a class="pt" href="#{anchor.get(name, "")}"><circle cx="{px(t):.1f}" cy="{py(y):.1f}" r="9" '
                   f'fill="transparent"/>{_marker(kind, px(t), py(y), colour)}<title>{html.escape(tip)}</title></a>')
    out.append("</svg>")
    legend = [f'<span><svg width="26" height="10"><line x1="0" x2="26" y1="5" y2="5" stroke="{PATH_COLOURS[p % 8]}" '
              f'stroke-width="2" stroke-dasharray="5 3"/></svg> path {p} (best so far)</span>' for p in paths]
    legend.append(f'<span><svg width="12" height="12"><circle cx="6" cy="6" r="5" fill="{OTHER_COLOUR}"/></svg> '
                  f'no path (ensemble, submission)</span>')
    shapes = []
    for kind in ("candidate", "merge", "data usage", "refinement", "ensemble", "submission"):
        shapes.append(f'<span><svg width="14" height="14">{_marker(kind, 7, 7, "#777")}</svg> {kind}</span>')
    shapes.append('<span><svg width="12" height="12"><path d="M2,2L10,10M2,10L10,2" stroke="#c00" '
                  'stroke-width="2"/></svg> failed or untrusted</span>')
    return "".join(out) + f'<p class="legend">{" ".join(legend)}</p><p class="legend">{" ".join(shapes)}</p>'
