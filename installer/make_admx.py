"""Generate the Group Policy templates (ADMX + ADML de-DE/en-US) from the one settings schema.

    .venv/bin/python installer/make_admx.py          # (re)write installer/admx/…
    .venv/bin/python installer/make_admx.py --check  # exit 1 if the checked-in files differ from the schema

Source of truth: app/config/schema.py (`Settings`, `POLICY_KEYS`, `LIST_KEYS`, `describe`). One policy per key,
all in the category "Aktenlotse", machine scope, written to HKLM\\Software\\Policies\\Aktenlotse with the key as
value name – exactly what app/config/loader.py `_policy_from_registry` reads:

    list keys  → <multiText>  REG_MULTI_SZ (the loader takes a list as is; ';'-separated REG_SZ also works)
    int keys   → <decimal>    REG_DWORD, minValue/maxValue = the schema's ge/le
    bool keys  → enabledValue/disabledValue REG_DWORD 1/0 (pydantic accepts 1/0 for bool)
    Literal    → <enum>       REG_SZ with one of the allowed strings
    paths/text → <text>       REG_SZ (not expandable: the loader does not expand %VARIABLES%)

German texts come from the schema descriptions; titles and the English texts are kept below (TEXTS). A new
schema key without an entry there makes this script fail, so the templates cannot silently fall behind.
"""

from __future__ import annotations

import argparse
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import annotated_types

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from app.config.schema import LIST_KEYS, POLICY_KEYS, Settings, describe

ADMX_DIR = REPO / "installer" / "admx"
NAMESPACE = "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"
REGISTRY_KEY = r"Software\Policies\Aktenlotse"
CATEGORY = "Aktenlotse"
SUPPORTED = "SUPPORTED_Aktenlotse"
LANGUAGES = ("de-DE", "en-US")
TEXT_MAX = 1024
XMLNS_ATTRS = (
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'revision="1.0" schemaVersion="1.0"'
)

