"""Reading positions (atomic, per document) and passages (where each sentence is in a chapter)."""

from __future__ import annotations

import hashlib

import pytest

from voxdesk.documents.passages import Start, chapter_passages
from voxdesk.engine.segmentation import split_text
from voxdesk.reading_position import PositionStore, ReadingPosition

IDENTITY = hashlib.sha256(b"a book").hexdigest()


def test_positions_round_trip_and_damage_means_start_afresh(tmp_path):
    store = PositionStore(tmp_path)
    assert store.load(IDENTITY) is None
    store.save(ReadingPosition(IDENTITY, 3, 12, 840, "/books/a.epub"))
    saved = store.load(IDENTITY)
    assert (saved.chapter, saved.sentence, saved.offset) == (3, 12, 840) and saved.saved_at > 0
    assert [p.name for p in tmp_path.iterdir()] == [f"{IDENTITY}.json"]  # no temporary left
    (tmp_path / f"{IDENTITY}.json").write_text('{"identity": "x", "chapter": "three"}')
    assert store.load(IDENTITY) is None
    store.forget(IDENTITY)
    store.forget(IDENTITY)  # twice is fine
    with pytest.raises(ValueError):
        store.load("../../etc/passwd")  # a key is a sha256, never a path


def test_long_chapter_is_cut_at_paragraphs_and_sentences_keep_their_numbers():
    paragraphs = [" ".join(f"Sentence {p}.{s} of the chapter." for s in range(5))
                  for p in range(40)]
    text = "\n\n".join(paragraphs)
    passages = list(chapter_passages(text, 2, max_chars=700))
    assert len(passages) > 3
    assert all(len(p.text) <= 700 for p in passages)
    assert all(p.text == text[p.offset:p.offset + len(p.text)] for p in passages)
    assert all(p.text.startswith("Sentence ") for p in passages)  # cut between paragraphs
    sentences = split_text(text)
    for passage in passages:
        for segment in split_text(passage.text):
            chapter, index, offset = passage.position_of(segment)
            assert chapter == 2 and sentences[index].text == segment.text
            assert sentences[index].start == offset


def test_start_at_a_saved_sentence():
    text = "One. Two. Three.\n\nFour. Five."
    sentences = split_text(text)
    start = Start(1, 3, sentences[3].start)
    (passage,) = chapter_passages(text, 1, start)
    assert passage.text == "Four. Five." and passage.first_sentence == 3
    # An offset beyond the text (the position of another version) starts the chapter afresh.
    (again,) = chapter_passages(text, 1, Start(1, 9, 10_000))
    assert again.offset == 0 and again.first_sentence == 0
