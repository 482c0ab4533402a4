"""Use cases in plain Python: they depend on app.core only and are tested without a QApplication."""
