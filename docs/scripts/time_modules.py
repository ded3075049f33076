# Usage (from the repository root): python docs/scripts/time_modules.py MODEL_DIR
# Session 5's profiling of the full-size model on the CPU (docs/performance.md, "Session 5").
import sys, time, collections, torch
pass  # run from the repository root, so that voxdesk is importable
from voxdesk.engine import Engine, SynthesisRequest, SynthesisParams
e = Engine.load(sys.argv[1], device="cpu", remember_speed=False)
e.wait_until_warm()
tts = e._model.tts
acc = collections.Counter()
def wrap(owner, name, label):
    f = getattr(owner, name)
    def timed(*a, **k):
        t = time.monotonic()
        try: return f(*a, **k)
        finally: acc[label] += time.monotonic() - t
    setattr(owner, name, timed)
wrap(tts.base_lm, "forward", "base_lm prefill")
wrap(tts.residual_lm, "forward", "residual_lm prefill")
wrap(tts.base_lm, "forward_step", "base_lm step")
wrap(tts.residual_lm, "forward_step", "residual_lm step")
wrap(tts.feat_encoder, "forward", "feat_encoder")
wrap(tts.feat_decoder, "forward", "feat_decoder (LocDiT solve)")
TEXT = "The first sentence is here and it is short. The second sentence follows it closely."
for rnd in range(2):
    for cont in (True, False):
        acc.clear()
        p = SynthesisParams(min_len=8, max_len=8, seed=5, continuity=cont)
        t = time.monotonic(); firsts = []; last = None; sentence_t = t
        for c in e.synthesize(SynthesisRequest(TEXT, params=p)):
            if c.segment.index != last:
                firsts.append(round(time.monotonic() - t, 2)); last = c.segment.index
                if c.segment.index == 1:
                    snap = dict(acc)
        print("cont", cont, "first chunks at", firsts, "total", round(time.monotonic() - t, 2))
        print("   at sentence 2's first chunk:", {k: round(v, 2) for k, v in snap.items()})
        print("   whole:", {k: round(v, 2) for k, v in acc.items()}, flush=True)
