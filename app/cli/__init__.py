"""Headless front end: subcommands for admins, scripts and tests. No Qt here."""
