"""Talking to the running VoxDesk from a command: `voxdesk speak`, `read-clipboard`, `stop`..."""

from __future__ import annotations


def forward(command: dict[str, object]) -> dict[str, object] | None:
    """Send to the running instance; None when no instance runs (or Qt is unavailable)."""
    try:
        from voxdesk.gui.single_instance import send_command
    except ImportError:
        return None
    return send_command(command)
