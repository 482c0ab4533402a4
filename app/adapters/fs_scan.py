"""Walks the folders to index, inside the policy's allowed roots only, and reports every file it finds.

`FolderScanner(allowed_roots, max_file_mb, exclude_patterns).scan(folders)` yields `ScannedFile`s:
- every path is resolved; anything whose real path lies outside all allowed roots is not followed (a symlink or
  junction leading out is reported REFUSED when it is a file and silently not entered when it is a folder);
- a real file reached twice (e.g. through a symlink inside the root) is reported once;
- lock, temp and system files (`~$*`, `.~lock.*#`, `*.tmp`, `Thumbs.db`, `.DS_Store`, hidden names) are skipped;
- `exclude_patterns` (fnmatch, against the path relative to the root with `/` and against the name) prune folders
  and mark files REFUSED; files over `max_file_mb` are REFUSED with their size.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from app.core.documents import ScannedFile

_SKIP_NAMES = {"thumbs.db", ".ds_store", "desktop.ini"}


def is_junk(name: str) -> bool:
    """Lock, temp and system files nobody wants indexed."""
    low = name.lower()
    return (
        name.startswith("~$")
        or (name.startswith(".~lock.") and name.endswith("#"))
        or low.endswith(".tmp")
        or low in _SKIP_NAMES
        or name.startswith(".")
    )


def _within(path: Path, roots: Sequence[Path]) -> Path | None:
    for root in roots:
        if path == root or path.is_relative_to(root):
            return root
    return None


class FolderScanner:
    """Finds indexable files under the given folders, inside the allowed roots (see module docstring)."""

    def __init__(self, allowed_roots: Sequence[Path], max_file_mb: int = 100,
                 exclude_patterns: Sequence[str] = ()) -> None:
        self.allowed_roots = [Path(os.path.realpath(r)) for r in allowed_roots]
        self.max_bytes = int(max_file_mb) * 1024 * 1024
        self.max_file_mb = max_file_mb
        self.exclude_patterns = list(exclude_patterns)

    def allowed_root_of(self, path: Path | str) -> Path | None:
        """The allowed root the real path of `path` lies in, or None."""
        return _within(Path(os.path.realpath(path)), self.allowed_roots)

    def _excluded(self, rel: str, name: str) -> bool:
        return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in self.exclude_patterns)

    def scan(self, folders: Sequence[Path | str]) -> Iterator[ScannedFile]:
        seen_files: set[str] = set()
        seen_dirs: set[str] = set()
        for folder in folders:
            real = Path(os.path.realpath(folder))
            root = _within(real, self.allowed_roots)
            if root is None:
                continue  # callers check and explain; the scanner just never leaves the allowed roots
            if real.is_file():
                entry = self._file(real, root, real.name, seen_files)
                if entry is not None:
                    yield entry
                continue
            yield from self._walk(real, root, seen_files, seen_dirs)

    def _walk(self, top: Path, root: Path, seen_files: set[str], seen_dirs: set[str]) -> Iterator[ScannedFile]:
        stack = [top]
        while stack:
            folder = stack.pop()
            key = str(folder)
            if key in seen_dirs:
                continue
            seen_dirs.add(key)
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            subdirs: list[Path] = []
            for entry in entries:
                name = entry.name
                if is_junk(name):
                    continue
                try:
                    is_link = entry.is_symlink() or (os.name == "nt" and entry.is_junction())
                    is_dir = entry.is_dir(follow_symlinks=True)
                except OSError:
                    continue
                if is_link:
                    target = Path(os.path.realpath(entry.path))
                    if _within(target, self.allowed_roots) is None:
                        if not is_dir and os.path.exists(target):
                            yield ScannedFile(entry.path, str(root), 0, 0,
                                              refused="Verknüpfung zeigt aus den freigegebenen Ordnern heraus.")
                        continue
                    path = target
                else:
                    path = Path(entry.path)
                rel = self._rel(path, root)
                if is_dir:
                    if not self._excluded(rel, name) and not self._excluded(rel + "/", name):
                        subdirs.append(path)
                    continue
                if self._excluded(rel, name):
                    seen_files.add(str(path))
                    yield ScannedFile(str(path), str(root), 0, 0, refused="Durch die Richtlinie ausgeschlossen.")
                    continue
                item = self._file(path, root, name, seen_files)
                if item is not None:
                    yield item
            stack.extend(reversed(subdirs))

    @staticmethod
    def _rel(path: Path, root: Path) -> str:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return path.name

    def _file(self, path: Path, root: Path, name: str, seen: set[str]) -> ScannedFile | None:
        key = str(path)
        if key in seen or is_junk(name):
            return None
        seen.add(key)
        try:
            st = path.stat()
        except OSError:
            return None
        if not path.is_file():
            return None
        if st.st_size > self.max_bytes:
            return ScannedFile(key, str(root), st.st_size, st.st_mtime_ns, refused=(
                f"Datei zu groß ({st.st_size / 2**20:.1f} MB; erlaubt sind höchstens {self.max_file_mb} MB)."
            ))
        return ScannedFile(key, str(root), st.st_size, st.st_mtime_ns)
