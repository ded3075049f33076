"""The desktop window (PySide6). Everything heavy runs on worker threads; see worker.py."""
