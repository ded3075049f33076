"""The lexicon: replacements reach the model's input, never the text shown or its segments."""

from __future__ import annotations

import json

import pytest

from voxdesk.engine import SynthesisParams, SynthesisRequest
from voxdesk.lexicon import Lexicon, LexiconEntry, LexiconError, LexiconStore

FAST = SynthesisParams(max_len=4, seed=3)


def test_whole_words_and_case_rules():
    ignore = LexiconEntry("GIF", "jif")
    assert ignore.apply("A gif, a GIF, GIFs and a gift.") == "A jif, a jif, GIFs and a gift."
    exact = LexiconEntry("US", "United States", match_case=True)
    assert exact.apply("Us and US, us.") == "Us and United States, us."
    regex = LexiconEntry(r"(\d+)\s?km\b", r"\1 kilometres", kind="regex")
    assert regex.apply("We walked 12km, then 3 km.") == ("We walked 12 kilometres, then 3 "
                                                         "kilometres.")


@pytest.mark.parametrize("pattern, replacement, reason", [
    ("(unclosed", "x", "missing )"),
    ("a*", "x", "matches empty text"),
    ("(a)b", r"\2", "invalid group reference"),
    ("[z-a]", "x", "bad character range"),
])
def test_bad_regular_expression_is_refused_with_the_reason(pattern, replacement, reason):
    with pytest.raises(LexiconError, match="invalid|empty") as error:
        LexiconEntry(pattern, replacement, kind="regex")
    assert reason in str(error.value)


def test_scopes_global_language_voice(data_dir):
    store = LexiconStore()
    store.add(LexiconEntry("tomato", "tomahto"))
    store.add(LexiconEntry("tomato", "tomayto", language="en-US"))
    store.add(LexiconEntry("tomato", "pomodoro", voice="Giulia"))
    assert store.for_voice(None, None).apply("tomato") == "tomahto"
    assert store.for_voice(None, "en-us").apply("tomato") == "tomayto"
    assert store.for_voice(None, "en").apply("tomato") == "tomahto"  # en-US rule: not for en
    assert store.for_voice("giulia", "en-US").apply("tomato") == "pomodoro"  # voice wins
    # Stored in the config dir, written atomically, read back the same.
    saved = json.loads(store.path.read_text())
    assert len(saved["entries"]) == 3 and store.path.parent.name == "voxdesk-config"
    assert store.remove("tomato", voice="Giulia") == 1
    assert store.for_voice("Giulia", None).apply("tomato") == "tomahto"


def test_the_model_hears_the_replacement_the_segments_keep_the_text(engine, model_inputs):
    text = "Dr. Nguyen met the CEO. The CEO smiled."
    lexicon = Lexicon((LexiconEntry("Nguyen", "Win"), LexiconEntry("CEO", "C E O",
                                                                   match_case=True)))
    stream = engine.synthesize(SynthesisRequest(text, params=FAST, lexicon=lexicon))
    chunks = list(stream)
    assert model_inputs == ["Dr. Win met the C E O.", "The C E O smiled."]
    # What the window shows and highlights is the original text, offsets included.
    assert [s.text for s in stream.segments] == ["Dr. Nguyen met the CEO.", "The CEO smiled."]
    assert all(text[s.start:s.end] == s.text for s in stream.segments)
    assert {c.segment.text for c in chunks} == {"Dr. Nguyen met the CEO.", "The CEO smiled."}


def test_speak_and_export_use_the_users_lexicon(cli, data_dir, engine, model_inputs,
                                               tiny_model_dir, tmp_path, monkeypatch):
    add = cli("lexicon", "add", "Nguyen", "Win", env=_env(data_dir, tmp_path))
    assert add.returncode == 0, add.stderr
    bad = cli("lexicon", "add", "(x", "y", "--regex", env=_env(data_dir, tmp_path))
    assert bad.returncode == 2 and "missing )" in bad.stderr
    listed = cli("lexicon", "list", env=_env(data_dir, tmp_path))
    assert listed.stdout.strip() == "1. 'Nguyen' -> 'Win'  (word, ignore case, global)"

    # export, in this process, with the spy on the real model call of the loaded engine.
    from voxdesk.cli import main
    from voxdesk.engine import Engine

    monkeypatch.setattr(Engine, "load", classmethod(lambda cls, *a, **k: engine))
    out = tmp_path / "out.wav"
    assert main(["export", "Ask Nguyen.", "-o", str(out), "--model", str(tiny_model_dir),
                 "--max-len", "4"]) == 0
    assert model_inputs == ["Ask Win."]


def test_import_export_round_trip(cli, data_dir, tmp_path):
    env = _env(data_dir, tmp_path)
    assert cli("lexicon", "add", r"(\d+)km", r"\1 kilometres", "--regex", "--language", "en",
               env=env).returncode == 0
    exported = tmp_path / "lexicon.json"
    assert cli("lexicon", "export", "-o", str(exported), env=env).returncode == 0
    other = {**env, "VOXDESK_CONFIG_DIR": str(tmp_path / "other-config")}
    assert cli("lexicon", "import", str(exported), env=other).returncode == 0
    assert LexiconStore(tmp_path / "other-config" / "lexicon.json").load() == \
        LexiconStore().load()
    # A damaged file is refused whole, and the lexicon stays as it was.
    broken = tmp_path / "broken.json"
    broken.write_text('{"entries": [{"pattern": "ok", "replacement": "fine"}, '
                      '{"pattern": "(", "replacement": "x", "kind": "regex"}]}')
    result = cli("lexicon", "import", str(broken), env=other)
    assert result.returncode == 2 and "invalid" in result.stderr
    assert len(LexiconStore(tmp_path / "other-config" / "lexicon.json").load().entries) == 1
    assert cli("lexicon", "remove", "nothing", env=env).returncode == 2


def _env(data_dir, tmp_path) -> dict[str, str]:
    return {"VOXDESK_DATA_DIR": str(data_dir), "VOXDESK_CONFIG_DIR": str(tmp_path /
                                                                         "voxdesk-config")}
