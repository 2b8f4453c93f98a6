"""Stage 4: values reach HCL only through its escaping; layout matches terraform fmt; features
the spec does not use are not emitted."""

from __future__ import annotations

import hcl2
import pytest

from hacompile.pipeline import compile_spec
from hacompile.render import hcl
from tests.conftest import ROOT


@pytest.mark.parametrize(
    "text",
    ['${file("/etc/passwd")}', "%{ for x in y }", 'a"b\\c', "line\nbreak", "tab\there", "\x01"],
)
def test_hcl_literal_round_trips_through_the_parser(text: str) -> None:
    parsed = hcl2.loads(f"x = {hcl.literal(text)}\n")
    value = parsed["x"]
    assert value.startswith('"') and value.endswith('"')
    assert "${" not in value.replace("$${", "") and "%{" not in value.replace("%%{", "")


def test_fmt_aligns_like_terraform() -> None:
    source = (
        'resource "a" "b" {\n  ami = "x"\n  instance_type = "y"\n\n  tags = {\n'
        '    Name = "z"\n    Role_long = "w"\n  }\n  value = {\n    k = 1\n  }\n}\n'
    )
    assert hcl.fmt(source) == (
        'resource "a" "b" {\n  ami           = "x"\n  instance_type = "y"\n\n  tags = {\n'
        '    Name      = "z"\n    Role_long = "w"\n  }\n  value = {\n    k = 1\n  }\n}\n'
    )


def test_unused_features_are_not_emitted() -> None:
    bundle = compile_spec(ROOT / "blueprints" / "three-lb-existing-backends.yaml").bundle
    paths = set(bundle.by_path())
    assert not any("demo_backend" in p for p in paths)
    assert "terraform/us-west-2/cloud-init/backend.yaml" not in paths
    tf = b"".join(f.content for f in bundle.files if f.path.suffix == ".tf")
    assert b'aws_instance" "backend' not in tf
    assert b"lb_stats" not in tf  # no stats page in that spec
    assert b"backend_ami_id" not in tf


def test_blog_bundle_has_no_eip_association_in_terraform() -> None:
    bundle = compile_spec(ROOT / "blueprints" / "blog-aws-keepalived.yaml").bundle
    for file in bundle.files:
        if file.path.suffix == ".tf":
            text = file.content.decode()
            assert "aws_eip_association" not in text
            assert "network_interface" not in text.split('resource "aws_eip"')[-1].split("}")[0]
            assert "vpc = true" not in text
