"""Documents as the library sees them: extracted blocks, chunks with their citation data, file statuses, hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import PurePath

from app.core.progress import Progress


class FileStatus(str, Enum):
    """Outcome of indexing one file; every file ends with one of these and a German reason."""

    PENDING = "pending"  # known, not yet (completely) indexed
    INDEXED = "indexed"  # text chunks stored (lexically searchable at least)
    EMPTY = "empty"  # opened fine, no text in it
    NO_TEXT_LAYER = "no_text_layer"  # PDF page(s) without text: OCR needed
    ENCRYPTED = "encrypted"
    UNSUPPORTED = "unsupported"  # a format we do not read (legacy .doc, images, …)
    REFUSED = "refused"  # too large, zip bomb, outside allowed roots, excluded by policy
    ERROR = "error"  # corrupt, crashed the reader, timed out

    @property
    def label_de(self) -> str:
        return {
            FileStatus.PENDING: "wartet",
            FileStatus.INDEXED: "indexiert",
            FileStatus.EMPTY: "leer",
            FileStatus.NO_TEXT_LAYER: "keine Textebene – OCR nötig",
            FileStatus.ENCRYPTED: "verschlüsselt",
            FileStatus.UNSUPPORTED: "Format nicht unterstützt",
            FileStatus.REFUSED: "abgelehnt",
            FileStatus.ERROR: "Fehler",
        }[self]


@dataclass(frozen=True, slots=True)
class Block:
    """A run of text from a document in reading order: a paragraph, a heading, a table row, a page's text.

    `heading_level` > 0 marks a heading (1 = top). `page` is 1-based where the format has pages, else None.
    """

    text: str
    page: int | None = None
    heading_level: int = 0
    kind: str = "text"  # "text", "heading", "table", "header", "footer", "textbox", "attachment"


@dataclass(frozen=True, slots=True)
class ExtractedDocument:
    """What a reader made of a file. `warnings` are German notes (e.g. "Seite 3: keine Textebene – OCR nötig")."""

    path: str
    format: str  # "pdf", "docx", "odt", "txt", "md", "html", "eml"
    blocks: tuple[Block, ...]
    title: str = ""
    page_count: int | None = None
    pages_without_text: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def text_length(self) -> int:
        return sum(len(b.text) for b in self.blocks)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A citable piece of a document: its text plus everything needed to point a person back to it.

    `start`/`end` are character offsets into the document's full text (`"\\n\\n".join(block texts)` as built by the
    chunker), so a viewer can highlight the passage. `heading_path` is e.g. ("VwVfG", "§ 28 Anhörung Beteiligter").
    `collection` is the chunk's origin: "" for the caseworker's own local index, else the name of the departmental
    collection on the data centre's shared-knowledge server (*Fachbereich*); then `path` is the path as published
    (relative, e.g. "GewO.md") and there is no local file to open.
    """

    id: str
    doc_id: str
    path: str
    text: str
    ordinal: int
    start: int
    end: int
    page: int | None = None
    page_end: int | None = None
    heading_path: tuple[str, ...] = ()
    collection: str = ""

    @property
    def is_shared(self) -> bool:
        """True for departmental knowledge from the shared-knowledge server (not a file on this computer)."""
        return bool(self.collection)

    @property
    def origin_de(self) -> str:
        """"Fachbereich „Gewerberecht“" for shared chunks, "" for the caseworker's own documents."""
        return f"Fachbereich „{self.collection}“" if self.collection else ""

    @property
    def heading(self) -> str:
        return " › ".join(self.heading_path)

    def embedding_text(self) -> str:
        """What the embedder and BM25 see: the heading path gives a chunk its context."""
        return f"{self.heading}\n{self.text}" if self.heading_path else self.text

    @property
    def file_name(self) -> str:
        return PurePath(self.path).name

    @property
    def section(self) -> str:
        """The nearest heading (e.g. "§ 28 Anhörung Beteiligter"), "" if the document has none."""
        return self.heading_path[-1] if self.heading_path else ""

    @property
    def page_label(self) -> str:
        """"S. 2", "S. 2–3" or "" without page numbers."""
        if self.page is None:
            return ""
        return f"S. {self.page}" if self.page_end in (None, self.page) else f"S. {self.page}–{self.page_end}"

    def location_de(self) -> str:
        """"bescheid.pdf, S. 2, § 28 Anhörung Beteiligter" – file, then page, then section when known; shared
        chunks are marked first: "Fachbereich „Gewerberecht“: GewO.md, § 14 Anzeigepflicht"."""
        place = ", ".join(p for p in (self.file_name, self.page_label, self.section) if p)
        return f"{self.origin_de}: {place}" if self.collection else place

    def citable_text(self) -> str:
        """What a citation of this chunk vouches for: its location, its heading path and its text."""
        return f"{self.location_de()}\n{self.heading}\n{self.text}"


class ChunkRef:
    """Mixin for a numbered reference to a chunk (`self.chunk`): where it is, in the words a person reads."""

    __slots__ = ()
    chunk: Chunk

    @property
    def path(self) -> str:
        return self.chunk.path

    @property
    def file_name(self) -> str:
        return self.chunk.file_name

    @property
    def section(self) -> str:
        return self.chunk.section

    @property
    def page_label(self) -> str:
        return self.chunk.page_label

    @property
    def is_shared(self) -> bool:
        return self.chunk.is_shared

    @property
    def collection(self) -> str:
        return self.chunk.collection

    def location_de(self) -> str:
        return self.chunk.location_de()


class SearchMode(str, Enum):
    LEXICAL = "lexical"
    DENSE = "dense"
    HYBRID = "hybrid"

    @property
    def label_de(self) -> str:
        return {SearchMode.LEXICAL: "Stichwortsuche", SearchMode.DENSE: "Bedeutungssuche",
                SearchMode.HYBRID: "kombinierte Suche"}[self]


@dataclass(frozen=True, slots=True)
class Hit:
    chunk: Chunk
    score: float
    mode: SearchMode
    details: dict[str, float] = field(default_factory=dict)  # e.g. {"bm25_rank": 1, "dense_rank": 4}


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One row of the index manifest."""

    path: str
    size: int
    mtime_ns: int
    content_hash: str
    status: FileStatus
    reason: str = ""
    chunk_ids: tuple[str, ...] = ()
    embedded: bool = False  # dense vectors stored for all chunks
    format: str = ""
    page_count: int | None = None
    root: str = ""


@dataclass(frozen=True, slots=True)
class ScannedFile:
    """A file found under an allowed root. `refused` is a German reason when policy forbids indexing it."""

    path: str  # the resolved (real) path; the manifest key
    root: str
    size: int
    mtime_ns: int
    refused: str = ""


@dataclass(frozen=True, slots=True)
class FileEvent:
    """What happened to one file during an indexing run (for per-file status in the UI and CLI).

    `action`: "indexed" (lexically searchable), "failed" (status/reason say why), "removed" (deleted or moved away),
    "embedded" (dense vectors stored for all its chunks).
    """

    path: str
    status: FileStatus
    reason: str = ""
    chunks: int = 0
    action: str = "indexed"


@dataclass(frozen=True, slots=True)
class IndexProgress(Progress):
    """Progress of an indexing run: a Progress (so generic runners show it) plus the phase and time left.

    `phase` is "scan", "lexical" (extract, chunk, BM25), "embed" (dense vectors) or "done"; `eta_s` is the estimated
    seconds left in this phase (None while unknown), from a moving average of recent throughput.
    """

    phase: str = ""
    eta_s: float | None = None