#: key → (German title, English title, English explanation). German explanation = describe(key).
TEXTS: dict[str, tuple[str, str, str]] = {
    "allowed_roots": (
        "Erlaubte Ordner",
        "Allowed folders",
        "Folders Aktenlotse may read and index (recursively). Empty: only the user's Documents folder.",
    ),
    "max_file_mb": (
        "Größte Datei (MB)",
        "Largest file (MB)",
        "Largest file in MB that is indexed; larger files are skipped with a note.",
    ),
    "exclude_patterns": (
        "Ausgeschlossene Dateien und Ordner",
        "Excluded files and folders",
        "Files and folders that are never indexed (patterns such as *.tmp or Personalakten/*).",
    ),
    "model_path": (
        "Modelldatei (GGUF)",
        "Model file (GGUF)",
        "The GGUF model file. Empty: the default model from models/manifest.toml in the models folder.",
    ),
    "model_sha256": (
        "SHA-256-Prüfsumme der Modelldatei",
        "SHA-256 checksum of the model file",
        "Expected SHA-256 checksum of the model file (64 hex characters). If set, a different file is not loaded.",
    ),
    "models_dir": (
        "Modellordner",
        "Models folder",
        "Folder searched for GGUF models. Empty: models\\ beside the program.",
    ),
    "data_dir": (
        "Datenordner",
        "Data folder",
        "Folder for user data (drafts, statistics). Empty: the operating system's default location or AKTENLOTSE_HOME.",
    ),
    "index_dir": (
        "Indexordner",
        "Index folder",
        "Folder for the document index. Empty: <data_dir>\\index.",
    ),
    "audit_dir": (
        "Ordner für das Prüfprotokoll",
        "Audit log folder",
        "Folder for the audit log. Empty: <data_dir>\\audit.",
    ),
    "letter_types_dir": (
        "Ordner mit eigenen Brieftypen",
        "Folder with own letter types",
        "Folder with the authority's own letter types (*.toml); they add to or replace the built-in ones.",
    ),
    "text_blocks_dir": (
        "Ordner mit Textbausteinen",
        "Folder with text blocks",
        "Folder with the authority's text blocks (*.txt), e.g. rechtsbehelfsbelehrung.txt for notices (Bescheide).",
    ),
    "letterhead_path": (
        "Briefvorlage der Behörde",
        "Letterhead template",
        "The authority's letter template (.docx or .dotx). Empty: the built-in DIN 5008 layout.",
    ),
    "sender_line": (
        "Absenderzeile",
        "Sender line",
        "Return-address line above the address field, e.g. \"Stadt Musterstadt · Marktplatz 1 · 12345 Musterstadt\".",
    ),
    "authority_name": (
        "Name der Behörde",
        "Authority name",
        "Name of the authority in the letterhead of the built-in layout, e.g. \"Stadt Musterstadt – Ordnungsamt\".",
    ),
    "audit_content": (
        "Inhalte im Prüfprotokoll mitschreiben",
        "Record content in the audit log",
        "Also write questions and AI texts into the audit log. Off (default): only identifiers, checksums and numbers.",
    ),
    "security_officers": (
        "Sicherheitsbeauftragte",
        "Security officers",
        "User accounts (e.g. VERWALTUNG\\m.muster) that may view the audit log in the application.",
    ),
    "review_require_source_opened": (
        "Prüfung: Quelle muss geöffnet worden sein",
        "Review: a source must have been opened",
        "A draft can be confirmed only after at least one of its sources was opened.",
    ),
    "review_no_open_placeholders": (
        "Prüfung: keine offenen Platzhalter",
        "Review: no open placeholders",
        (
            "A draft can be confirmed only when no placeholder such as \"[Frist eintragen]\" is left open "
            "(ticking it off is then not enough)."
        ),
    ),
    "review_min_seconds": (
        "Prüfung: Mindestprüfzeit (Sekunden)",
        "Review: minimum review time (seconds)",
        "Minimum review time in seconds for long drafts, counted from opening them for review. 0: none.",
    ),
    "review_long_draft_chars": (
        "Prüfung: Länge eines langen Entwurfs (Zeichen)",
        "Review: length of a long draft (characters)",
        "From this number of characters a draft counts as long (for the minimum review time).",
    ),
    "review_stats": (
        "Nutzungsstatistik für die wissenschaftliche Begleitung",
        "Usage statistics for the scientific evaluation",
        "Keep content-free usage statistics for the scientific evaluation (numbers, no texts, no names).",
    ),
    "remote_model_url": (
        "Rechenzentrum: Adresse des Sprachmodells",
        "Data centre: language model address",
        "OpenAI-compatible endpoint in the data centre (llama.cpp server, vLLM), e.g. https://llm.rz.example.de/v1. "
        "Not configured: only the local model. https is required except on this computer (127.0.0.1).",
    ),
    "remote_model_name": (
        "Rechenzentrum: Modellname",
        "Data centre: model name",
        "Model name the data-centre endpoint expects (e.g. qwen2.5-7b-instruct).",
    ),
    "remote_ca_bundle": (
        "Rechenzentrum: Zertifikatskette (PEM)",
        "Data centre: CA bundle (PEM)",
        "Certificate chain (PEM) of the authority's CA for the data-centre endpoints. Not configured: the system's "
        "certificates.",
    ),
    "remote_timeout_seconds": (
        "Rechenzentrum: Zeitlimit (Sekunden)",
        "Data centre: timeout (seconds)",
        "At most this many seconds without an answer from the data centre; then the request ends with a message.",
    ),
    "remote_retries": (
        "Rechenzentrum: Wiederholungen",
        "Data centre: retries",
        "Retries with growing waits when the data centre is unreachable or overloaded.",
    ),
    "remote_fallback_local": (
        "Rechenzentrum: lokales Modell als Ersatz",
        "Data centre: local model as fallback",
        "When the data centre is unreachable, use the local model (disabled: a message, no answer).",
    ),
    "remote_pseudonymise": (
        "Rechenzentrum: Pseudonymisierung",
        "Data centre: pseudonymisation",
        "Replace names, addresses, dates of birth, IBANs, phone numbers, e-mail addresses and file numbers by "
        "placeholders before sending to the data centre, and put them back into the answer.",
    ),
    "shared_knowledge_url": (
        "Fachbereichswissen: Adresse des Chroma-Servers",
        "Shared knowledge: Chroma server address",
        "Chroma server with the department's shared knowledge (read only), e.g. https://wissen.rz.example.de:8000. "
        "Not configured: none.",
    ),
    "shared_collections": (
        "Fachbereichswissen: Sammlungen",
        "Shared knowledge: collections",
        "Names of the department's collections on the Chroma server that are searched together with the personal "
        "index (one per line).",
    ),
    "language": (
        "Sprache der Oberfläche",
        "User interface language",
        "Language of the user interface.",
    ),
    "n_threads": (
        "Rechenthreads für das Modell",
        "Model compute threads",
        "Compute threads for the local model. Not configured: sized to the machine.",
    ),
    "context_length": (
        "Kontextlänge (Token)",
        "Context length (tokens)",
        "Context length in tokens. Not configured: the model's, at most 4096 (more costs memory and time).",
    ),
    "locked": (
        "Gesperrte Einstellungen",
        "Locked settings",
        "Keys the user may not change even where the policy sets no value (one key name per line, e.g. language).",
    ),
}

