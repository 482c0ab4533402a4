"""`python -m app`: the same entry point as the `aktenlotse` command."""

import sys

from app.bootstrap import main

if __name__ == "__main__":
    sys.exit(main())
