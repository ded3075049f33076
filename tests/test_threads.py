"""torch's thread count on a busy desktop (voxdesk.engine.threads): real competing processes."""

import os
import sys
import time

import pytest

from voxdesk.bench.competitors import competing_processes
from voxdesk.engine.threads import (
    PARALLEL_MIN_WEIGHTS,
    ThreadTuner,
    free_cores,
    machine_threads,
    start_threads,
)


def test_free_cores_subtracts_this_process_from_the_machines_use():
    # 2 cores, 100 jiffies each elapsed: the machine was busy 150, 100 of them ours.
    assert free_cores(2, busy=150, total=200, own=100) == pytest.approx(1.5)
    assert free_cores(2, busy=200, total=200, own=0) == 0  # others took everything
    assert free_cores(2, busy=50, total=200, own=80) == 2  # never more than the cores


@pytest.mark.skipif(not sys.platform.startswith("linux") or (os.cpu_count() or 1) > 4,
                    reason="reads /proc; keeping every core busy is only cheap on a small machine")
def test_other_programs_on_every_core_leave_one_torch_thread(monkeypatch):
    import torch

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("VOXDESK_THREADS", raising=False)
    before = torch.get_num_threads()
    tuner = ThreadTuner(max_threads=max(2, before), cores=os.cpu_count())
    try:
        with competing_processes(os.cpu_count() or 1, max_seconds=30):
            time.sleep(0.1)
            tuner.adjust()  # start a window while they run
            time.sleep(0.6)
            assert tuner.adjust() == 1 and torch.get_num_threads() == 1
    finally:
        tuner.reset()
        torch.set_num_threads(before)


def test_a_model_too_small_to_share_runs_on_one_thread_and_a_big_one_on_all(monkeypatch):
    import torch

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("VOXDESK_THREADS", raising=False)
    before = torch.get_num_threads()
    small = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.Linear(128, 64))
    big = torch.nn.Sequential(torch.nn.Linear(64, 64),
                              torch.nn.Linear(1024, PARALLEL_MIN_WEIGHTS // 1024))
    try:
        assert start_threads(small) == 1 and torch.get_num_threads() == 1
        # ...and a big model loaded next gets the machine's count back, not the small one's
        assert start_threads(big) == machine_threads() == torch.get_num_threads()
        monkeypatch.setenv("VOXDESK_THREADS", "3")  # the user's count wins over the rule
        assert start_threads(small) == 3 and torch.get_num_threads() == 3
        monkeypatch.setenv("VOXDESK_THREADS", "many")  # a typo: the machine's count, no crash
        assert start_threads(small) == machine_threads()
    finally:
        torch.set_num_threads(before)


def test_a_generation_thread_that_ran_under_another_count_gets_the_models(monkeypatch):
    import threading

    import torch

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("VOXDESK_THREADS", raising=False)
    before = torch.get_num_threads()
    small = torch.nn.Linear(64, 64)
    tuners: list[ThreadTuner] = []
    seen: list[int] = []
    ran, loaded, done = threading.Event(), threading.Event(), threading.Event()

    def synthesis_thread() -> None:  # like the window's: it lives across model loads
        torch.ones(1 << 20).sum()  # ran an operation under the count of its time (2)
        seen.append(torch.get_num_threads())
        ran.set()
        loaded.wait(10)
        tuners[0].adjust()  # the next generation, under the model loaded since
        seen.append(torch.get_num_threads())
        done.set()

    torch.set_num_threads(2)
    worker = threading.Thread(target=synthesis_thread)
    worker.start()
    try:
        assert ran.wait(10)
        start_threads(small)  # the loader thread, as Engine does: 1 thread for this model
        tuners.append(ThreadTuner())
        loaded.set()
        assert done.wait(10) and seen == [2, 1]
    finally:
        worker.join(10)
        torch.set_num_threads(before)


def test_the_tiny_model_loads_on_one_thread_and_is_not_tuned(engine):
    # Its largest linear layer has 8,192 weights: a second thread would only spin.
    assert engine.threads.max_threads == 1 and not engine.threads.enabled


def test_a_thread_count_the_user_fixed_is_left_alone(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    tuner = ThreadTuner(max_threads=2)
    assert not tuner.enabled
    time.sleep(0.4)
    assert tuner.adjust() == 2


@pytest.mark.skipif(not sys.platform.startswith("linux") or (os.cpu_count() or 1) > 4,
                    reason="reads /proc; keeping every core busy is only cheap on a small machine")
def test_a_program_that_gets_busy_mid_sentence_is_noticed_within_that_sentence(warm_engine,
                                                                                monkeypatch):
    import torch

    from voxdesk.engine import SynthesisParams, SynthesisRequest

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("VOXDESK_THREADS", raising=False)
    before, original = torch.get_num_threads(), warm_engine.threads
    request = SynthesisRequest("One sentence, long enough to notice the others.",
                               params=SynthesisParams(min_len=40, max_len=40))  # no seed
    # The default voice exists before the tuner starts (it is made on its first use).
    list(warm_engine.synthesize(SynthesisRequest("Ready.", params=SynthesisParams(min_len=1, max_len=1))))
    threads_per_chunk, segments = [], set()
    try:
        with competing_processes(os.cpu_count() or 1, max_seconds=60):
            # Its first window is too short to act on (MIN_WINDOW_S): the sentence starts with
            # every thread, so only a decision between its steps can bring it down to one.
            warm_engine.threads = ThreadTuner(max_threads=max(2, before), cores=os.cpu_count())
            for chunk in warm_engine.synthesize(request):
                threads_per_chunk.append(torch.get_num_threads())
                segments.add(chunk.segment.index)
    finally:
        warm_engine.threads = original
        torch.set_num_threads(before)
    assert segments == {0} and len(threads_per_chunk) > 10  # one sentence, many steps
    assert threads_per_chunk[-1] == 1
