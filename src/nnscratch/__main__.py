"""``python -m nnscratch ...``: the ``nnscratch`` command, where the script is not on PATH."""

import sys

from .entry import main

sys.exit(main())
