"""Decides which model file the app uses and checks it (exists, valid GGUF, checksum) before anything loads it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from app.core.errors import AktenlotseError, ModelChecksumMismatch, ModelNotFound
from app.core.llm import ModelInfo
from app.core.models import CheckStatus, ManifestEntry, ModelFiles, ModelSelection

SOURCE_ADMIN = "im Modellordner gefunden"
SOURCE_DEFAULT = "Standardmodell (Demo)"
SOURCE_TEST = "Testmodell"
_ROLE_ORDER = {"admin": 0, "default": 1, "test": 2}


def select_model(
    *,
    model_path: Path | None,
    model_sha256: str | None,
    models_dir: Path,
    manifest_path: Path,
    files: ModelFiles,
    path_source: str = "Richtlinie",
    verify: bool = True,
) -> ModelSelection:
    """Pick the model file and check it. Never raises for a missing, broken or wrong file: see `status`/`problem`.

    Order of preference:

    1. `model_path`, when set (from policy or user settings, named by `path_source`); a relative path
       is taken relative to `models_dir`.
    2. A GGUF an administrator placed in `models_dir` that the manifest does not list (production
       models go there). With several, the first by file name wins; name one in `model_path` to choose.
    3. The manifest's `role = "default"` model (the demo model) if its file is in `models_dir`.
    4. The manifest's `role = "test"` model if its file is in `models_dir`.

    Expected checksum: `model_sha256` when set (it then applies to whichever file is selected, so a
    policy checksum fails closed), else the manifest entry with the selected file's name, else none
    (status UNVERIFIED; the file is not hashed then, which keeps start-up fast for large admin files).
    The file is inspected before it is hashed, so a truncated download is INVALID, not MISMATCH.
    A manifest file whose size differs from the manifest is MISMATCH without hashing.

    `verify=False` skips hashing (start-up stays fast for a 1 GiB file): a file with an expected
    checksum is then reported PENDING with `expected_sha256` set, and the caller must hash it
    before loading (bootstrap does so in the model's load step).
    An unreadable manifest counts as empty: files are then used unverified.
    """
    entries = _manifest(files, manifest_path)
    by_name = {entry.file: entry for entry in entries}
    expected_override = model_sha256.strip().lower() if model_sha256 else None

    if model_path is not None:
        path = model_path if model_path.is_absolute() else models_dir / model_path
        return _check(path, by_name.get(path.name), expected_override, path_source, files, verify)

    found = files.list_gguf(models_dir)
    admin = [p for p in found if p.name not in by_name]
    if admin:
        return _check(admin[0], None, expected_override, SOURCE_ADMIN, files, verify)
    present = {p.name for p in found}
    for role, source in (("default", SOURCE_DEFAULT), ("test", SOURCE_TEST)):
        for entry in entries:
            if entry.role == role and entry.file in present:
                return _check(models_dir / entry.file, entry, expected_override, source, files, verify)

    default = next((e for e in entries if e.role == "default"), None)
    return ModelSelection(
        path=models_dir / default.file if default else None,
        status=CheckStatus.MISSING,
        info=None,
        entry=default,
        expected_sha256=expected_override or (default.sha256 if default else None),
        actual_sha256=None,
        source=SOURCE_DEFAULT if default else SOURCE_ADMIN,
        problem=(
            f"Es wurde kein Sprachmodell gefunden. Legen Sie eine GGUF-Datei in den Modellordner {models_dir} "
            "oder tragen Sie den Pfad in der Richtlinie ein (model_path)."
        ),
    )


def found_models(models_dir: Path, manifest_path: Path, files: ModelFiles) -> list[ModelInfo]:
    """Every GGUF in `models_dir` with its manifest role ("admin" for unknown files), admin files first.

    A file that cannot be read as GGUF is still listed, with size 0 and `extra["problem"]` (German).
    """
    by_name = {entry.file: entry for entry in _manifest(files, manifest_path)}
    result: list[ModelInfo] = []
    for path in files.list_gguf(models_dir):
        entry = by_name.get(path.name)
        try:
            info = _with_entry(files.inspect(path), entry)
        except AktenlotseError as exc:
            info = _with_entry(ModelInfo(path=str(path), size_bytes=0, extra={"problem": exc.user_message}), entry)
        result.append(info)
    return sorted(result, key=lambda i: (_ROLE_ORDER.get(i.role, 0), Path(i.path).name.lower()))


# -- helpers ------------------------------------------------------------------------------


def _manifest(files: ModelFiles, manifest_path: Path) -> list[ManifestEntry]:
    try:
        return files.read_manifest(manifest_path)
    except AktenlotseError:
        return []


def _with_entry(info: ModelInfo, entry: ManifestEntry | None) -> ModelInfo:
    if entry is None:
        return replace(info, role="admin")
    return replace(info, role=entry.role, model_id=entry.id, name=entry.name or info.name)


def _check(
    path: Path,
    entry: ManifestEntry | None,
    expected_override: str | None,
    source: str,
    files: ModelFiles,
    verify: bool,
) -> ModelSelection:
    expected = (expected_override or (entry.sha256 if entry else "")).lower() or None

    def result(
        status: CheckStatus, info: ModelInfo | None = None, actual: str | None = None, problem: str = ""
    ) -> ModelSelection:
        return ModelSelection(path, status, info, entry, expected, actual, source, problem)

    try:
        info = _with_entry(files.inspect(path), entry)
    except ModelNotFound:
        return result(CheckStatus.MISSING, problem=f"Die Modelldatei {path} wurde nicht gefunden (Quelle: {source}).")
    except AktenlotseError as exc:
        return result(CheckStatus.INVALID, problem=f"{exc.user_message} ({path.name})")

    if expected is None:
        return result(CheckStatus.UNVERIFIED, info)
    if expected_override is None and entry is not None and entry.size and info.size_bytes != entry.size:
        return result(
            CheckStatus.MISMATCH,
            info,
            problem=f"{ModelChecksumMismatch.user_message} ({path.name}: {info.size_bytes} statt {entry.size} Bytes)",
        )
    if not verify:
        return result(CheckStatus.PENDING, info)
    try:
        actual = files.sha256(path)
    except ModelNotFound:
        return result(CheckStatus.MISSING, problem=f"Die Modelldatei {path} wurde nicht gefunden (Quelle: {source}).")
    except AktenlotseError as exc:
        return result(CheckStatus.INVALID, info, problem=f"{exc.user_message} ({path.name})")
    if actual.lower() != expected:
        return result(CheckStatus.MISMATCH, info, actual, f"{ModelChecksumMismatch.user_message} ({path.name})")
    return result(CheckStatus.OK, replace(info, sha256=actual), actual)
