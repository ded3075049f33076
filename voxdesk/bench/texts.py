"""The texts the benchmark speaks. Plain English prose, fixed, so runs compare across machines."""

from __future__ import annotations

SHORT = "The voice should start at once."

#: One long sentence: for comparisons with raw voxcpm, which speaks a whole text as one piece
#: (VoxDesk splits at sentences, so multi-sentence texts would not be the same request).
LONG_SENTENCE = (
    "When you select a paragraph in your browser and press the hotkey, the first words should "
    "be heard while the rest of the paragraph is still being generated."
)

MEDIUM = (
    "Reading aloud is a small job that should feel instant. "
    "You select the text, press the key, and hear the first sentence. "
    "The rest follows while you listen."
)

LONG = (
    "A good read-aloud tool disappears behind the text. "
    "It starts speaking the moment it is asked, and it keeps a steady pace. "
    "Long documents are read sentence by sentence, so the first words never wait for the last. "
    "When the computer is slower than speech, the pauses fall between sentences, not inside "
    "them. "
    "Stopping is immediate, and starting again costs nothing. "
    "A cloned voice is prepared once and then reused, so the second request sounds as quick "
    "as the first. "
    "All of this can be measured, and this paragraph is what the benchmark measures it with."
)

REPEAT_TEXTS = {"short": SHORT, "medium": MEDIUM, "long": LONG}

#: Characters in a second of ordinary English speech (about 150 words a minute).
SPEECH_CHARS_PER_SECOND = 14.0
_FILLER = ("the reader turns the page and the quiet story goes on for a while before the "
           "evening comes").split()


def sentences_lasting(seconds: float, count: int) -> str:
    """``count`` numbered sentences, each as long as ``seconds`` of ordinary speech says: the
    text for audio whose length is forced, so that text and audio have a listener's density."""
    target = max(12, round(seconds * SPEECH_CHARS_PER_SECOND))
    sentences = []
    for number in range(1, count + 1):
        words = [f"Part {number}"]
        for word in _FILLER:
            if len(" ".join(words)) + 1 + len(word) + 1 > target:
                break
            words.append(word)
        sentences.append(" ".join(words) + ".")
    return " ".join(sentences)


def document(chars: int = 10_000) -> str:
    """A document of at least ``chars`` characters, in numbered sentences of ordinary length."""
    sentences: list[str] = []
    total = 0
    number = 1
    while total < chars:
        sentence = (f"This is sentence number {number} of a long document, "
                    "which the reader reaches only much later.")
        sentences.append(sentence)
        total += len(sentence) + 1
        number += 1
    return " ".join(sentences)
