# Usage (from the repository root): python docs/scripts/profile_step.py MODEL_DIR [time|profile|ab|profile-filled]
# Session 5's profiling of the full-size model on the CPU (docs/performance.md, "Session 5").
"""Where a full-size step's time goes on this CPU: plain voxcpm streaming, bf16, timed per chunk,
then one generation under torch.profiler (top ops by self CPU time)."""
import os, sys, time, json
import torch
mode = sys.argv[2] if len(sys.argv) > 2 else "time"
from voxcpm import VoxCPM
t0 = time.monotonic()
model = VoxCPM(voxcpm_model_path=sys.argv[1], enable_denoiser=False, optimize=False, device="cpu")
print("load", round(time.monotonic() - t0, 1), "s; threads", torch.get_num_threads(),
      "dtype", next(model.tts_model.parameters()).dtype, flush=True)
def run(label):
    t = time.monotonic(); marks = []
    for chunk in model.generate_streaming(text="This is a sentence for timing the model.", inference_timesteps=10,
                                          min_len=8, max_len=8, cfg_value=2.0, normalize=False, denoise=False):
        marks.append(time.monotonic() - t)
    steps = [round(b - a, 3) for a, b in zip(marks, marks[1:])]
    print(label, "first", round(marks[0], 3), "steps", steps, "total", round(marks[-1], 2), flush=True)
run("warm-up")
run("warm")
if mode == "profile":
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run("profiled")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30))
if mode == "ab":
    pass  # run from the repository root, so that voxdesk is importable
    from voxdesk.engine.attention import attend_to_filled_cache, attend_to_whole_cache
    for i in range(2):
        attend_to_filled_cache(model.tts_model); run(f"filled-{i}")
        attend_to_whole_cache(model.tts_model); run(f"whole-{i}")
if mode == "profile-filled":
    pass  # run from the repository root, so that voxdesk is importable
    from voxdesk.engine.attention import attend_to_filled_cache
    attend_to_filled_cache(model.tts_model); run("filled")
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU], record_shapes=False) as prof:
        run("profiled-filled")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=14))
    # first chunk only
    import itertools
    with profile(activities=[ProfilerActivity.CPU]) as prof2:
        t = time.monotonic()
        g = model.generate_streaming(text="This is a sentence for timing the model.", inference_timesteps=10, min_len=8, max_len=8, cfg_value=2.0, normalize=False, denoise=False)
        next(g); print("first chunk alone", round(time.monotonic() - t, 3)); g.close()
    print(prof2.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
