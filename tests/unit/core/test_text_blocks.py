"""markdown_blocks: headings with levels, paragraphs on blank lines, list items kept."""

from __future__ import annotations

from app.core.text_blocks import markdown_blocks


def test_headings_get_their_level_and_kind() -> None:
    blocks = markdown_blocks("# Gesetz\n\n## § 1 Zweck\n\nText.\n\n###### Tief ###\n")
    assert [(b.text, b.heading_level, b.kind) for b in blocks] == [
        ("Gesetz", 1, "heading"), ("§ 1 Zweck", 2, "heading"), ("Text.", 0, "text"), ("Tief", 6, "heading")]
    assert all(b.page is None for b in blocks)


def test_paragraphs_split_on_blank_lines_and_keep_inner_line_breaks() -> None:
    blocks = markdown_blocks("Erste Zeile\nzweite Zeile\n\n\n  \nZweiter Absatz\r\n\r\nDritter")
    assert [b.text for b in blocks] == ["Erste Zeile\nzweite Zeile", "Zweiter Absatz", "Dritter"]


def test_list_items_are_kept() -> None:
    blocks = markdown_blocks("Voraussetzungen:\n- Antrag\n- Nachweis\n\n1. erstens\n\n2. zweitens")
    assert [b.text for b in blocks] == ["Voraussetzungen:\n- Antrag\n- Nachweis", "1. erstens", "2. zweitens"]


def test_hash_without_space_is_not_a_heading_and_empty_heading_is_dropped() -> None:
    blocks = markdown_blocks("#hashtag bleibt Text\n\n## \n\n####### sieben")
    assert [(b.text, b.heading_level) for b in blocks] == [("#hashtag bleibt Text", 0), ("####### sieben", 0)]


def test_empty_text_has_no_blocks() -> None:
    assert markdown_blocks("") == [] and markdown_blocks("\n\n \n") == []


def test_closing_hashes_need_a_space() -> None:
    assert markdown_blocks("## Sprache C#")[0].text == "Sprache C#"
