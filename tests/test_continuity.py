"""Continuity: each sentence after the first is conditioned on the audio the utterance already
made. Checked on the real generation call (a spy that records what voxcpm receives and yields,
and lets the real model run), with the tiny model."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
import torch

from voxdesk.engine import SynthesisParams, SynthesisRequest, VoiceReference
from voxdesk.engine.continuity import Continuity, SpokenSentence


class GenerationSpy:
    """Wraps the model's ``_generate_with_prompt_cache``: records each call's prompt and the
    latents each step generated, then passes everything through unchanged."""

    def __init__(self, tts) -> None:
        self.original = tts._generate_with_prompt_cache
        self.calls: list[dict] = []

    def __call__(self, *args, **kwargs):
        call = {"text": kwargs["target_text"], "prompt": kwargs["prompt_cache"], "latents": []}
        self.calls.append(call)
        for item in self.original(*args, **kwargs):
            call["latents"].append(item[2][-1].detach().float().cpu())
            yield item

    def generated(self, index: int) -> torch.Tensor:
        """What call ``index`` generated, (patches, patch_size, latent_dim)."""
        return torch.cat(self.calls[index]["latents"], dim=1).squeeze(0)


@pytest.fixture
def spy(warm_engine, monkeypatch):
    # The warm engine (the same object as ``engine``): its load-time warm-up and the house
    # voice's first generation are done, so the spy sees only the test's own generations.
    engine = warm_engine
    spy = GenerationSpy(engine._model.tts)
    monkeypatch.setattr(engine._model.tts, "_generate_with_prompt_cache", spy)
    return spy


def speak(engine, text, voice=None, **params):
    """Speak with the tiny model, whose stop head never fires: min_len = max_len forces each
    sentence's length (a runaway is a generation the stop head *could* have ended)."""
    stream = engine.synthesize(SynthesisRequest(text, voice, SynthesisParams(
        **{"min_len": 4, "max_len": 4, "sentence_pause": 0.0, "paragraph_pause": 0.0,
           **params})))
    audio = np.concatenate([c.samples for c in stream])
    return stream, audio


def base_patches(prompt) -> int:
    return 0 if not prompt or "audio_feat" not in prompt else prompt["audio_feat"].shape[0]


def test_later_sentences_receive_the_latents_of_earlier_ones(engine, spy):
    stream, _ = speak(engine, "First one. Second one. Third one.", seed=3)
    base = stream.continuity.base_prompt
    assert len(spy.calls) == 3
    assert spy.calls[0]["prompt"] is base  # the first sentence: the voice alone
    n = base_patches(base)
    second = spy.calls[1]["prompt"]
    assert torch.equal(second["audio_feat"][n:], spy.generated(0))
    assert second["prompt_text"].endswith(spy.calls[0]["text"])
    third = spy.calls[2]["prompt"]
    context = third["audio_feat"][n:]
    if n == 0:  # no audio in the voice's prompt: the first sentence anchors it
        assert torch.equal(context, torch.cat([spy.generated(0), spy.generated(1)]))
    else:  # the voice's own audio is the anchor; the previous sentence follows it
        assert torch.equal(context, spy.generated(1))
    assert third["prompt_text"].endswith(spy.calls[1]["text"])


def test_context_stays_bounded_on_a_hundred_sentences(engine, spy):
    text = " ".join(f"Sentence {i}." for i in range(100))
    stream, _ = speak(engine, text, min_len=1, max_len=2, inference_timesteps=1)
    assert len(spy.calls) == 100
    base = base_patches(stream.continuity.base_prompt)
    seconds_per_patch = 7680 / 48000
    bound = stream.continuity.max_context_seconds / seconds_per_patch
    context = [base_patches(c["prompt"]) - base for c in spy.calls]
    assert max(context) <= bound
    assert max(context) == max(context[2:]) > 0  # conditioned, but no more at the end
    assert context[-1] == context[10]  # no growth however long the text
    longest = max(len(c["prompt"].get("prompt_text", "")) for c in spy.calls[1:])
    assert longest < 60  # the text of two or three sentences, not of a hundred


