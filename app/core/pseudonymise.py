"""Pseudonymisation: replace personal identifiers by placeholders before text leaves the PC, restore them after.

Pure regex, deterministic, stdlib only. One `Pseudonymiser` per request (or conversation): `mask()` every text that
is sent (system prompt, passages, question) – one mapping for all of them, so the same identifier always gets the
same placeholder – and `restore()` the model's answer. `counts()` is what the audit log may record (numbers only).

Placeholders are German, bracketed and numbered per kind in order of first appearance: ``[PERSON_1]``,
``[ADRESSE_1]``, ``[GEBURTSDATUM_1]``, ``[IBAN_1]``, ``[TELEFON_1]``, ``[EMAIL_1]``, ``[AKTENZEICHEN_1]``.

What is detected (rule-based, German-first):

* e-mail addresses;
* IBANs of any country, with or without spaces, only when the mod-97 check digits are right;
* phone numbers in German notations (``+49 171 1234567``, ``0171 1234567``, ``030/12345-67``, ``(030) 123 45 67``)
  and any number after "Tel.", "Telefon", "Fax", "Mobil" …; dates, amounts, § numbers and postcodes are not;
* dates of birth: a date after "geb.", "geboren (am)", "Geburtsdatum", "*"; later the same date in any notation.
  Other dates (deadlines, dates of letters) stay, the model needs them;
* addresses: street + house number ("Lindenstraße 4", "Hauptstr. 5", "Am Markt 12a", "Marktplatz 7/9") and
  postcode + town ("12345 Musterstadt"), each its own placeholder; the postcode only at the start of a line or
  after a comma / "in", so "12000 Anträge" stays;
* file numbers: the token after "Az.", "Gz.", "Aktenzeichen", "Geschäftszeichen", "Kassenzeichen", "Ihr/Unser
  Zeichen", "Steuernummer" …, and bare tokens built like file numbers ("32.4-SN/0815/2025", "BB-32.1/2024"); never
  § references, dates, plain years or amounts;
* person names after a salutation or role ("Frau Erika Beispiel", "Herr Dr. Jonas Weber", "Herrn Müller",
  "Antragstellerin Sabine Korte", "gez.", "Im Auftrag", "geb. Schmidt"), names the caller passes as
  `known_names`, and – once a name is known – its surname alone ("Korte", "Kortes"), with the same placeholder.

Known limits – this lowers the risk, it is no anonymisation guarantee:

* a name without any salutation, role or earlier mention ("Sabine Korte rief an.") is not found – pass it as a
  known name (e.g. from the letter's recipient field); a given name alone is never masked;
* a surname that is also a word ("Koch", "Beispiel") is masked wherever it stands capitalised, except directly
  after an article or preposition ("zum Beispiel"); two people with one surname may share a placeholder when
  only the surname is written;
* a common noun right after a name ("Frau Korte Widerspruch …") may be taken for part of the name unless it is a
  known noun or has a noun ending (-ung, -heit, -schaft …);
* addresses abroad, post-office boxes, street names without a house number, towns without postcode, phone numbers
  in foreign notations without "+"/"00", identifiers in free form (tax IDs without a label, licence plates) and
  anything inside images or tables that were flattened badly are not found;
* only what passes through `mask()` is protected, and text masked before a name became known keeps that name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["PLACEHOLDER_KINDS", "Pseudonymiser"]

PLACEHOLDER_KINDS = ("PERSON", "ADRESSE", "GEBURTSDATUM", "IBAN", "TELEFON", "EMAIL", "AKTENZEICHEN")

_UP = "A-ZÄÖÜ"
_LOW = "a-zäöüßéèáàâêîôûëïçñ"

# -- placeholders ------------------------------------------------------------------------------------------------
_KIND_ALT = "|".join(PLACEHOLDER_KINDS)
_PLACEHOLDER_ANY = re.compile(
    r"\[[ \t]*(?P<kind>" + _KIND_ALT + r")[ \t]*[_\- \t][ \t]*(?P<n>\d{1,4})[ \t]*\]"
    r"|(?<![\w\[])(?P<kind2>" + _KIND_ALT + r")_(?P<n2>\d{1,4})(?![\w\]])",
    re.IGNORECASE)
_PLACEHOLDER_EXACT = re.compile(r"\[(?:" + _KIND_ALT + r")_\d+\]")

# -- e-mail, IBAN ------------------------------------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}(?![\w\-])")
_IBAN = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{1,4}){3,8}(?![\w])")
_IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24,
    "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "TR": 26,
}

# -- phone numbers -----------------------------------------------------------------------------------------------
_PHONE = re.compile(
    r"(?<![\w+/.,\-])(?<!\d[ ])(?:"
    r"(?:\+|00)[1-9]\d{0,2}[ \t\-/]*(?:\(0\)[ \t\-/]*)?\(?\d{1,5}\)?(?:[ \t\-/]{0,3}\d{1,8}){1,5}"
    r"|\(0[ ]?\d{1,5}\)[ \t\-/]*\d{1,8}(?:[ \t\-]\d{1,8}){0,4}"
    r"|0[1-9]\d{1,4}(?:[ \t]*/[ \t]*|[ \t\-])\d{2,8}(?:[ \t\-]\d{1,8}){0,4}"
    r"|0[1-9]\d{6,11})"
    r"(?![\w/]|[.,]\d)")
_PHONE_LABELLED = re.compile(
    r"(?<!\w)(?:Tel|Telefon|Telefonnummer|Fax|Telefax|Mobil|Mobilnummer|Mobiltelefon|Handy|Rufnummer|Durchwahl)"
    r"\.?(?:[ \t]*-?Nr\.)?[ \t]*:?[ \t]*(?P<num>\+?\(?\d[\d \t\-/()]{2,22}\d)(?![\w/]|[.,]\d)")
_PHONE_TAIL_UNIT = re.compile(
    r"[ \t]+(?:Tage|Tagen|Wochen|Monate|Monaten|Jahre|Jahren|Stunden|Minuten|Uhr|EUR|Euro|€|%|Prozent|Personen|"
    r"Stück)(?!\w)")

# -- dates -------------------------------------------------------------------------------------------------------
_MONTHS = {
    "januar": 1, "jänner": 1, "jan": 1, "februar": 2, "feb": 2, "febr": 2, "märz": 3, "maerz": 3, "mär": 3,
    "mrz": 3, "april": 4, "apr": 4, "mai": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11, "dezember": 12,
    "dez": 12,
}
_MONTH = (r"(?:Januar|Jänner|Februar|März|Maerz|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
          r"|Jan\.|Febr\.|Feb\.|Mär\.|Mrz\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept\.|Sep\.|Okt\.|Nov\.|Dez\.)")
_DATE = (r"(?P<d>\d{1,2})\.[ \t]?(?P<m>\d{1,2})\.[ \t]?(?P<y>\d{4}|\d{2})(?![\d]|[.,]\d)"
         r"|(?P<td>\d{1,2})\.[ \t]*(?P<tm>" + _MONTH + r")(?!\w)[ \t]*(?P<ty>\d{4})(?!\d)"
         r"|(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})(?![\d\-])")
_ANY_DATE = re.compile(r"(?<![\w.,\-])(?:" + _DATE + ")")
_DOB = re.compile(
    r"(?:(?<!\w)[Gg]eb\.(?:-Datum)?|(?<!\w)[Gg]eboren(?:[ \t]+am)?|(?<!\w)Geburtsdatum|(?<!\w)Geburtstag"
    r"|(?<![\w*])\*)[ \t]*:?[ \t]*(?:am[ \t]+)?(?P<date>" + _DATE + ")")

# -- addresses ---------------------------------------------------------------------------------------------------
_HOUSE_NO = (r"(?P<no>\d{1,3}[ ]?[a-zA-Z]?(?:[ ]?[\-/][ ]?\d{1,3}[a-zA-Z]?)?)(?![\w]|[.,]\d|\.[ \t]*" + _MONTH + ")"
             r"(?![ \t]*(?:%|€|EUR|Euro|Prozent|Tage|Tagen|Wochen|Monate|Monaten|Jahre|Jahren|Uhr|Abs\.|Satz)(?!\w))")
_STREET_SUFFIX = (r"(?i:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|steig|stieg|pfad|markt"
                  r"|graben|wall|kamp|hof|berg|promenade|zeile|twiete)")
_STREET_WORD = (r"(?:Straße|Strasse|Str\.|Weg|Gasse|Allee|Platz|Ring|Damm|Ufer|Chaussee|Steig|Stieg|Pfad|Markt"
                r"|Graben|Wall|Promenade)")
_WORD = r"[" + _UP + r"][\w\-]*"
_STREET = re.compile(
    r"(?<![\w\-])(?P<street>"
    r"(?:" + _WORD + r"[ ])?" + _WORD + r"?" + _STREET_SUFFIX + r"(?<=\w|\.)"
    r"|" + _WORD + r"[ ]" + _STREET_WORD +
    r"|(?:Am|An[ ]der|An[ ]den|Auf[ ]der|Auf[ ]dem|Im|In[ ]der|In[ ]den|Zum|Zur|Unter[ ]den|Hinter[ ]der"
    r"|Vor[ ]dem|Bei[ ]der|Über[ ]der|Alter|Alte|Neuer|Neue)[ ]" + _WORD + r")"
    r"[ ]+" + _HOUSE_NO)
_STREET_ONE_WORD = re.compile(_WORD + r"?" + _STREET_SUFFIX)
_POSTCODE = re.compile(
    r"(?:^|(?<=,)|(?<=\bin)|(?<=\bD-))[ \t]*(?P<plz>(?:D-)?\d{5})[ \t]+"
    r"(?P<town>[" + _UP + r"][" + _LOW + r"]+(?:-[" + _UP + r"][" + _LOW + r"]+)*"
    r"(?:[ ](?:am|an[ ]der|im|in|ob[ ]der|bei|vor[ ]der)[ ][" + _UP + r"][" + _LOW + r"]+)?"
    r"(?:[ ]?\([" + _UP + r"][" + _LOW + r"]+\))?)(?!\w)",
    re.MULTILINE)
_NOT_TOWNS = frozenset((
    "euro", "einwohner", "menschen", "personen", "anträge", "fälle", "stück", "tage", "jahre", "bürger",
    "bürgerinnen", "haushalte", "seiten", "kilometer", "meter", "mitarbeiter", "beschäftigte", "exemplare",
    "stunden", "minuten", "punkte", "fahrzeuge", "besucher",
))
_STREET_SKIP_FIRST = frozenset((
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "in", "an", "auf", "zur", "zum", "im", "am", "von",
    "bis", "ab", "nach", "über", "unter", "und", "oder", "mit", "seit", "bei", "für", "frau", "herr", "herrn",
))

# -- file numbers ------------------------------------------------------------------------------------------------
_AZ_LABELLED = re.compile(
    r"(?<!\w)(?:Aktenzeichen|Geschäftszeichen|Az|AZ|Gz|GZ|Kassenzeichen|Vorgangsnummer|Kundennummer"
    r"|Steuernummer|Steuer-Nr|St\.-Nr|Personalnummer|Versicherungsnummer|Mitgliedsnummer|Antragsnummer"
    r"|Bearbeitungsnummer|Ihr[ ]Zeichen|Unser[ ]Zeichen|Mein[ ]Zeichen)\.?[ \t]*:?[ \t]*"
    r"(?P<id>\d{1,3}[ \t][A-Z][A-Za-z]{0,3}[ \t]\d+/\d{2,4}"
    r"|[A-Za-z0-9ÄÖÜäöü](?:[A-Za-z0-9ÄÖÜäöü]|[./\-](?=[A-Za-z0-9ÄÖÜäöü]))*)")
_AZ_BARE = re.compile(r"(?<![\w./\-§])[A-Za-z0-9ÄÖÜäöü](?:[A-Za-z0-9ÄÖÜäöü]|[./\-](?=[A-Za-z0-9ÄÖÜäöü]))*(?![\w/])")
_AZ_NOT = re.compile(
    r"\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}[/\-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,3}(?:\.\d{3})+|\d+(?:\.\d+)?")

# -- person names ------------------------------------------------------------------------------------------------
_TRIGGER = re.compile(
    r"(?<![\w.])(?:Herrn|Herr|Frau|Hr\.|Fr\.|Dr\.|Prof\.|gez\.|i\.[ ]?A\.|Im[ ]Auftrag|[Gg]eb\.(?![ \t]*-?Datum)"
    r"|Antragsteller(?:in|s)?|Sachbearbeiter(?:in)?|Unterzeichner(?:in)?|Bearbeiter(?:in)?|Ansprechpartner(?:in)?"
    r"|Kläger(?:in)?|Widerspruchsführer(?:in)?|Beschwerdeführer(?:in)?|Betroffener?|Bevollmächtigter?"
    r"|Zeuge|Zeugin|Mieter(?:in)?|Vermieter(?:in)?|Schuldner(?:in)?|Eheleute|Familie|Ehemann|Ehefrau"
    r"|Rechtsanwalt|Rechtsanwältin)(?![\w\-])")
_TITLE = re.compile(
    r"(?:Dr\.|Prof\.|Dipl\.-[" + _UP + r"][" + _LOW + r"]+\.|med\.|jur\.|rer\.[ ]nat\.|phil\.|h\.[ ]?c\.|mult\."
    r"|Herrn|Herr|Frau|Bürgermeister(?:in)?|Oberbürgermeister(?:in)?|Minister(?:in)?|Präsident(?:in)?|Landrat"
    r"|Landrätin|Rechtsanwalt|Rechtsanwältin|Richter(?:in)?|Kollegin|Kollege|Amtsleiter(?:in)?)(?![\w\-])")
_NAME_WORD = re.compile(r"[" + _UP + r"][" + _LOW + r"]+(?:-[" + _UP + r"][" + _LOW + r"]+)*(?![\w\-])")
_PARTICLE = re.compile(r"(?:von|van|de|zu|vom|zur|ter|ten|di|da|le|la)(?:[ ](?:der|dem|den))?(?=[ ][" + _UP + "])")
_GAP_FIRST = re.compile(r"[ \t]*(?:\n[ \t]*)?")
_GAP = re.compile(r"[ ]")
_NOT_NAMES = frozenset((
    # function words that start sentences
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einer", "sie", "ihr", "ihre", "ihren", "ihnen",
    "wir", "ich", "er", "es", "man", "mit", "und", "oder", "bitte", "vielen", "dank", "sehr", "geehrte",
    "geehrter", "liebe", "lieber", "wie", "was", "wer", "wann", "wo", "ob", "dass", "im", "am", "in", "an",
    "auf", "zu", "zum", "zur", "von", "bei", "nach", "vor", "für", "gegen", "hat", "ist", "wird", "wurde",
    "kann", "soll", "muss", "hier", "dort", "heute", "morgen", "gestern", "damen", "herren", "kollegen",
    # weekdays and months
    "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonnabend", "sonntag", "januar",
    "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "dezember",
    # authorities and places
    "stadt", "gemeinde", "landkreis", "kreis", "amt", "behörde", "bürgeramt", "ordnungsamt", "jobcenter",
    "finanzamt", "sozialamt", "jugendamt", "bauamt", "standesamt", "ministerium", "landesamt", "bundesamt",
    "verwaltung", "senat", "bezirksamt", "gericht", "verwaltungsgericht", "land", "bund", "freistaat", "republik",
    "rathaus", "abteilung", "referat", "sachgebiet", "team", "bundesrepublik", "deutschland",
    # nouns that often follow a name
    "widerspruch", "antrag", "klage", "einspruch", "auskunft", "akteneinsicht", "stellung", "gelegenheit",
    "frist", "bescheid", "unterlagen", "kenntnis", "recht", "anspruch", "post", "geld", "schreiben", "nachricht",
    "zeit", "einsicht", "beschwerde", "fragen", "hinweise", "leistungen", "kosten", "gebühren", "mitglied",
    "bescheinigung", "vollmacht", "name", "vorname", "nachname", "anschrift", "adresse", "telefon", "sohn",
    "tochter", "mutter", "vater", "kinder", "kind", "eltern", "mitarbeiter", "mitarbeiterin",
))
_NOUN_ENDINGS = ("heit", "keit", "schaft", "tion", "sion", "tät", "ismus", "amt", "behörde", "gericht",
                 "ministerium", "verwaltung", "gesetz", "ordnung", "kasse", "zentrum", "center", "stelle",
                 "bescheid", "antrag", "verfahren", "recht", "akte", "schreiben")
_DETERMINERS = frozenset((
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines", "zum", "zur",
    "beim", "im", "am", "vom", "ins", "ans", "aufs", "kein", "keine", "keinen", "jedes", "jeder", "dieses",
    "diesem", "dieser", "diesen", "als", "sehr", "ganz", "so",
))


def _iban_ok(compact: str) -> bool:
    expected = _IBAN_LENGTHS.get(compact[:2])
    if (expected is not None and len(compact) != expected) or not 15 <= len(compact) <= 34:
        return False
    rotated = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rotated)) % 97 == 1


def _date_key(m: re.Match[str]) -> str | None:
    if m.group("d"):
        day, month, year = int(m.group("d")), int(m.group("m")), m.group("y")
    elif m.group("td"):
        day, month, year = int(m.group("td")), _MONTHS[m.group("tm").rstrip(".").lower()], m.group("ty")
    else:
        day, month, year = int(m.group("id")), int(m.group("im")), m.group("iy")
    year_n = int(year) if len(year) == 4 else 1900 + int(year)  # a two-digit year of birth: the 20th century
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    return f"{year_n:04d}-{month:02d}-{day:02d}"


def _phone_key(number: str) -> str:
    digits = re.sub(r"\D", "", number.replace("(0)", ""))
    if number.lstrip().startswith("+"):
        digits = "00" + digits
    if digits.startswith("0049"):
        digits = "0" + digits[4:]
    return digits


def _is_name_word(word: str, first: bool) -> bool:
    low = word.lower()
    if low in _NOT_NAMES:
        return False
    if any(low.endswith(end) and len(low) > len(end) + 2 for end in _NOUN_ENDINGS):
        return False
    return first or not (low.endswith("ung") and len(low) >= 8)


@dataclass(slots=True)
class _Span:
    start: int
    end: int
    kind: str
    key: str
    surface: str


class _Spans:
    """Found identifiers in priority order; a later match overlapping an earlier one is dropped."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.items: list[_Span] = []
        self.taken: list[tuple[int, int]] = [m.span() for m in _PLACEHOLDER_EXACT.finditer(text)]

    def free(self, start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in self.taken)

    def add(self, start: int, end: int, kind: str, key: str) -> bool:
        if start >= end or not self.free(start, end):
            return False
        self.items.append(_Span(start, end, kind, key, self.text[start:end]))
        self.taken.append((start, end))
        return True


