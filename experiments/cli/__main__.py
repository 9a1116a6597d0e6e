"""``python -m experiments.cli``: the storetwin command without the console script."""

import sys

from experiments.cli.main import main

sys.exit(main())
