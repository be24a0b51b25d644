"""The registry of diagnostic codes: one stable code, severity and title per kind of problem.

Each code has a page `docs/diagnostics/<CODE>.md` (what, why, example, fix) that
`sibc explain CODE` prints; tests/test_docs_diagnostics.py proves every code has one and
that every page's example really produces its code.
"""

from __future__ import annotations

import enum

import attrs


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Code:
    code: str
    severity: Severity
    title: str


_E, _W = Severity.ERROR, Severity.WARNING

CODES: dict[str, Code] = {
    c.code: c
    for c in [
        # files
        Code("E001", _E, "cannot read file"),
        Code("E002", _E, "cannot write file"),
        # syntax
        Code("E101", _E, "unexpected character"),
        Code("E102", _E, "unexpected word or symbol"),
        Code("E103", _E, "unexpected end of file"),
        Code("E104", _E, "unterminated text"),
        Code("E105", _E, "invalid date"),
        Code("E106", _E, "input too large or too deeply nested"),

        # input limits: E110–E119 (hostile input)
        Code("E110", _E, "number too long"),
        Code("E111", _E, "value beyond the limits of the language"),
        Code("E112", _E, "too many rows or periods"),
        # (end)

        # names
        Code("E201", _E, "undefined name"),
        Code("E202", _E, "name defined twice"),
        Code("E203", _E, "definition depends on itself"),
        Code("E204", _E, "wrong kind of name here"),
        Code("E205", _E, "unknown role"),
        Code("E206", _E, "unknown measure type"),
        Code("E207", _E, "unknown unit"),
        Code("E208", _E, "unknown or undeclared language"),
        Code("E209", _E, "unknown function or wrong number of arguments"),
        Code("E210", _E, "invalid value"),
        # types and units
        Code("E301", _E, "incompatible units"),
        Code("E302", _E, "currency differs from the contract's currency"),
        Code("E303", _E, "percentage of a count"),
        Code("E304", _E, "condition is not a yes/no value"),
        Code("E305", _E, "values of different kinds where one kind is required"),
        Code("E306", _E, "amount is not money"),
        Code("E307", _E, "per-period value used outside its periods"),
        Code("E308", _E, "malformed table"),
        Code("E309", _E, "payout referenced outside a guarantee"),
        Code("E310", _E, "value must be fixed when the contract is signed"),
        # named tables and powers (issue 15)
        Code("E311", _E, "a named table read at more or fewer than one value"),
        Code("E312", _E, "a named table read at the wrong kind of value"),
        Code("E313", _E, "a table's `below` or `above` names another threshold than its row"),
        Code("E314", _E, "exponent is not a whole number"),
        Code("E315", _E, "power of an amount"),
        # contract rules
        Code("E401", _E, "missing contract header or header field"),
        Code("E402", _E, "given twice"),
        Code("E403", _E, "floor above cap"),
        Code("E404", _E, "return limit without an investment"),
        Code("E405", _E, "overlapping periods"),
        Code("E406", _E, "party has no role that receives payments"),
        Code("E407", _E, "party has no role that makes payments"),
        Code("E408", _E, "payer or recipient missing"),
        Code("E409", _E, "period ends before it starts"),
        Code("E410", _E, "invalid rounding rule"),
        Code("E411", _E, "a cap per participant needs exactly one cohort"),
        Code("W401", _W, "measure is never used"),
        Code("W402", _W, "contract has no payments"),
        Code("W403", _W, "date outside the contract term"),
        # rate cards (issue 15)
        Code("E460", _E, "outcome listed twice in a rate card"),
        Code("E461", _E, "negative price in a rate card"),
        Code("E462", _E, "an indexed rate card without periods"),
        Code("W460", _W, "an outcome's cap is below its price"),
        # outcome data
        Code("E501", _E, "malformed outcome file"),
        Code("E502", _E, "measured value missing"),
        Code("E503", _E, "unknown measure in outcome file"),
        Code("E504", _E, "value has the wrong type"),
        Code("E505", _E, "value out of range"),
        Code("E506", _E, "value in the wrong currency"),
        Code("E507", _E, "unknown or missing period"),
        Code("E508", _E, "value given twice"),
        Code("W501", _W, "data file read in a legacy encoding"),

        # more outcome data: E509–E549 (hostile input)
        # (end)

        # evaluation
        Code("E601", _E, "negative payment"),
        Code("E602", _E, "division by zero"),
        # verification: E701–E719 (sibc verify)
        Code("E701", _E, "a property of the contract does not hold"),
        Code("W701", _W, "a property of the contract could not be proved"),
        # (end)

        # council documents: E720–E739 (sibc render, sibc fingerprint)
        Code("W720", _W, "text not translated into the document's language"),
        Code("W721", _W, "the PDF cannot be PDF/A: a character has no glyph"),
        # (end)

        # formatter and templates: E740–E759 (sibc fmt, sibc new)
        Code("E740", _E, "comment inside a declaration"),
        Code("E741", _E, "formatting would change the contract"),
        # (end)

        # review tools: E760–E779 (sibc diff, sibc lsp)
        # (end)

        # simulation: E800–E829 (sibc simulate)
        Code("E801", _E, "malformed simulation file"),
        Code("E802", _E, "unknown measure in simulation file"),
        Code("E803", _E, "distribution unknown or unfit for the measure"),
        Code("E804", _E, "bad distribution parameters"),
        Code("E805", _E, "measure without a distribution"),
        Code("E806", _E, "impossible correlation"),
        Code("E807", _E, "unusable empirical data"),
        # (end)

        # scenarios: E830–E859 (sibc test)
        Code("E831", _E, "malformed scenario file"),
        Code("E832", _E, "unknown column in scenario file"),
        Code("E833", _E, "invalid expected amount"),
        Code("E834", _E, "scenario name given twice"),
        # (end)

        # HTTP API and studio: E860–E879 (sibc serve, sibc studio)
        Code("E860", _E, "malformed request"),
        Code("E861", _E, "no such contract"),
        Code("E862", _E, "request too large"),
        Code("E863", _E, "request not allowed"),
        Code("E864", _E, "time budget exceeded"),
        Code("E865", _E, "contract changed since the given version"),
        Code("E866", _E, "contract could not be saved"),
        # (end)

        # the tool itself
        Code("E900", _E, "internal error in sibc"),
        Code("E901", _E, "a part of sibc that is not installed"),
    ]
}


def lookup(code: str) -> Code:
    """The registered code; a KeyError for an unregistered one is a bug in sibc."""
    return CODES[code]
