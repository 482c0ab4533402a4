"""Which model file is chosen and how it is checked, with a fake ModelFiles (no disk, no hashing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.core.errors import InvalidModelFile, ModelError, ModelNotFound
from app.core.llm import ModelInfo
from app.core.models import CheckStatus, ManifestEntry
from app.services.model_selection import SOURCE_ADMIN, SOURCE_DEFAULT, SOURCE_TEST, found_models, select_model

MODELS = Path("/opt/aktenlotse/models")
MANIFEST = MODELS / "manifest.toml"
DEMO_SHA = "a" * 64
TEST_SHA = "b" * 64
ADMIN_SHA = "c" * 64

DEMO = ManifestEntry("demo-1.5b", "demo.gguf", DEMO_SHA, 1000, "Apache-2.0", "PyPI", 32768, "default", "Demo 1.5B")
TEST = ManifestEntry("test-135m", "test.gguf", TEST_SHA, 100, "Apache-2.0", "PyPI", 8192, "test", "Test 135M")


@dataclass
class FakeFile:
    sha256: str
    size: int = 1000
    invalid: bool = False


@dataclass
class FakeModelFiles:
    """ModelFiles over a dict of path -> FakeFile; records which files were hashed."""

    files: dict[Path, FakeFile] = field(default_factory=dict)
    entries: list[ManifestEntry] = field(default_factory=lambda: [DEMO, TEST])
    manifest_error: bool = False
    hashed: list[Path] = field(default_factory=list)

    def read_manifest(self, manifest: Path) -> list[ManifestEntry]:
        if self.manifest_error:
            raise ModelError("Das Modellverzeichnis (manifest.toml) ist fehlerhaft.", "kaputt")
        return list(self.entries)

    def list_gguf(self, folder: Path) -> list[Path]:
        return sorted(p for p in self.files if p.parent == folder and p.suffix == ".gguf")

    def sha256(self, file: Path) -> str:
        if file not in self.files:
            raise ModelNotFound(detail=str(file))
        self.hashed.append(file)
        return self.files[file].sha256

    def inspect(self, file: Path) -> ModelInfo:
        fake = self.files.get(file)
        if fake is None:
            raise ModelNotFound(detail=str(file))
        if fake.invalid:
            raise InvalidModelFile("Die Modelldatei ist unvollständig (abgeschnitten).", str(file))
        return ModelInfo(path=str(file), size_bytes=fake.size, architecture="llama", name="gguf-name",
                         context_length=4096, chat_template="{{ x }}")  # fmt: skip


def select(files: FakeModelFiles, **kwargs: object):
    args: dict[str, object] = dict(model_path=None, model_sha256=None, models_dir=MODELS, manifest_path=MANIFEST)
    args.update(kwargs)
    return select_model(files=files, **args)  # type: ignore[arg-type]


# -- explicit path --------------------------------------------------------------------------


def test_explicit_path_with_matching_checksum_is_ok() -> None:
    path = Path("/srv/modelle/produktiv.gguf")
    files = FakeModelFiles({path: FakeFile(ADMIN_SHA), MODELS / "demo.gguf": FakeFile(DEMO_SHA)})
    sel = select(files, model_path=path, model_sha256=ADMIN_SHA.upper())
    assert sel.status is CheckStatus.OK and sel.usable
    assert sel.path == path and sel.source == "Richtlinie"
    assert sel.expected_sha256 == sel.actual_sha256 == ADMIN_SHA
    assert sel.info is not None and sel.info.sha256 == ADMIN_SHA and sel.info.role == "admin"
    assert not sel.info.is_demo


def test_explicit_path_with_wrong_checksum_is_mismatch() -> None:
    path = Path("/srv/modelle/produktiv.gguf")
    files = FakeModelFiles({path: FakeFile("d" * 64)})
    sel = select(files, model_path=path, model_sha256=ADMIN_SHA, path_source="Einstellung")
    assert sel.status is CheckStatus.MISMATCH and not sel.usable
    assert sel.actual_sha256 == "d" * 64 and sel.expected_sha256 == ADMIN_SHA
    assert "Prüfsumme" in sel.problem and "produktiv.gguf" in sel.problem
    assert sel.source == "Einstellung"


def test_explicit_path_missing_is_reported_not_raised() -> None:
    path = Path("/srv/modelle/fehlt.gguf")
    files = FakeModelFiles({MODELS / "demo.gguf": FakeFile(DEMO_SHA)})
    sel = select(files, model_path=path)
    assert sel.status is CheckStatus.MISSING and sel.info is None and not sel.usable
    assert str(path) in sel.problem and "nicht gefunden" in sel.problem
    assert sel.path == path  # the demo model is NOT silently used instead


def test_explicit_path_without_checksum_is_unverified_and_not_hashed() -> None:
    path = Path("/srv/modelle/produktiv.gguf")
    files = FakeModelFiles({path: FakeFile(ADMIN_SHA)})
    sel = select(files, model_path=path)
    assert sel.status is CheckStatus.UNVERIFIED and sel.usable
    assert sel.expected_sha256 is None and sel.actual_sha256 is None and files.hashed == []


def test_explicit_path_named_like_a_manifest_entry_uses_its_checksum_and_role() -> None:
    path = Path("/srv/kopie/demo.gguf")
    files = FakeModelFiles({path: FakeFile(DEMO_SHA)})
    sel = select(files, model_path=path, path_source="Einstellung")
    assert sel.status is CheckStatus.OK and sel.entry == DEMO
    assert sel.info is not None and sel.info.role == "default" and sel.info.is_demo
    assert sel.info.name == "Demo 1.5B" and sel.info.model_id == "demo-1.5b"


def test_relative_explicit_path_is_taken_from_the_models_folder() -> None:
    files = FakeModelFiles({MODELS / "produktiv.gguf": FakeFile(ADMIN_SHA)})
    sel = select(files, model_path=Path("produktiv.gguf"))
    assert sel.path == MODELS / "produktiv.gguf" and sel.status is CheckStatus.UNVERIFIED


# -- automatic choice -------------------------------------------------------------------------


def test_admin_file_in_models_folder_is_preferred_over_the_demo() -> None:
    files = FakeModelFiles({
        MODELS / "demo.gguf": FakeFile(DEMO_SHA),
        MODELS / "test.gguf": FakeFile(TEST_SHA, size=100),
        MODELS / "z-verwaltung.gguf": FakeFile(ADMIN_SHA),
        MODELS / "a-verwaltung.gguf": FakeFile(ADMIN_SHA),
    })  # fmt: skip
    sel = select(files)
    assert sel.path == MODELS / "a-verwaltung.gguf"  # the first by name
    assert sel.source == SOURCE_ADMIN and sel.status is CheckStatus.UNVERIFIED
    assert sel.info is not None and sel.info.role == "admin"


def test_demo_model_is_chosen_and_verified_against_the_manifest() -> None:
    files = FakeModelFiles({MODELS / "demo.gguf": FakeFile(DEMO_SHA), MODELS / "test.gguf": FakeFile(TEST_SHA, 100)})
    sel = select(files)
    assert sel.status is CheckStatus.OK and sel.source == SOURCE_DEFAULT
    assert sel.info is not None and sel.info.role == "default" and sel.info.is_demo
    assert files.hashed == [MODELS / "demo.gguf"]


def test_test_model_is_the_last_resort() -> None:
    files = FakeModelFiles({MODELS / "test.gguf": FakeFile(TEST_SHA, size=100)})
    sel = select(files)
    assert sel.status is CheckStatus.OK and sel.source == SOURCE_TEST
    assert sel.info is not None and sel.info.role == "test" and sel.info.display_name == "Test 135M"


def test_no_model_at_all_is_missing_with_a_german_hint() -> None:
    sel = select(FakeModelFiles({}))
    assert sel.status is CheckStatus.MISSING and not sel.usable
    assert sel.path == MODELS / "demo.gguf" and sel.entry == DEMO
    assert "kein Sprachmodell gefunden" in sel.problem and str(MODELS) in sel.problem


def test_demo_with_changed_content_is_mismatch() -> None:
    files = FakeModelFiles({MODELS / "demo.gguf": FakeFile("e" * 64)})
    sel = select(files)
    assert sel.status is CheckStatus.MISMATCH and sel.actual_sha256 == "e" * 64
    assert sel.info is not None  # the header was readable, the content is not the released one


def test_demo_with_wrong_size_is_mismatch_without_hashing() -> None:
    files = FakeModelFiles({MODELS / "demo.gguf": FakeFile(DEMO_SHA, size=999)})
    sel = select(files)
    assert sel.status is CheckStatus.MISMATCH and files.hashed == []
    assert "999 statt 1000 Bytes" in sel.problem


def test_truncated_file_is_invalid_and_not_hashed() -> None:
    files = FakeModelFiles({MODELS / "demo.gguf": FakeFile(DEMO_SHA, invalid=True)})
    sel = select(files)
    assert sel.status is CheckStatus.INVALID and not sel.usable and sel.info is None
    assert "unvollständig" in sel.problem and "demo.gguf" in sel.problem
    assert files.hashed == []


def test_policy_checksum_applies_to_the_automatically_chosen_file() -> None:
    files = FakeModelFiles({MODELS / "demo.gguf": FakeFile(DEMO_SHA)})
    sel = select(files, model_sha256=ADMIN_SHA)
    assert sel.status is CheckStatus.MISMATCH and sel.expected_sha256 == ADMIN_SHA


def test_without_verify_nothing_is_hashed_but_the_expected_checksum_is_kept() -> None:
    files = FakeModelFiles({MODELS / "demo.gguf": FakeFile("e" * 64)})
    sel = select(files, verify=False)
    assert sel.status is CheckStatus.PENDING and sel.usable
    assert sel.expected_sha256 == DEMO_SHA and sel.actual_sha256 is None and files.hashed == []


def test_broken_manifest_does_not_stop_the_app() -> None:
    files = FakeModelFiles({MODELS / "demo.gguf": FakeFile(DEMO_SHA)}, manifest_error=True)
    sel = select(files)
    assert sel.status is CheckStatus.UNVERIFIED and sel.path == MODELS / "demo.gguf"
    assert sel.source == SOURCE_ADMIN  # without a manifest every file is an admin file


# -- listing ------------------------------------------------------------------------------


def test_found_models_lists_roles_and_problems_admin_first() -> None:
    files = FakeModelFiles({
        MODELS / "test.gguf": FakeFile(TEST_SHA, size=100),
        MODELS / "demo.gguf": FakeFile(DEMO_SHA),
        MODELS / "kaputt.gguf": FakeFile(ADMIN_SHA, invalid=True),
        MODELS / "verwaltung.gguf": FakeFile(ADMIN_SHA),
    })  # fmt: skip
    infos = found_models(MODELS, MANIFEST, files)
    assert [(Path(i.path).name, i.role) for i in infos] == [
        ("kaputt.gguf", "admin"),
        ("verwaltung.gguf", "admin"),
        ("demo.gguf", "default"),
        ("test.gguf", "test"),
    ]
    assert "unvollständig" in infos[0].extra["problem"] and infos[0].size_bytes == 0
    assert "problem" not in infos[1].extra
    assert infos[2].is_demo and infos[2].name == "Demo 1.5B"
    assert files.hashed == []


@pytest.mark.parametrize("role", ["default", "test"])
def test_manifest_models_are_never_admin_files(role: str) -> None:
    entry = DEMO if role == "default" else TEST
    files = FakeModelFiles({MODELS / entry.file: FakeFile(entry.sha256, size=entry.size)})
    assert [i.role for i in found_models(MODELS, MANIFEST, files)] == [role]
