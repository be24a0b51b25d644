"""issue 14: waterfalls — `waterfall NAME: P1, P2` and its numbered steps, checked and lowered to
`model.Waterfall` (codes E450–E459, W450–W451).

    waterfall repayment "Fördelning": outcome, bonus
      1. to class senior until drawn plus 5 % per year
      2. 80 % to class senior, 20 % to class junior until class senior drawn plus 8 % per year
      3. rest to class junior
"""

from __future__ import annotations

from fractions import Fraction

from .. import model as m
from .. import syntax as s
from ..allowances import acknowledged
from ..diagnostics import did_you_mean
from ..units import MONEY, Type
from .common import RECEIVING_ROLES


def check_waterfalls(checker, investments: dict[str, m.Investment], parties: dict[str, m.Party],
                     payments: dict[str, m.Payment]) -> tuple[m.Waterfall, ...]:
    """Each waterfall, checked (see the module docstring). One with an error is left out (reported)."""
    result = []
    distributed: dict[str, s.Ident] = {}  # payment → where a waterfall first named it
    for node in checker.items_of(s.Waterfall):
        clause = checker.clauses[id(node)]
        ok = True
        chosen: list[m.Payment] = []
        for ident in node.payments:
            payment = payments.get(ident.name)
            if payment is None:
                ok = False
                entry = checker.names.get(ident.name)
                what = f"which is a {entry.kind}, not a payment" if entry else "but no payment is called that"
                checker.error("E450", f"the waterfall distributes `{ident.name}`, {what}", ident.span,
                              label="not a payment", hint=did_you_mean(ident.name, sorted(payments)) or
                              "a waterfall distributes what payments pay to one party: name the payments")
                continue
            kind = checker.names[ident.name].kind
            if kind != "payment":  # issue 14: a coupon, a repayment or a redemption
                ok = False
                declared = checker.names[ident.name].node
                vehicle = next((p.name for p in parties.values() if "intermediary" in p.roles), "vehicle")
                checker.error("E465", f"the waterfall distributes the {kind} `{ident.name}`, which is paid to "
                              f"`{payment.recipient}`, the investor of its investment, not to a vehicle", ident.span,
                              label=f"a {kind}",
                              labels=(checker.also(declared.name.span, f"the {kind} is declared here"),),
                              hint=f"a waterfall passes on what the vehicle is paid: distribute the payment to "
                              f"the vehicle (`payment outcome = … from {payment.payer or 'city'} to {vehicle}`), "
                              f"and let the vehicle pay the {kind} (`from {vehicle}`)")
                continue
            if ident.name in distributed:
                ok = False
                checker.error("E452", f"`{ident.name}` is already distributed by a waterfall", ident.span,
                              labels=(checker.also(distributed[ident.name].span, "first distributed here"),),
                              hint="what a payment pays is distributed once: put its steps in one waterfall")
                continue
            distributed[ident.name] = ident
            chosen.append(payment)
        vehicle = chosen[0].recipient if chosen else ""
        for ident, payment in zip([i for i in node.payments if i.name in {p.name for p in chosen}], chosen):
            if payment.recipient != vehicle:
                ok = False
                checker.error("E451", f"`{payment.name}` is paid to `{payment.recipient}`, but `{chosen[0].name}` to "
                              f"`{vehicle}`", ident.span, label="paid to another party",
                              hint="a waterfall distributes what one party (the vehicle) is paid: give each "
                              "party's payments their own waterfall, or pay them to the same party")
        tiers = []
        seen_rest = None
        for k, tier in enumerate(node.tiers, 1):
            if tier.number.value != k:
                ok = False
                checker.error("E455", f"step {tier.number.value} is the waterfall's step {k}", tier.number.span,
                              label=f"expected {k}", hint="number a waterfall's steps 1, 2, 3, … in the order they "
                              "pay: the number is the step's rank")
            if seen_rest is not None:
                checker.error("W450", f"step {tier.number.value} comes after `rest`, which pays everything left: it "
                              "never pays anything", tier.span,
                              labels=(checker.also(seen_rest.span, "everything left is paid here"),),
                              hint="move the `rest` step last, or remove the steps after it")
            if tier.rest and seen_rest is None:
                seen_rest = tier
            lowered = _tier(checker, tier, k, investments, parties, vehicle)
            if lowered is None:
                ok = False
            else:
                tiers.append(lowered)
        if seen_rest is None and node.tiers and not acknowledged(
                checker.source, {"code": "W451", "name": clause.name, "line": clause.line}):
            checker.error("W451", "the waterfall has no `rest` step: what its steps do not pay stays with "
                          f"`{vehicle or 'the vehicle'}`", node.tiers[-1].span,
                          hint="end with `N. rest to PARTY` to say who receives what is left; where the vehicle "
                          "keeps it, say so in a comment `# sibc: allow W451: why` above the waterfall")
        if ok and chosen:
            result.append(m.Waterfall(clause, tuple(p.name for p in chosen), vehicle, tuple(tiers)))
    return tuple(result)


