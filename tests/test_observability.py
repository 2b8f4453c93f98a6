"""The spec's `metrics` and `logs`: off when absent (nothing emitted, nothing planned), and when
present one module input, one security-group rule per CIDR, the roles' variables and files.

The root test at the end runs the rendered metrics frontend in real HAProxy on loopback: the
exporter and the Lua service answer an allowed source and the ACL refuses another.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from hacompile import manifest
from hacompile.load import load
from hacompile.pipeline import compile_spec
from hacompile.plan import module
from hacompile.plan.build import _digest
from hacompile.render.features import MARKER
from hacompile.spec.model import Spec
from tests.conftest import ROOT

BLUEPRINT = ROOT / "blueprints" / "metrics-and-logs.yaml"
METRICS_VARS = (
    "haproxy_metrics_port",
    "haproxy_metrics_cidrs",
    "haproxy_metrics_lua_path",
    "keepalived_vrrp_metrics",
    "haproxy_request_id_header",
)


def _lb_vars(files: dict[str, bytes]) -> dict[str, object]:
    data: dict[str, object] = YAML(typ="safe").load(files["ansible/group_vars/lb.yml"])
    return data


@pytest.mark.parametrize(
    "name",
    [
        "blog-aws-keepalived",
        "community-multi-region",
        "fast-failover",
        "three-lb-existing-backends",
    ],
)
def test_without_metrics_nothing_is_emitted(name: str) -> None:
    compiled = compile_spec(ROOT / "blueprints" / f"{name}.yaml")
    files = {p: f.content for p, f in compiled.bundle.by_path().items()}
    assert not [p for p in files if "vrrp-metrics" in p]
    assert not set(METRICS_VARS) & set(_lb_vars(files))
    tf = b"".join(c for p, c in files.items() if p.endswith(".tf"))
    assert b"lb_metrics" not in tf and b"var.metrics" not in tf
    assert "metrics" not in {i.name for i in module.inputs(compiled.checked.plan)}


def test_an_absent_section_does_not_change_the_spec_digest() -> None:
    spec = Spec.model_validate(load(ROOT / "blueprints" / "fast-failover.yaml").data)
    full = spec.model_dump(mode="json", exclude_defaults=True)
    assert "metrics" not in full and "logs" not in full
    assert _digest(spec) == manifest.spec_digest(full)
    with_metrics = spec.model_copy(update={"metrics": None, "logs": None})
    assert _digest(with_metrics) == _digest(spec)


def test_metrics_blueprint_plans_the_port_cidrs_and_request_ids() -> None:
    compiled = compile_spec(BLUEPRINT)
    plan = compiled.checked.plan
    files = {p: f for p, f in compiled.bundle.by_path().items()}
    lb = _lb_vars({p: f.content for p, f in files.items()})
    assert lb["haproxy_metrics_port"] == 8405
    assert lb["haproxy_metrics_cidrs"] == ["10.30.0.0/16"]
    assert lb["haproxy_metrics_lua_path"] == "/etc/haproxy/hacompile-vrrp-metrics.lua"
    assert lb["keepalived_vrrp_metrics"] is True
    assert lb["haproxy_request_id_header"] == "X-Request-ID"
    (metrics,) = [i for i in module.inputs(plan) if i.name == "metrics"]
    assert any("!endswith(c" in v.condition for v in metrics.validations)
    args = {a.name: a.value for a in module.arguments(plan, plan.regions[0])}
    assert args["metrics"] == {"port": 8405, "cidrs": ["10.30.0.0/16"]}
    security = files["terraform/modules/haproxy-ha/security.tf"].content.decode()
    rule = security[security.index('"lb_metrics"') :]
    assert "for_each = toset(var.metrics.cidrs)" in rule
    assert "from_port         = var.metrics.port" in rule
    assert files["ansible/roles/keepalived/files/hacompile-vrrp-metrics"].mode == 0o755
    assert "ansible/roles/haproxy/files/hacompile-vrrp-metrics.lua" in files


def test_hapee_paths_follow_the_flavor(tmp_path: Path) -> None:
    text = BLUEPRINT.read_text().replace(
        "flavor: community", "flavor: hapee\n  ami_product_code: abcdefghijklmnopqrstuvwxy"
    )
    spec = tmp_path / "ha.yaml"
    spec.write_text(text)
    plan = compile_spec(spec).checked.plan
    assert plan.observability.metrics_lua_path == "/etc/hapee-3.0/hacompile-vrrp-metrics.lua"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _get(port: int, path: str, source: str) -> tuple[int, str]:
    done = subprocess.run(
        [
            "curl",
            "-s",
            "--max-time",
            "5",
            "--interface",
            source,
            "-w",
            "\n%{http_code}",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status or 0), body


@pytest.mark.root
@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("haproxy") or not shutil.which("curl"),
    reason="needs root (a private /run), haproxy and curl",
)
def test_metrics_frontend_answers_allowed_sources_only(tmp_path: Path) -> None:
    from hacompile.standins.ansible_render import render_bundle

    golden = ROOT / "tests" / "golden" / "metrics-and-logs"
    cfg = render_bundle(golden, tmp_path / "rendered")[0].haproxy_cfg.read_text()
    port = _free_port()
    lua = golden / "ansible" / "roles" / "haproxy" / "files" / "hacompile-vrrp-metrics.lua"
    # Only the metrics frontend, on loopback; 127.0.0.1 allowed, 127.0.0.2 (same host) not.
    cfg = cfg[: cfg.index("\nlisten ")] + cfg[cfg.index("\nfrontend metrics") :]
    cfg = re.sub(r"^    (user|group|stats socket) .*\n", "", cfg, flags=re.MULTILINE)
    cfg = cfg.replace("maxconn 20000", "maxconn 100")  # this machine's open-file limit
    cfg = cfg.replace("lua-load /etc/haproxy/hacompile-vrrp-metrics.lua", f"lua-load {lua}")
    cfg = cfg.replace("bind :8405", f"bind 127.0.0.1:{port}")
    cfg = cfg.replace("src 10.30.0.0/16", "src 127.0.0.1/32")
    (tmp_path / "haproxy.cfg").write_text(cfg)
    prom = (
        "# HELP hacompile_vrrp_state x\n# TYPE hacompile_vrrp_state gauge\n"
        'hacompile_vrrp_state{vrrp_instance="eip1",state="MASTER"} 1\n'
    )
    (tmp_path / "vrrp.prom").write_text(prom)
    script = (
        "mount -t tmpfs tmpfs /run && mkdir -p /run/hacompile/metrics && "
        f"cp {tmp_path / 'vrrp.prom'} /run/hacompile/metrics/ && "
        f"exec haproxy -db -f {tmp_path / 'haproxy.cfg'}"
    )
    proc = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(50):
            if _get(port, "/metrics", "127.0.0.1")[0]:
                break
            time.sleep(0.1)
        status, body = _get(port, "/metrics", "127.0.0.1")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert status == 200 and "haproxy_process_" in body
        assert _get(port, "/metrics/vrrp", "127.0.0.1") == (200, prom)
        assert _get(port, "/metrics", "127.0.0.2")[0] == 403
        assert _get(port, "/metrics/vrrp", "127.0.0.2")[0] == 403
        assert _get(port, "/", "127.0.0.1")[0] == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_feature_markers_keep_or_drop_lines() -> None:
    from hacompile.render.features import apply

    src = (
        b"a\n# hacompile-if: metrics\nm1\n  # hacompile-if: logs\nml\n  # hacompile-end\n"
        b"# hacompile-end\nnew  # hacompile-else(logs): old\nonly  # hacompile-only(logs)\nz\n"
    )
    assert apply(src, frozenset(), "f") == b"a\nold\nz\n"
    assert apply(src, frozenset({"metrics"}), "f") == b"a\nm1\nold\nz\n"
    assert apply(src, frozenset({"metrics", "logs"}), "f") == b"a\nm1\nml\nnew\nonly\nz\n"
    assert apply(b"no markers\n", frozenset(), "f") == b"no markers\n"
    for bad in (
        b"# hacompile-if: dns\nx\n# hacompile-end\n",
        b"# hacompile-if: logs\nx\n",
        b"# hacompile-end\n",
        b"x  # hacompile-only(pools)\n",
    ):
        with pytest.raises(ValueError):
            apply(bad, frozenset(), "f")


@pytest.mark.parametrize("name", ["metrics-and-logs", "fast-failover"])
def test_no_bundle_holds_a_marker(name: str) -> None:
    bundle = compile_spec(ROOT / "blueprints" / f"{name}.yaml").bundle
    assert not [f.path for f in bundle.files if MARKER.search(f.content)]


@pytest.mark.parametrize("only", ["metrics", "logs"])
def test_each_section_alone_passes_haproxy_c(only: str, tmp_path: Path) -> None:
    if not shutil.which("haproxy"):
        pytest.skip("needs haproxy")
    from hacompile.verify.base import Context
    from hacompile.verify.configs import check_haproxy
    from hacompile.write import write

    drop = "logs" if only == "metrics" else "metrics"
    text = re.sub(rf"^{drop}:\n(  .*\n)+", "", BLUEPRINT.read_text(), flags=re.MULTILINE)
    assert f"\n{drop}:" not in text
    (tmp_path / "ha.yaml").write_text(text)
    write(compile_spec(tmp_path / "ha.yaml").bundle, tmp_path / "out")
    outcome = check_haproxy(Context(tmp_path / "out", tmp_path / "work"))
    assert not outcome.findings
