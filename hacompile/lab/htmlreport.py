"""`hacompile lab --report FILE.html`: the scenario results as one page people can look at.

Why one self-contained page: it is attached to an issue or a CI run and opened anywhere, so it
fetches nothing (inline CSS and SVG, no script, no font, no image). Per scenario a timeline in
seconds from the first fault: each address's owner as a band coloured by LB, every client
request (green, failures red), every LB's VRRP state, fault and heal lines, claim calls; then
the summary table with the figures `hacompile lab` prints. Pure and deterministic: the same
results give the same bytes (the CLI writes the file), every text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from hacompile.lab.report import headline, timeline

LB_COLOURS = ("#3182ce", "#805ad5", "#d69e2e", "#319795", "#d53f8c", "#4a5568")
OK, FAILED, NONE = "#68d391", "#e53e3e", "#cbd5e0"
STATE_COLOURS = {"BACKUP": "#e2e8f0", "FAULT": "#ed8936", "": "#a0aec0"}
FRAME = "#0b3d91"  # the band atop every timeline (the rendering test counts them)
WIDTH, LEFT, RIGHT = 1100, 150, 40
STEPS = (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300)

CSS = """
body{font:13px/1.4 system-ui,sans-serif;color:#1a202c;margin:16px;background:#fff}
h1{font-size:20px} h2{font-size:16px;margin:28px 0 2px}
.pass{color:#276749} .fail{color:#c53030} p.d{margin:0 0 6px;color:#4a5568}
table{border-collapse:collapse;margin:8px 0} td,th{border:1px solid #cbd5e0;padding:2px 8px}
td.n{text-align:right;font-variant-numeric:tabular-nums} ul.problems{color:#c53030;margin:2px 0}
svg{display:block;margin:4px 0} svg text{font:11px system-ui,sans-serif;fill:#1a202c}
.legend span{display:inline-block;width:12px;height:12px;vertical-align:middle;margin:0 4px 0 12px}
pre{background:#f7fafc;padding:6px;font-size:12px}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(value: float) -> str:
    """Coordinates with two decimals at most: stable text, small files."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


class _Axis:
    """Seconds from the first fault -> x pixels."""

    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, max(end, start + 1.0)
        self.scale = (WIDTH - LEFT - RIGHT) / (self.end - self.start)

    def x(self, t: float) -> float:
        return LEFT + (min(max(t, self.start), self.end) - self.start) * self.scale

    def ticks(self) -> list[float]:
        span = self.end - self.start
        step = next((s for s in STEPS if span / s <= 12), STEPS[-1])
        first = int(self.start // step) * step
        out, t = [], first
        while t <= self.end + 1e-9:
            if t >= self.start - 1e-9:
                out.append(round(t, 3))
            t += step
        return out


def _rect(x0: float, x1: float, y: float, h: float, fill: str, title: str = "") -> str:
    w = max(x1 - x0, 1.0)
    tip = f"<title>{_e(title)}</title>" if title else ""
    return (
        f'<rect x="{_n(x0)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{fill}">'
        f"{tip}</rect>"
    )


def _phases(result: dict[str, Any]) -> list[tuple[float, dict[str, Any]]]:
    """(offset from the first fault, phase data) for inject and heal."""
    inj, heal = result.get("inject"), result.get("heal")
    out: list[tuple[float, dict[str, Any]]] = []
    if inj:
        out.append((0.0, inj))
    if heal:
        at = result.get("heal_at_s", inj["steady_after_s"] if inj else 0.0)
        out.append((float(at), heal))
    return out


def _segments(
    first: str, changes: Iterable[tuple[float, str]], end: float, start: float
) -> list[tuple[float, float, str]]:
    """Bands (from, to, value) from a starting value and timed changes."""
    out: list[tuple[float, float, str]] = []
    t, value = start, first
    for when, new in sorted(changes, key=lambda c: c[0]):
        if new == value:
            continue
        if when > t:
            out.append((t, when, value))
        t, value = max(when, t), new
    out.append((t, end, value))
    return out


def _runs(points: list[tuple[float, int]]) -> list[tuple[float, float, int]]:
    """Consecutive samples with the same outcome as one run (from its first sample to the
    next run's first, the last to its last sample; ok 1 or 0)."""
    runs: list[tuple[float, float, int]] = []
    for t, ok in sorted(points):
        if runs and runs[-1][2] == ok:
            runs[-1] = (runs[-1][0], t, ok)
        else:
            if runs:
                runs[-1] = (runs[-1][0], t, runs[-1][2])
            runs.append((t, t, ok))
    return runs


def _text(x: float, y: float, text: str, fill: str = "") -> str:
    colour = f' style="fill:{fill}"' if fill else ""  # (the page's CSS beats an attribute)
    return f'<text x="{_n(x)}" y="{_n(y)}"{colour}>{_e(text)}</text>'


def _line(x: float, y0: float, y1: float, stroke: str, width: float, extra: str = "") -> str:
    return (
        f'<line x1="{_n(x)}" y1="{_n(y0)}" x2="{_n(x)}" y2="{_n(y1)}" stroke="{stroke}" '
        f'stroke-width="{_n(width)}"{extra}/>'
    )


def _claim(axis: _Axis, t: float, c: dict[str, Any], y: float, colour: dict[str, str]) -> str:
    """One claim call: a diamond in its LB's colour, red if the call failed (by injection)."""
    fill = FAILED if c.get("failed") else colour.get(c.get("lb", ""), NONE)
    tip = f"+{t:.2f}s {c['action']} {c.get('eip', '')} -> {c.get('lb', '')}"
    tip += f" (failed: {c['failed']})" if c.get("failed") else ""
    return (
        f'<path d="M{_n(axis.x(t))} {_n(y)}l4 6l-4 6l-4 -6z" fill="{fill}" stroke="#1a202c" '
        f'stroke-width="0.5"><title>{_e(tip)}</title></path>'
    )


def _svg(result: dict[str, Any], lbs: list[str], colour: dict[str, str]) -> str:
    phases = _phases(result)
    keys = sorted({k for _, p in phases for k in p.get("moves", {})})
    samples = {
        k: [(off + t, int(ok)) for off, p in phases for t, ok in p.get("samples", {}).get(k, [])]
        for k in keys
    }
    end = max([off + float(p.get("steady_after_s", 0)) for off, p in phases] or [1.0])
    low = min([t for pts in samples.values() for t, _ in pts] + [-1.0])
    axis = _Axis(low, end)
    body = [_text(4, 23, "claim calls")]
    body += [
        _claim(axis, off + float(c["t"]), c, 14, colour)
        for off, p in phases
        for c in p.get("claims", [])
    ]
    y = top = 34.0
    for key in keys:
        moves = [
            (off + float(t), lb) for off, p in phases for t, lb in p.get("moves", {}).get(key, [])
        ]
        first = str(result.get("start_owners", {}).get(key, "") or "none")
        body.append(_text(4, y + 11, f"{key} owner"))
        for a, b, lb in _segments(first, moves, end, low):
            tip = f"{key} on {lb}: {a:.2f}s to {b:.2f}s"
            body.append(_rect(axis.x(a), axis.x(b), y, 14, colour.get(lb, NONE), tip))
            if axis.x(b) - axis.x(a) > 30:
                body.append(_text(axis.x(a) + 3, y + 11, lb, "#fff"))
        y += 17
        body.append(_text(4, y + 9, f"{key} requests"))
        for a, b, ok in _runs(samples[key]):
            tip = f"{'ok' if ok else 'failed'} {a:.2f}s to {b:.2f}s"
            body.append(_rect(axis.x(a), axis.x(b), y, 10, OK if ok else FAILED, tip))
        failed = sum(1 for _, ok in samples[key] if not ok)
        body.append(_text(WIDTH - RIGHT + 2, y + 9, str(failed), FAILED) if failed else "")
        y += 13
        for lb in lbs:
            changes = [
                (off + float(t), st)
                for off, p in phases
                for t, who, k, st in p.get("vrrp", [])
                if (who, k) == (lb, key)
            ]
            if not changes:
                continue
            body.append(_text(14, y + 7, f"{lb} VRRP"))
            first = changes[0][1] if changes[0][0] <= 0 else ""
            for a, b, st in _segments(first, changes, end, max(low, 0.0)):
                fill = colour.get(lb, NONE) if st == "MASTER" else STATE_COLOURS.get(st, "#b794f4")
                body.append(
                    _rect(
                        axis.x(a),
                        axis.x(b),
                        y,
                        7,
                        fill,
                        f"{lb} {key} {st or 'down'}: {a:.2f}s to {b:.2f}s",
                    )
                )
            y += 9
        y += 8
    for m in result.get("marks", []):
        x, heal = axis.x(float(m["t"])), m.get("what") == "heal"
        stroke = "#2f855a" if heal else FAILED
        label = f"{'heal' if heal else 'fault'}: {m.get('kind', '')} {m.get('lb', '')}"
        body.append(_line(x, top - 4, y, stroke, 1.5, ' stroke-dasharray="4 2"'))
        body.append(_text(x + 3, y + 11, label, stroke))
    for t in axis.ticks():
        body.append(_line(axis.x(t), top - 4, y + 16, "#718096", 0.3))
        body.append(_text(axis.x(t) - 6, y + 28, f"{_n(t)}s"))
    y += 34
    head = f'<rect x="0" y="0" width="{WIDTH}" height="8" fill="{FRAME}"/>'
    return (
        f'<svg data-scenario="{_e(result["scenario"])}" '
        f'width="{WIDTH}" height="{_n(y)}" viewBox="0 0 {WIDTH} {_n(y)}" role="img">'
        f"<title>{_e(result['scenario'])} timeline</title>{head}{''.join(body)}</svg>"
    )


def _verdict(passed: bool, tag: str) -> str:
    return f'<{tag} class="pass">PASS</{tag}>' if passed else f'<{tag} class="fail">FAIL</{tag}>'


def _table(results: Sequence[dict[str, Any]]) -> str:
    """The figures `hacompile lab` prints (hacompile.lab.report.table), as a table."""
    head = ("scenario", "EIP moved (s)", "downtime (s)", "failback (s)", "fb down (s)", "assoc")
    rows = ["<tr>" + "".join(f"<th>{c}</th>" for c in (*head, "result")) + "</tr>"]
    for r in results:
        h = headline(r)
        figs = [h["eip_moved_s"], h["downtime_s"], h["failback_s"], h["failback_downtime_s"]]
        cells = [_fmt(v) for v in figs] + [str(int(h["associate_calls"] or 0))]
        rows.append(
            f"<tr><td>{_e(r['scenario'])}</td>"
            + "".join(f'<td class="n">{c}</td>' for c in cells)
            + _verdict(r["passed"], "td")
            + "</tr>"
        )
    return "<table>" + "".join(rows) + "</table>"


def _legend(lbs: list[str], colour: dict[str, str]) -> str:
    items = [(colour[lb], f"{lb} (owner / MASTER)") for lb in lbs] + [
        (NONE, "no owner"),
        (OK, "request answered"),
        (FAILED, "request failed / failed call"),
        *((c, state or "down / unreadable") for state, c in STATE_COLOURS.items()),
    ]
    spans = "".join(f'<span style="background:{c}"></span>{_e(t)}' for c, t in items)
    return f'<p class="legend">{spans}</p>'


def _lbs(results: Sequence[dict[str, Any]]) -> list[str]:
    found: set[str] = set()
    for r in results:
        found.update(v for v in r.get("start_owners", {}).values() if v)
        found.update(v for v in r.get("final_owners", {}).values() if v)
        for _, p in _phases(r):
            found.update(lb for moves in p.get("moves", {}).values() for _, lb in moves)
            found.update(str(v[1]) for v in p.get("vrrp", []))
            found.update(c["lb"] for c in p.get("claims", []) if c.get("lb"))
    found.discard("none")
    return sorted(found)


def render(results: Sequence[dict[str, Any]], title: str = "hacompile lab") -> str:
    """The whole page for `results` (LabRun.results, as `--results` writes them)."""
    lbs = _lbs(results)
    colour = {lb: LB_COLOURS[i % len(LB_COLOURS)] for i, lb in enumerate(lbs)}
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{len(results)} scenario run(s), {sum(1 for r in results if r['passed'])} passed. "
        "Times in seconds from the first fault; hover a mark for details.</p>",
        _table(results),
        _legend(lbs, colour),
    ]
    for r in results:
        rep = f" (repetition {r['repetition']})" if "repetition" in r else ""
        parts.append(f"<h2>{_e(r['scenario'] + rep)} {_verdict(r['passed'], 'span')}</h2>")
        parts.append(f'<p class="d">{_e(r["description"])}</p>')
        problems = "".join(f"<li>{_e(p)}</li>" for p in r.get("problems", []))
        parts.append(f'<ul class="problems">{problems}</ul>' if problems else "")
        parts.append(_svg(r, lbs, colour) if r.get("inject") or r.get("heal") else "")
        events = _e("\n".join(timeline(r)))
        parts.append(f"<details><summary>events</summary><pre>{events}</pre></details>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
