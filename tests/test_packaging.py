"""Desktop integration files validate with the freedesktop tools, the icons are what they claim,
and (with VOXDESK_BUILD_BUNDLE=1) the PyInstaller bundle builds and runs."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from voxdesk import __version__

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "io.github.voxdesk.VoxDesk"
DESKTOP = ROOT / "packaging" / f"{APP_ID}.desktop"
METAINFO = ROOT / "packaging" / f"{APP_ID}.metainfo.xml"
ICONS = ROOT / "resources" / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:  # CI installs them (packaging/install-system-deps.sh --test)
        pytest.skip(f"{name} is not installed")
    return path


def _desktop_entry() -> dict[str, str]:
    lines = DESKTOP.read_text("utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_desktop_file_validates():
    result = subprocess.run([_tool("desktop-file-validate"), str(DESKTOP)],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "error" not in result.stdout, result.stdout
    entry = _desktop_entry()
    assert entry["Exec"].split()[0] == "voxdesk" and entry["Icon"] == APP_ID


def test_metainfo_validates_and_matches_the_desktop_file():
    result = subprocess.run([_tool("appstreamcli"), "validate", "--no-net", str(METAINFO)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    component = ET.parse(METAINFO).getroot()
    assert component.findtext("id") == APP_ID
    assert component.findtext("launchable") == DESKTOP.name
    assert component.findtext("name") == _desktop_entry()["Name"]
    assert component.find("releases/release").get("version") == __version__


def test_icons_exist_in_every_size():
    svg = ET.parse(ICONS / "voxdesk.svg").getroot()
    assert svg.tag.endswith("svg") and svg.get("viewBox") == "0 0 256 256"
    for size in PNG_SIZES:
        data = (ICONS / f"voxdesk-{size}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
        assert (width, height) == (size, size)
    assert (ICONS / "voxdesk.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"


def test_desktop_entry_installs_for_the_user(tmp_path):
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    subprocess.run(["bash", str(ROOT / "packaging" / "install-desktop-entry.sh"),
                    "/opt/VoxDesk/voxdesk"], check=True, env=env, capture_output=True)
    installed = tmp_path / "applications" / DESKTOP.name
    assert 'Exec="/opt/VoxDesk/voxdesk"' in installed.read_text()
    assert (tmp_path / "icons/hicolor/48x48/apps" / f"{APP_ID}.png").is_file()
    assert (tmp_path / "icons/hicolor/scalable/apps" / f"{APP_ID}.svg").is_file()
    assert (tmp_path / "metainfo" / METAINFO.name).is_file()
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(installed)], check=True)
    subprocess.run(["bash", str(ROOT / "packaging" / "install-desktop-entry.sh"), "--uninstall"],
                   check=True, env=env, capture_output=True)
    assert not installed.exists()


def test_version_option(cli):
    result = cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"voxdesk {__version__}"


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.skipif(os.environ.get("VOXDESK_BUILD_BUNDLE") != "1",
                    reason="set VOXDESK_BUILD_BUNDLE=1 to build the PyInstaller bundle "
                    "(a few minutes, ~5 GB; .ci/run does)")
def test_pyinstaller_bundle_builds_and_runs(tmp_path, tiny_model_dir):
    try:
        _build_and_run_bundle(tmp_path, tiny_model_dir)
    finally:  # pytest keeps the last runs' temporary folders: not 5 GB each
        for folder in ("dist", "work"):
            shutil.rmtree(tmp_path / folder, ignore_errors=True)


def _build_and_run_bundle(tmp_path: Path, tiny_model_dir: Path) -> None:
    pyinstaller = Path(sys.executable).with_name("pyinstaller")
    if not pyinstaller.exists():
        pytest.fail("PyInstaller is missing: pip install -e '.[bundle]'")
    subprocess.run([str(pyinstaller), str(ROOT / "packaging" / "voxdesk.spec"), "--noconfirm",
                    "--distpath", str(tmp_path / "dist"), "--workpath", str(tmp_path / "work")],
                   check=True, capture_output=True, timeout=3300)
    program = tmp_path / "dist" / "bundle" / "voxdesk"
    result = subprocess.run([str(program), "--version"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"voxdesk {__version__}"
    # The bundle really speaks: model loading (torch.jit needs voxcpm's source), text
    # normalisation (data files), export.
    out = tmp_path / "bundle.wav"
    env = {**os.environ, "VOXDESK_CONFIG_DIR": str(tmp_path / "config"),
           "VOXDESK_DATA_DIR": str(tmp_path / "data"), "VOXDESK_LOG_DIR": str(tmp_path / "log")}
    result = subprocess.run([str(program), "export", "It costs 12 dollars.", "--normalize",
                             "--model", str(tiny_model_dir), "--device", "cpu", "--max-len", "4",
                             "-o", str(out)], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 1000
