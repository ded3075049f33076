"""Natural pauses: how sentences are joined, whatever silence the model put at their ends.

The model begins and ends each sentence with however much silence it happens to make, so read
sentence by sentence the pauses would be random. The engine stream therefore trims each
sentence's leading and trailing silence and joins sentences with one consistent pause, longer
between paragraphs (a blank line in the text). It happens in the engine's stream, so playback,
export and the API all get exactly the same joins.

Streaming: nothing waits for a whole sentence. Leading silence is dropped as it comes; silence
that might be trailing is held back until speech resumes (then it was a pause inside the
sentence, and is released unchanged) or the sentence ends (then it is dropped). A short margin
of the natural decay (:data:`EDGE_MARGIN_S`) is kept at both edges, counted as part of the
pause, so the gap from the end of one sentence's sound to the start of the next is the
configured pause.
"""

from __future__ import annotations

import numpy as np

#: Samples quieter than this (|x|, about -46 dBFS) count as silence.
SILENCE_THRESHOLD = 0.005
#: Natural onset/decay kept at each edge of a sentence (part of the pause, not added to it).
EDGE_MARGIN_S = 0.03

_EMPTY = np.zeros(0, dtype=np.float32)


class SentenceJoiner:
    """Feed it each sentence's chunks in order; it returns what to play (see the module doc)."""

    def __init__(self, sample_rate: int, sentence_pause: float, paragraph_pause: float,
                 threshold: float = SILENCE_THRESHOLD, margin_s: float = EDGE_MARGIN_S) -> None:
        self.sample_rate = sample_rate
        self.sentence_pause = round(sentence_pause * sample_rate)
        self.paragraph_pause = round(paragraph_pause * sample_rate)
        self.threshold = threshold
        self.margin = round(margin_s * sample_rate)
        self._emitted_any = False  # nothing has been heard yet: no pause before the first sound
        self._tail = _EMPTY  # the previous sentence's kept decay
        self._pause = 0
        self._speaking = False
        self._held: list[np.ndarray] = []
        self._lead: list[np.ndarray] = []  # the most recent leading silence (for the margin)

    def start(self, paragraph_start: bool) -> None:
        """A new sentence begins (``paragraph_start``: after a blank line)."""
        self._pause = self.paragraph_pause if paragraph_start else self.sentence_pause
        self._speaking = False
        self._held, self._lead = [], []

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """The part of ``samples`` (and of what was held back) that can be played now."""
        loud = np.flatnonzero(np.abs(samples) > self.threshold)
        if not self._speaking:
            if not loud.size:
                self._lead = _keep_last([*self._lead, samples], self.margin)
                return _EMPTY
            self._speaking = True
            first = int(loud[0])
            before = np.concatenate([*self._lead, samples[:first]])
            lead = before[max(0, before.size - self.margin):]
            out = [self._join(lead.size), lead]
            rest = samples[first:]
            loud = loud - first
        else:
            out = []
            rest = samples
            if not loud.size:
                self._held.append(rest)
                return _EMPTY
        last = int(loud[-1]) + 1
        out += [*self._held, rest[:last]]
        self._held = [rest[last:]] if last < rest.size else []
        return np.concatenate(out).astype(np.float32, copy=False)

    def finish(self) -> None:
        """The sentence ended: its trailing silence goes, but for the margin of decay."""
        if self._speaking:
            held = np.concatenate(self._held) if self._held else _EMPTY
            self._tail = held[: self.margin]
        self._held, self._lead = [], []
        self._speaking = False

    def close(self) -> np.ndarray:
        """The end of the stream: the last sentence's decay (nothing after it)."""
        tail, self._tail = self._tail, _EMPTY
        return tail.astype(np.float32, copy=False)

    def _join(self, lead: int) -> np.ndarray:
        """The previous sentence's decay, then silence, so that decay + silence + this
        sentence's onset margin make the pause."""
        if not self._emitted_any:
            self._emitted_any = True
            self._tail = _EMPTY
            return _EMPTY
        tail, self._tail = self._tail, _EMPTY
        silence = np.zeros(max(0, self._pause - tail.size - lead), dtype=np.float32)
        return np.concatenate([tail, silence])


def _keep_last(pieces: list[np.ndarray], count: int) -> list[np.ndarray]:
    joined = np.concatenate(pieces) if pieces else _EMPTY
    return [joined[max(0, joined.size - count):]]
