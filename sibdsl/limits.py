"""Every limit sibc enforces on its input, in one place (documented in docs/limits.md).

Contracts decide where public money goes; a file that is too large, too deep or asks for absurd
arithmetic (an amount with a thousand digits, indexation over a hundred million years) is refused
with a diagnostic that names the limit, instead of exhausting memory or time.
"""

from __future__ import annotations

# the contract file
MAX_SOURCE_CHARS = 5_000_000  # about 5 MB; the largest real contracts are under 100 KB (E106)
MAX_DEPTH = 200  # nesting of expressions; a chain `a + b + c + …` is one level (E106)
MAX_HEIGHT = 100_000  # operators in a row, chains included (E106); every stage reads a chain in a loop
MAX_ERRORS = 20  # syntax errors reported before the parser stops trying to recover
MAX_DIGITS = 30  # digits in one number, before and after the decimal point (E110)

# values in the contract (E111)
MIN_YEAR = 1900  # the years of every date in a contract: what is computed from one (a due date
MAX_YEAR = 2999  # a hundred years on, a return over two hundred) stays inside the calendar
MAX_INDEXATION_YEARS = 100
MAX_DUE_DAYS = 36_500  # `due N days after end`: at most a hundred years
MAX_COHORT_SIZE = 1_000_000_000
MAX_RETURN_YEARS = 200  # the period of a return limit

# sizes of parts of the contract (E112)
MAX_TABLE_ROWS = 1_000  # rows of tiers(…) or points of interpolate(…)
MAX_PERIODS = 1_000  # periods in one series

# data files
MAX_OUTCOME_BYTES = 20_000_000  # an outcome file (E501)
MAX_SCENARIOS = 10_000  # rows of a scenario file (E831)
# a simulated value on its grid (öre for money, 10⁻⁶ for numbers): |mean|, sd, low, high, lambda and
# empirical values at most this many grid steps, so every draw settles exactly in int64 (E804)
MAX_SIMULATED_UNITS = 10**17
