"""SummarizeService with a fake library and a scripted model: direct vs. hierarchical, progress, cancel, parsing,
fact check, omissions, export."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from app.core.documents import Chunk, FileRecord, FileStatus
from app.core.errors import AktenlotseError, Cancelled
from app.core.llm import ChatMessage, GenerationParams
from app.core.lookup import FlagKind
from app.core.progress import CancelToken, Progress
from app.core.summary import (
    CASE_SECTIONS,
    FRISTEN,
    KEY_POINTS,
    SACHVERHALT,
    Summary,
    SummaryLength,
    SummaryRequest,
    SummaryStep,
)
from app.services.model_service import ModelService
from app.services.summarize import SummarizeService, SummarySettings, memo_for, parse_sections
from tests.gui.fakes import FAKE_INFO, FakeLanguageModel

TEXTS = [
    "Frau Sabine Korte beantragt am 04.03.2025 eine Sondernutzungserlaubnis für 24 m² vor dem Haus Marktplatz 7.",
    "Die Unterlagen sind bis zum 31.03.2025 einzureichen. Aktenzeichen 32.4-SN/0815/2025.",
    "Die Gebühr beträgt 480,00 Euro zuzüglich 60,00 Euro Verwaltungsgebühr.",
    "Herr Herbert Sommer bittet, die Nutzung auf 21:00 Uhr zu begrenzen.",
]


def chunks_for(path: str, texts: Sequence[str], first: int = 0) -> list[Chunk]:
    out, pos = [], 0
    for i, t in enumerate(texts):
        out.append(Chunk(id=f"{path}#{i}", doc_id=path, path=path, text=t, ordinal=i, start=pos, end=pos + len(t),
                         page=1 + i // 2, heading_path=("Akte", f"Teil {first + i + 1}")))
        pos += len(t) + 2
    return out


class FakeLibrary:
    def __init__(self, docs: dict[str, list[str]], extra: Sequence[FileRecord] = ()) -> None:
        self.docs = {p: chunks_for(p, t) for p, t in docs.items()}
        self.records = [FileRecord(p, 1, 1, "h", FileStatus.INDEXED, chunk_ids=tuple(c.id for c in cs))
                        for p, cs in self.docs.items()] + list(extra)

    def statuses(self):
        return self.records

    def chunks(self, path):
        return list(self.docs.get(path, []))

    def document_text(self, path):
        return "\n\n".join(c.text for c in self.docs[path])


class ScriptedModel(FakeLanguageModel):
    """Map: one note per passage number in the prompt. Reduce: keeps the notes. Final: a structured summary
    citing the first passages, or `final` if given."""

    def __init__(self, final: str | None = None, context_length: int = 8192, gate: CancelToken | None = None,
                 cancel_after_calls: int | None = None) -> None:
        super().__init__(replace(FAKE_INFO, context_length=context_length))
        self.final = final
        self.calls: list[str] = []
        self.cancel_after_calls = cancel_after_calls
        self.gate = gate

    def stream_chat(self, messages: Sequence[ChatMessage], params: GenerationParams, cancel: CancelToken
                    ) -> Iterator[str]:
        user = messages[-1].content
        self.calls.append(user)
        if self.cancel_after_calls is not None and len(self.calls) > self.cancel_after_calls and self.gate:
            self.gate.cancel()
        cancel.raise_if_cancelled()
        if "## " in user and "Schreibe jetzt die Zusammenfassung" in user:
            text = self.final if self.final is not None else (
                "## Sachverhalt\n- Frau Sabine Korte beantragt eine Sondernutzung [1]\n"
                "## Anliegen/Antrag\n- Erlaubnis für 24 m² [1]\n"
                "## Fristen und Termine\n- Unterlagen bis 31.03.2025 [2]\n- Entscheidung bis 15.05.2025 [2]\n"
                "## Beteiligte\n- Herbert Sommer, Nachbar [4]\n"
                "## Offene Punkte / fehlende Unterlagen\n- Keine Angaben.\n")
        elif "Notizen aus mehreren Teilen" in user:
            text = "\n".join(line for line in user.splitlines() if line.startswith("- "))[:400]
        else:
            numbers = re.findall(r"^\[(\d+)\] \(", user, flags=re.M)
            text = "\n".join(f"- Notiz zu Textstelle [{n}]" for n in numbers)
        for word in text.split(" "):
            cancel.raise_if_cancelled()
            yield word + " "


def service(library: FakeLibrary, model: ScriptedModel, **settings) -> SummarizeService:
    models = ModelService(model)
    list(models.load())
    return SummarizeService(library, models, settings=SummarySettings(**settings))


def run(gen) -> tuple[list[object], Summary]:
    events: list[object] = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return events, stop.value


def test_short_input_is_summarised_in_one_step_with_sections_refs_and_no_map() -> None:
    model = ScriptedModel()
    svc = service(FakeLibrary({"/akte/a.md": TEXTS}), model)
    events, summary = run(svc.summarize(SummaryRequest(("/akte/a.md",))))
    assert len(model.calls) == 1 and summary.map_steps == 0
    assert [s.title for s in summary.sections] == list(CASE_SECTIONS)
    sachverhalt = summary.sections[0].points
    assert sachverhalt[0].text == "Frau Sabine Korte beantragt eine Sondernutzung" and sachverhalt[0].refs == (1,)
    assert summary.sections[-1].points == ()  # "Keine Angaben." is an empty section, not a point
    assert "".join(e for e in events if isinstance(e, str)).strip() == summary.raw_text
    assert [e for e in events if isinstance(e, SummaryStep)] == [SummaryStep("reduce", 1, 1, 1)]


def test_input_longer_than_the_context_is_mapped_then_reduced_with_progress() -> None:
    long_docs = {f"/akte/{i}.md": [f"{t} (Teil {i})" for t in TEXTS] * 3 for i in range(4)}
    model = ScriptedModel(context_length=1024)
    svc = service(FakeLibrary(long_docs), model, map_tokens=128)
    events, summary = run(svc.summarize(SummaryRequest(tuple(long_docs))))
    steps = [e for e in events if isinstance(e, SummaryStep)]
    maps = [s for s in steps if s.kind == "map"]
    assert len(maps) >= 3 and summary.map_steps == len(maps)
    assert [s.index for s in maps] == list(range(1, len(maps) + 1)) and {s.total for s in maps} == {len(maps)}
    assert steps[-1].kind == "reduce" and summary.reduce_steps >= 1
    progress = [e for e in events if isinstance(e, Progress)]
    assert len(progress) >= len(maps) + 2 and progress[-1].done == progress[-1].total
    assert all(p.done <= p.total for p in progress)
    # every passage went through exactly one map prompt: nothing was dropped silently
    numbered = [int(n) for call in model.calls[: len(maps)] for n in re.findall(r"^\[(\d+)\] \(", call, flags=re.M)]
    assert sorted(numbered) == list(range(1, len(summary.passages) + 1)) and not summary.omitted


def test_cancel_half_way_raises_and_leaves_nothing_behind() -> None:
    long_docs = {f"/akte/{i}.md": [f"{t} (Teil {i})" for t in TEXTS] * 3 for i in range(4)}
    cancel = CancelToken()
    model = ScriptedModel(context_length=1024, gate=cancel, cancel_after_calls=2)
    svc = service(FakeLibrary(long_docs), model, map_tokens=128)
    seen: list[object] = []
    with pytest.raises(Cancelled):
        for item in svc.summarize(SummaryRequest(tuple(long_docs)), cancel):
            seen.append(item)
    assert sum(isinstance(s, SummaryStep) for s in seen) == 2  # stopped during the third map step
    # the service holds no half-state: the next run starts from scratch and equals a run that was never cancelled
    model.cancel_after_calls = None
    _, again = run(svc.summarize(SummaryRequest(tuple(long_docs))))
    _, fresh = run(service(FakeLibrary(long_docs), ScriptedModel(context_length=1024), map_tokens=128)
                   .summarize(SummaryRequest(tuple(long_docs))))
    assert again.map_steps == fresh.map_steps >= 3
    assert again.sections == fresh.sections and again.raw_text == fresh.raw_text


def test_kurz_gives_key_points_only_and_at_most_five() -> None:
    final = "## Kernpunkte\n" + "\n".join(f"- Punkt {i} [1]" for i in range(8))
    svc = service(FakeLibrary({"/a.md": TEXTS}), ScriptedModel(final=final))
    _, summary = run(svc.summarize(SummaryRequest(("/a.md",), SummaryLength.KURZ)))
    assert [s.title for s in summary.sections] == [KEY_POINTS]
    assert len(summary.sections[0].points) == 5


def test_invented_date_is_flagged_and_facts_in_the_cited_passage_are_not() -> None:
    svc = service(FakeLibrary({"/a.md": TEXTS}), ScriptedModel())
    _, summary = run(svc.summarize(SummaryRequest(("/a.md",))))
    fristen = next(s for s in summary.sections if s.title == FRISTEN).points
    ok, invented = fristen
    assert ok.text == "Unterlagen bis 31.03.2025" and ok.flags == ()
    assert [(f.kind, f.text) for f in invented.flags] == [(FlagKind.FACT_NOT_IN_SOURCES, "15.05.2025")]
    flag = invented.flags[0]
    assert invented.text[flag.start:flag.end] == "15.05.2025" and "[2]" in flag.detail


def test_amount_and_file_number_checked_against_the_cited_passage_only() -> None:
    passages = {p.number: p for p in service(FakeLibrary({"/a.md": TEXTS}), ScriptedModel())._passages(["/a.md"])[0]}
    sections = parse_sections("## Sachverhalt\n- Gebühr 480,00 Euro [3]\n- Gebühr 480,00 Euro [1]\n"
                              "- Az. 32.4-SN/0815/2025 [2]\n- Ohne Beleg 60,00 Euro",
                              SummaryLength.STANDARD, passages)
    points = sections[0].points
    assert points[0].flags == ()
    assert [f.kind for f in points[1].flags] == [FlagKind.FACT_NOT_IN_SOURCES]  # not in [1]
    assert points[2].flags == ()
    kinds = [f.kind for f in points[3].flags]
    assert FlagKind.UNCITED_SENTENCE in kinds and FlagKind.FACT_NOT_IN_SOURCES not in kinds  # 60,00 is in [3]


def test_parse_tolerates_bold_headings_unknown_refs_and_text_before_headings() -> None:
    passages = {p.number: p for p in service(FakeLibrary({"/a.md": TEXTS}), ScriptedModel())._passages(["/a.md"])[0]}
    text = ("Einleitung ohne Überschrift [1]\n**Fristen und Termine:**\n1. Frist 31.03.2025 [2][9]\n"
            "### Beteiligte\n* Sabine Korte [1]")
    sections = {s.title: s.points for s in parse_sections(text, SummaryLength.STANDARD, passages)}
    assert sections[SACHVERHALT][0].text == "Einleitung ohne Überschrift"
    frist = sections[FRISTEN][0]
    assert frist.refs == (2,) and [f.kind for f in frist.flags] == [FlagKind.UNKNOWN_CITATION]
    assert sections["Beteiligte"][0].text == "Sabine Korte"


def test_files_that_are_not_indexed_or_unreadable_are_named_as_omitted() -> None:
    extra = [FileRecord("/akte/scan.pdf", 1, 1, "h", FileStatus.NO_TEXT_LAYER, "Keine Textebene – OCR nötig.")]
    svc = service(FakeLibrary({"/akte/a.md": TEXTS}, extra), ScriptedModel())
    _, summary = run(svc.summarize(SummaryRequest(("/akte/a.md", "/akte/scan.pdf", "/akte/neu.docx"))))
    omitted = {Path(o.path).name: o.reason for o in summary.omitted}
    assert "OCR" in omitted["scan.pdf"] and "nicht in der Dokumentenbibliothek" in omitted["neu.docx"]
    assert "Nicht berücksichtigt" in summary.as_text()


def test_nothing_readable_is_a_clear_error() -> None:
    svc = service(FakeLibrary({}), ScriptedModel())
    with pytest.raises(AktenlotseError) as err:
        run(svc.summarize(SummaryRequest(("/akte/neu.docx",))))
    assert "keinen lesbaren Text" in err.value.user_message


def test_memo_content_and_draft_meta() -> None:
    svc = service(FakeLibrary({"/akte/a.md": TEXTS}), ScriptedModel())
    _, summary = run(svc.summarize(SummaryRequest(("/akte/a.md",), focus="Was will die Antragstellerin?")))
    memo = memo_for(summary)
    assert memo.subject == "Zusammenfassung: a.md" and [s.heading for s in memo.sections] == list(CASE_SECTIONS)
    assert memo.sections[0].bullets[0].endswith("[1]")
    assert any("15.05.2025" in n for n in memo.notes)  # the flagged fact is listed for the reviewer
    assert ("Schwerpunkt", "Was will die Antragstellerin?") in memo.info
    assert memo.sources[0].startswith("[1] a.md")
    data = summary.to_dict()
    assert data["draft"] is True and data["review_status"] == "draft" and data["steps"] == {"map": 0, "reduce": 0}


def test_export_without_writer_is_a_clear_error(tmp_path: Path) -> None:
    svc = service(FakeLibrary({"/akte/a.md": TEXTS}), ScriptedModel())
    _, summary = run(svc.summarize(SummaryRequest(("/akte/a.md",))))
    with pytest.raises(AktenlotseError):
        svc.export_memo(summary, tmp_path / "v.docx")
    assert not (tmp_path / "v.docx").exists()


def test_a_point_copied_from_the_prompt_example_is_flagged_and_repeats_collapse() -> None:
    final = "## Sachverhalt\n" + "- Erika Muster beantragt Wohngeld für ihre Wohnung in der Lindenstraße 4 [1]\n" * 6
    svc = service(FakeLibrary({"/a.md": TEXTS}), ScriptedModel(final=final))
    _, summary = run(svc.summarize(SummaryRequest(("/a.md",))))
    points = summary.sections[0].points
    assert len(points) == 1  # the model said it six times; the summary says it once
    assert [f.kind for f in points[0].flags] == [FlagKind.NOT_SUPPORTED]
