#!/usr/bin/env bash
# Installs the system libraries VoxDesk needs on Debian/Ubuntu: PortAudio for playback,
# libsndfile for audio files, Qt's xcb runtime, and - with --test - the headless X server,
# PulseAudio and the tools the test suite drives (xclip, xdotool, dbus-daemon).
set -euo pipefail

runtime=(
  libportaudio2 libasound2-plugins libsndfile1
  libegl1 libgl1 libopengl0 libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xfixes0
  libxcb-xinerama0 libxcb-xkb1 libxcb-sync1 libxcb-shm0 libxcb-render0 libx11-xcb1
)
testing=(xvfb xauth pulseaudio pulseaudio-utils xclip xdotool x11-utils trayer ffmpeg imagemagick
  desktop-file-utils appstream  # validate the .desktop and AppStream files
  dbus)  # dbus-daemon: a private session bus for the Wayland portal shortcut tests

packages=("${runtime[@]}")
[[ "${1:-}" == "--test" ]] && packages+=("${testing[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  echo "Installing system packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
