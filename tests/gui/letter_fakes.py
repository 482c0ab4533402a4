"""A fake letter service (LetterFacade) for GUI tests and screenshots.

Three letter types (Anhörung with a required Frist, Eingangsbestätigung, freies Schreiben), the indexed documents
of `summary_fakes`, a draft generator that streams a body (with „[Frist eintragen]“ when the Frist is empty),
checks the cancel token between pieces and returns a LetterDraft; for Leichte Sprache it runs a second
„Prüfung der Verständlichkeit … Runde 2“ and returns a finding. `recheck` flags sentences that are too long
(Leichte Sprache: more than 15 words, bürgernah: more than 25). `export_letter` records the call and writes a
small text file – the real DOCX writer is not needed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from datetime import date
from pathlib import Path

from app.core.documents import FileRecord
from app.core.errors import AktenlotseError
from app.core.export import DRAFT_LINE
from app.core.letters import (
    STANDARD_FIELDS,
    LetterDraft,
    LetterField,
    LetterRequest,
    LetterStyle,
    LetterType,
    PlainFinding,
    fill,
)
from app.core.progress import CancelToken, Progress

from .summary_fakes import RECORDS, pieces_of

_WITHOUT_FRIST = tuple(f for f in STANDARD_FIELDS if f.key != "frist")

ANHOERUNG = LetterType(
    key="anhoerung",
    name_de="Anhörung vor Erlass eines Verwaltungsakts",
    description_de="Gibt Gelegenheit, sich vor einer belastenden Entscheidung zu den Tatsachen zu äußern.",
    legal_basis="§ 28 VwVfG / § 24 SGB X",
    subject="Anhörung vor Erlass eines Bescheides – Aktenzeichen {aktenzeichen}",
    instructions="Sachverhalt, beabsichtigte Entscheidung, Gelegenheit zur Äußerung mit Frist.",
    fields=tuple(dc_replace(f, required=True) if f.key == "frist" else f for f in STANDARD_FIELDS),
)
EINGANG = LetterType(
    key="eingangsbestaetigung",
    name_de="Eingangsbestätigung",
    description_de="Bestätigt den Eingang eines Antrags und nennt, wie es weitergeht.",
    subject="Eingangsbestätigung – Aktenzeichen {aktenzeichen}",
    fields=(*_WITHOUT_FRIST, LetterField("eingang", "Eingangsdatum", True, hint_de="z. B. 02.05.2024")),
)
FREI = LetterType(
    key="frei",
    name_de="Freies Schreiben",
    description_de="Ein Schreiben ohne feste Vorlage.",
    subject="{betreff}",
    fields=(LetterField("betreff", "Betreff", True), *_WITHOUT_FRIST),
)
TYPES = [ANHOERUNG, EINGANG, FREI]

RECIPIENT = "Frau Erika Beispiel\nLindenstraße 4\n12345 Musterstadt"
AUTHORITY = "Stadt Musterstadt – Sozialamt"

LONG_SENTENCE = ("Da die von Ihnen im Rahmen der Antragstellung vorgelegten Unterlagen nach unserer Prüfung "
                 "nicht vollständig sind, beabsichtigen wir, Ihren Antrag auf Wohngeld wegen fehlender "
                 "Mitwirkung nach § 66 SGB I abzulehnen.")


def body_for(request: LetterRequest) -> str:
    frist = (request.fields.get("frist") or "").strip() or "[Frist eintragen]"
    if request.style is LetterStyle.LEICHT:
        return ("Sie haben Wohngeld beantragt.\n\nUns fehlen noch Unterlagen. Es fehlen die Lohn·abrechnungen "
                "der letzten drei Monate.\n\n"
                "Wenn die Unterlagen fehlen, können wir nach dem Gesetz Ihren Antrag auf Wohngeld leider nicht "
                "bewilligen und müssen ihn deshalb ablehnen.\n\n"
                f"Bitte schicken Sie uns die Unterlagen bis zum {frist}.")
    return (f"mit Ihrem Antrag vom 2. Mai 2024 haben Sie Wohngeld beantragt. {LONG_SENTENCE}\n\n"
            "Es fehlen insbesondere die Lohnabrechnungen der letzten drei Monate.\n\n"
            "Bevor wir entscheiden, geben wir Ihnen Gelegenheit, sich zu den für die Entscheidung erheblichen "
            f"Tatsachen zu äußern. Bitte reichen Sie die Unterlagen oder Ihre Stellungnahme bis zum {frist} ein.")


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
MAX_WORDS = {LetterStyle.LEICHT: 15, LetterStyle.BUERGERNAH: 25}


def findings_for(body: str, style: LetterStyle) -> list[PlainFinding]:
    limit = MAX_WORDS.get(style)
    if limit is None:
        return []
    found = []
    for m in _SENTENCE.finditer(body):
        text = m.group(0).strip()
        words = len(text.split())
        if words > limit:
            start = m.start() + m.group(0).index(text)
            found.append(PlainFinding("satzlaenge", f"Langer Satz ({words} Wörter, höchstens {limit})", text,
                                      start, start + len(text)))
    return found


def _lines(value: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in value.splitlines() if line.strip())


@dataclass
class FakeDrafter:
    """Implements `LetterFacade`.

    * `piece_delay`: seconds between streamed pieces (the cancel token is checked while waiting).
    * `pause_after_pieces`: after that many pieces set `paused` and wait for `proceed` (a test cancels meanwhile).
    * `body_override`: stream and return this body instead of the generated one.
    * `replaced_facts`: what the returned draft reports as replaced by placeholders.
    * `fail_with`: `draft` raises it; `export_error`: `export_letter` raises it.
    """

    types: list[LetterType] = field(default_factory=lambda: list(TYPES))
    records: list[FileRecord] = field(default_factory=lambda: list(RECORDS))
    piece_delay: float = 0.002
    pause_after_pieces: int | None = None
    body_override: str | None = None
    replaced_facts: list[str] = field(default_factory=list)
    fail_with: AktenlotseError | None = None
    export_error: AktenlotseError | None = None
    requests: list[LetterRequest] = field(default_factory=list)
    rechecks: list[str] = field(default_factory=list)
    exports: list[tuple[LetterDraft, Path]] = field(default_factory=list)
    proceed: threading.Event = field(default_factory=threading.Event)
    paused: threading.Event = field(default_factory=threading.Event)
    _pace: threading.Event = field(default_factory=threading.Event)

    def letter_types(self) -> list[LetterType]:
        return list(self.types)

    def documents(self) -> list[FileRecord]:
        return list(self.records)

    def draft(self, request: LetterRequest, cancel: CancelToken) -> Iterator[object]:
        self.requests.append(request)
        letter_type = next(t for t in self.types if t.key == request.type_key)
        yield Progress(0, 0, "Der Brief wird entworfen …")
        if self.fail_with is not None:
            raise self.fail_with
        body = self.body_override if self.body_override is not None else body_for(request)
        rounds = 2 if request.style is LetterStyle.LEICHT else 1
        count = 0
        for round_no in range(1, rounds + 1):
            if round_no > 1:
                yield Progress(round_no - 1, rounds, f"Prüfung der Verständlichkeit … Runde {round_no}")
            for piece in pieces_of(body, 3):
                self._wait(cancel)
                yield piece
                count += 1
                if self.pause_after_pieces is not None and count == self.pause_after_pieces:
                    self.paused.set()
                    while not self.proceed.wait(0.01):
                        cancel.raise_if_cancelled()
        cancel.raise_if_cancelled()
        values = request.fields
        info = [("Aktenzeichen", values.get("aktenzeichen", "").strip() or "[Aktenzeichen eintragen]")]
        if values.get("ihr_zeichen", "").strip():
            info.append(("Ihr Zeichen", values["ihr_zeichen"].strip()))
        info.append(("Datum", values.get("datum", "").strip() or date.today().strftime("%d.%m.%Y")))
        info.append(("Bearbeitet von", values.get("sachbearbeiter", "").strip() or "[Sachbearbeiter/in eintragen]"))
        if values.get("telefon", "").strip():
            info.append(("Telefon", values["telefon"].strip()))
        salutation = ("Sehr geehrte Frau Beispiel," if "Beispiel" in values.get("empfaenger", "")
                      else "Sehr geehrte Damen und Herren,")
        return LetterDraft(
            request=request, letter_type=letter_type, subject=fill(letter_type.subject, values, letter_type.fields),
            body=body, recipient_lines=_lines(values.get("empfaenger", "")) or ("[Empfänger eintragen]",),
            info=tuple(info),
            signature=("Im Auftrag", values.get("sachbearbeiter", "").strip() or "[Sachbearbeiter/in eintragen]"),
            salutation=salutation, sender_line=f"{AUTHORITY} · 12340 Musterstadt", authority=AUTHORITY,
            replaced_facts=list(self.replaced_facts), plain_findings=findings_for(body, request.style),
            refine_rounds=rounds - 1, model_name="Fake-Modell 7B Instruct", model_sha256="ab" * 32,
        )

    def _wait(self, cancel: CancelToken) -> None:
        if self.piece_delay > 0:
            self._pace.wait(self.piece_delay)
        cancel.raise_if_cancelled()

    def recheck(self, draft: LetterDraft, body: str) -> LetterDraft:
        self.rechecks.append(body)
        return dc_replace(draft, body=body, plain_findings=findings_for(body, draft.request.style))

    def export_letter(self, draft: LetterDraft, path: Path) -> Path:
        if self.export_error is not None:
            raise self.export_error
        self.exports.append((draft, path))
        path.write_text(f"{DRAFT_LINE}\n\n{draft.as_text()}\n", encoding="utf-8")
        return path
