"""The synthesis engine: one loaded VoxCPM model, turned into cancellable streams of audio.

``Engine.synthesize(request)`` returns a :class:`SynthesisStream`; iterating it yields float32
chunks (one per model generation step) the moment they exist. Text is split into sentences
that are generated one after another, so the first chunk comes after the first step of the
first sentence, however long the text. The model object holds a static KV cache and a streaming
VAE decoder, so generations are serialised: the GUI, the hotkey and the server share one engine.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from voxdesk.engine.acceleration import (
    WARM_UP_STEPS,
    WARM_UP_TEXT,
    Acceleration,
    apply_uncompiled_speed_ups,
    should_compile,
    warm_up,
)
from voxdesk.engine.audio_decoder import speed_up_audio_decoder
from voxdesk.engine.continuity import (
    ANCHOR_MAX_SECONDS,
    PREVIOUS_MAX_SECONDS,
    Continuity,
    SpokenSentence,
)
from voxdesk.engine.heap import settle_long_lived_objects
from voxdesk.engine.house_voice import (
    HOUSE_MAX_STEPS,
    HOUSE_SEED,
    HOUSE_SENTENCE,
    HouseVoiceFile,
    HouseVoiceStore,
    make_prompt,
    random_seed,
)
from voxdesk.engine.joins import SentenceJoiner
from voxdesk.engine.model import (
    LoadedModel,
    ModelInfo,
    load_model,
    warm_up_audio_loading,
)
from voxdesk.engine.request import SynthesisParams, SynthesisRequest, VoiceReference
from voxdesk.engine.segmentation import DEFAULT_MAX_WEIGHT, Segment, split_text
from voxdesk.engine.speed import SpeedModel, speed_file
from voxdesk.engine.style import require_description_model
from voxdesk.engine.threads import ThreadTuner, start_threads
from voxdesk.engine.typography import normalize_typography
from voxdesk.engine.voice_prompt import DiskPromptCache, PromptCache, model_fingerprint
from voxdesk.errors import (
    InvalidRequestError,
    ModelLoadError,
    ModelNotFoundError,
    OutOfMemoryError,
    ReferenceAudioError,
    SynthesisError,
    VoxDeskError,
)

log = logging.getLogger(__name__)

DENOISER_ID = "denoiser"  # its name in voxdesk.models' catalogue (ZipEnhancer, from ModelScope)


@dataclass(frozen=True)
class AudioChunk:
    samples: np.ndarray  # float32, mono, at the model's sample rate
    segment: Segment  # the sentence this audio belongs to
    index: int  # chunk number within the stream


class StreamPlanner(Protocol):
    """What a stream calls, if given one, around every sentence and model step (the real-time
    guard, voxdesk.engine.realtime_guard, is one): it may change a sentence's parameters and
    sees how long each step took."""

    def plan_segment(self, segment: Segment, params: SynthesisParams) -> SynthesisParams: ...

    def on_chunk(self, chunk: AudioChunk, generation_s: float, audio_s: float) -> None: ...


@dataclass
class SynthesisStats:
    """Timings of one stream, as ``time.monotonic()`` values; ``None`` until they happen."""

    sample_rate: int
    segments: int
    requested_at: float = field(default_factory=time.monotonic)
    first_chunk_at: float | None = None
    finished_at: float | None = None
    chunks: int = 0
    samples: int = 0
    segments_done: int = 0
    cancelled: bool = False
    voice_cache_hit: bool | None = None  # None when no voice was used

    @property
    def first_chunk_latency(self) -> float | None:
        return None if self.first_chunk_at is None else self.first_chunk_at - self.requested_at

    @property
    def synthesis_time(self) -> float | None:
        return None if self.finished_at is None else self.finished_at - self.requested_at

    @property
    def audio_duration(self) -> float:
        return self.samples / self.sample_rate

    @property
    def real_time_factor(self) -> float | None:
        """Synthesis time / audio duration: below 1 means faster than real time."""
        if self.synthesis_time is None or not self.samples:
            return None
        return self.synthesis_time / self.audio_duration


class SynthesisStream:
    """An iterable of :class:`AudioChunk`; nothing is generated until it is iterated.

    ``cancel()`` may be called from any thread: generation stops before the next model step.
    """

    def __init__(self, engine: Engine, request: SynthesisRequest,
                 planner: StreamPlanner | None = None) -> None:
        self._engine = engine
        self.request = request.validate()
        self.segments = split_text(request.text, engine.max_segment_weight)
        self.stats = SynthesisStats(sample_rate=engine.sample_rate, segments=len(self.segments))
        self._cancelled = threading.Event()
        #: Sees every sentence and step (see StreamPlanner); set before iterating.
        self.planner = planner

    def cancel(self) -> None:
        self._cancelled.set()

    def _chunk(self, samples: np.ndarray, segment: Segment, now: float) -> AudioChunk:
        stats = self.stats
        if stats.first_chunk_at is None:
            stats.first_chunk_at = now
        chunk = AudioChunk(samples, segment, stats.chunks)
        stats.chunks += 1
        stats.samples += samples.size
        return chunk

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def __iter__(self) -> Iterator[AudioChunk]:
        stats = self.stats
        try:
            with self._engine._generation_slot(self._cancelled):
                if self.cancelled:  # cancelled while waiting for the model
                    return
                prompt = self._engine._voice_prompt(self.request, stats)
                self._engine._seed(self.request.params.seed)
                #: What each sentence is conditioned on (voxdesk.engine.continuity).
                # A style needs the clip as a reference and no continuation (VoxCPM #309).
                anchor_s, previous_s = self._engine.continuity_bounds
                self.continuity = Continuity(
                    self._engine._model.tts, prompt,
                    enabled=self.request.params.continuity and not self.request.params.style,
                    anchor_max_seconds=anchor_s, previous_max_seconds=previous_s)
                joiner = SentenceJoiner(stats.sample_rate, self.request.params.sentence_pause,
                                        self.request.params.paragraph_pause)
                segment = self.segments[0]
                for segment in self.segments:
                    if self.cancelled:
                        break
                    request = self.request
                    # A busy desktop: fewer threads, no spinning. Not with a seed: another
                    # thread count sums in another order, and a seed promises the same audio.
                    reproducible = self.request.params.seed is not None
                    self._engine.threads.adjust(reproducible=reproducible)
                    if self.planner is not None:  # the real-time guard may lower timesteps
                        params = self.planner.plan_segment(segment, request.params)
                        request = dataclasses.replace(request, params=params)
                    self._engine._forget_last_sentence()
                    joiner.start(segment.paragraph_start)
                    step_started = time.monotonic()
                    generation = self._engine._generate_segment(
                        segment.text, self.continuity.prompt(), request)
                    for generated in generation:
                        # And between steps: a program that got busy (or idle) mid-sentence
                        # is noticed within a step, not a sentence later.
                        self._engine.threads.adjust(reproducible=reproducible)
                        samples = joiner.feed(generated)  # trimmed, the pause before it added
                        if not samples.size:  # silence held back (or dropped)
                            continue
                        now = time.monotonic()
                        chunk = self._chunk(samples, segment, now)
                        if self.planner is not None:  # model time only, not the consumer's
                            self.planner.on_chunk(chunk, now - step_started,
                                                  samples.size / stats.sample_rate)
                        yield chunk
                        if self.cancelled:
                            break
                        step_started = time.monotonic()
                    else:
                        joiner.finish()
                        stats.segments_done += 1
                        self.continuity.record(self._engine._last_sentence(segment.index))
                if not self.cancelled:
                    tail = joiner.close()
                    if tail.size:
                        yield self._chunk(tail, segment, time.monotonic())
        finally:
            stats.cancelled = self.cancelled
            stats.finished_at = time.monotonic()


class Engine:
    """One loaded model and everything needed to stream from it."""

    def __init__(self, model: LoadedModel, max_segment_weight: int = DEFAULT_MAX_WEIGHT) -> None:
        self._model = model
        self.max_segment_weight = max_segment_weight
        self.prompt_cache = PromptCache()
        self._lock = threading.Lock()
        self._normalizer: Any = None
        # The text and latents of the last generation, for continuity (generations are
        # serialised, so one record is enough).
        self._last_text = ""
        self._last_latents: list[Any] = []
        self._last_samples = 0
        self._last_runaway_at = 0  # steps at which the last generation was a runaway (0: none)
        #: Continuity's context bound (anchor, previous sentence), seconds of audio: the
        #: defaults of voxdesk.engine.continuity (`voxdesk bench long-text` compares others).
        self.continuity_bounds: tuple[float, float] = (ANCHOR_MAX_SECONDS, PREVIOUS_MAX_SECONDS)
        #: "Model default voice": a stable voice per model (voxdesk.engine.house_voice). None:
        #: no prompt at all (a random speaker each time, voxcpm's own behaviour).
        self.house_voices: HouseVoiceStore | None = HouseVoiceStore()
        self._house: tuple[tuple[int, int] | None, HouseVoiceFile] | None = None
        self.house_max_steps = HOUSE_MAX_STEPS
        self._warmup = warm_up_audio_loading()
        #: How fast this model is here: every real-time guard of this engine learns into it.
        self.speed = SpeedModel()
        self.acceleration = Acceleration()
        self._warmed = threading.Event()
        self._warmed.set()
        #: torch's thread count follows the cores other programs leave (voxdesk.engine.threads).
        if model.info.device == "cpu":
            start_threads(model.tts)
        self.threads = ThreadTuner()
        self.threads.enabled &= model.info.device == "cpu"

    @classmethod
    def load(
        cls,
        model: str | None = None,
        device: str | None = None,
        denoiser: bool = False,
        allow_download: bool = True,
        dtype: str = "auto",
        compile: str = "auto",
        warm_up: bool = True,
        remember_speed: bool = True,
    ) -> Engine:
        """Load ``model``; ``dtype`` and ``compile`` ("auto", "on", "off") override VoxDesk's
        rules. With ``warm_up`` the model's first, slow generation (and compilation) runs at
        once on a background thread that holds the model: requests wait for it, nothing else
        does (:meth:`wait_until_warm`). ``remember_speed``: keep the step times measured in
        the cache folder, for the next run's real-time guard."""
        from voxdesk.engine.model import DEFAULT_MODEL

        # voxcpm's own load_denoiser would fetch the denoiser from ModelScope behind our back;
        # VoxDesk loads the copy `voxdesk models download denoiser` put in its model folder.
        engine = cls(load_model(model or DEFAULT_MODEL, device, False, allow_download, dtype))
        speed_up_audio_decoder(engine._model.tts, engine.info.device)  # same audio, less time
        if not should_compile(compile, engine.info.device):  # (warm_up undoes it to compile)
            apply_uncompiled_speed_ups(engine._model.tts, engine.info.device)
        if denoiser:
            engine._denoiser()
        if remember_speed:
            engine.remember_speed()
        engine.acceleration.compile_mode = compile
        if warm_up:
            engine.start_warm_up(compile)  # settles the heap when done
        else:
            settle_long_lived_objects()
        return engine

    def remember_speed(self, directory: str | os.PathLike[str] | None = None) -> bool:
        """Read (and from now on keep) the step times of earlier runs of this model on this
        device, in ``directory`` (default: the cache folder). Returns whether there were any."""
        from pathlib import Path

        import torch

        from voxdesk import paths

        root = Path(directory) if directory is not None else paths.cache_dir()
        info = self.info
        path = speed_file(root, model_fingerprint(info), info.device, info.device_name,
                          torch.get_num_threads())
        return self.speed.attach(path)

    def start_warm_up(self, compile: str = "auto") -> threading.Thread:
        """Compile (see voxdesk.engine.acceleration) and run one short generation in the
        background, holding the model meanwhile."""
        self._lock.acquire()  # taken here, so no request can slip in before the warm-up
        self._warmed.clear()

        def work() -> None:
            try:
                self.acceleration = warm_up(self._model.tts, self.info.device, compile,
                                            self._warm_up_generation)
                self._learn_from_warm_up(self.acceleration.warm_up_steps_s)
                settle_long_lived_objects()  # the warm-up made long-lived objects too
            finally:
                self._lock.release()
                self._warmed.set()

        thread = threading.Thread(target=work, name="voxdesk-model-warm-up", daemon=True)
        thread.start()
        return thread

    def wait_until_warm(self, timeout: float | None = None) -> bool:
        return self._warmed.wait(timeout)

    def _warm_up_generation(self) -> list[float]:
        params = SynthesisParams(min_len=WARM_UP_STEPS, max_len=WARM_UP_STEPS)
        request = SynthesisRequest(WARM_UP_TEXT, None, params)
        times: list[float] = []
        last = time.monotonic()
        for _ in self._generate_segment(WARM_UP_TEXT, None, request):
            now = time.monotonic()
            times.append(now - last)
            last = now
        return times

    def _learn_from_warm_up(self, chunk_times: list[float]) -> None:
        """Give the guard a step time before the first utterance, unless an earlier run left
        one: the warm-up's first steps still carry one-off costs, so only its last ones count
        (pessimistic if anything: a guard that holds a little long loses no words)."""
        timesteps = SynthesisParams().inference_timesteps
        if self.speed.knows(timesteps) or len(chunk_times) < 3:
            return
        for seconds in chunk_times[len(chunk_times) // 2:]:
            self.speed.observe_step(timesteps, seconds)

    @property
    def info(self) -> ModelInfo:
        return self._model.info

    @property
    def sample_rate(self) -> int:
        return self._model.info.sample_rate

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def synthesize(self, request: SynthesisRequest,
                   planner: StreamPlanner | None = None) -> SynthesisStream:
        """Validate ``request`` and return its (not yet started) stream; ``planner`` (e.g. the
        real-time guard) is called around every sentence and model step."""
        return SynthesisStream(self, request, planner)

    def use_disk_prompt_cache(self, directory: str | os.PathLike[str] | None = None) -> None:
        """Keep encoded voices on disk too (default: the cache folder), in a folder per model,
        so a saved voice is encoded once rather than after every start."""
        from pathlib import Path

        from voxdesk import paths

        root = Path(directory) if directory is not None else paths.cache_dir() / "prompts"
        self.prompt_cache.disk = DiskPromptCache(root / model_fingerprint(self.info))

    def prepare_voice(self, voice: VoiceReference, denoise: bool = False) -> bool:
        """Encode ``voice`` now (when a person picks it), so that Play does not wait for it.
        Returns whether it was cached already. Raises ReferenceAudioError."""
        request = SynthesisRequest("-", voice, SynthesisParams(denoise=denoise))
        stats = SynthesisStats(sample_rate=self.sample_rate, segments=0)
        with self._generation_slot(threading.Event()):
            self._voice_prompt(request, stats)
        return bool(stats.voice_cache_hit)

    # -- used by SynthesisStream ------------------------------------------------------------

    class _Slot:
        def __init__(self, lock: threading.Lock, cancelled: threading.Event) -> None:
            self._lock, self._cancelled = lock, cancelled
            self._held = False

        def __enter__(self) -> None:
            # Wait for the model, but give up at once if this stream is cancelled meanwhile.
            while not self._lock.acquire(timeout=0.05):
                if self._cancelled.is_set():
                    return
            self._held = True

        def __exit__(self, *exc: object) -> None:
            if self._held:
                self._lock.release()

    def _generation_slot(self, cancelled: threading.Event) -> Engine._Slot:
        return Engine._Slot(self._lock, cancelled)

    def new_default_voice(self, seed: int | None = None) -> int:
        """Make another house voice (from ``seed``, else a random one), kept on disk for this
        model; returns its seed. Every utterance without a voice then speaks in it."""
        seed = random_seed() if seed is None else seed
        with self._generation_slot(threading.Event()):
            self._make_house_voice(seed)
        return seed

    def default_voice_seed(self) -> int | None:
        """The seed of this model's house voice (made now if it does not exist yet)."""
        with self._generation_slot(threading.Event()):
            self._house_prompt()
        return None if self._house is None else self._house[1].seed

    def _house_prompt(self) -> dict[str, Any] | None:
        """The house voice's prompt: from memory, else its file, else made now. The file is
        checked on every utterance, so a new default voice made elsewhere is used at once."""
        store = self.house_voices
        if store is None:
            return None
        fingerprint = model_fingerprint(self.info)
        stamp = store.stamp(fingerprint)
        if self._house is not None and stamp is not None and self._house[0] == stamp:
            return self._house[1].prompt
        loaded = store.load(fingerprint) if stamp is not None else None
        if loaded is not None:
            self._house = (stamp, loaded)
            return loaded.prompt
        if stamp is None and self._house is not None:  # its file went away: keep the voice
            self._save_house_voice(self._house[1])
            return self._house[1].prompt
        return self._make_house_voice(HOUSE_SEED).prompt

    def _make_house_voice(self, seed: int) -> HouseVoiceFile:
        import torch

        request = SynthesisRequest(HOUSE_SENTENCE, None,
                                   SynthesisParams(max_len=self.house_max_steps))
        devices: list[int] | None = [] if self.info.device == "cpu" else None
        with torch.random.fork_rng(devices=devices):  # leave the caller's random state alone
            torch.manual_seed(seed)
            self._forget_last_sentence()
            for _ in self._generate_segment(HOUSE_SENTENCE, None, request):
                pass
        spoken = self._last_sentence(0)
        if spoken.latents is None:  # nothing generated: keep no voice rather than a broken one
            raise SynthesisError("The default voice could not be made (the model generated "
                                 "nothing).", "Try again, or choose a saved voice.")
        voice = HouseVoiceFile(seed, make_prompt(self._model.tts, spoken.text, spoken.latents))
        self._save_house_voice(voice)
        log.info("made the default voice of %s (seed %d)", self.info.model_id, seed)
        return voice

    def _save_house_voice(self, voice: HouseVoiceFile) -> None:
        fingerprint = model_fingerprint(self.info)
        stamp = None
        if self.house_voices is not None:
            try:
                self.house_voices.save(fingerprint, voice)
                stamp = self.house_voices.stamp(fingerprint)
            except OSError as exc:  # a read-only disk must not stop speech
                log.warning("could not save the default voice (%s)", exc)
        self._house = (stamp, voice)

    def design_sample(self, description: str, text: str, seed: int, max_steps: int) -> np.ndarray:
        """VoxCPM2 voice design: ``text`` spoken by the voice ``description`` describes, from
        ``seed`` (no prompt: the description alone makes the voice)."""
        import torch

        require_description_model(self.info)
        request = SynthesisRequest(text, None, SynthesisParams(max_len=max_steps))
        devices: list[int] | None = [] if self.info.device == "cpu" else None
        with self._generation_slot(threading.Event()), torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            pieces = list(self._generate_segment(f"({description}){text}", None, request))
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)

    def _styled_voice(self, request: SynthesisRequest) -> VoiceReference:
        """The voice of a request with a style: its clip as a reference only, the one way
        VoxCPM2 follows a style for a cloned voice (VoxCPM #309)."""
        require_description_model(self.info, "A voice style")
        voice = request.voice
        if voice is None:
            raise InvalidRequestError(
                "A style changes how a cloned voice speaks; this request has no voice.",
                "Choose a saved or cloned voice, or design a new one with "
                "`voxdesk voices design NAME --description TEXT`.")
        clip = voice.reference_wav or voice.prompt_wav
        return VoiceReference(reference_wav=clip)

    def _voice_prompt(self, request: SynthesisRequest, stats: SynthesisStats) -> Any:
        if request.params.style:
            request = dataclasses.replace(request, voice=self._styled_voice(request))
        voice = request.voice
        if voice is None:
            return self._house_prompt()
        if voice.prompt_wav is None and not self.info.supports_reference_only:
            raise ReferenceAudioError(
                f"{self.info.model_id} needs the transcript of the voice clip.",
                "Enter what is said in the clip as the prompt text.",
            )
        denoise = request.params.denoise
        prompt, hit = self.prompt_cache.get_or_build(
            voice, denoise, lambda: self._encode_voice(voice, denoise)
        )
        stats.voice_cache_hit = hit
        return prompt

    def _encode_voice(self, voice: VoiceReference, denoise: bool) -> Any:
        self._warmup.join()
        temp_files: list[str] = []

        def cleaned(path: Any) -> str | None:
            if path is None or not denoise:
                return None if path is None else str(path)
            fd, out = tempfile.mkstemp(suffix=".wav", prefix="voxdesk-denoised-")
            os.close(fd)
            temp_files.append(out)
            self._denoiser().enhance(str(path), output_path=out)
            return out

        kwargs: dict[str, Any] = {"prompt_text": voice.prompt_text,
                                  "prompt_wav_path": cleaned(voice.prompt_wav)}
        if self.info.supports_reference_only:
            kwargs["reference_wav_path"] = cleaned(voice.reference_wav)
        try:
            return self._model.tts.build_prompt_cache(**kwargs)
        except VoxDeskError:
            raise
        except Exception as exc:
            raise ReferenceAudioError(f"The voice clip could not be encoded: {exc}",
                                      "Try another clip (WAV, 3-20 s of clear speech).") from exc
        finally:
            for path in temp_files:
                try:
                    os.unlink(path)
                except OSError:
                    pass

    def _denoiser(self) -> Any:
        voxcpm = self._model.voxcpm
        if voxcpm.denoiser is None:
            from voxdesk.models import denoiser_path

            path = denoiser_path()
            if path is None:
                raise ModelNotFoundError(
                    "Denoise needs the denoiser model, which is not downloaded.",
                    f"Download it once with `voxdesk models download {DENOISER_ID}`, "
                    "or turn Denoise off.",
                )
            try:
                from voxcpm.zipenhancer import ZipEnhancer

                voxcpm.denoiser = ZipEnhancer(path)
            except Exception as exc:
                raise ModelLoadError(
                    f"The denoiser model in {path} could not be loaded "
                    f"({type(exc).__name__}: {exc}).",
                    f"Download it again with `voxdesk models download {DENOISER_ID}`, "
                    "or turn Denoise off.",
                ) from exc
        return voxcpm.denoiser

    @staticmethod
    def _seed(seed: int | None) -> None:
        if seed is not None:
            import torch

            torch.manual_seed(seed)

    def _prepare_text(self, text: str, normalize: bool) -> str:
        text = normalize_typography(re.sub(r"\s+", " ", text))
        if normalize:
            if self._normalizer is None:
                from voxcpm.utils.text_normalize import TextNormalizer

                self._normalizer = TextNormalizer()
            text = self._normalizer.normalize(text)
        return text

    def _forget_last_sentence(self) -> None:
        self._last_text, self._last_latents, self._last_samples = "", [], 0
        self._last_runaway_at = 0

    def _last_sentence(self, index: int) -> SpokenSentence:
        """The sentence the last generation made (its text and latents), for continuity."""
        import torch

        latents = None
        if self._last_latents:
            latents = torch.cat(self._last_latents, dim=1).squeeze(0).float().cpu()
        steps = len(self._last_latents)
        return SpokenSentence(index, self._last_text, latents,
                              self._last_samples / self.sample_rate,
                              ran_to_limit=0 < self._last_runaway_at <= steps)

    def _step_limit(self, model_text: str, max_len: int) -> int:
        """The most steps voxcpm makes for ``model_text``: ``min(6 x text tokens + 10,
        max_len)`` (voxcpm2.py and voxcpm.py, ``_generate_with_prompt_cache``)."""
        try:
            tokens = len(self._model.tts.text_tokenizer(model_text))
        except Exception:  # noqa: BLE001 - no tokenizer to ask: judge by max_len alone
            tokens = max_len
        return min(int(tokens * 6.0 + 10), max_len)

    @staticmethod
    def _runaway_steps(limit: int, min_len: int) -> int:
        """After how many steps a generation with this step ``limit`` has run to it without the
        stop head firing (0: the length is forced, the stop head cannot fire before the limit).

        voxcpm lets the stop head end a generation only after step ``min_len + 1``
        (``i > min_len``, voxcpm2.py ``_inference``)."""
        return limit if limit > min_len + 1 else 0

    def _generate_segment(
        self, text: str, prompt: Any, request: SynthesisRequest
    ) -> Iterator[np.ndarray]:
        import torch

        p = request.params
        if request.lexicon is not None:  # the model hears the replacement; the segment keeps text
            text = request.lexicon.apply(text)
        target = self._prepare_text(text, p.normalize)
        model_text = f"({p.style}){target}" if p.style else target
        self._last_text, self._last_latents, self._last_samples = target, [], 0
        limit = self._step_limit(model_text, p.max_len)
        self._last_runaway_at = self._runaway_steps(limit, p.min_len)
        generator = self._model.tts._generate_with_prompt_cache(
            target_text=model_text,
            prompt_cache=prompt,
            min_len=p.min_len,
            max_len=p.max_len,
            inference_timesteps=p.inference_timesteps,
            cfg_value=p.cfg_value,
            retry_badcase=False,
            streaming=True,
        )
        try:
            for audio, _tokens, latents in generator:
                # voxcpm yields the latents so far (a list it trims): the last is this step's.
                self._last_latents.append(latents[-1].detach())
                samples = audio.squeeze(0).float().cpu().numpy()
                self._last_samples += samples.size
                yield samples
                if len(self._last_latents) >= limit:
                    # The last step voxcpm makes: resumed, it would run the language models
                    # once more for a next step it never takes (~0.3 s on a 2-core CPU for the
                    # full-size model), before the next sentence could start.
                    break
        except torch.OutOfMemoryError as exc:
            raise OutOfMemoryError(
                "The GPU ran out of memory while speaking.",
                "Close other GPU programs, use shorter sentences, or choose --device cpu.",
            ) from exc
        except VoxDeskError:
            raise
        except Exception as exc:
            log.exception("generation failed")
            raise SynthesisError(f"Synthesis failed: {exc}") from exc
        finally:
            # Closing the generator is what stops voxcpm's generation loop and frees the slot.
            generator.close()
