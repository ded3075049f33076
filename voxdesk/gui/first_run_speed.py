"""The first-run dialog's speed measurement: which models still need a figure here, the
background measurement (voxdesk.gui.first_run_work.SpeedMeasurer, skippable at once) and what
the dialog says meanwhile. Mixed into :class:`~voxdesk.gui.first_run.FirstRunDialog`, which
provides the widgets and the advice; each figure that arrives updates it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from voxdesk import models
from voxdesk.gui.first_run_work import SpeedMeasurer
from voxdesk.models import hardware, measured

log = logging.getLogger(__name__)


class SpeedMeasuring:
    """Mixed into the first-run dialog, which provides these."""

    info: hardware.HardwareInfo | None
    figures: dict[str, measured.Measurement]
    measurer: SpeedMeasurer | None
    tasks: Any  # the TaskRunner
    _measure_args: tuple[str, ...]
    speed_label: Any
    measure_button: Any
    skip_button: Any

    if TYPE_CHECKING:  # the dialog's
        def _describe_computer(self) -> None: ...
        def _refresh_choices(self) -> None: ...
        def _preselect(self) -> None: ...
        def _update_buttons(self) -> None: ...

    def _unmeasured(self) -> list[str]:
        """Models to measure, smallest first (quick figures early); those that do not fit
        here (not enough memory) are left out."""
        if self.info is None:
            return []
        names = []
        for entry in reversed(models.tts_models()):
            if entry.id in measured.ARCHITECTURES and entry.id not in self.figures and \
                    measured.advise(entry, self.info, {}).fits:
                names.append(entry.id)
        return names

    def start_measuring(self) -> None:
        names = self._unmeasured()
        if not names or (self.measurer is not None and self.measurer.running()):
            self._update_speed()
            return
        self.measurer = SpeedMeasurer(names, self._measure_args, self.tasks)
        self.measurer.started.connect(self._on_measuring)
        self.measurer.measured.connect(self._on_measured)
        self.measurer.failed.connect(self._on_measure_failed)
        self.measurer.done.connect(self._on_measure_done)
        self.measurer.start()
        self.speed_label.setText(f"Measuring {names[0]}… (the first time builds a random model "
                                 "of its size: a few minutes)")
        self._update_speed()

    def skip_measuring(self) -> None:
        if self.measurer is not None:
            self.measurer.skip()
        self.speed_label.setText("Measuring skipped: the advice uses the figures measured so "
                                 "far and the hardware rule.")
        self._update_speed(skipping=True)

    def _on_measuring(self, name: str) -> None:
        if self.measurer is not None and not self.measurer._skipped.is_set():
            self.speed_label.setText(f"Measuring {name}… (in the background)")

    def _on_measured(self, figure: measured.Measurement) -> None:
        self.figures[figure.model] = figure
        self.speed_label.setText(f"{figure.model}: real-time factor {figure.rtf:.2f} here.")
        self._describe_computer()
        self._refresh_choices()
        self._preselect()
        self._update_buttons()

    def _on_measure_failed(self, name: str, message: str) -> None:
        log.info("speed measurement of %s failed: %s", name, message)
        self.speed_label.setText(f"Could not measure {name}: {message}")

    def _on_measure_done(self, complete: bool) -> None:
        if complete:
            self.speed_label.setText("Measured on this computer: the advice below is from "
                                     "these figures.")
        self._update_speed()

    def _update_speed(self, skipping: bool = False) -> None:
        running = self.measurer is not None and self.measurer.running() and not skipping
        missing = bool(self._unmeasured())
        self.measure_button.setVisible(not running)
        self.measure_button.setEnabled(missing and self.info is not None)
        self.skip_button.setVisible(running)
        if not running and not missing and self.figures and not self.speed_label.text():
            self.speed_label.setText("Measured on this computer: the advice below is from "
                                     "these figures.")
        elif not running and missing and not self.speed_label.text():
            self.speed_label.setText("Not measured here yet: the advice is a rule of thumb.")

    def _stop_measuring(self) -> None:
        if self.measurer is not None and self.measurer.running():
            self.measurer.skip()
