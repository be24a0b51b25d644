"""A pause of Python's cyclic garbage collector around passes that build large acyclic trees.

Parsing and checking a contract allocate several objects per token, nearly all of which live on
(the syntax tree, the checked model) and none of which form a reference cycle. The collector can
only walk them: with its default thresholds it runs a full collection each time the long-lived
objects have grown by a quarter, and a 50,000-clause contract spent ≈ 25 % of its `check` there,
more per clause the larger the contract (docs/performance.md). Reference counting frees objects
as usual during the pause; a cycle made meanwhile (none is expected) is collected after it.
"""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def paused():
    """Disable the cyclic collector for the block (or the decorated function) if it is enabled,
    and enable it again afterwards; nested or already disabled, it changes nothing."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
