"""User settings: saved atomically under the config dir, loaded tolerantly."""

import json
from dataclasses import dataclass, field

from voxdesk.engine import SynthesisParams
from voxdesk.settings import Settings, VoiceSettings, from_dict, to_dict


def test_defaults_when_there_is_no_file(data_dir):
    settings = Settings.load()
    assert settings == Settings()
    assert settings.params == SynthesisParams() and settings.voice.kind == "default"
    assert not Settings.path().exists()


def test_round_trip_under_the_config_dir(data_dir, tmp_path):
    settings = Settings(params=SynthesisParams(cfg_value=1.5, max_len=300, seed=7),
                        voice=VoiceSettings(kind="clip", clip="/a/me.wav", prompt_text="Hi."),
                        output_device="Speakers")
    settings.window.geometry = "AAAA"
    settings.save()
    path = tmp_path / "voxdesk-config" / "settings.json"
    assert Settings.path() == path and path.is_file()
    assert Settings.load() == settings
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]  # no temp file left
    assert json.loads(path.read_text())["params"]["cfg_value"] == 1.5


def test_corrupt_file_gives_defaults_and_is_kept_aside(data_dir):
    path = Settings.path()
    path.write_text("{ not json", encoding="utf-8")
    assert Settings.load() == Settings()
    assert path.with_name("settings.json.bad").read_text() == "{ not json"


def test_bad_fields_fall_back_one_by_one(data_dir):
    Settings.path().write_text(json.dumps({
        "params": {"cfg_value": 3, "inference_timesteps": "many", "normalize": True},
        "voice": {"kind": "clip", "clip": 42, "prompt_text": "Hello."},
        "output_device": None,
        "window": [],
        "added_by_a_newer_version": {"x": 1},
    }), encoding="utf-8")
    settings = Settings.load()
    assert settings.params == SynthesisParams(cfg_value=3.0, normalize=True)
    assert settings.voice == VoiceSettings(kind="clip", clip="", prompt_text="Hello.")
    assert settings.output_device == "" and settings.window == Settings().window


def test_out_of_range_parameters_reset_to_defaults(data_dir):
    for params in ({"cfg_value": 99.0}, {"min_len": 50, "max_len": 10}, {"cfg_value": "NaN"}):
        Settings.path().write_text(json.dumps({"params": params}), encoding="utf-8")
        assert Settings.load().params == SynthesisParams()
    Settings.path().write_text('{"params": {"cfg_value": NaN}}', encoding="utf-8")
    assert Settings.load().params == SynthesisParams()
    Settings.path().write_text('{"voice": {"kind": "telepathy"}}', encoding="utf-8")
    assert Settings.load().voice == VoiceSettings()


def test_a_new_field_is_just_a_field_with_a_default():
    @dataclass
    class Hotkeys:
        read_clipboard: str = "Ctrl+Alt+R"
        enabled: bool = True

    @dataclass
    class Extended(Settings):
        hotkeys: Hotkeys = field(default_factory=Hotkeys)
        recent: list = field(default_factory=list)
        volume: float | None = None

    old_file = to_dict(Settings())
    loaded = from_dict(Extended, old_file)
    assert loaded.hotkeys == Hotkeys() and loaded.recent == [] and loaded.volume is None
    data = to_dict(Extended(hotkeys=Hotkeys("Ctrl+Alt+S", False), recent=["a"], volume=0.5))
    assert from_dict(Extended, json.loads(json.dumps(data))) == Extended(
        hotkeys=Hotkeys("Ctrl+Alt+S", False), recent=["a"], volume=0.5)
