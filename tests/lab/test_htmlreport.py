"""`hacompile lab --report`: the HTML page (hacompile.lab.htmlreport) from synthetic results, the
data capture it draws on (hacompile.lab.capture), the CLI option, and the page rendered in
headless Chromium (marked `tools`: Debian's chromium package, .ci/install-lab.sh)."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import hacompile.lab.main
from hacompile.cli import app
from hacompile.lab import capture, htmlreport
from hacompile.lab.main import LabRun
from hacompile.lab.observe import Probe

REPO = Path(__file__).resolve().parents[2]
BLOG = REPO / "blueprints" / "blog-aws-keepalived.yaml"
NEW_KEYS = ("samples", "claims", "vrrp")  # per phase, what the report added to the results


def _samples(end: float, down: tuple[float, float] | None) -> list[list[float]]:
    steps = int((end + 0.3) / 0.05)
    times = [round(-0.3 + i * 0.05, 3) for i in range(steps + 1)]
    return [[t, 0 if down and down[0] <= t < down[1] else 1] for t in times]


def _phase(steady: float, moves: dict[str, list[list[Any]]], down: Any) -> dict[str, Any]:
    return {
        "steady_after_s": steady,
        "moves": moves,
        "eip_moved_s": {k: m[0][0] for k, m in moves.items() if m},
        "downtime_s": {k: round(d[1] - d[0], 3) if d else 0.0 for k, d in down.items()},
        "serving_again_s": {k: d[1] if d else 0.0 for k, d in down.items()},
        "failed_requests": {k: int((d[1] - d[0]) / 0.05) if d else 0 for k, d in down.items()},
        "associate_calls": sum(1 for m in moves.values() if m),
        "associate_failed": 0,
        "api_calls": 4,
        "samples": {k: _samples(steady, down[k]) for k in moves},
        "claims": [
            {"t": m[0][0] - 0.3, "action": "AssociateAddress", "lb": m[0][1], "eip": k, "failed": 0}
            for k, m in moves.items()
            if m
        ],
        "vrrp": [
            [0.0, lb, k, "MASTER" if lb == "lb1" else "BACKUP"]
            for lb in ("lb1", "lb2")
            for k in moves
        ]
        + [[m[0][0] - 0.6, m[0][1], k, "MASTER"] for k, m in moves.items() if m],
    }


def result(name: str, *, failures: bool = True, passed: bool = True) -> dict[str, Any]:
    """eip1 moves lb1 -> lb2 at 2.5 s after the fault (the client failing 1.0-3.0 s when
    `failures`) and back 1.5 s into the heal; eip2 stays on lb2."""
    down = {"eip1": (1.0, 3.0) if failures else None, "eip2": None}
    return {
        "scenario": name,
        "description": "HAProxy is killed on lb1",
        "problems": [] if passed else ["eip1 stayed on failed lb1 (see https://example.com/x)"],
        "start_owners": {"eip1": "lb1", "eip2": "lb2"},
        "marks": [
            {"t": 0.0, "what": "inject", "kind": "kill-haproxy", "lb": "lb1"},
            {"t": 6.1, "what": "heal", "kind": "kill-haproxy", "lb": "lb1"},
        ],
        "inject": _phase(6.0, {"eip1": [[2.5, "lb2"]], "eip2": []}, down),
        "heal": _phase(5.0, {"eip1": [[1.5, "lb1"]], "eip2": []}, {"eip1": None, "eip2": None}),
        "heal_at_s": 6.1,
        "final_owners": {"eip1": "lb1", "eip2": "lb2"},
        "budget_s": 12.0,
        "passed": passed,
        "repetition": 1,
    }


def _svgs(page: str) -> dict[str, str]:
    return dict(re.findall(r'<svg data-scenario="([^"]*)"(.*?)</svg>', page, re.S))


def test_one_timeline_per_scenario_with_the_summary_table() -> None:
    results = [result("haproxy-killed"), result("node-lost", passed=False), result("quiet")]
    page = htmlreport.render(results, title="blog")
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert page.count("<svg") == 3
    assert list(_svgs(page)) == ["haproxy-killed", "node-lost", "quiet"]
    assert page.count(f'fill="{htmlreport.FRAME}"') == 3
    # the summary table holds report.table's figures
    row = re.search(r"<tr><td>node-lost</td>(.*?)</tr>", page)
    assert row is not None
    assert re.findall(r">([^<]+)</td>", row.group(1)) == ["2.50", "2.00", "1.50", "-", "2", "FAIL"]
    for mark in ("fault: kill-haproxy lb1", "heal: kill-haproxy lb1", "AssociateAddress eip1"):
        assert mark in page
    assert "lb2 VRRP" in page


def test_failed_requests_are_drawn_red() -> None:
    page = htmlreport.render([result("down"), result("fine", failures=False)])
    svgs = _svgs(page)
    red = f'fill="{htmlreport.FAILED}"'
    assert red in svgs["down"] and red not in svgs["fine"]
    assert "failed 1.00s to 3.00s" in svgs["down"]  # the failing run, from its first sample


def test_text_is_escaped_and_nothing_is_fetched() -> None:
    evil = '<script>alert("x")</script>&'
    r = result(evil, passed=False)
    r["description"] = "<img src=http://example.com/x.png>"
    page = htmlreport.render([r], title="<b>t</b>")
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in page
    tags = "".join(re.findall(r"<[^>]*>", page))  # markup only: the text may say anything
    assert not re.search(r"\b(src|href|xlink:href|action|srcset)\s*=|https?:", tags, re.I)
    assert not re.search(r"url\(|@import", page, re.I)
    # the only network addresses are in text (a problem's own words), escaped, never fetched
    for m in re.finditer(r"https?://", page):
        assert page.rfind("<", 0, m.start()) < page.rfind(">", 0, m.start())


def test_same_results_same_bytes_and_json_round_trip() -> None:
    results = [result("a"), result("b", failures=False)]
    page = htmlreport.render(results, title="t")
    assert htmlreport.render(copy.deepcopy(results), title="t") == page
    assert htmlreport.render(json.loads(json.dumps(results)), title="t") == page


def test_results_without_the_report_keys_still_render() -> None:
    """A --results file written before the report existed: owners and marks it has, no more."""
    r = result("old")
    for key in ("start_owners", "marks", "heal_at_s"):
        del r[key]
    for phase in ("inject", "heal"):
        for key in NEW_KEYS:
            del r[phase][key]
    page = htmlreport.render([r, {**result("x"), "inject": None, "heal": None}])
    assert list(_svgs(page)) == ["old"] and "<td>x</td>" in page


def test_samples_are_bounded_and_keep_every_failure() -> None:
    rows = [Probe(100.0 + i * 0.05, not 400 <= i < 420) for i in range(2000)]
    kept = capture.samples(rows, 100.0, cap=300)
    assert len(kept) == 300 and sum(1 for _, ok in kept if not ok) == 20
    assert kept == sorted(kept) and kept[0] == [0.0, 1]
    assert capture.samples(rows[:10], 100.0) == [[round(i * 0.05, 3), 1] for i in range(10)]


def test_state_log_and_claims_are_timed_from_the_phase() -> None:
    states = {("lb1", "eip1"): "MASTER", ("lb2", "eip1"): "BACKUP"}
    log = capture.StateLog(["lb1", "lb2"], ["eip1"], lambda lb, k: states[(lb, k)])
    log._poll()
    log.changes = [(1000.0, lb, k, s) for _, lb, k, s in log.changes]  # before the phase
    log.changes.append((1012.5, "lb2", "eip1", "MASTER"))
    assert log.between(1010.0, 1020.0) == [
        [0.0, "lb1", "eip1", "MASTER"],
        [0.0, "lb2", "eip1", "BACKUP"],
        [2.5, "lb2", "eip1", "MASTER"],
    ]
    calls = [
        {"action": "DescribeAddresses", "failed": None, "t": 1011.0},
        {"action": "AssociateAddress", "failed": 503, "t": 1012.25, "lb": "lb2", "eip": "eip1"},
    ]
    assert capture.claims(calls, 1010.0) == [
        {"t": 2.25, "action": "AssociateAddress", "lb": "lb2", "eip": "eip1", "failed": 503}
    ]


def test_lab_help_documents_report() -> None:
    out = CliRunner().invoke(app, ["lab", "--help"], env={"COLUMNS": "200"}).output
    assert "--report" in out and "HTML report" in out


@pytest.mark.usefixtures("lab_ready")
def test_lab_report_option_writes_the_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run = LabRun("ha.yaml", "us-east-1", results=[result("haproxy-killed")], total_s=3.0)
    monkeypatch.setattr(hacompile.lab.main, "run_lab", lambda *_, **__: run)
    page = tmp_path / "r.html"
    out = CliRunner().invoke(app, ["lab", str(BLOG), "--report", str(page)])
    assert out.exit_code == 0, out.output
    assert f"report written to {page}" in out.output
    assert page.read_text(encoding="utf-8") == htmlreport.render(
        run.results, title="hacompile lab: ha.yaml (us-east-1, netns)"
    )


# ---- rendered in headless Chromium ----


def _png_rows(data: bytes) -> tuple[int, int, list[bytes], int]:
    """Decode an 8-bit RGB(A) PNG with the standard library: (width, height, rows, bpp)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, head = 8, b"", b""
    while pos < len(data):
        (size,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + size]
        head, idat = (body, idat) if kind == b"IHDR" else (head, idat + body * (kind == b"IDAT"))
        pos += 12 + size
    width, height, depth, colour = struct.unpack(">IIBB", head[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytes(width * bpp)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            a, b = line[i - bpp] if i >= bpp else 0, prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pred = (
                (0, a, b, (a + b) // 2)[kind]
                if kind < 4
                else (
                    a
                    if abs(p - a) <= min(abs(p - b), abs(p - c))
                    else b
                    if abs(p - b) <= abs(p - c)
                    else c
                )
            )
            line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = rows[-1]
    return width, height, rows, bpp


def _close(pixel: bytes, colour: str, tol: int = 12) -> bool:
    want = bytes.fromhex(colour.lstrip("#"))
    return all(abs(p - w) <= tol for p, w in zip(pixel[:3], want, strict=True))


@pytest.mark.tools
def test_the_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium: .ci/install-lab.sh)")
    names = ["haproxy-killed", "node-lost", "keepalived-killed"]
    page = tmp_path / "report.html"
    page.write_text(htmlreport.render([result(n) for n in names]), encoding="utf-8")
    shot = tmp_path / "shot.png"
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--force-device-scale-factor=1",
        f"--screenshot={shot}",
        "--window-size=1200,2000",
        page.as_uri(),
    ]
    if os.geteuid() == 0 and shutil.which("unshare"):
        cmd = ["unshare", "-n", *cmd]  # no network at all, not only no name resolution
    env = {**os.environ, "HOME": str(tmp_path)}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert shot.is_file(), done.stderr[-2000:]
    width, height, rows, bpp = _png_rows(shot.read_bytes())
    assert (width, height) == (1200, 2000)
    pixels = [row[i : i + 3] for row in rows[::4] for i in range(0, width * bpp, 4 * bpp)]
    assert len(set(pixels)) > 20  # not blank: text, bands, ticks
    assert sum(1 for p in pixels if p != b"\xff\xff\xff") > len(pixels) // 20
    # the failed requests show: a red run along a row (the fault line and the legend are narrow)
    reds = [
        max(
            len(r)
            for r in "".join(
                "r" if _close(row[i : i + 3], htmlreport.FAILED) else " "
                for i in range(0, width * bpp, bpp)
            ).split(" ")
        )
        for row in rows[::2]
    ]
    assert max(reds) >= 60, max(reds)
    # one timeline per scenario: the frame band atop each, counted down one column
    x = 40 * bpp
    frame = [_close(row[x : x + 3], htmlreport.FRAME) for row in rows]
    bands = sum(1 for y in range(height) if frame[y] and (y == 0 or not frame[y - 1]))
    assert bands == len(names)
