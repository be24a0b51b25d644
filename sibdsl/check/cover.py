"""issue 14: first-loss cover — `cover NAME: [P % of the] loss of INVESTMENT [up to AMOUNT] from
GUARANTOR [due D]` checked and lowered to `model.Cover` (codes E430–E435)."""

from __future__ import annotations

from fractions import Fraction

from .. import model as m
from .. import syntax as s
from ..units import MONEY, Type
from .common import PAYING_ROLES, investment_named


def check_covers(checker, investments: dict[str, m.Investment], parties: dict[str, m.Party]) -> tuple[m.Cover, ...]:
    """Each cover, checked: its investment (E430), whose investor holds no other investment (E434);
    its guarantor, a party that pays (E431) other than the investor (E435); its share (E432) and
    ceiling (E433). A cover with an error is left out (the error is reported)."""
    result = []
    for node in checker.items_of(s.Cover):
        clause = checker.clauses[id(node)]
        ok = True
        inv = investment_named(checker, node.investment, investments, "E430", "the cover is of",
                               "declare the investment it covers: `investment loan: 7 200 000 USD from bank "
                               "on 2012-08-02`")
        if inv is None:
            ok = False
        elif sum(i.investor == inv.investor for i in investments.values()) > 1:
            ok = False
            others = [i.name for i in investments.values() if i.investor == inv.investor and i.name != inv.name]
            checker.error("E434", f"`{inv.investor}` holds other investments too ({', '.join(others)}), so its "
                          f"loss on `{inv.name}` cannot be told from what it received", node.investment.span,
                          hint="payments are made to investors, not to investments: give the covered investment "
                          "its own investor (party), or join the investments into one")
        guarantor = parties.get(node.guarantor.name)
        if guarantor is None:
            ok = False
            checker.lookup(node.guarantor, ("party",), "party")
        elif not set(guarantor.roles) & set(PAYING_ROLES):
            ok = False
            checker.error("E431", f"`{guarantor.name}` covers the loss, but its roles ({', '.join(guarantor.roles)}) "
                          "do not allow it to pay", node.guarantor.span,
                          labels=(checker.also(checker.names[guarantor.name].span, "the party is declared here"),),
                          hint=f"a guarantor pays: give `{guarantor.name}` the role `payer`")
        elif inv is not None and guarantor.name == inv.investor:
            ok = False
            checker.error("E435", f"`{guarantor.name}` would cover its own loss", node.guarantor.span,
                          hint="a cover is paid by a third party: name the guarantor that pays it")
        share = Fraction(1)
        if node.share is not None:
            share = Fraction(node.share.value) / 100
            if not 0 < share <= 1:
                ok = False
                checker.error("E432", f"a cover of {node.share.value} % of the loss", node.share.span,
                              hint="a cover pays a share of the loss above 0 % and at most 100 %; "
                              "write `loss of …` for all of it")
        ceiling = None
        if node.ceiling is not None:
            ceiling = checker.constant(node.ceiling, Type(MONEY, checker.currency), "a cover's ceiling")
            if ceiling is None:
                ok = False
            elif ceiling <= 0:
                ok = False
                checker.error("E433", "a cover up to a ceiling that is not positive never pays", node.ceiling.span,
                              hint="write the most the guarantor pays, e.g. `up to 6 000 000 "
                              f"{checker.currency}`, or leave `up to …` out")
        due = checker.due(s.Option("due", node.due, span=node.due.span), None) if node.due is not None else None
        if ok and inv is not None:
            result.append(m.Cover(clause, inv.name, inv.investor, guarantor.name, inv.amount, share, ceiling, due))
    return tuple(result)
