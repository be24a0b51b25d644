"""`python -m sibdsl.cli`: the same as `sibc`."""

from . import main

main()
