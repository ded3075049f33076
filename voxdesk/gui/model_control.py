"""The controller's model: loading one on the task runner's "loader" lane (the window stays
usable meanwhile), then reading what was asked for while it loaded. A part of
:class:`~voxdesk.gui.controller.SpeechController`, kept in its own module; it emits the
controller's signals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from voxdesk.engine import Engine
from voxdesk.gui.errors import describe
from voxdesk.gui.speech_state import State
from voxdesk.settings import Settings


class ModelControl:
    """Mixed into the controller, which provides these attributes and signals."""

    settings: Settings
    engine: Engine | None
    model_spec: str
    models_loaded: int
    tasks: Any  # the TaskRunner
    _pending: tuple[str, int, int] | None
    engineReady: Any
    engineFailed: Any
    failed: Any

    if TYPE_CHECKING:  # the controller's
        @property
        def loading(self) -> bool: ...
        def _set_model(self, model: State) -> None: ...
        def read(self, document: str, start: int = 0, end: int | None = None) -> bool: ...

    def load_model(self, model: str, device: str = "auto") -> bool:
        """Load ``model`` on the loader lane; False if a load is already under way."""
        if self.loading:
            return False
        self.model_spec = model
        self._set_model(State.LOADING)

        performance = self.settings.performance  # dtype and compilation overrides

        def load() -> Engine:
            # Returns before the warm-up generation is done: the window is usable meanwhile.
            engine = Engine.load(model, device or None, dtype=performance.dtype,
                                 compile=performance.compile)
            engine.use_disk_prompt_cache()  # saved voices stay encoded across restarts
            return engine

        self.tasks.run(load, self.set_engine, self._on_load_failed, lane="loader")
        return True

    def set_engine(self, engine: Engine) -> None:
        self.engine = engine
        self.models_loaded += 1
        self._set_model(State.READY)
        self.engineReady.emit(engine)
        if self._pending is not None:
            document, start, end = self._pending
            self._pending = None
            self.read(document, start, end)

    def _on_load_failed(self, exc: BaseException) -> None:
        self._pending = None
        message, hint = describe(exc)
        self._set_model(State.READY if self.engine is not None else State.FAILED)
        self.engineFailed.emit(message, hint)
        self.failed.emit(message, hint or "Choose a model folder with File > Load model…")