def test_continuity_off_restores_independent_sentences(engine, spy):
    text = "First one. Second one. Third one."
    stream, audio = speak(engine, text, seed=11, continuity=False)
    base = stream.continuity.base_prompt
    assert all(call["prompt"] is base for call in spy.calls)
    # Exactly what generating each sentence alone from the same seed gives.
    torch.manual_seed(11)
    expected = []
    for segment in stream.segments:
        for item in spy.original(target_text=segment.text, prompt_cache=base, min_len=4,
                                 max_len=4, inference_timesteps=10, cfg_value=2.0,
                                 retry_badcase=False, streaming=True):
            expected.append(item[0].squeeze(0).float().numpy())
    assert np.array_equal(audio, np.concatenate(expected))
    _, on = speak(engine, text, seed=11)
    assert not np.array_equal(audio, on)  # and on, sentences 2+ are really different


def test_reference_clone_keeps_its_reference_and_adds_the_continuation(engine, spy, tmp_path):
    t = np.arange(3 * 16000) / 16000
    clip = tmp_path / "voice.wav"
    soundfile.write(clip, (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32), 16000)
    speak(engine, "First one. Second one.", VoiceReference(reference_wav=clip))
    first, second = spy.calls[0]["prompt"], spy.calls[1]["prompt"]
    assert first["mode"] == "reference"
    assert second["mode"] == "ref_continuation"
    assert torch.equal(second["ref_audio_feat"], first["ref_audio_feat"])
    assert torch.equal(second["audio_feat"], spy.generated(0))


def test_a_sentence_too_long_for_the_context_is_skipped_not_cut(engine):
    def latents(n: int) -> torch.Tensor:
        return torch.zeros(n, 4, 64)

    continuity = Continuity(engine._model.tts, None, anchor_max_seconds=1.0,
                            previous_max_seconds=2.0)
    continuity.record(SpokenSentence(0, "Long.", latents(20), 3.2))  # too long for both
    assert continuity.prompt() is None
    continuity.record(SpokenSentence(1, "Short.", latents(5), 0.8))
    continuity.record(SpokenSentence(2, "Medium.", latents(10), 1.6))
    prompt = continuity.prompt()
    assert prompt["prompt_text"] == "Short. Medium." and prompt["audio_feat"].shape[0] == 15


def test_a_sentence_that_ran_to_its_step_limit_is_never_context(engine, spy):
    # min_len 2, max_len 6: the stop head could end a sentence after step 3, but this model's
    # never fires, so every sentence runs to its limit: a runaway (voxcpm's bad case).
    stream, _ = speak(engine, "First one. Second one. Third one.", min_len=2, max_len=6)
    base = stream.continuity.base_prompt
    assert [len(call["latents"]) for call in spy.calls] == [6, 6, 6]
    assert all(call["prompt"] is base for call in spy.calls)  # nothing runaway continued
    assert stream.continuity.context() == []
    # A sentence whose length was forced (4 of 4 steps: the stop head could not end it) is.
    before = len(spy.calls)
    forced, _ = speak(engine, "First one. Second one.", min_len=4, max_len=4)
    second = spy.calls[before + 1]["prompt"]
    assert second is not forced.continuity.base_prompt
    assert torch.equal(second["audio_feat"][base_patches(forced.continuity.base_prompt):],
                       spy.generated(before))


def test_a_runaway_between_good_sentences_is_skipped(engine):
    def sentence(index: int, ran_to_limit: bool = False) -> SpokenSentence:
        return SpokenSentence(index, f"S{index}.", torch.zeros(5, 4, 64), 0.8, ran_to_limit)

    continuity = Continuity(engine._model.tts, None)
    continuity.record(sentence(0, ran_to_limit=True))  # never the anchor
    continuity.record(sentence(1))
    continuity.record(sentence(2, ran_to_limit=True))  # never the previous sentence
    assert [s.index for s in continuity.context()] == [1]
    assert continuity.prompt()["prompt_text"] == "S1."
