"""The synthesis settings, in a listener's words: quality, how close to stay to the voice,
sentence lengths in seconds; VoxCPM's own names are in the tooltips."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QWidget,
)

from voxdesk.engine import SynthesisParams
from voxdesk.gui.forms import add_labelled_row

DEFAULTS = SynthesisParams()
RANGES = SynthesisParams.RANGES
SEED_RANDOM = -1  # the spin box's "Random" value: seed None
STEP_MS = 160  # audio per generation step (VoxCPM2)
STEP_S = STEP_MS / 1000


def _seconds_box(steps: tuple[float, float]) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(2)
    box.setSingleStep(STEP_S)
    box.setRange(steps[0] * STEP_S, steps[1] * STEP_S)
    box.setSuffix(" s")
    return box


def _pause_box(limits: tuple[float, float]) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(2)
    box.setSingleStep(0.05)
    box.setRange(*limits)
    box.setSuffix(" s")
    return box


class ParamsPanel(QGroupBox):
    """Edits a :class:`SynthesisParams`; ``changed`` fires on every edit."""

    changed = Signal()

    def __init__(self, params: SynthesisParams, parent: QWidget | None = None) -> None:
        super().__init__("Synthesis", parent)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.cfg = QDoubleSpinBox()
        self.cfg.setDecimals(1)
        self.cfg.setSingleStep(0.1)
        self.cfg.setRange(*RANGES["cfg_value"])
        add_labelled_row(form, "Stay close to th&e voice:", self.cfg, "Stay close to the voice",
                         _with_default("How closely the speech follows the text and the voice "
                                       "(classifier-free guidance, CFG). Higher is more "
                                       "faithful but can sound strained; lower is looser.",
                                       DEFAULTS.cfg_value))

        self.steps = QSpinBox()
        low, high = RANGES["inference_timesteps"]
        self.steps.setRange(int(low), int(high))
        self.steps.setSuffix(" steps")
        add_labelled_row(form, "&Quality:", self.steps, "Quality",
                         _with_default("More steps are slower and cleaner: each sentence takes "
                                       "longer to make, so the first sound comes later "
                                       "(diffusion inference timesteps).",
                                       DEFAULTS.inference_timesteps))

        self.min_len = _seconds_box(RANGES["min_len"])
        add_labelled_row(form, "&Minimum length:", self.min_len, "Minimum length", _with_default(
            "The least speech made for each sentence.", f"{DEFAULTS.min_len * STEP_S:.2f} s"))

        self.max_len = _seconds_box(RANGES["max_len"])
        add_labelled_row(form, "Maximum len&gth:", self.max_len, "Maximum length", _with_default(
            "The most speech made for each sentence: a safety limit that ends a sentence the "
            "model does not end by itself.", f"{DEFAULTS.max_len * STEP_S:.2f} s"))

        self.normalize = QCheckBox("Normali&ze text")
        self.normalize.setAccessibleName("Normalize text")
        self.normalize.setToolTip("Spell out numbers, dates, units and symbols before speaking "
                                  f"(default: {'on' if DEFAULTS.normalize else 'off'}).")
        form.addRow(self.normalize)

        self.denoise = QCheckBox("Deno&ise reference")
        self.denoise.setAccessibleName("Denoise")
        self.denoise.setToolTip("Clean background noise from the voice's reference clip before "
                                "cloning it (needs the denoiser model; default: "
                                f"{'on' if DEFAULTS.denoise else 'off'}).")
        form.addRow(self.denoise)

        self.continuity = QCheckBox("&Keep one voice through the text")
        self.continuity.setAccessibleName("Keep one voice through the text")
        self.continuity.setToolTip(
            "Each sentence continues the audio of the ones before it, so a document is read by "
            "one voice from start to end; off, every sentence is made on its own (its first "
            "sound can come a little sooner). Default: "
            f"{'on' if DEFAULTS.continuity else 'off'}.")
        form.addRow(self.continuity)

        self.sentence_pause = _pause_box(RANGES["sentence_pause"])
        add_labelled_row(form, "Pause &between sentences:", self.sentence_pause,
                         "Pause between sentences", _with_default(
                             "The silence between two sentences (the model's own silence at "
                             "each end is trimmed first).", f"{DEFAULTS.sentence_pause:.2f} s"))
        self.paragraph_pause = _pause_box(RANGES["paragraph_pause"])
        add_labelled_row(form, "Pause betwee&n paragraphs:", self.paragraph_pause,
                         "Pause between paragraphs", _with_default(
                             "The silence before a new paragraph.",
                             f"{DEFAULTS.paragraph_pause:.2f} s"))

        self.seed = QSpinBox()
        self.seed.setRange(SEED_RANDOM, 2**31 - 1)
        self.seed.setSpecialValueText("Random")
        add_labelled_row(form, "See&d:", self.seed, "Seed", _with_default(
            "The same seed, text, voice and settings give exactly the same audio; Random gives "
            "a new take each time.", "Random"))

        self.reset_button = QPushButton("&Reset to defaults")
        self.reset_button.setAccessibleName("Reset to defaults")
        self.reset_button.setToolTip("Put every synthesis setting back to VoxCPM's default.")
        self.reset_button.clicked.connect(self.reset)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.reset_button)
        form.addRow(row)

        self.set_params(params)
        for spin in (self.cfg, self.steps, self.min_len, self.max_len, self.seed,
                     self.sentence_pause, self.paragraph_pause):
            spin.valueChanged.connect(self._on_change)
        for box in (self.normalize, self.denoise, self.continuity):
            box.toggled.connect(self._on_change)

    def params(self) -> SynthesisParams:
        seed = self.seed.value()
        # Settings without a control here (a style, a lexicon...) keep their saved values.
        return getattr(self, "_saved", DEFAULTS).replace(
            cfg_value=round(self.cfg.value(), 2),
            inference_timesteps=self.steps.value(),
            min_len=max(1, round(self.min_len.value() / STEP_S)),
            max_len=max(1, round(self.max_len.value() / STEP_S)),
            normalize=self.normalize.isChecked(),
            denoise=self.denoise.isChecked(),
            seed=None if seed == SEED_RANDOM else seed,
            continuity=self.continuity.isChecked(),
            sentence_pause=round(self.sentence_pause.value(), 2),
            paragraph_pause=round(self.paragraph_pause.value(), 2),
        )

    def set_params(self, params: SynthesisParams) -> None:
        self._saved = params
        widgets = (self.cfg, self.steps, self.min_len, self.max_len, self.normalize,
                   self.denoise, self.seed, self.continuity, self.sentence_pause,
                   self.paragraph_pause)
        for widget in widgets:
            widget.blockSignals(True)
        self.cfg.setValue(params.cfg_value)
        self.steps.setValue(params.inference_timesteps)
        self.min_len.setValue(params.min_len * STEP_S)
        self.max_len.setValue(params.max_len * STEP_S)
        self.normalize.setChecked(params.normalize)
        self.denoise.setChecked(params.denoise)
        self.seed.setValue(SEED_RANDOM if params.seed is None else params.seed)
        self.continuity.setChecked(params.continuity)
        self.sentence_pause.setValue(params.sentence_pause)
        self.paragraph_pause.setValue(params.paragraph_pause)
        for widget in widgets:
            widget.blockSignals(False)
        self.changed.emit()

    def set_max_steps(self, steps: int) -> None:
        """Limit each sentence to ``steps`` generation steps (what tests and benches ask)."""
        self.max_len.setValue(steps * STEP_S)

    def reset(self) -> None:
        self.set_params(DEFAULTS)

    def _on_change(self) -> None:
        # Keep min <= max, so the request never fails on a pair the user cannot see as wrong.
        sender = self.sender()
        if self.min_len.value() > self.max_len.value():
            if sender is self.max_len:
                self.min_len.setValue(self.max_len.value())
            else:
                self.max_len.setValue(self.min_len.value())
        self.changed.emit()


def _with_default(tip: str, default: object) -> str:
    return f"{tip} Default: {default}."
