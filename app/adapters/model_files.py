"""Model files on disk: reads the manifest, lists and hashes GGUF files, reads GGUF headers (ModelFiles port)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
import sys
import threading
import tomllib
from pathlib import Path
from typing import Any

from app.core.errors import InvalidModelFile, ModelError, ModelNotFound
from app.core.llm import ModelInfo
from app.core.models import ManifestEntry

GGUF_MAGIC = b"GGUF"
HASH_BLOCK = 1 << 20
CACHE_FILE = "model-sha256.json"
_MANIFEST_KEYS = ("id", "file", "sha256", "size", "licence", "source", "context_length", "role")



def require_gguf_magic(file: Path) -> int:
    """Check that `file` exists, is readable and starts with the GGUF magic; return its size.

    Raises ModelNotFound, ModelError (unreadable) or InvalidModelFile with German messages.
    """
    try:
        size = file.stat().st_size
        if not file.is_file():
            raise InvalidModelFile(detail=f"{file} ist keine Datei.")
        with file.open("rb") as fh:
            magic = fh.read(4)
    except FileNotFoundError:
        raise ModelNotFound(detail=str(file)) from None
    except OSError as exc:
        raise ModelError("Die Modelldatei kann nicht gelesen werden.", f"{file}: {exc}") from None
    if size == 0:
        raise InvalidModelFile("Die Modelldatei ist leer (0 Bytes).", str(file))
    if magic != GGUF_MAGIC:
        raise InvalidModelFile(
            "Die Datei ist keine GGUF-Modelldatei.", f"{file}: Dateikennung {magic!r} statt {GGUF_MAGIC!r}"
        )
    return size

class GgufModelFiles:
    """Implements `app.core.models.ModelFiles`. `cache_dir` keeps checksums so a large file is hashed once."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_file = cache_dir / CACHE_FILE if cache_dir is not None else None
        self._lock = threading.Lock()

    # -- manifest -------------------------------------------------------------------
    def read_manifest(self, manifest: Path) -> list[ManifestEntry]:
        """The `[[model]]` entries; a missing manifest is an empty one, a broken one a ModelError."""
        try:
            data = tomllib.loads(manifest.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ModelError("Das Modellverzeichnis (manifest.toml) kann nicht gelesen werden.", f"{manifest}: {exc}")
        entries: list[ManifestEntry] = []
        for index, raw in enumerate(data.get("model", [])):
            missing = [key for key in _MANIFEST_KEYS if key not in raw]
            try:
                if missing:
                    raise ValueError(f"fehlende Schlüssel {missing}")
                entries.append(
                    ManifestEntry(
                        id=str(raw["id"]),
                        file=str(raw["file"]),
                        sha256=str(raw["sha256"]).strip().lower(),
                        size=int(raw["size"]),
                        licence=str(raw["licence"]),
                        source=str(raw["source"]),
                        context_length=int(raw["context_length"]),
                        role=str(raw["role"]),
                        name=str(raw.get("name", "")),
                    )
                )
            except (TypeError, ValueError) as exc:
                raise ModelError(
                    "Das Modellverzeichnis (manifest.toml) ist fehlerhaft.", f"{manifest}, Eintrag {index + 1}: {exc}"
                ) from None
        return entries

    # -- files ----------------------------------------------------------------------
    def list_gguf(self, folder: Path) -> list[Path]:
        """Regular `*.gguf` files directly in `folder`, sorted; symlinks pointing out of the folder are ignored."""
        try:
            root = folder.resolve(strict=True)
            children = list(folder.iterdir())
        except OSError:
            return []
        found: list[Path] = []
        for child in children:
            if not child.name.lower().endswith(".gguf") or child.name.startswith("."):
                continue
            try:
                if child.is_symlink() and not child.resolve(strict=True).is_relative_to(root):
                    continue
                if child.is_file():
                    found.append(child)
            except OSError:  # dangling link, no permission
                continue
        return sorted(found, key=lambda p: p.name.lower())

    def sha256(self, file: Path) -> str:
        """Hash in 1 MiB blocks; cached per resolved path, valid while size and mtime_ns are unchanged."""
        try:
            resolved = file.resolve(strict=True)
            stat = resolved.stat()
        except OSError as exc:
            raise ModelNotFound(detail=f"{file}: {exc}") from None
        key = str(resolved)
        cached = self._cache_lookup(key, stat.st_size, stat.st_mtime_ns)
        if cached:
            return cached
        digest = hashlib.sha256()
        try:
            with resolved.open("rb") as fh:
                while block := fh.read(HASH_BLOCK):
                    digest.update(block)
        except OSError as exc:
            raise ModelError("Die Modelldatei kann nicht gelesen werden.", f"{file}: {exc}") from None
        value = digest.hexdigest()
        self._cache_store(key, stat.st_size, stat.st_mtime_ns, value)
        return value

    def _read_cache(self) -> dict[str, Any]:
        if self._cache_file is None:
            return {}
        try:
            data = json.loads(self._cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _cache_lookup(self, key: str, size: int, mtime_ns: int) -> str | None:
        with self._lock:
            record = self._read_cache().get(key)
        if isinstance(record, dict) and record.get("size") == size and record.get("mtime_ns") == mtime_ns:
            value = record.get("sha256")
            return value if isinstance(value, str) and len(value) == 64 else None
        return None

    def _cache_store(self, key: str, size: int, mtime_ns: int, value: str) -> None:
        if self._cache_file is None:
            return
        with self._lock:
            data = self._read_cache()
            data[key] = {"size": size, "mtime_ns": mtime_ns, "sha256": value}
            try:
                self._cache_file.parent.mkdir(parents=True, exist_ok=True)
                tmp = self._cache_file.with_name(f"{self._cache_file.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
                os.replace(tmp, self._cache_file)
            except OSError:
                pass  # a cache that cannot be written only costs time

    # -- GGUF header ----------------------------------------------------------------
    def inspect(self, file: Path) -> ModelInfo:
        """Read GGUF metadata (no weights are loaded); checks that the tensor data is complete."""
        size = require_gguf_magic(file)
        reader_class = _header_reader_class()
        # The error is raised outside the `except` block: as __context__ the reader's traceback would keep
        # the file memory-mapped (and, on Windows, locked) for as long as the error object lives.
        problem: InvalidModelFile | None = None
        try:
            reader = reader_class(file, "r")
        except _Truncated as exc:
            problem = InvalidModelFile(
                "Die Modelldatei ist unvollständig (abgeschnitten), etwa durch einen abgebrochenen Download.",
                f"{file}: {exc}",
            )
        except Exception as exc:  # the reader raises ValueError, IndexError, KeyError … on a broken header
            problem = InvalidModelFile(
                "Die Modelldatei ist beschädigt oder unvollständig.", f"{file}: {type(exc).__name__}: {exc}"
            )
        if problem is not None:
            raise problem
        try:
            return _model_info(reader, file, size)
        finally:
            del reader


def _model_info(reader: Any, file: Path, size: int) -> ModelInfo:
    fields = reader.fields

    def scalar(key: str) -> Any:
        field = fields.get(key)
        if field is None:
            return None
        try:
            return field.contents()
        except (ValueError, IndexError, UnicodeDecodeError):
            return None

    architecture = str(scalar("general.architecture") or "")
    context = scalar(f"{architecture}.context_length") if architecture else None
    extra = {
        "gguf_version": str(scalar("GGUF.version") or ""),
        "tensor_count": str(len(reader.tensors)),
        "file_type": str(scalar("general.file_type") if scalar("general.file_type") is not None else ""),
        "size_label": str(scalar("general.size_label") or ""),
        "licence": str(scalar("general.license") or ""),
        "vocab_size": str(reader.array_lengths.get("tokenizer.ggml.tokens", "")),
    }
    return ModelInfo(
        path=str(file),
        size_bytes=size,
        architecture=architecture,
        name=str(scalar("general.name") or scalar("general.basename") or ""),
        context_length=int(context) if isinstance(context, int) else 0,
        chat_template=str(scalar("tokenizer.chat_template") or ""),
        extra={k: v for k, v in extra.items() if v},
    )


class _Truncated(Exception):
    """The tensor data runs past the end of the file."""


@functools.cache
def _header_reader_class() -> type:
    """A `gguf.GGUFReader` that skips the contents of array fields (the 150 000-entry vocabularies).

    The stock reader builds two numpy views per vocabulary string, which takes seconds; we only need
    scalar keys and the tensor table. Arrays are walked with `struct` to find their end and recorded
    by length only (`array_lengths`). Overrides `_get_field_parts` (stable since gguf 0.6, pinned <1).
    """
    try:
        import gguf
        import numpy as np
    except ImportError as exc:
        raise ModelError(
            "Die Komponente zum Lesen von Modelldateien (Python-Paket „gguf“) fehlt. "
            "Bitte die Installation reparieren.",
            repr(exc),
        ) from None

    value_type = gguf.GGUFValueType
    fixed_sizes = {
        value_type.UINT8: 1, value_type.INT8: 1, value_type.BOOL: 1,
        value_type.UINT16: 2, value_type.INT16: 2,
        value_type.UINT32: 4, value_type.INT32: 4, value_type.FLOAT32: 4,
        value_type.UINT64: 8, value_type.INT64: 8, value_type.FLOAT64: 8,
    }  # fmt: skip

    class HeaderReader(gguf.GGUFReader):  # type: ignore[misc]
        def __init__(self, path: Path, mode: str = "r") -> None:
            self.array_lengths: dict[str, int] = {}
            self._pending_array_length: int | None = None
            super().__init__(path, mode)

        def _endian(self) -> str:
            little = (sys.byteorder == "little") == (self.byte_order == "I")
            return "<" if little else ">"

        def _skip_value(self, offs: int, gtype: Any) -> int:
            """Size in bytes of one value of `gtype` at `offs`, without building numpy views."""
            if gtype in fixed_sizes:
                return fixed_sizes[gtype]
            endian = self._endian()
            if gtype == value_type.STRING:
                (length,) = struct.unpack_from(endian + "Q", self.data, offs)
                return 8 + length
            if gtype == value_type.ARRAY:
                itype, count = struct.unpack_from(endian + "IQ", self.data, offs)
                itype = value_type(itype)
                if itype in fixed_sizes:
                    return 12 + count * fixed_sizes[itype]
                pos = offs + 12
                if itype == value_type.STRING:  # the hot loop: vocabularies and merges
                    unpack, data = struct.Struct(endian + "Q").unpack_from, self.data
                    for _ in range(count):
                        pos += 8 + unpack(data, pos)[0]
                    return pos - offs
                for _ in range(count):
                    pos += self._skip_value(pos, itype)
                return pos - offs
            raise ValueError(f"unbekannter GGUF-Werttyp {gtype}")

        def _get_field_parts(self, orig_offs: int, raw_type: int) -> tuple[int, list[Any], list[int], list[Any]]:
            gtype = value_type(raw_type)
            if gtype != value_type.ARRAY:
                return super()._get_field_parts(orig_offs, raw_type)
            size = self._skip_value(orig_offs, gtype)
            if orig_offs + size > len(self.data):
                raise _Truncated(f"Metadaten enden bei Byte {orig_offs + size}, die Datei hat {len(self.data)} Bytes")
            raw_itype = self._get(orig_offs, np.uint32)
            alen = self._get(orig_offs + 4, np.uint64)
            self._pending_array_length = int(alen[0])
            return size, [raw_itype, alen], [], [gtype, value_type(int(raw_itype[0]))]

        def _push_field(self, field: Any, skip_sum: bool = False) -> int:
            if self._pending_array_length is not None:
                self.array_lengths[field.name] = self._pending_array_length
                self._pending_array_length = None
            return super()._push_field(field, skip_sum)

        def _build_tensors(self, start_offs: int, fields: list[Any]) -> None:
            end = start_offs
            for field in fields:
                _len, _name, _n_dims, dims, raw_dtype, offset_tensor = field.parts
                block_size, type_size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(int(raw_dtype[0]))]
                n_bytes = int(np.prod(dims, dtype=np.uint64)) * type_size // block_size
                end = max(end, start_offs + int(offset_tensor[0]) + n_bytes)
            if end > len(self.data):
                raise _Truncated(f"Tensordaten enden bei Byte {end}, die Datei hat nur {len(self.data)} Bytes")
            super()._build_tensors(start_offs, fields)

    return HeaderReader
