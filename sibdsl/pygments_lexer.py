"""A Pygments lexer for sibdsl, so documentation and review tools show `.sib` text highlighted.

Registered as the Pygments lexer `sib` (entry point in pyproject.toml): `pygmentize -l sib
contract.sib`, or ```sib blocks in any Pygments-based documentation tool. The keyword lists are
the grammar's own words (a test compares them with grammar/sib.lark).
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text

DECLARATIONS = ("contract", "party", "term", "periods", "cohort", "investment", "measure", "define",
                "baseline", "payment", "gate", "floor", "cap", "return", "limit", "guarantee", "clause",
                "table", "ratecard", "cover", "assume", "parameter", "waterfall", "coupon", "repayment",
                "redemption")
OPTIONS = ("id", "version", "languages", "currency", "rounding", "signed", "size", "eligibility", "better",
           "between", "source", "description", "indexed", "for", "from", "to", "due", "after", "end", "per",
           "when", "requires", "above", "at", "participant", "in", "simple", "compound", "nondecreasing",
           "nonincreasing", "half", "up", "down", "even", "year", "on", "below", "drawn", "committed", "class",
           "times", "day", "count",
           # issue 15
           "during", "through", "over", "by", "all", "period", "payments",
           "step", "linear", "claim", "declaration", "order", "proportion",
           # issue 14: first-loss cover
           "loss", "the",
           # issue 14: waterfalls
           "rest", "until", "plus",
           # issue 14: coupons
           "least", "principal", "full", "otherwise", "accrued")
OPERATORS = ("and", "or", "not", "of", "if", "then", "else")
FUNCTIONS = ("tiers", "interpolate", "min", "max", "abs", "sum", "previous", "to_date", "cumulative")
CONSTANTS = ("true", "false", "total", "period_index", "period_start", "period_end", "contract_year")


class SibLexer(RegexLexer):
    name = "sibdsl"
    aliases = ["sib", "sibdsl"]
    filenames = ["*.sib"]
    mimetypes = ["text/x-sibdsl"]

    tokens = {
        "root": [
            (r"[ \t\r\n\f]+", Text.Whitespace),
            (r"#[^\r\n]*", Comment.Single),  # a lone CR ends a line, as for sibc (issue 22)
            (r'"""(?:[^"\\]|\\.|"(?!""))*"""', String.Double),
            (r'"(?:[^"\\\n\r]|\\.)*"', String.Double),
            (r"§[ \t]*[0-9]+(?:\.[0-9]+)*[a-z]?", Name.Label),
            (r"[0-9]{4}-[0-9]{2}-[0-9]{2}", Number.Other),
            (r"[0-9]{1,3}(?:[ _][0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?", Number),
            (r"@[a-z]+", Name.Attribute),
            (words(DECLARATIONS, suffix=r"\b"), Keyword.Declaration),
            (words(OPTIONS, suffix=r"\b"), Keyword),
            (words(OPERATORS, suffix=r"\b"), Operator.Word),
            (words(FUNCTIONS, suffix=r"\b"), Name.Builtin),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (r"<=|>=|==|!=|[<>≤≥≠×+\-*/%=]", Operator),
            (r"[(){}\[\],:.]", Punctuation),  # `.` numbers a waterfall step (issue 14); `[…]` a period (15)
            (r"[^\W\d]\w*", Name),
        ],
    }
