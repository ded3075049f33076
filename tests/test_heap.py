"""A loaded model is kept out of Python's later garbage collections (voxdesk.engine.heap).

A full collection holds the GIL while it walks every tracked object; with torch and a model
loaded that stalled PortAudio's Python callback for 200-440 ms in the middle of an utterance.
After a load, only objects made since are left for the collector to walk.
"""

import subprocess
import sys
import textwrap

CHECK = textwrap.dedent("""
    import gc, sys
    from voxdesk.engine import Engine
    engine = Engine.load(sys.argv[1], device="cpu", warm_up={warm_up})
    assert engine.wait_until_warm(120)
    engine._warmup.join(120)  # librosa's import, in the background meanwhile, is done too
    print(gc.get_freeze_count(), len(gc.get_objects()))
""")


def _frozen_and_tracked(model_dir, warm_up: bool) -> tuple[int, int]:
    # A fresh interpreter: the counts are then those of one load, not of the test session.
    result = subprocess.run([sys.executable, "-c", CHECK.format(warm_up=warm_up), str(model_dir)],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    frozen, tracked = map(int, result.stdout.split())
    return frozen, tracked


def test_after_a_load_and_its_warm_up_collections_walk_almost_nothing(tiny_model_dir):
    frozen, tracked = _frozen_and_tracked(tiny_model_dir, warm_up=True)
    assert frozen > 100_000  # torch, transformers, voxcpm and the model
    # Under 1,000 left to walk: librosa's import (~3,300 objects) may end after the model
    # settled, and is frozen when it ends.
    assert tracked < 1_000, (frozen, tracked)


def test_a_load_without_warm_up_settles_the_heap_too(tiny_model_dir):
    frozen, tracked = _frozen_and_tracked(tiny_model_dir, warm_up=False)
    assert frozen > 100_000 and tracked < 1_000, (frozen, tracked)