#: Display names of Literal values, per language.
ENUM_ITEMS: dict[str, dict[str, tuple[str, str]]] = {
    "language": {"de": ("Deutsch", "German"), "en": ("Englisch", "English")},
}

#: Start value shown in the Group Policy editor for int keys whose schema default is "empty" (None).
PRESENTATION_DEFAULTS: dict[str, int] = {"n_threads": 4, "context_length": 4096}

UI = {
    "de-DE": {
        "category": "Aktenlotse",
        "category_help": "Richtlinien für Aktenlotse, den Offline-Assistenten für die öffentliche Verwaltung. "
        "Jede hier festgelegte Einstellung gilt für alle Benutzer des Computers und ist in der Anwendung gesperrt.",
        "supported": "Aktenlotse 0.1 und neuer",
        "displayName": "Aktenlotse",
        "description": "Gruppenrichtlinien für Aktenlotse (HKLM\\Software\\Policies\\Aktenlotse).",
        "registry": "Registrierungswert",
        "list_hint": "Ein Eintrag pro Zeile.",
        "enabled_locked": "Aktiviert: der Wert gilt und ist für Benutzer gesperrt. Nicht konfiguriert: "
        "Benutzer können die Einstellung selbst wählen.",
        "bool_hint": "Aktiviert: an. Deaktiviert: aus. In beiden Fällen gesperrt. Nicht konfiguriert: "
        "Benutzer können die Einstellung selbst wählen.",
        "range": "Erlaubt: {lo} bis {hi}.",
        "default": "Standard ohne Richtlinie: {value}.",
        "none": "leer",
        "on": "an",
        "off": "aus",
        "allowed_keys": "Erlaubte Schlüssel",
        "value": "Wert:",
        "key": "Schlüssel",
    },
    "en-US": {
        "category": "Aktenlotse",
        "category_help": "Policies for Aktenlotse, the offline assistant for public administration. "
        "Every setting made here applies to all users of the computer and is locked in the application.",
        "supported": "Aktenlotse 0.1 and later",
        "displayName": "Aktenlotse",
        "description": "Group Policy for Aktenlotse (HKLM\\Software\\Policies\\Aktenlotse).",
        "registry": "Registry value",
        "list_hint": "One entry per line.",
        "enabled_locked": "Enabled: the value applies and is locked for users. Not configured: "
        "users may choose the setting themselves.",
        "bool_hint": "Enabled: on. Disabled: off. Locked in both cases. Not configured: "
        "users may choose the setting themselves.",
        "range": "Allowed: {lo} to {hi}.",
        "default": "Default without policy: {value}.",
        "none": "empty",
        "on": "on",
        "off": "off",
        "allowed_keys": "Allowed keys",
        "value": "Value:",
        "key": "Key",
    },
}


@dataclass(frozen=True)
class Spec:
    key: str
    kind: str  # list | int | bool | enum | text
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    default: object = None
    max_length: int = TEXT_MAX


