"""VoxDesk: a desktop read-aloud application built on the VoxCPM text-to-speech model."""

__version__ = "0.1.0"