def _tier(checker, tier: s.WaterfallTier, number: int, investments, parties, vehicle: str) -> m.WaterfallTier | None:
    ok = True
    recipients = []
    for share in tier.shares:
        recipient = _recipient(checker, share, investments, parties, vehicle, len(tier.shares))
        if recipient is None:
            ok = False
        else:
            recipients.append(recipient)
    if ok and not _each_once(checker, tier, number, recipients):
        ok = False
    if (len(tier.shares) > 1 or tier.shares[0].share is not None) and ok:
        total = sum((r.share for r in recipients), Fraction(0))
        if total != 1:
            ok = False
            checker.error("E454", f"the shares of step {number} add up to {_pct(total)} %", tier.span,
                          label="not 100 %", hint="the shares of a step split all of what it pays: make them add "
                          "up to 100 %")
    if tier.rest or not ok:
        return m.WaterfallTier(number, tuple(recipients), "rest") if ok else None
    target = tier.target
    if target.kind == "amount":
        amount = checker.constant(target.amount, Type(MONEY, checker.currency), "a waterfall step's target")
        if amount is None:
            return None
        if amount <= 0:
            checker.error("E459", "a step that pays until an amount that is not positive never pays", target.span,
                          hint=f"write what the step pays in all, e.g. `until 1 000 000 {checker.currency}`")
            return None
        return m.WaterfallTier(number, tuple(recipients), "amount", amount=amount)
    # "drawn": whose receipts? the step's one recipient, or the one the target names
    if target.who is None:
        if len(recipients) > 1:
            checker.error("E456", f"step {number} pays {len(recipients)} parties: say whose drawn capital it "
                          "pays until", target.span, label="whose?",
                          hint=f"e.g. `until {recipients[0].who} drawn plus 8 % per year`")
            return None
        index = 0
    else:
        name = target.who.name.name
        index = next((k for k, r in enumerate(recipients) if r.name == name and r.klass == target.who.klass), None)
        if index is None:
            checker.error("E456", f"step {number} does not pay `{_who(target.who)}`", target.who.span,
                          label="not paid by this step", hint="a step pays until a party it pays is whole: name "
                          f"one of {', '.join(f'`{r.who}`' for r in recipients)}")
            return None
    r = recipients[index]
    if not any(_member(inv, r) for inv in investments.values()):
        checker.error("E456", f"`{r.who}` has no investment, so it has no drawn capital to be repaid",
                      target.span, hint="pay a party that is not an investor until an amount: `until 1 000 000 "
                      f"{checker.currency}`")
        return None
    rate = compounding = None
    if target.rate is not None:
        rate = Fraction(target.rate.value) / 100
        compounding = target.compounding or "compound"
        if rate < 0:
            checker.error("E459", "a negative rate of return", target.rate.span,
                          hint="write the rate the capital grows at, e.g. `plus 5 % per year`")
            return None
    return m.WaterfallTier(number, tuple(recipients), "drawn", index, rate, compounding or "compound")