class Pseudonymiser:
    """Masks identifiers in the texts of one request and restores them in the answer (see the module doc).

    The mapping (placeholder → original) stays private to this object; `counts()` and `repr()` show numbers only.
    """

    def __init__(self, known_names: Iterable[str] = ()) -> None:
        self._placeholders: dict[tuple[str, str], str] = {}  # (kind, key) → "[KIND_n]"
        self._originals: dict[str, str] = {}  # "[KIND_n]" → the original as first (persons: most fully) written
        self._numbers: dict[str, int] = dict.fromkeys(PLACEHOLDER_KINDS, 0)
        self._literals: dict[str, tuple[str, str]] = {}  # masked surface text → (kind, key), found again verbatim
        self._birth_dates: set[str] = set()
        self._person_keys: dict[str, str] = {}  # "sabine korte" / "korte" → person key
        self._surnames: dict[str, str] = {}  # surname as written → person key
        self._given: dict[str, bool] = {}  # person key → whether a given name is known
        self._known_full: set[str] = set()  # full names the caller passed, found verbatim
        for name in known_names:
            self._known_name(name)

    def __repr__(self) -> str:
        return f"Pseudonymiser(counts={self.counts()})"

    # -- public API --------------------------------------------------------------------------------------------
    def mask(self, text: str) -> str:
        """`text` with every identifier found replaced by its placeholder (the same one as in earlier texts)."""
        spans = _Spans(text)
        self._find_emails(spans)
        self._find_ibans(spans)
        self._find_labelled_file_numbers(spans)
        self._find_birth_dates(spans)
        self._find_phones(spans)
        self._find_addresses(spans)
        self._find_bare_file_numbers(spans)
        self._find_names(spans)
        self._find_known(spans)
        out: list[str] = []
        pos = 0
        for span in sorted(spans.items, key=lambda s: s.start):
            out.append(text[pos:span.start])
            out.append(self._placeholder(span))
            pos = span.end
        out.append(text[pos:])
        return "".join(out)

    def restore(self, text: str) -> str:
        """The model's answer with known placeholders ("[PERSON_1]", "[Person 1]", "PERSON_1") back as originals."""

        def repl(m: re.Match[str]) -> str:
            kind = (m.group("kind") or m.group("kind2")).upper()
            number = int(m.group("n") or m.group("n2"))
            return self._originals.get(f"[{kind}_{number}]", m.group())

        return _PLACEHOLDER_ANY.sub(repl, text)

    def counts(self) -> dict[str, int]:
        """How many different identifiers of each kind were masked – for the audit log, never the originals."""
        return dict(self._numbers)

    # -- mapping -----------------------------------------------------------------------------------------------
    def _placeholder(self, span: _Span) -> str:
        ident = (span.kind, span.key)
        placeholder = self._placeholders.get(ident)
        if placeholder is None:
            self._numbers[span.kind] += 1
            placeholder = f"[{span.kind}_{self._numbers[span.kind]}]"
            self._placeholders[ident] = placeholder
            self._originals[placeholder] = span.surface
        elif span.kind == "PERSON" and len(span.surface) > len(self._originals[placeholder]):
            self._originals[placeholder] = span.surface  # "Korte" first, "Sabine Korte" later: restore the full name
        if span.kind != "PERSON":
            self._literals.setdefault(span.surface, ident)
        return placeholder

    def _person(self, words: list[str]) -> str:
        """The person key for a name (given names + surname, or the surname alone); registers the surname."""
        surname = words[-1]
        full = " ".join(words).lower()
        if full in self._person_keys:
            return self._person_keys[full]
        known = self._surnames.get(surname)
        if known is not None and (len(words) == 1 or not self._given.get(known)):
            key = known  # "Herrn Korte" … "Sabine Korte", or "Sabine Korte" … "Frau Korte"
        else:
            key = full
        self._person_keys[full] = key
        self._surnames.setdefault(surname, key)
        self._given[key] = self._given.get(key, False) or len(words) > 1
        return key

    def _known_name(self, name: str) -> None:
        words = [w for w in name.split() if _NAME_WORD.fullmatch(w)]
        if words:
            self._person(words)
            if len(words) > 1:
                self._known_full.add(" ".join(words))

    # -- detectors ---------------------------------------------------------------------------------------------
    def _find_emails(self, spans: _Spans) -> None:
        for m in _EMAIL.finditer(spans.text):
            spans.add(m.start(), m.end(), "EMAIL", m.group().lower())

    def _find_ibans(self, spans: _Spans) -> None:
        text = spans.text
        for m in _IBAN.finditer(text):
            # the match may run into a following token: try the longest prefix that ends at a group boundary
            ends = [i for i in range(m.start() + 4, m.end()) if text[i + 1:i + 2] in (" ", "")] + [m.end() - 1]
            for end in sorted(set(ends), reverse=True):
                compact = text[m.start():end + 1].replace(" ", "")
                if _iban_ok(compact):
                    spans.add(m.start(), end + 1, "IBAN", compact)
                    break

    def _find_labelled_file_numbers(self, spans: _Spans) -> None:
        for m in _AZ_LABELLED.finditer(spans.text):
            ident = m.group("id")
            if any(ch.isdigit() for ch in ident):
                spans.add(m.start("id"), m.end("id"), "AKTENZEICHEN", re.sub(r"\s+", "", ident).lower())

    def _find_birth_dates(self, spans: _Spans) -> None:
        text = spans.text
        for m in _DOB.finditer(text):
            if text[m.start()] == "*" and not text[text.rfind("\n", 0, m.start()) + 1:m.start()].strip():
                continue  # "* 15.07.2024" is a list bullet, not "born"
            key = _date_key(m)
            if key is not None and spans.add(m.start("date"), m.end("date"), "GEBURTSDATUM", key):
                self._birth_dates.add(key)
        for m in _ANY_DATE.finditer(text):
            key = _date_key(m)
            if key in self._birth_dates:
                spans.add(m.start(), m.end(), "GEBURTSDATUM", key)

    def _find_phones(self, spans: _Spans) -> None:
        text = spans.text
        for m in _PHONE_LABELLED.finditer(text):
            number = m.group("num").rstrip(" \t-/(")
            if sum(ch.isdigit() for ch in number) >= 4:
                start = m.start("num")
                spans.add(start, start + len(number), "TELEFON", _phone_key(number))
        for m in _PHONE.finditer(text):
            start, end = m.start(), m.end()
            # "0171 1234567 12 Tage": drop space-separated groups that belong to what follows or make it too long
            while True:
                number = text[start:end]
                cut = max(number.rfind(" "), number.rfind("\t"))
                too_long = len(_phone_key(number)) > 14
                if cut <= 0 or not (too_long or _PHONE_TAIL_UNIT.match(text, end)):
                    break
                end = start + len(number[:cut].rstrip(" \t-/"))
            digits = _phone_key(text[start:end])
            if 6 <= len(digits) <= 14:
                spans.add(start, end, "TELEFON", digits)

    def _find_addresses(self, spans: _Spans) -> None:
        text = spans.text
        for m in _STREET.finditer(text):
            start = m.start("street")
            first, _, rest = m.group("street").partition(" ")
            if rest and first.lower() in _STREET_SKIP_FIRST and _STREET_ONE_WORD.fullmatch(rest):
                start += len(first) + 1  # "Die Lindenstraße 4": the article is not part of the street
            street = text[start:m.end("street")]
            if street.split(" ")[-1].lower() in _NOT_NAMES:
                continue  # "Im Jahr 12", "Am Montag 3"
            key = re.sub(r"\s+", " ", text[start:m.end()]).lower().replace("strasse", "straße").replace("str.",
                                                                                                        "straße")
            spans.add(start, m.end(), "ADRESSE", key)
        for m in _POSTCODE.finditer(text):
            if m.group("town").split(" ")[0].lower() in _NOT_TOWNS:
                continue
            spans.add(m.start("plz"), m.end("town"), "ADRESSE", re.sub(r"\s+", " ", m.group("plz") + " " +
                                                                         m.group("town")).lower())

    def _find_bare_file_numbers(self, spans: _Spans) -> None:
        for m in _AZ_BARE.finditer(spans.text):
            token = m.group()
            if not any(ch.isdigit() for ch in token) or _AZ_NOT.fullmatch(token):
                continue
            parts = re.split(r"[./\-]", token)
            has_letters = any(ch.isalpha() for ch in token)
            if ("/" in token and (len(parts) >= 3 or has_letters)) or (has_letters and len(parts) >= 3):
                spans.add(m.start(), m.end(), "AKTENZEICHEN", token.lower())

    def _find_names(self, spans: _Spans) -> None:
        text = spans.text
        for m in _TRIGGER.finditer(text):
            pos = m.end()
            first = True
            while True:  # titles and roles between the trigger and the name: "Herr Dr. med.", "Frau Bürgermeisterin"
                gap = (_GAP_FIRST if first else _GAP).match(text, pos)
                title = _TITLE.match(text, gap.end()) if gap else None
                if title is None:
                    break
                pos, first = title.end(), False
            words: list[str] = []
            start = end = -1
            while len(words) < 4:
                gap = (_GAP_FIRST if not words and first else _GAP).match(text, pos)
                if gap is None:
                    break
                at = gap.end()
                particle = _PARTICLE.match(text, at) if words or not first else None
                word_at = text.index(" ", particle.end()) + 1 if particle else at
                word = _NAME_WORD.match(text, word_at)
                if word is None or not _is_name_word(word.group(), not words):
                    break
                if start < 0:
                    start = at
                words.append(word.group())
                pos = end = word.end()
            if words:
                key = self._person(words)
                spans.add(start, end, "PERSON", key)

    def _find_known(self, spans: _Spans) -> None:
        text = spans.text
        full_names = sorted(self._known_full, key=len, reverse=True)
        for name in full_names:
            for m in re.finditer(r"(?<![\w\-])" + re.escape(name) + r"(?![\w\-])", text):
                spans.add(m.start(), m.end(), "PERSON", self._person(name.split()))
        for surname, key in sorted(self._surnames.items(), key=lambda kv: len(kv[0]), reverse=True):
            alternatives = "|".join(re.escape(s) for s in {surname, surname.upper()})
            for m in re.finditer(r"(?<![\w\-])(?:" + alternatives + r")(?=s?(?![\w\-]))", text):
                before = re.search(r"(\w+)[ \t]+$", text[max(0, m.start() - 30):m.start()])
                if before and before.group(1).lower() in _DETERMINERS:
                    continue  # "zum Beispiel" is not Frau Beispiel
                spans.add(m.start(), m.end(), "PERSON", key)
        # what was masked before (in this text or an earlier one) is masked wherever it occurs again
        literals = dict(self._literals)
        for span in spans.items:
            if span.kind != "PERSON":
                literals.setdefault(span.surface, (span.kind, span.key))
        if literals:
            pattern = "|".join(re.escape(s) for s in sorted(literals, key=len, reverse=True))
            for m in re.finditer(r"(?<![\w])(?:" + pattern + r")(?![\w])", text):
                kind, key = literals[m.group()]
                spans.add(m.start(), m.end(), kind, key)
