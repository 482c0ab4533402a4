"""The one settings schema. Every key can be set by admin policy (and is then locked) or by the user.

The policy file (`/etc/aktenlotse/policy.toml`), the registry values under
`HKLM\\Software\\Policies\\Aktenlotse`, the MSI properties and the ADMX templates all use these names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1


class Settings(BaseModel):
    """Effective settings. `None` for a path means: the default location (see `app.config.paths`)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    allowed_roots: list[Path] = Field(
        default_factory=list,
        description="Ordner, die Aktenlotse lesen und indexieren darf (rekursiv). Leer: nur das Dokumente-Verzeichnis des Benutzers.",
    )
    max_file_mb: int = Field(
        default=100, ge=1, le=4096, description="Größte Datei in MB, die indexiert wird; größere werden mit Hinweis übersprungen."
    )
    exclude_patterns: list[str] = Field(
        default_factory=list,
        description="Dateien und Ordner, die nie indexiert werden (Muster wie *.tmp oder Personalakten/*).",
    )
    model_path: Path | None = Field(
        default=None,
        description="GGUF-Modelldatei. Leer: das Standardmodell aus models/manifest.toml im Modellordner.",
    )
    model_sha256: str | None = Field(
        default=None,
        description="Erwartete SHA-256-Prüfsumme der Modelldatei (64 Hex-Zeichen). Gesetzt: eine abweichende Datei wird nicht geladen.",
    )
    models_dir: Path | None = Field(
        default=None,
        description="Ordner, in dem nach GGUF-Modellen gesucht wird. Leer: models/ neben dem Programm.",
    )
    data_dir: Path | None = Field(
        default=None,
        description="Ordner für Benutzerdaten (Entwürfe, Statistik). Leer: Standardort des Betriebssystems oder AKTENLOTSE_HOME.",
    )
    index_dir: Path | None = Field(
        default=None, description="Ordner für den Dokumentenindex. Leer: <data_dir>/index."
    )
    audit_dir: Path | None = Field(
        default=None, description="Ordner für das Prüfprotokoll (Audit-Log). Leer: <data_dir>/audit."
    )
    letter_types_dir: Path | None = Field(
        default=None,
        description="Ordner mit eigenen Brieftypen der Verwaltung (*.toml); sie ergänzen oder ersetzen die mitgelieferten.",
    )
    text_blocks_dir: Path | None = Field(
        default=None,
        description="Ordner mit Textbausteinen der Verwaltung (*.txt), z. B. rechtsbehelfsbelehrung.txt für Bescheide.",
    )
    letterhead_path: Path | None = Field(
        default=None, description="Briefvorlage der Behörde (.docx oder .dotx). Leer: das eingebaute Layout nach DIN 5008."
    )
    sender_line: str | None = Field(
        default=None, description="Absenderzeile über dem Anschriftfeld, z. B. „Stadt Musterstadt · Marktplatz 1 · 12345 Musterstadt“."
    )
    authority_name: str | None = Field(
        default=None, description="Name der Behörde im Briefkopf des eingebauten Layouts, z. B. „Stadt Musterstadt – Ordnungsamt“."
    )
    audit_content: bool = Field(
        default=False,
        description="Fragen und KI-Texte im Prüfprotokoll mitschreiben. Aus (Standard): nur Kennungen, Prüfsummen und Zahlen.",
    )
    security_officers: list[str] = Field(
        default_factory=list,
        description="Benutzerkonten (z. B. VERWALTUNG\\m.muster), die das Prüfprotokoll in der Anwendung einsehen dürfen.",
    )
    review_require_source_opened: bool = Field(
        default=False, description="Bestätigen erst, wenn mindestens eine Quelle des Entwurfs geöffnet wurde."
    )
    review_no_open_placeholders: bool = Field(
        default=False,
        description="Bestätigen erst, wenn kein Platzhalter wie „[Frist eintragen]“ mehr offen ist (Abhaken genügt dann nicht).",
    )
    review_min_seconds: int = Field(
        default=0, ge=0, le=3600,
        description="Mindestprüfzeit in Sekunden für lange Entwürfe, gezählt ab dem Öffnen zur Prüfung. 0: keine.",
    )
    review_long_draft_chars: int = Field(
        default=1500, ge=0, le=1_000_000, description="Ab dieser Zeichenzahl gilt ein Entwurf als lang (für die Mindestprüfzeit)."
    )
    review_stats: bool = Field(
        default=True,
        description="Inhaltsfreie Nutzungsstatistik für die wissenschaftliche Begleitung führen (Zahlen, keine Texte, keine Namen).",
    )
    # -- data-centre backends (issue 10): set only by policy, never by the user (POLICY_ONLY_KEYS) --------------
    remote_model_url: str | None = Field(
        default=None,
        description="OpenAI-kompatibler Endpunkt im Rechenzentrum (llama.cpp-Server, vLLM), z. B. "
                    "https://llm.rz.example.de/v1. Leer: nur das lokale Modell. https ist Pflicht, außer auf diesem Rechner (127.0.0.1).",
    )
    remote_model_name: str | None = Field(
        default=None, description="Modellname, den der Endpunkt im Rechenzentrum erwartet (z. B. qwen2.5-7b-instruct)."
    )
    remote_ca_bundle: Path | None = Field(
        default=None,
        description="Zertifikatskette (PEM) der Behörden-CA für die Endpunkte im Rechenzentrum. Leer: die Zertifikate des Systems.",
    )
    remote_timeout_seconds: int = Field(
        default=120, ge=5, le=3600,
        description="Höchstens so viele Sekunden ohne Antwort vom Rechenzentrum, dann bricht die Anfrage mit Meldung ab.",
    )
    remote_retries: int = Field(
        default=2, ge=0, le=10,
        description="Wiederholungen mit wachsender Wartezeit, wenn das Rechenzentrum nicht erreichbar oder überlastet ist.",
    )
    remote_fallback_local: bool = Field(
        default=False,
        description="Ist das Rechenzentrum nicht erreichbar, das lokale Modell verwenden (Aus: Meldung, keine Antwort).",
    )
    remote_pseudonymise: bool = Field(
        default=True,
        description="Namen, Anschriften, Geburtsdaten, IBAN, Telefonnummern, E-Mail-Adressen und Aktenzeichen vor dem "
                    "Senden an das Rechenzentrum durch Platzhalter ersetzen und in der Antwort wieder einsetzen.",
    )
    shared_knowledge_url: str | None = Field(
        default=None,
        description="Chroma-Server mit dem Fachbereichswissen (nur lesen), z. B. https://wissen.rz.example.de:8000. Leer: keines.",
    )
    shared_collections: list[str] = Field(
        default_factory=list,
        description="Namen der Fachbereichssammlungen auf dem Chroma-Server, die zusätzlich zum eigenen Index durchsucht werden.",
    )
    language: Literal["de", "en"] = Field(default="de", description="Sprache der Oberfläche.")
    n_threads: int | None = Field(
        default=None, ge=1, le=256, description="Rechenthreads für das lokale Modell. Leer: an die Maschine angepasst."
    )
    context_length: int | None = Field(
        default=None,
        ge=512,
        le=131072,
        description="Kontextlänge in Token. Leer: die des Modells, höchstens 4096 (mehr kostet Arbeitsspeicher und Zeit).",
    )

    @field_validator("model_sha256")
    @classmethod
    def _check_sha(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = value.strip().lower()
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise ValueError("muss 64 Hex-Zeichen lang sein")
        return value


#: Keys an admin may set in policy (every settings key), plus `locked` which names keys locked at their default.
POLICY_KEYS: tuple[str, ...] = tuple(Settings.model_fields) + ("locked",)

#: Keys whose value is a list (REG_MULTI_SZ in the registry).
LIST_KEYS: frozenset[str] = frozenset({"allowed_roots", "exclude_patterns", "locked", "security_officers",
                                       "shared_collections"})

#: Keys only policy may set: where data may leave the PC is the admin's decision. A user's value is ignored and the
#: key counts as locked whether or not the policy sets it.
POLICY_ONLY_KEYS: frozenset[str] = frozenset({
    "remote_model_url", "remote_model_name", "remote_ca_bundle", "remote_timeout_seconds", "remote_retries",
    "remote_fallback_local", "remote_pseudonymise", "shared_knowledge_url", "shared_collections",
})


def describe(key: str) -> str:
    """The German description of a settings key (for docs, ADMX and the settings dialog)."""
    if key == "locked":
        return "Liste von Schlüsseln, die der Benutzer nicht ändern darf, auch wenn die Richtlinie keinen Wert setzt."
    return Settings.model_fields[key].description or ""
