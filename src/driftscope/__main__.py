"""``python -m driftscope``: the same as the ``driftscope`` console script."""

import sys

from driftscope.cli import main

sys.exit(main())
