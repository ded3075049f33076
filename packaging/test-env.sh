#!/usr/bin/env bash
# Runs a command inside the environment VoxDesk's tests need, setting it up first on a fresh
# Debian/Ubuntu machine: system packages, the Python virtual environment, a virtual X display
# (Xvfb) and a PulseAudio server whose default output is a null sink (so PortAudio really plays
# and tests can record the sink's monitor). Usage: packaging/test-env.sh COMMAND [ARGS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash packaging/install-system-deps.sh --test
bash packaging/install.sh --test

runtime=${XDG_RUNTIME_DIR:-/tmp/voxdesk-test-runtime-$(id -u)}
mkdir -p "$runtime" && chmod 700 "$runtime"
export XDG_RUNTIME_DIR=$runtime

# A virtual X server, unless a display is already there.
if [[ -z "${DISPLAY:-}" ]] || ! xdpyinfo >/dev/null 2>&1; then
  for n in $(seq 90 120); do
    if [[ ! -e /tmp/.X11-unix/X$n && ! -e /tmp/.X$n-lock ]]; then break; fi
  done
  Xvfb ":$n" -screen 0 1600x1000x24 -nolisten tcp >"$runtime/xvfb.log" 2>&1 &
  xvfb_pid=$!
  export DISPLAY=":$n"
  for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
  xdpyinfo >/dev/null 2>&1 || { echo "Xvfb did not start:"; cat "$runtime/xvfb.log"; exit 1; }
fi

# A PulseAudio server with a null sink as the default output, unless one answers already.
if ! pactl info >/dev/null 2>&1; then
  pulseaudio --daemonize=yes --exit-idle-time=-1 --disallow-exit -n \
    --load="module-native-protocol-unix" \
    --load="module-null-sink sink_name=voxdesk_null rate=48000 sink_properties=device.description=VoxDeskNull" \
    --load="module-always-sink" --log-target="file:$runtime/pulse.log" 2>/dev/null || true
  for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
  pactl info >/dev/null 2>&1 || { echo "PulseAudio did not start:"; cat "$runtime/pulse.log"; exit 1; }
  started_pulse=1
fi
if ! pactl list short sinks | awk '{print $2}' | grep -qx voxdesk_null; then
  pactl load-module module-null-sink sink_name=voxdesk_null rate=48000 \
    sink_properties=device.description=VoxDeskNull >/dev/null
fi
# New streams go to the null sink; a desktop's own default output is left alone.
[[ -n "${started_pulse:-}" ]] && pactl set-default-sink voxdesk_null
export PULSE_SINK=voxdesk_null VOXDESK_TEST_SINK=voxdesk_null
# PortAudio reaches PulseAudio through ALSA's pulse plugin, which never asks for low latency: an
# otherwise idle null sink then renders in 2 s blocks and PortAudio's callbacks come in bursts.
# A recorder on the monitor asking for 20 ms keeps the sink ticking like a real sound card.
parec --latency-msec=20 -d voxdesk_null.monitor --raw >/dev/null &
clock_pid=$!

cleanup() {
  kill "$clock_pid" 2>/dev/null || true
  [[ -n "${xvfb_pid:-}" ]] && kill "$xvfb_pid" 2>/dev/null || true
  [[ -n "${started_pulse:-}" ]] && pulseaudio --kill 2>/dev/null || true
}
trap cleanup EXIT
"$@"
