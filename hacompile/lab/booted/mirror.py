"""The booted hosts' only package source: an apt repository and a wheelhouse the lab builds.

Why derived from the roles: the hosts reach no registry, so whatever a role installs must be in
the mirror, and a hand-kept list would drift the day a role gains a package (the deploy would
then fail on a real host only). So the list is read from the bundle's own roles: every
`ansible.builtin.apt` and `ansible.builtin.pip` task's `name`, evaluated with the role defaults
and the generated variables, exactly the values Ansible will ask for. Packages come from
Debian's archive through this machine's apt (recommends included, as on a default apt), are
cached by the list's hash, and are served from the controller namespace.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import jinja2.nativetypes
from ruamel.yaml import YAML

from hacompile.lab.booted.image import cache_dir, image_key, nspawn
from hacompile.lab.netns import LabError
from hacompile.record import Record

APT_MODULES = ("ansible.builtin.apt", "apt")
PIP_MODULES = ("ansible.builtin.pip", "pip")


class Wanted(Record):
    """What the roles install: Debian package names and pip requirement strings."""

    apt: tuple[str, ...]
    pip: tuple[str, ...]


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def _inventory_vars(node: Mapping[str, Any], into: dict[str, Any]) -> None:
    """Every group and host variable of a YAML inventory, flattened (later ones win)."""
    into.update(node.get("vars") or {})
    for host_vars in (node.get("hosts") or {}).values():
        into.update(host_vars or {})
    for child in (node.get("children") or {}).values():
        _inventory_vars(child or {}, into)


def bundle_vars(ansible_dir: Path, extra: Mapping[str, Any]) -> dict[str, Any]:
    """Role defaults < group_vars < inventory < extra vars, as Ansible orders them."""
    values: dict[str, Any] = {}
    for defaults in sorted(ansible_dir.glob("roles/*/defaults/main.yml")):
        values.update(_load(defaults) or {})
    for group_vars in sorted(ansible_dir.glob("group_vars/*.yml")):
        values.update(_load(group_vars) or {})
    for inventory in sorted(ansible_dir.glob("inventory/*.yml")):
        _inventory_vars((_load(inventory) or {}).get("all") or {}, values)
    values.update(extra)
    return values


def _evaluate(
    value: Any, env: jinja2.nativetypes.NativeEnvironment, variables: Mapping[str, Any]
) -> list[str]:
    if isinstance(value, list):
        return [s for item in value for s in _evaluate(item, env, variables)]
    if not isinstance(value, str):
        raise LabError(f"cannot read a package list from {value!r}")
    result = env.from_string(value).render(variables) if "{{" in value else value
    if isinstance(result, list):
        return [str(x) for x in result]
    return [str(result)] if str(result) else []


def _tasks(ansible_dir: Path) -> Iterable[Mapping[str, Any]]:
    for path in sorted(ansible_dir.glob("roles/*/tasks/*.yml")):
        for task in _load(path) or []:
            if isinstance(task, Mapping):
                yield task


def wanted(ansible_dir: Path, extra: Mapping[str, Any], also_apt: Sequence[str] = ()) -> Wanted:
    """The packages the bundle's roles install (plus `also_apt`, what the lab's image adds)."""
    env = jinja2.nativetypes.NativeEnvironment(undefined=jinja2.StrictUndefined)
    env.filters["bool"] = lambda v: str(v).lower() in ("1", "true", "yes", "on")
    variables = bundle_vars(ansible_dir, extra)
    apt: set[str] = set(also_apt)
    pip: set[str] = set()
    for task in _tasks(ansible_dir):
        for module in APT_MODULES + PIP_MODULES:
            args = task.get(module)
            if not isinstance(args, Mapping) or "name" not in args:
                continue
            try:
                names = _evaluate(args["name"], env, variables)
            except jinja2.TemplateError as exc:
                raise LabError(f"task {task.get('name')!r}: {exc}") from None
            (apt if module in APT_MODULES else pip).update(names)
    return Wanted(tuple(sorted(apt)), tuple(sorted(pip)))


def mirror(image: Path, want: Wanted) -> Path:
    """A directory with `debian/` (a flat apt repository) and `wheels/`, cached by content."""
    key = hashlib.sha256("\n".join((image_key(), *want.apt, "--", *want.pip)).encode())
    root = cache_dir() / f"mirror-{key.hexdigest()[:12]}"
    if (root / ".hacompile-complete").is_file():
        return root
    tmp = Path(tempfile.mkdtemp(prefix="mirror-", dir=cache_dir()))
    try:
        (tmp / "out" / "debian").mkdir(parents=True)
        _download_debs(image, want.apt, tmp, tmp / "out" / "debian")
        _write_packages_index(tmp / "out" / "debian")
        _download_wheels(want.pip, tmp / "out" / "wheels")
        (tmp / "out" / ".hacompile-complete").write_text("\n".join(want.apt + want.pip) + "\n")
        shutil.rmtree(root, ignore_errors=True)
        (tmp / "out").rename(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _download_debs(image: Path, packages: Sequence[str], tmp: Path, dest: Path) -> None:
    """apt-get --download-only inside a throwaway overlay of the image (its dpkg status is what
    a fresh host starts from, so exactly the missing packages are fetched)."""
    upper, work, merged = tmp / "upper", tmp / "work", tmp / "merged"
    for d in (upper, work, merged):
        d.mkdir()
    subprocess.run(
        [
            "mount",
            "-t",
            "overlay",
            "overlay",
            "-o",
            f"lowerdir={image},upperdir={upper},workdir={work}",
            str(merged),
        ],
        check=True,
        timeout=30,
    )
    try:
        script = (
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
            "--download-only " + " ".join(packages)
        )
        proc = subprocess.run(
            [
                str(nspawn()),
                "-q",
                "-D",
                str(merged),
                "--register=no",
                "--keep-unit",
                "--resolv-conf=copy-host",
                "--timezone=off",
                "sh",
                "-c",
                script,
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if proc.returncode != 0:
            raise LabError(
                f"downloading {' '.join(packages)} failed: {(proc.stdout + proc.stderr)[-2000:]}"
            )
        for deb in sorted((merged / "var/cache/apt/archives").glob("*.deb")):
            shutil.copy2(deb, dest / deb.name)
    finally:
        subprocess.run(["umount", str(merged)], check=False, timeout=30)


def _write_packages_index(repo: Path) -> None:
    """`Packages` for a flat repository (`deb [trusted=yes] URL ./`), what dpkg-scanpackages
    writes: each deb's control fields plus Filename, Size and checksums."""
    stanzas = []
    for deb in sorted(repo.glob("*.deb")):
        control = subprocess.run(
            ["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True, timeout=30
        ).stdout.rstrip("\n")
        data = deb.read_bytes()
        stanzas.append(
            f"{control}\nFilename: ./{deb.name}\nSize: {len(data)}\n"
            f"MD5sum: {hashlib.md5(data).hexdigest()}\n"
            f"SHA256: {hashlib.sha256(data).hexdigest()}\n"
        )
    (repo / "Packages").write_text("\n".join(stanzas), encoding="utf-8")


def _download_wheels(requirements: Sequence[str], dest: Path) -> None:
    """Wheels only, for Debian 12's CPython 3.11 on x86-64, into a find-links directory."""
    dest.mkdir()
    if not requirements:
        return
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--platform",
            "manylinux2014_x86_64",
            "--platform",
            "any",
            "--dest",
            str(dest),
            *requirements,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        raise LabError(f"pip download {' '.join(requirements)} failed: {proc.stderr[-2000:]}")
