"""Adapters: the only code that imports heavy or external libraries; each implements a port of app.core."""
