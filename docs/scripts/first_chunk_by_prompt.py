"""First chunk of one sentence with no prompt, the house voice, and the house voice plus a
previous sentence (continuity's context), alternating in one process.

    python docs/scripts/first_chunk_by_prompt.py MODEL_DIR ROUNDS
"""

import os
import statistics
import sys
import time

from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest
from voxdesk.engine.continuity import Continuity

FIRST = "The committee met again on the third floor to settle the budget before noon."
TARGET = "Everyone agreed that the figures would have to be checked once more by Friday."


def main(model: str, rounds: int) -> None:
    engine = Engine.load(model, "cpu")
    engine.wait_until_warm()
    tts = engine._model.tts
    request = SynthesisRequest("x", params=SynthesisParams(min_len=12, max_len=12))
    house = engine._house_prompt()
    list(engine._generate_segment(FIRST, house, request))  # the previous sentence
    continuity = Continuity(tts, house)
    continuity.record(engine._last_sentence(0))
    prompts = {"none": None, "house": house, "house+previous": continuity.prompt()}

    def first_chunk(prompt: object) -> float:
        started = time.perf_counter()
        chunks = engine._generate_segment(TARGET, prompt, request)
        next(chunks)
        elapsed = time.perf_counter() - started
        chunks.close()
        return elapsed

    times: dict[str, list[float]] = {name: [] for name in prompts}
    for round_ in range(rounds):
        order = list(prompts.items())
        for name, prompt in order if round_ % 2 == 0 else order[::-1]:
            times[name].append(first_chunk(prompt))
        print(round_, {k: round(v[-1], 3) for k, v in times.items()},
              "load", os.getloadavg()[0], flush=True)
    print("median", {k: round(statistics.median(v), 3) for k, v in times.items()})


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