def _strip_optional(annotation: object) -> object:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def spec_for(key: str) -> Spec:
    """How a schema key is represented in the ADMX (also used by the consistency test)."""
    if key == "locked":
        return Spec(key, "list", default=[])
    field = Settings.model_fields[key]
    annotation = _strip_optional(field.annotation)
    default = field.get_default(call_default_factory=True)
    if key in LIST_KEYS:
        if typing.get_origin(annotation) is not list:
            raise SystemExit(f"{key} is in LIST_KEYS but annotated {annotation!r}")
        return Spec(key, "list", default=default)
    if typing.get_origin(annotation) is list:
        raise SystemExit(f"{key} is a list but not in LIST_KEYS")
    if annotation is bool:
        return Spec(key, "bool", default=default)
    if annotation is int:
        lo = next((m.ge for m in field.metadata if isinstance(m, annotated_types.Ge)), None)
        hi = next((m.le for m in field.metadata if isinstance(m, annotated_types.Le)), None)
        if lo is None or hi is None:
            raise SystemExit(f"{key}: an int key needs ge= and le= bounds for the ADMX decimal element")
        return Spec(key, "int", minimum=int(lo), maximum=int(hi), default=default)
    if typing.get_origin(annotation) is typing.Literal:
        return Spec(key, "enum", choices=tuple(str(a) for a in typing.get_args(annotation)), default=default)
    max_length = 64 if key == "model_sha256" else TEXT_MAX
    return Spec(key, "text", default=default, max_length=max_length)


def specs() -> list[Spec]:
    missing = [k for k in POLICY_KEYS if k not in TEXTS]
    if missing:
        raise SystemExit(f"make_admx.py: add titles/English texts to TEXTS for: {', '.join(missing)}")
    stale = sorted(set(TEXTS) - set(POLICY_KEYS))
    if stale:
        raise SystemExit(f"make_admx.py: TEXTS has keys the schema no longer knows: {', '.join(stale)}")
    return [spec_for(k) for k in POLICY_KEYS]


# -- ADMX ------------------------------------------------------------------------------------------


def _attrs(**attrs: object) -> str:
    return "".join(f" {name}={quoteattr(str(value))}" for name, value in attrs.items() if value is not None)


def render_admx() -> str:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<!-- Generated by installer/make_admx.py from app/config/schema.py – do not edit; regenerate. -->",
        f'<policyDefinitions {XMLNS_ATTRS} xmlns="{NAMESPACE}">',
        "  <policyNamespaces>",
        '    <target prefix="aktenlotse" namespace="Aktenlotse.Policies.Aktenlotse" />',
        "  </policyNamespaces>",
        '  <resources minRequiredRevision="1.0" />',
        "  <supportedOn>",
        "    <definitions>",
        f"      <definition{_attrs(name=SUPPORTED, displayName=f'$(string.{SUPPORTED})')} />",
        "    </definitions>",
        "  </supportedOn>",
        "  <categories>",
        f"    <category{_attrs(name=CATEGORY, displayName=f'$(string.{CATEGORY})', explainText=f'$(string.{CATEGORY}_Help)')} />",
        "  </categories>",
        "  <policies>",
    ]
    for spec in specs():
        k = spec.key
        common = dict(name=k, **{"class": "Machine"}, displayName=f"$(string.{k})", explainText=f"$(string.{k}_Help)")
        if spec.kind == "bool":
            out.append(f"    <policy{_attrs(**common, key=REGISTRY_KEY, valueName=k)}>")
        else:
            out.append(f"    <policy{_attrs(**common, presentation=f'$(presentation.{k})', key=REGISTRY_KEY)}>")
        out.append(f'      <parentCategory ref="{CATEGORY}" />')
        out.append(f'      <supportedOn ref="{SUPPORTED}" />')
        if spec.kind == "bool":
            out.append('      <enabledValue><decimal value="1" /></enabledValue>')
            out.append('      <disabledValue><decimal value="0" /></disabledValue>')
        else:
            out.append("      <elements>")
            if spec.kind == "list":
                out.append(f"        <multiText{_attrs(id=k, valueName=k, required='true', maxLength=TEXT_MAX, maxStrings=0)} />")
            elif spec.kind == "int":
                out.append(
                    f"        <decimal{_attrs(id=k, valueName=k, required='true', minValue=spec.minimum, maxValue=spec.maximum)} />"
                )
            elif spec.kind == "enum":
                out.append(f"        <enum{_attrs(id=k, valueName=k, required='true')}>")
                for choice in spec.choices:
                    out.append(f'          <item displayName="$(string.{k}_{choice})"><value><string>{escape(choice)}</string></value></item>')
                out.append("        </enum>")
            else:
                out.append(f"        <text{_attrs(id=k, valueName=k, required='true', maxLength=spec.max_length)} />")
            out.append("      </elements>")
        out.append("    </policy>")
    out += ["  </policies>", "</policyDefinitions>", ""]
    return "\n".join(out)


# -- ADML ------------------------------------------------------------------------------------------


