"""``python -m experiments.cli``: the storetwin command without the console script."""

import sys

from experiments.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
