"""What the desktop-integration tests share: a real clipboard owner, a real system tray for
Xvfb, waiting for a condition, and the skip for sessions without those tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")

needs_x_tools = pytest.mark.skipif(
    not (os.environ.get("DISPLAY") and shutil.which("xdotool") and shutil.which("xclip")),
    reason="needs an X display, xdotool and xclip: run through packaging/test-env.sh",
)


def wait_for(condition: Callable[[], T], timeout: float = 30.0, interval: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return condition()


def press(keys: str) -> None:
    """Type ``keys`` ("ctrl+alt+r") on the X server's keyboard, as a person would."""
    subprocess.run(["xdotool", "key", keys], check=True)


def set_clipboard(text: str) -> subprocess.Popen[bytes]:
    # xclip stays running as the clipboard owner until another program takes the clipboard.
    owner = subprocess.Popen(["xclip", "-selection", "clipboard", "-quiet"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    assert owner.stdin is not None
    owner.stdin.write(text.encode())
    owner.stdin.close()
    time.sleep(0.2)
    return owner