def _default_text(spec: Spec, ui: dict[str, str], lang: str) -> str:
    value = spec.default
    if value is None or value == [] or value == "":
        shown = ui["none"]
    elif isinstance(value, bool):
        shown = ui["on"] if value else ui["off"]
    elif spec.kind == "enum":
        shown = ENUM_ITEMS[spec.key][str(value)][0 if lang == "de-DE" else 1]
    else:
        shown = str(value)
    return ui["default"].format(value=shown)


def _registry_type(spec: Spec) -> str:
    return {"list": "REG_MULTI_SZ", "int": "REG_DWORD", "bool": "REG_DWORD 1/0"}.get(spec.kind, "REG_SZ")


def explain(spec: Spec, lang: str) -> str:
    ui = UI[lang]
    body = describe(spec.key) if lang == "de-DE" else TEXTS[spec.key][2]
    lines = [body, ""]
    if spec.kind == "bool":
        lines.append(ui["bool_hint"])
    else:
        lines.append(ui["enabled_locked"])
    if spec.kind == "list":
        lines.append(ui["list_hint"])
    if spec.kind == "int":
        lines.append(ui["range"].format(lo=spec.minimum, hi=spec.maximum))
    if spec.key == "locked":
        keys = ", ".join(k for k in POLICY_KEYS if k != "locked")
        lines.append(f"{ui['allowed_keys']}: {keys}.")
    lines.append(_default_text(spec, ui, lang))
    lines.append("")
    lines.append(f"{ui['registry']}: HKLM\\{REGISTRY_KEY}\\{spec.key} ({_registry_type(spec)})")
    return "\n".join(lines)


def render_adml(lang: str) -> str:
    ui = UI[lang]
    title_index = 0 if lang == "de-DE" else 1
    strings: list[tuple[str, str]] = [
        (CATEGORY, ui["category"]),
        (f"{CATEGORY}_Help", ui["category_help"]),
        (SUPPORTED, ui["supported"]),
    ]
    presentations: list[str] = []
    for spec in specs():
        k = spec.key
        title = TEXTS[k][title_index]
        strings.append((k, f"{title} ({k})"))
        strings.append((f"{k}_Help", explain(spec, lang)))
        label = escape(f"{title}:")
        if spec.kind == "bool":
            continue
        if spec.kind == "list":
            control = f'<multiTextBox refId="{k}">{label}</multiTextBox>'
        elif spec.kind == "int":
            default = spec.default if isinstance(spec.default, int) else PRESENTATION_DEFAULTS.get(k, spec.minimum)
            control = f'<decimalTextBox refId="{k}" defaultValue="{default}" spin="true">{label}</decimalTextBox>'
        elif spec.kind == "enum":
            default_item = spec.choices.index(str(spec.default)) if spec.default is not None else 0
            control = f'<dropdownList refId="{k}" noSort="true" defaultItem="{default_item}">{label}</dropdownList>'
            for choice in spec.choices:
                strings.append((f"{k}_{choice}", ENUM_ITEMS[k][choice][title_index]))
        else:
            control = f'<textBox refId="{k}"><label>{label}</label></textBox>'
        presentations.append(f'      <presentation id="{k}">\n        {control}\n      </presentation>')
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<!-- Generated by installer/make_admx.py from app/config/schema.py – do not edit; regenerate. -->",
        f'<policyDefinitionResources {XMLNS_ATTRS} xmlns="{NAMESPACE}">',
        f"  <displayName>{escape(ui['displayName'])}</displayName>",
        f"  <description>{escape(ui['description'])}</description>",
        "  <resources>",
        "    <stringTable>",
    ]
    out += [f'      <string id="{sid}">{escape(text)}</string>' for sid, text in strings]
    out += ["    </stringTable>", "    <presentationTable>", *presentations, "    </presentationTable>", "  </resources>"]
    out += ["</policyDefinitionResources>", ""]
    return "\n".join(out)


def outputs() -> dict[Path, str]:
    files = {ADMX_DIR / "Aktenlotse.admx": render_admx()}
    for lang in LANGUAGES:
        files[ADMX_DIR / lang / "Aktenlotse.adml"] = render_adml(lang)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the checked-in files")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {path.relative_to(REPO)}")
    if stale:
        print("out of date (run .venv/bin/python installer/make_admx.py): "
              + ", ".join(str(p.relative_to(REPO)) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
