"""``python -m dispersionkit``: the same command as the ``dispersionkit`` console script."""

import sys

from .cli import main

sys.exit(main())
