"""Where each region's Terraform state lives: local files (the default) or an S3 bucket.

Why S3 with a lock file: a team's state must outlive one laptop and two applies must not run
at once. Terraform >= 1.10's S3 backend locks with a lock object beside the state
(``use_lockfile``, S3 conditional writes), so no DynamoDB table is needed. Each region's root
gets its own key, ``<key_prefix>/<region>/terraform.tfstate``: one region's apply never
locks or touches another's state.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from hacompile.spec.types import RegionName

__all__ = ["S3StateSpec", "StateSpec"]

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
MAX_KEY_PREFIX = 200
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")


def _bucket(value: str) -> str:
    if not _BUCKET.fullmatch(value) or ".." in value:
        raise ValueError(
            f"{value!r} is no S3 bucket name: 3-63 lower-case letters, digits, '.' and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def _key_prefix(value: str) -> str:
    segments = value.split("/")
    if len(value) > MAX_KEY_PREFIX:
        raise ValueError(f"a key prefix is at most {MAX_KEY_PREFIX} characters (S3 keys: 1024)")
    if not all(_SEGMENT.fullmatch(s) and s not in (".", "..") for s in segments):
        raise ValueError(
            f"{value!r} is no key prefix: '/'-separated names of letters, digits, '.', '_' "
            "and '-', without a leading, trailing or double '/' and without '.' or '..'"
        )
    return value


BucketName = Annotated[str, AfterValidator(_bucket)]
KeyPrefix = Annotated[str, AfterValidator(_key_prefix)]


class _Strict(BaseModel):
    # The same configuration as hacompile.spec.model.Strict (which imports this module).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class S3StateSpec(_Strict):
    """An S3 bucket you own (versioning on, public access blocked: hacompile does not create
    it, since the state of the bucket would need a state of its own)."""

    bucket: BucketName
    region: RegionName  # where the bucket is
    # default: hacompile/<name>; the key of a region's state is <key_prefix>/<region>/...
    key_prefix: KeyPrefix | None = None


class StateSpec(_Strict):
    s3: S3StateSpec
