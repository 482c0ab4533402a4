"""Real servers for the data-centre integration tests and bench/remote.py (see `servers.py`)."""