def _each_once(checker, tier: s.WaterfallTier, number: int, recipients: list[m.WaterfallRecipient]) -> bool:
    """E464: a step pays each party once — by name, or as an investor of one class it pays. A party
    named twice would take two shares, and a target names one of them, so the step could stop short
    of it or pay past it; the agreements give each party one share of a step."""
    first: dict[str, tuple[s.WaterfallShare, m.WaterfallRecipient]] = {}
    ok = True
    for share, r in zip(tier.shares, recipients):
        for who, _ in r.members:
            if who not in first:
                first[who] = share, r
                continue
            earlier_share, earlier = first[who]
            ok = False
            if r.klass == earlier.klass and r.name == earlier.name:  # the same party or class, named twice
                message = f"step {number} pays `{r.who}` twice"
                hint = (f"name `{r.who}` once in the step, with one share (the two together: "
                        f"`{_pct(earlier.share + r.share)} % to {r.who}`)")
            else:
                how = " and ".join(f"as an investor of class `{x.name}`" if x.klass else "by name"
                                   for x in (earlier, r))
                message = f"step {number} pays `{who}` twice: {how}"
                hint = ("a class is paid to its investors pro rata to what they drew: in one step, pay the class or "
                        f"its investors by name, not both; or pay `{who}` in a step of its own")
            checker.error("E464", message, share.party.span, label="paid again",
                          labels=(checker.also(earlier_share.party.span, "first paid here"),), hint=hint)
            break  # one report for each mention: a class's other investors were paid again by the same words
    return ok


def _member(inv: m.Investment, r: m.WaterfallRecipient) -> bool:
    return inv.klass == r.name if r.klass else inv.investor == r.name


def _recipient(checker, share: s.WaterfallShare, investments, parties, vehicle: str,
               count: int) -> m.WaterfallRecipient | None:
    part = Fraction(1)
    if share.share is not None:
        part = Fraction(share.share.value) / 100
        if not 0 < part <= 1:
            checker.error("E458", f"a share of {share.share.value} %", share.share.span,
                          hint="each party's share of a step is above 0 % and at most 100 %; leave a party "
                          "that gets nothing out")
            return None
    name = share.party.name.name
    if share.party.klass:
        members = [i for i in investments.values() if i.klass == name]
        if not members:
            classes = sorted({i.klass for i in investments.values() if i.klass})
            checker.error("E453", f"no investment is in class `{name}`", share.party.span, label="empty class",
                          hint=did_you_mean(name, classes) or (f"classes: {', '.join(classes)}" if classes else
                                                               "put investments in it: `class senior` under the "
                                                               "investment"))
            return None
        drawn: dict[str, Fraction] = {}
        for inv in members:
            drawn[inv.investor] = drawn.get(inv.investor, Fraction(0)) + inv.amount
        whole = sum(drawn.values(), Fraction(0))
        if whole <= 0:  # its members are paid pro rata to what they drew: nothing drawn, no shares
            checker.error("E463", f"class `{name}` has drawn nothing, so the step cannot split what it pays "
                          "between its investors by what they drew", share.party.span, label="nothing drawn",
                          hint="give the class's investments the amounts drawn, or pay the investors by name "
                          "with their shares: `60 % to bank, 40 % to fund`")
            return None
        if vehicle in drawn:  # the vehicle would pay itself its members' share (E457 by name, below)
            checker.error("E457", f"the waterfall pays class `{name}`, whose investor `{vehicle}` is the vehicle "
                          "the waterfall distributes from", share.party.span, label="pays the vehicle",
                          hint=f"the payments a waterfall distributes go to a vehicle that is not paid by it: send "
                          f"them to an intermediary, or pay `{vehicle}` directly, not through the waterfall")
            return None
        split = tuple((who, a / whole) for who, a in drawn.items())
        return m.WaterfallRecipient(name, True, part, split)
    party = parties.get(name)
    if party is None:
        checker.lookup(share.party.name, ("party",), "party")
        return None
    if name == vehicle or not set(party.roles) & set(RECEIVING_ROLES):
        why = "is the vehicle the waterfall distributes from" if name == vehicle else \
            f"has the roles {', '.join(party.roles)}, none of which receives"
        checker.error("E457", f"the waterfall pays `{name}`, which {why}", share.party.span,
                      label="cannot be paid here", hint="a waterfall pays investors, classes, providers or "
                      "intermediaries other than the party it distributes from")
        return None
    return m.WaterfallRecipient(name, False, part, ((name, Fraction(1)),))


def _who(party: s.WaterfallParty) -> str:
    return f"class {party.name.name}" if party.klass else party.name.name


def _pct(x: Fraction) -> str:
    from ..values import to_decimal

    return str(to_decimal(x * 100))
