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
        Code("E420", _E, "return limit on an investor without an investment"),
        Code("E421", _E, "return limit on a class without investments"),
        Code("E422", _E, "commitment less than what is drawn"),
        Code("E423", _E, "drawdowns do not add up to the investment"),
        Code("E424", _E, "drawdown not a positive amount"),
        Code("E425", _E, "return limit on an investor and a class"),
        Code("E426", _E, "day count on a return that is not a rate"),
        Code("E427", _E, "investor in two classes"),
        # first-loss cover: E430–E439 (issue 14)
        Code("E430", _E, "cover of an unknown investment"),
        Code("E431", _E, "guarantor that does not pay"),
        Code("E432", _E, "cover share not above 0 % and at most 100 %"),
        Code("E433", _E, "cover ceiling not positive"),
        Code("E434", _E, "cover of an investor with several investments"),
        Code("E435", _E, "investor guaranteeing itself"),
        # assumptions about the measured outcomes: E470–E479 (issue 17)
        Code("E470", _E, "assumption about a payment or the total"),
        Code("E471", _E, "assumption that is not a yes/no condition"),
        Code("E472", _E, "assumption that reads no measure"),
        Code("E473", _E, "outcomes that break an assumption"),
        Code("E474", _E, "parameter without a range"),
        Code("E475", _E, "parameter of a kind that cannot be negotiated"),
        Code("E476", _E, "no value for a parameter"),
        Code("E477", _E, "council document of a draft with open parameters"),
        Code("E478", _E, "value for a parameter the contract does not have"),
        Code("E479", _E, "parameter where a value fixed at signing is needed"),
        # coupons: E480–E489, W480–W484 (issue 14)
        Code("E480", _E, "coupon on something that is not an investment"),
        Code("E481", _E, "coupon paid by a party that cannot pay"),
        Code("E482", _E, "coupon rate negative or above 100 % a year"),
        Code("E483", _E, "coupon minimum not above 0 % and at most 100 %"),
        Code("E484", _E, "coupon without periods"),
        Code("E485", _E, "repayment or redemption of something that is not an investment"),
        Code("E486", _E, "share of principal below 0 % or above 100 %"),
        Code("E487", _E, "repayment or redemption paid by a party that cannot pay"),
        Code("E488", _E, "repayment or redemption that does not say when"),
        # waterfalls: E450–E459, W450–W454 (issue 14)
        Code("E450", _E, "waterfall over something that is not a payment"),
        Code("E451", _E, "waterfall over payments to different parties"),
        Code("E452", _E, "payment distributed by two waterfalls"),
        Code("E453", _E, "waterfall pays a class no investment is in"),
        Code("E454", _E, "waterfall step's shares do not add up to 100 %"),
        Code("E455", _E, "waterfall steps not numbered 1, 2, 3, … in order"),
        Code("E456", _E, "waterfall target of a party the step does not pay, or without investment"),
        Code("E457", _E, "waterfall pays a party that cannot receive, or the vehicle itself"),
        Code("E458", _E, "waterfall share not above 0 %"),
        Code("E459", _E, "waterfall target amount not positive"),
        Code("W401", _W, "measure is never used"),
        Code("W402", _W, "contract has no payments"),
        Code("W403", _W, "date outside the contract term"),
        # dead clauses: W410–W419 (sibc check, when it verifies)
        Code("W410", _W, "a clause no outcome can make act"),
        Code("W411", _W, "a branch or table row no outcome can reach"),
        Code("W420", _W, "return limit period ends before the last payment"),
        Code("W421", _W, "drawdown after the last payment"),
        Code("W450", _W, "waterfall step after `rest` is never reached"),
        Code("W451", _W, "waterfall without a `rest` step"),
        # coupons (issue 14)
        Code("W480", _W, "coupon minimum that never acts"),
        Code("W481", _W, "capital drawn after a coupon's last period"),
        Code("W482", _W, "early redemption due after the last payment"),
        Code("W483", _W, "minimum share of principal that never acts"),
        # time: streams, payers, ranges of periods, period-aware values (issue 15)
        Code("E440", _E, "`per period` on a payment without periods"),
        Code("E441", _E, "a payment named twice in a stream"),
        Code("E442", _E, "`during` on a payment without periods"),
        Code("E443", _E, "no such period in the payment's series"),
        Code("E444", _E, "a range of periods that runs backwards"),
        Code("E445", _E, "another period of a value without periods"),
        Code("E446", _E, "which period series?"),
        Code("E447", _E, "`contract_year` without a term"),
        Code("E448", _E, "a value for the first period of another kind"),
        Code("E449", _E, "what a payment was paid so far, read where it is not settled"),
        Code("W440", _W, "a cap on a per-period payment caps each period"),
        Code("W441", _W, "a floor on a per-period payment applies to each period"),
        Code("W442", _W, "a cap on a party that pays or receives nothing"),
        # rate cards (issue 15)
        Code("E460", _E, "outcome listed twice in a rate card"),
        Code("E461", _E, "negative price in a rate card"),
        Code("E462", _E, "an indexed rate card without periods"),
        Code("E463", _E, "waterfall pays a class that has drawn nothing"),
        # instruments (issue 14, what was left): E464–E469, W464–W469
        Code("E464", _E, "waterfall step pays a party twice"),
        Code("E465", _E, "waterfall distributes a coupon, repayment or redemption"),
        Code("E466", _E, "redemption's accrued interest names no coupon of its investment"),
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

        # interim settlements (issue 15): E550–E569, W550–W559 (sibc eval --as-of, --paid)
        Code("E550", _E, "value not yet measured"),
        Code("E551", _E, "as-of date before the term"),
        Code("E552", _E, "as-of date unreadable"),
        Code("E553", _E, "value for a period that ends after the as-of date"),
        Code("E554", _E, "malformed file of what was paid"),
        Code("E555", _E, "paid line the contract does not have"),
        Code("E556", _E, "paid amount unusable"),
        # E557: no longer produced after version 0.1.0 (issue 14: a waterfall's lines are settled in parts); kept so
        # that `sibc explain E557` still says what it was
        Code("E557", _E, "interim settlement of a contract with a waterfall"),
        Code("E558", _E, "paid line named ambiguously"),
        Code("W550", _W, "paid before more than the settlement gives"),
        Code("W551", _W, "file of what was paid is from another contract"),
        Code("W552", _W, "measured date after the as-of date"),

        # more outcome data: E509–E549 (hostile input)
        Code("E520", _E, "a spreadsheet format this installation cannot read"),
        # (end)

        # INDIGO interchange: E570–E579 (sibc new --from-indigo, sibc export --indigo)
        Code("E570", _E, "malformed INDIGO file"),
        Code("E571", _E, "project not in the INDIGO file"),
        Code("E572", _E, "INDIGO amount is not a number"),
        Code("E573", _E, "INDIGO currency unusable"),
        Code("E574", _E, "INDIGO project has no price"),
        Code("E575", _E, "INDIGO outcome metric priced twice"),
        Code("E576", _E, "INDIGO price is not positive"),
        # issue 15 (prorata15): gates and caps in a range of periods, E580–E589
        Code("E580", _E, "`during` on a clause over every line"),
        Code("E581", _E, "`during` on a stream of several series"),
        Code("W580", _W, "a gate or a cap `during` periods its payment is not paid in"),
        Code("E582", _E, "a value for a cell that is not applicable"),
        Code("E583", _E, "`x[PERIOD]` reads a cell that is not applicable"),
        Code("W582", _W, "sibc diff bounds a rate card cut in proportion, not exactly"),
        Code("W586", _W, "sibc diff's work budget was spent: lines sampled"),
        # (end)
        # two-dimensional periods (issue 15, cohort15): E590–E599, W590–W594
        Code("E590", _E, "a series twice in two-dimensional periods"),
        Code("E591", _E, "`over` a series the value is not per"),
        Code("E592", _E, "values per two series read per one of them"),
        Code("E593", _E, "`over` with a function other than sum"),
        Code("E594", _E, "a range of periods across both dimensions"),
        Code("E595", _E, "`x[PERIOD]` with a period x does not have"),
        # (end)

        # evaluation
        Code("E601", _E, "negative payment"),
        Code("E602", _E, "division by zero"),
        # verification: E701–E719 (sibc verify)
        Code("E701", _E, "a property of the contract does not hold"),
        Code("W701", _W, "a property of the contract could not be proved"),
        Code("E702", _E, "the assumptions contradict each other"),
        Code("W702", _W, "an assumption the measures' ranges already guarantee"),
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
        Code("E761", _E, "the drafts pay in different currencies"),
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
        Code("E867", _E, "run superseded by a newer request of its job"),
        # (end)

        # the tool itself
        Code("E900", _E, "internal error in sibc"),
        Code("E901", _E, "a part of sibc that is not installed"),
        # running elsewhere (issue 21: speed21)
        Code("E920", _E, "cannot reach the Dask cluster"),
    ]
}


def lookup(code: str) -> Code:
    """The registered code; a KeyError for an unregistered one is a bug in sibc."""
    return CODES[code]
