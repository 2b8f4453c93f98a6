"""Issue 14, remote state: `state.s3` gives each region's root an S3 backend with its own key,
locked by a lock file (Terraform >= 1.10); without it the README says local state is for
trying out only. Real Terraform initialises the generated backend against moto's S3 on
127.0.0.1 and is refused while another holder's lock object exists."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from hacompile.pipeline import compile_spec
from hacompile.standins.moto import MotoServer
from hacompile.verify.tfreal import _Run, find_terraform
from tests.conftest import ROOT, invoke_cli
from tests.verify.test_tfreal import needs_terraform

MULTI = ROOT / "blueprints" / "community-multi-region.yaml"
BUCKET = "acme-tf-state"


def _spec(tmp_path: Path, state: Any) -> Path:
    data = yaml.safe_load(MULTI.read_text())
    data["state"] = state
    path = tmp_path / "ha.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _files(spec: Path) -> dict[str, str]:
    return {p: f.content.decode() for p, f in compile_spec(spec).bundle.by_path().items()}


def test_without_state_the_roots_keep_local_state_and_the_readme_says_so() -> None:
    files = _files(MULTI)
    assert not [p for p in files if p.endswith("backend.tf")]
    assert 'required_version = ">= 1.6.0, < 2.0.0"' in files["terraform/eu-west-1/versions.tf"]
    assert (
        "**State is local**" in files["README.md"]
        and "for trying the bundle out only" in files["README.md"]
    )


def test_state_s3_gives_each_region_its_own_key_and_a_lock_file(tmp_path: Path) -> None:
    files = _files(_spec(tmp_path, {"s3": {"bucket": BUCKET, "region": "eu-west-1"}}))
    for region in ("eu-west-1", "us-east-2"):
        backend = files[f"terraform/{region}/backend.tf"]
        assert f'key          = "hacompile/shop/{region}/terraform.tfstate"' in backend
        assert 'bucket       = "acme-tf-state"' in backend
        assert 'region       = "eu-west-1"' in backend  # the bucket's, not the root's
        assert "use_lockfile = true" in backend and "dynamodb" not in backend
        assert 'required_version = ">= 1.10.0, < 2.0.0"' in files[f"terraform/{region}/versions.tf"]
    assert "**State** lives in the S3 bucket `acme-tf-state`" in files["README.md"]
    assert "State is local" not in files["README.md"]
    custom = _files(
        _spec(
            tmp_path,
            {"s3": {"bucket": BUCKET, "region": "eu-west-1", "key_prefix": "teams/edge/lb"}},
        )
    )
    assert "teams/edge/lb/us-east-2/terraform.tfstate" in custom["terraform/us-east-2/backend.tf"]


@pytest.mark.parametrize(
    ("s3", "field", "words"),
    [
        ({"bucket": "Acme_State", "region": "eu-west-1"}, "state.s3.bucket", "no S3 bucket name"),
        ({"bucket": "a..b", "region": "eu-west-1"}, "state.s3.bucket", "no S3 bucket name"),
        (
            {"bucket": BUCKET, "region": "eu-west-1", "key_prefix": "/x"},
            "state.s3.key_prefix",
            "no key prefix",
        ),
        (
            {"bucket": BUCKET, "region": "eu-west-1", "key_prefix": "a/../b"},
            "state.s3.key_prefix",
            "no key prefix",
        ),
        ({"bucket": BUCKET}, "state.s3.region", "required"),
    ],
)
def test_a_bad_state_is_a_located_error(tmp_path: Path, s3: Any, field: str, words: str) -> None:
    result = invoke_cli("validate", str(_spec(tmp_path, {"s3": s3})))
    assert result.returncode == 2, result.stdout
    line = next(x for x in result.stderr.splitlines() if f"error: {field}" in x)
    assert line.startswith(f"{tmp_path / 'ha.yaml'}:") and words in line, result.stderr


@pytest.mark.tools
@needs_terraform
def test_real_terraform_uses_the_backend_and_its_lock(tmp_path: Path) -> None:
    bundle = compile_spec(_spec(tmp_path, {"s3": {"bucket": BUCKET, "region": "eu-west-1"}}))
    work = tmp_path / "work"
    for file in bundle.bundle.files:
        if str(file.path).startswith("terraform/"):
            (work / file.path).parent.mkdir(parents=True, exist_ok=True)
            (work / file.path).write_bytes(file.content)
    root = work / "terraform" / "us-east-2"
    terraform, _ = find_terraform()
    (tmp_path / "tf").mkdir()
    run = _Run(terraform, tmp_path / "tf")
    with MotoServer() as moto:
        import boto3

        aws = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        run.env.update(aws)
        s3 = boto3.client(
            "s3",
            endpoint_url=moto.url,
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        # the generated backend.tf as is; only where S3 is (moto on 127.0.0.1) comes from init
        init = run.tf(
            root,
            "init",
            "-input=false",
            "-no-color",
            f"-plugin-dir={run.plugins}",
            f'-backend-config=endpoints={{s3="{moto.url}"}}',
            "-backend-config=use_path_style=true",
            "-backend-config=skip_credentials_validation=true",
            "-backend-config=skip_requesting_account_id=true",
            "-backend-config=skip_metadata_api_check=true",
            timeout=180,
        )
        assert init.returncode == 0, init.stdout + init.stderr
        assert 'Successfully configured the backend "s3"' in init.stdout
        plan = run.tf(
            root,
            "plan",
            "-refresh=false",
            "-input=false",
            "-no-color",
            "-lock-timeout=5s",
            timeout=180,
        )
        assert plan.returncode == 0, plan.stdout + plan.stderr
        key = "hacompile/shop/us-east-2/terraform.tfstate"
        assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0  # lock released
        s3.put_object(
            Bucket=BUCKET,
            Key=key + ".tflock",
            Body=json.dumps(
                {
                    "ID": "3f0c6b4e-0000-4000-8000-000000000001",
                    "Operation": "OperationTypeApply",
                    "Who": "alice@laptop",
                    "Version": "1.11.4",
                    "Path": key,
                }
            ),
        )
        held = run.tf(
            root,
            "plan",
            "-refresh=false",
            "-input=false",
            "-no-color",
            "-lock-timeout=2s",
            timeout=180,
        )
        assert held.returncode != 0
        assert "Error acquiring the state lock" in held.stdout + held.stderr
    shutil.rmtree(work, ignore_errors=True)
