"""Continuity inside an utterance: each sentence continues the audio the utterance already made.

VoxCPM is an autoregressive model that *continues* speech. Generated sentence by sentence with
no shared context, each sentence picks its own speaker (OpenBMB/VoxCPM #5), and a cloned voice
drifts (#302). So every sentence after the first is generated with a prompt that holds what this
utterance has already said: its generated latents and their text, merged into the voice's prompt
with the model's own ``merge_prompt_cache`` (the mechanism voxcpm ships "to stabilize voice").

The context is bounded so that the prefill, and with it each sentence's first chunk, stays short
however long the document is:

- an *anchor*: the first sentence that lasts at most :data:`ANCHOR_MAX_SECONDS` (it fixes the
  voice for the whole utterance). A voice whose prompt already continues audio (a clip with its
  transcript, the house voice, a designed voice) needs no anchor: that audio is the anchor.
- the *previous* sentence (the most recent one that lasts at most
  :data:`PREVIOUS_MAX_SECONDS`), which carries the prosody across the join.

A sentence that ran to its step limit (voxcpm's "bad case": the stop head never fired) is never
context: the sentences after it would continue the runaway.

Latents are never cut: a prompt's text must be exactly what its audio says, so a sentence too
long for a slot is skipped for that slot rather than truncated.

Why these bounds (chosen by measurement, session 4): every second of context is 6.25 latent
patches (VoxCPM2, 160 ms each) plus the tokens of its text, and every one is one more prefill
position before the sentence's first chunk. On a GPU the prefill is one parallel pass and costs
next to nothing; on a CPU it is compute-bound. Measured on the full-size VoxCPM2 architecture
(random weights, bfloat16, 2-core CPU; the first chunk of one sentence with C seconds of context
added to the house voice's prompt, 2 interleaved runs, load average 13-16, so +-30 % noise;
docs/performance.md has the table): C = 2 s: 1.00x the first chunk without context, 3 s:
1.23x, 4 s: 1.44x, 7 s: 1.63x. The issue's goal is at most 1.2x, so the bound is a 3 s previous
sentence (the worst case for the house voice and every voice with audio, which need no anchor:
about 1.2x) and a 2 s anchor (only for voices without audio: worst case 5 s). The earlier
3 s + 4 s, chosen by reasoning, cost 1.44x-1.63x here. Whole-document context would grow without
end (a 100-sentence text would prefill thousands of positions, past the model's static KV
cache). A shorter sentence fits more often; a longer one is skipped, not cut (below).

A reference-only clone (VoxCPM2) keeps its reference, which is isolated from the continuation by
the model's reference tokens, and gets the continuation on top. A request with a *style* gets no
continuation: the style only works on a reference (VoxCPM #309).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The anchor sentence's longest duration (seconds of audio); measured, see the module doc.
ANCHOR_MAX_SECONDS = 2.0
#: The previous sentence's longest duration (seconds of audio); measured, see the module doc.
PREVIOUS_MAX_SECONDS = 3.0


@dataclass(frozen=True)
class SpokenSentence:
    """What the model made for one sentence: the text it was given and the latents it
    generated, ``(patches, patch_size, latent_dim)`` float32 on the CPU."""

    index: int
    text: str
    latents: Any  # torch.Tensor
    seconds: float
    #: The generation ran to its step limit without the stop head firing: a runaway (voxcpm's
    #: "bad case", often noise or a stuck loop), never context for the sentences after it.
    ran_to_limit: bool = False


def has_continuation_audio(prompt: dict[str, Any] | None) -> bool:
    """Whether ``prompt`` already makes the model continue audio (so it anchors the voice)."""
    return bool(prompt) and "audio_feat" in prompt  # type: ignore[operator]


class Continuity:
    """Chooses the prompt for each sentence of one utterance from the voice's own prompt and
    what the utterance has said so far (see the module doc)."""

    def __init__(
        self,
        tts: Any,
        base_prompt: dict[str, Any] | None,
        enabled: bool = True,
        anchor_max_seconds: float = ANCHOR_MAX_SECONDS,
        previous_max_seconds: float = PREVIOUS_MAX_SECONDS,
    ) -> None:
        self._tts = tts
        self.base_prompt = base_prompt
        self.enabled = enabled
        self.anchor_max_seconds = anchor_max_seconds
        self.previous_max_seconds = previous_max_seconds
        self._needs_anchor = not has_continuation_audio(base_prompt)
        self.anchor: SpokenSentence | None = None
        self.previous: SpokenSentence | None = None

    def context(self) -> list[SpokenSentence]:
        """The earlier sentences the next one is conditioned on, oldest first."""
        chosen = [s for s in (self.anchor, self.previous) if s is not None]
        return sorted({s.index: s for s in chosen}.values(), key=lambda s: s.index)

    def prompt(self) -> dict[str, Any] | None:
        """The prompt for the next sentence: the voice's prompt plus the context."""
        prompt = self.base_prompt
        if not self.enabled:
            return prompt
        for sentence in self.context():
            text = sentence.text
            if prompt is not None and prompt.get("prompt_text"):
                text = " " + text  # merge_prompt_cache joins the texts as they are
            prompt = self._tts.merge_prompt_cache(prompt, text, sentence.latents)
        return prompt

    def record(self, sentence: SpokenSentence) -> None:
        """Remember a sentence the utterance finished (a cancelled one is never recorded, nor
        one that ran to its step limit: continuing a runaway would spread it)."""
        if not self.enabled or sentence.latents is None or sentence.latents.shape[0] == 0 \
                or sentence.ran_to_limit:
            return
        if self._needs_anchor and self.anchor is None \
                and sentence.seconds <= self.anchor_max_seconds:
            self.anchor = sentence
        if sentence.seconds <= self.previous_max_seconds:
            self.previous = sentence

    def context_seconds(self) -> float:
        return sum(s.seconds for s in self.context())

    @property
    def max_context_seconds(self) -> float:
        return (self.anchor_max_seconds if self._needs_anchor else 0.0) + \
            self.previous_max_seconds
