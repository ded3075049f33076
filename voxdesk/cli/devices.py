"""`voxdesk devices`: the audio outputs VoxDesk can play to."""

from __future__ import annotations

import argparse

from voxdesk.audio.devices import list_output_devices


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("devices", help="list audio output devices",
                                   description="List the audio outputs; pass a name or index "
                                   "to --output-device.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    devices = list_output_devices()
    if not devices:
        print("No audio output devices found.")
        return 1
    for d in devices:
        default = "*" if d.is_default else " "
        print(f"{default} {d.index:3d}  {d.name}  ({d.host_api}, {d.channels} ch, "
              f"{d.default_sample_rate:.0f} Hz)")
    print("* = default")
    return 0
