"""A handler for commands whose issue has not landed yet: says so plainly and exits 2."""

import argparse
import sys
from collections.abc import Callable


def not_available(command: str, capability: str) -> Callable[[argparse.Namespace], int]:
    """Return a handler that reports ``command`` as not available yet."""

    def handler(_args: argparse.Namespace) -> int:
        print(f"driftscope {command}: not available yet ({capability} has not landed)", file=sys.stderr)
        return 2

    return handler
