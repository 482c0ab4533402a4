"""GgufModelFiles against the real test model and against broken files on tmp_path."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from app.adapters.model_files import CACHE_FILE, GgufModelFiles
from app.core.errors import InvalidModelFile, ModelError, ModelNotFound
from app.core.models import ModelFiles

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "models" / "manifest.toml"


def test_implements_the_port() -> None:
    files: ModelFiles = GgufModelFiles()
    assert callable(files.inspect)


def test_inspect_reads_the_gguf_header(test_model_path: Path) -> None:
    info = GgufModelFiles().inspect(test_model_path)
    assert info.architecture == "llama"
    assert info.context_length == 8192
    assert "<|im_start|>" in info.chat_template and "add_generation_prompt" in info.chat_template
    assert info.name and info.size_bytes == test_model_path.stat().st_size
    assert info.path == str(test_model_path)
    assert info.extra["vocab_size"] == "49152"  # counted without materialising the vocabulary
    assert info.extra["tensor_count"] == "272"


def test_manifest_lists_test_and_demo_model_with_sizes() -> None:
    entries = {e.role: e for e in GgufModelFiles().read_manifest(MANIFEST)}
    assert set(entries) == {"test", "default"}
    assert entries["test"].file == "SmolLM2-135M-Instruct.Q4_1.gguf" and entries["test"].size == 98362432
    assert entries["default"].sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert entries["default"].size > 10**9 and entries["default"].context_length == 32768
    assert all(len(e.sha256) == 64 and e.licence == "Apache-2.0" for e in entries.values())


def test_sha256_of_the_test_model_matches_the_manifest(test_model_path: Path, tmp_path: Path) -> None:
    entry = next(e for e in GgufModelFiles().read_manifest(MANIFEST) if e.role == "test")
    files = GgufModelFiles(cache_dir=tmp_path / "cache")
    assert files.sha256(test_model_path) == entry.sha256
    cache = json.loads((tmp_path / "cache" / CACHE_FILE).read_text(encoding="utf-8"))
    record = cache[str(test_model_path.resolve())]
    assert record["sha256"] == entry.sha256 and record["size"] == entry.size


def test_sha256_cache_is_used_until_size_or_mtime_change(tmp_path: Path) -> None:
    file = tmp_path / "modell.gguf"
    file.write_bytes(b"GGUF" + b"\0" * 100)
    files = GgufModelFiles(cache_dir=tmp_path / "cache")
    real = files.sha256(file)
    cache_file = tmp_path / "cache" / CACHE_FILE
    cache = json.loads(cache_file.read_text(encoding="utf-8"))
    cache[str(file.resolve())]["sha256"] = "f" * 64  # a value only the cache can know
    cache_file.write_text(json.dumps(cache), encoding="utf-8")

    assert GgufModelFiles(cache_dir=tmp_path / "cache").sha256(file) == "f" * 64  # cache hit, no rehash
    stat = file.stat()
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert files.sha256(file) == real  # mtime changed: hashed again
    assert GgufModelFiles(cache_dir=None).sha256(file) == real


def test_sha256_of_a_missing_file_is_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound):
        GgufModelFiles().sha256(tmp_path / "fehlt.gguf")


def test_list_gguf_only_lists_gguf_files_inside_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    (folder / "unterordner").mkdir(parents=True)
    outside = tmp_path / "anderswo.gguf"
    outside.write_bytes(b"GGUF")
    for name in ("b.gguf", "A.GGUF", "c.gguf.part", "notiz.txt", "unterordner/d.gguf"):
        (folder / name).write_bytes(b"GGUF")
    (folder / "raus.gguf").symlink_to(outside)
    (folder / "drin.gguf").symlink_to(folder / "b.gguf")
    (folder / "kaputt.gguf").symlink_to(tmp_path / "gibt-es-nicht.gguf")
    names = [p.name for p in GgufModelFiles().list_gguf(folder)]
    assert names == ["A.GGUF", "b.gguf", "drin.gguf"]
    assert GgufModelFiles().list_gguf(tmp_path / "fehlt") == []


def test_missing_manifest_is_empty_and_broken_manifest_is_a_model_error(tmp_path: Path) -> None:
    assert GgufModelFiles().read_manifest(tmp_path / "manifest.toml") == []
    (tmp_path / "manifest.toml").write_text('[[model]]\nid = "x"\nfile = "x.gguf"\n', encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        GgufModelFiles().read_manifest(tmp_path / "manifest.toml")
    assert "manifest.toml" in caught.value.user_message and "sha256" in caught.value.detail
    (tmp_path / "manifest.toml").write_text("[[model]\n", encoding="utf-8")
    with pytest.raises(ModelError):
        GgufModelFiles().read_manifest(tmp_path / "manifest.toml")


def test_missing_file_is_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound) as caught:
        GgufModelFiles().inspect(tmp_path / "fehlt.gguf")
    assert caught.value.user_message == "Die Modelldatei wurde nicht gefunden."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "leer"),
        ("Dies ist ein Brief, kein Modell.\n".encode(), "keine GGUF-Modelldatei"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "keine GGUF-Modelldatei"),
        (b"GGUF\x03\x00\x00\x00", "beschädigt oder unvollständig"),
    ],
    ids=["zero-bytes", "text", "pdf", "header-only"],
)
def test_non_gguf_files_are_invalid(tmp_path: Path, content: bytes, message: str) -> None:
    file = tmp_path / "modell.gguf"
    file.write_bytes(content)
    with pytest.raises(InvalidModelFile) as caught:
        GgufModelFiles().inspect(file)
    assert message in caught.value.user_message
    assert str(file) in caught.value.detail


def test_truncated_gguf_is_invalid(test_model_path: Path, tmp_path: Path) -> None:
    half = tmp_path / "halb.gguf"
    with test_model_path.open("rb") as src, half.open("wb") as dst:
        dst.write(src.read(test_model_path.stat().st_size // 2))
    with pytest.raises(InvalidModelFile) as caught:
        GgufModelFiles().inspect(half)
    assert "unvollständig" in caught.value.user_message
    assert "Tensordaten enden bei Byte 98362432" in caught.value.detail


def _mapped(file: Path) -> bool:
    """Whether this process has `file` memory-mapped (Linux: /proc/self/maps; elsewhere: assume not)."""
    maps = Path("/proc/self/maps")
    return maps.exists() and str(file.resolve()) in maps.read_text(encoding="utf-8", errors="replace")


def test_the_memory_map_is_released_even_when_inspect_fails(test_model_path: Path, tmp_path: Path) -> None:
    """A kept map would lock the file on Windows (an admin could not replace a broken download)."""
    copy = tmp_path / "kopie.gguf"
    with test_model_path.open("rb") as src, copy.open("wb") as dst:
        dst.write(src.read(4_000_000))
    with pytest.raises(InvalidModelFile) as caught:
        GgufModelFiles().inspect(copy)
    assert caught.value.__context__ is None  # no reader traceback kept alive by the error
    assert not _mapped(copy)
    shutil.copyfile(test_model_path, copy)
    assert GgufModelFiles().inspect(copy).architecture == "llama"
    assert not _mapped(copy)
    copy.unlink()
