"""The Qt layer, the only package importing PySide6: windows, widgets, view models and the one task runner."""
