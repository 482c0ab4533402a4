"""Aktenlotse: an offline AI assistant for caseworkers in German public administration."""

__version__ = "0.1.0"
