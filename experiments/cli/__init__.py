"""The ``storetwin`` command line.

Every verb: ``--help`` with an example, ``--seed`` where randomness enters, ``--json`` where a
machine reads the answer, and exit code 2 with one clear line on bad input.

One module per verb (``run``, ``scenario``, ``scene``, ``layout``, ``render``, ``study``,
``report``, ``bench``, ``track``, ``compile``, ``replay``), each with its parser (``add``) and
its command; ``common`` holds what they share, ``main`` puts them together.
"""

from experiments.cli.main import main

__all__ = ["main"]
