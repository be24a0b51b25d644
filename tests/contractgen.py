"""Random contracts that check cleanly: every step kind of the settlement program, random rounding,
formulas with tables, conditions, divisions (guarded and not), per-period payments, several investors.

The contracts are built from templates chosen by hypothesis, so that each one is valid by
construction (names declared before use, units that agree, no floor above a cap on the same
level); `generated()` draws one as text. Used by the differential tests of tests/test_semantics.py.
"""

from __future__ import annotations

from hypothesis import strategies as st

MONEY_TERMS = [
    "spent", "saved", "min(saved, 400 000 SEK)", "max(saved - spent, 0 SEK)", "30 % of spent",
    "rate * 500 000 SEK", "if ok then saved else 10 000 SEK", "tiers(rate) { below: 0 SEK, from 25 %: 50 000 SEK, from 60 %: 120 000 SEK }",
    "interpolate(rate) { 10 %: 0 SEK, 50 %: 90 000 SEK, 90 %: 100 000 SEK }", "spent / 3",
    "if people > 0 then spent / people else 0 SEK", "spent * 2 / 7", "abs(saved - spent)",
    "min(spent, saved, 250 000 SEK)", "-(spent / 10)", "sum(visits) * 100 SEK",
    "spent - base", "indexed_base / 4", "sum(per_visit)", "if started > 2021-06-30 then 20 000 SEK else 0 SEK",
    "(started + 45 days - 2021-01-01) * 100 SEK", "waited * 250 SEK / 7",
    "tiers(saved) { below: 0 SEK, from 100 000 SEK: saved / 2, from 300 000 SEK: 30 % of saved }",
    "if ok or spent / (people + 0) > 500 SEK then 1 000 SEK else 2 000 SEK",
    # issue 15: named tables (a jump below, a value above), whole-number powers
    "coupon(rate) * 400 000 SEK", "bonus(rate)", "bonus(saved / 1 000 000 SEK * 100 %) + coupon(rate) of spent",
    "100 000 SEK * (1 + 3 %) ^ 4", "spent * (1 + rate) ^ 2 / 3", "saved / (1 + 5 %) ^ -2",
]
PERIOD_TERMS = ["visits * 1 000 SEK", "visits * 333 SEK / 7", "if visits > 20 then 50 000 SEK else visits * 1 000 SEK",
                "min(visits * 2 500 SEK, 90 000 SEK)",
                # issue 15: the period's own values and other periods of the series
                "previous(visits) * 700 SEK", "to_date(visits) * 300 SEK", "cumulative(per_visit) / 3",
                "period_index * 1 000 SEK + contract_year * 10 SEK", "(period_end - period_start) * 10 SEK",
                "if previous(visits, 30) > visits then 5 000 SEK else visits * 100 SEK"]
CONDITIONS = ["ok", "not ok", "rate >= 50 %", "saved > spent", "ok and rate > 20 %", "ok or saved > 100 000 SEK",
              "people > 10 and spent / people > 1 000 SEK"]
ROUNDINGS = ["1 SEK half up", "0.01 SEK half even", "100 SEK down", "1 SEK up", "0.5 SEK half down",
             "1 000 SEK half up"]
LEVELS = ["50 000 SEK", "150 000 SEK", "300 000 SEK", "20 % of spent", "saved / 2", "loan_a"]


@st.composite
def generated(draw, waterfall: bool | None = None) -> str:
    """One valid contract as text (`waterfall` True: always with a waterfall, on a payment to the
    vehicle; False: never; None: drawn)."""
    rounding = draw(st.sampled_from(ROUNDINGS))
    two_investors = draw(st.booleans())
    lines = [
        'contract "Generated"', "  languages en", "  currency SEK", f"  rounding {rounding}",
        'party city "City": payer', 'party fund "Fund": investor', 'party bank "Bank": investor',
        'party ngo "Provider": provider',
        "term 2020-01-01 to 2023-12-31",
        "periods year:", "  y1 2021-01-01 to 2021-12-31,", "  y2 2022-01-01 to 2022-12-31",
        "cohort group: size 40",
    ]
    drawdowns = draw(st.booleans())  # issue 14: dated drawdowns, a commitment, a class
    klass = draw(st.booleans())
    lines.append("investment loan_a: 400 000 SEK from fund "
                 + ("drawn 150 000 SEK on 2020-01-01, 250 000 SEK on 2021-03-01\n  committed 500 000 SEK"
                    if drawdowns else "on 2020-01-01")
                 + ("\n  class senior" if klass else ""))
    if two_investors:
        lines.append("investment loan_b: 250 000 SEK from bank on 2020-06-01")
    lines += [
        "measure spent: money between 0 SEK and 2 000 000 SEK",
        "measure base: money between 0 SEK and 2 000 000 SEK",
        "measure rate: share",
        "measure ok: boolean",
        "measure people: count between 0 and 200",
        "measure visits: count per year between 0 and 60",
        "measure started: date between 2020-01-01 and 2023-12-31",
        "measure waited: days between 0 days and 400 days",
        "define saved = max(base - spent, 0 SEK)",
        "define per_visit = if visits > 0 then 12 000 SEK / visits else 0 SEK",
        "baseline indexed_base = base\n  indexed 2 % per year for 3 years",
        'table coupon "Coupon": step { below 40 %: 0 %, from 40 %: 2 %, from 75 %: 3.5 % }',
        'table bonus: linear { below: 0 SEK, 20 %: 10 000 SEK, 60 %: 90 000 SEK, above: 120 000 SEK }',
    ]
    recipients = ["fund", "bank", "ngo"] if two_investors else ["fund", "ngo"]
    payments = []
    for i in range(draw(st.integers(1, 4))):
        name = f"p{i}"
        per_year = draw(st.booleans())
        if per_year:
            formula = draw(st.sampled_from(PERIOD_TERMS))
        else:
            a = draw(st.sampled_from(MONEY_TERMS))
            b = draw(st.sampled_from(MONEY_TERMS))
            formula = draw(st.sampled_from([a, f"({a}) + ({b})", f"max(({a}) - ({b}), 0 SEK)", f"min({a}, {b})"]))
        recipient = "ngo" if waterfall and i == 0 else draw(st.sampled_from(recipients))
        series = " per year" if per_year else ""
        due = "2023-06-30" if per_year else draw(st.sampled_from(["2023-06-30", "2021-06-30", "2022-03-15"]))
        if per_year and draw(st.integers(0, 3)) == 0:  # issue 15: paid only in some periods
            series += draw(st.sampled_from([" during y2", " during y1 through y2", " during y1"]))
        lines.append(f"payment {name} = {formula}\n  from city to {recipient}{series} due {due}")
        payments.append((name, per_year))
    yearly = [n for n, per in payments if per]
    if yearly and draw(st.booleans()):  # issue 15: what an earlier payment was paid so far, after its caps
        read = draw(st.sampled_from(yearly))
        formula = draw(st.sampled_from([
            f"if to_date({read}) > 20 000 SEK then 10 % of previous({read}) else 1 000 SEK",
            f"cumulative({read}) / 4", "min(visits * 1 000 SEK, max(60 000 SEK - to_date(pr), 0 SEK))"]))
        lines.append(f"payment pr = {formula}\n  from city to ngo per year due 2023-06-30")
        payments.append(("pr", True))
    if draw(st.integers(0, 2)) == 0:  # issue 15: a rate card, its counts per year, its caps in an order
        outcomes = draw(st.integers(1, 3))
        lines.append("ratecard card from city to fund per year due 30 days after end: {")
        for k in range(outcomes):
            cap = draw(st.sampled_from(["", " cap 40 000 SEK", " cap 9 999 SEK"]))
            lines.append(f"  o{k}: {draw(st.sampled_from(['220 SEK', '1 760 SEK', '4 730.50 SEK']))}{cap},")
        if draw(st.booleans()):
            lines.append("  cap per participant 1 500 SEK,")
        if draw(st.booleans()):
            lines.append(f"  indexed {draw(st.sampled_from(['2 %', '3.5 %']))} per year from 2020-07-01,")
        if draw(st.booleans()):
            order = draw(st.sampled_from(["", " in claim order", " in declaration order", " in proportion"]))
            lines.append(f"  total cap {draw(st.sampled_from(['50 000 SEK', '120 000 SEK']))}{order}")
        lines.append("}")
    instruments = draw(st.integers(0, 7))  # issue 14: a coupon; a repayment of principal, and a redemption
    if instruments & 1:
        rate = draw(st.sampled_from(["5 %", "if visits > 10 then 4 % else 1 %", "coupon(rate)"]))
        minimum = "" if rate == "5 %" else draw(st.sampled_from(["", "\n  at least 2 %", "\n  at least 1.5 % during y1"]))
        dc = draw(st.sampled_from(["", "\n  day count act/360", "\n  day count 30e/360"]))
        lines.append(f"coupon cp: {rate} per year on loan_a\n  per year from city{minimum}{dc}")
    if instruments & 2:
        lines.append("repayment rp: principal of loan_a from city due 2023-06-30\n  in full when rate >= 60 %" + draw(
            st.sampled_from(["\n  otherwise rate", "\n  at least 50 %", "\n  otherwise rate\n  at least 40 %"])))
        if instruments & 4:  # before the repayment: it ends it (and what else is paid to fund later)
            lines.append("redemption rd: 90 % of loan_a from city when ok due 2022-06-30")
    clauses = []

    def during(per_year: bool) -> str:  # issue 15: a gate or a cap only in some of the periods
        if not per_year or draw(st.integers(0, 3)) > 0:
            return ""
        return draw(st.sampled_from([" during y1", " during y2", "\n  during y1 through y2"]))

    for name, per_year in payments:
        if draw(st.integers(0, 3)) == 0:
            clauses.append(f"gate g_{name}: {name} requires {draw(st.sampled_from(CONDITIONS))}" + during(per_year))
        floor_kind = draw(st.integers(0, 4))
        if floor_kind == 0:
            clauses.append(f"floor f_{name}: {name} at 1 000 SEK")
        elif floor_kind == 1 and not per_year:
            clauses.append(f"floor f_{name}: {name} at 5 % of spent when ok")
        if draw(st.integers(0, 2)) == 0:
            level = "90 000 SEK" if per_year else draw(st.sampled_from(["200 000 SEK", "spent", "40 % of base"]))
            named = " per period" if per_year and draw(st.booleans()) else ""  # issue 15
            clauses.append(f"cap c_{name}: {name}{named} at {level}" + during(per_year))
        stream = draw(st.integers(0, 3))  # issue 15: the payment over all its periods
        if stream == 1:
            clauses.append(f"cap s_{name}: {name} over all periods at "
                           f"{draw(st.sampled_from(['120 000 SEK', '30 % of spent', 'loan_a']))}" + during(per_year))
        elif stream == 2:
            when = draw(st.sampled_from(["", " when ok", " when rate > 30 %"]))
            clauses.append(f"floor sf_{name}: {name} over all periods at "
                           f"{draw(st.sampled_from(['3 000 SEK', '2 % of base']))}{when}")
    if len(payments) > 1 and draw(st.booleans()):  # issue 15: several payments over all their periods
        names = draw(st.permutations([n for n, _ in payments]))[:draw(st.integers(2, len(payments)))]
        clauses.append(f"cap sg: {', '.join(names)} over all periods at "
                       f"{draw(st.sampled_from(['150 000 SEK', '50 % of spent']))}")
    if draw(st.integers(0, 3)) == 0:  # issue 15: what one party pays or receives
        party = draw(st.sampled_from(["payments from city", *(f"payments to {r}" for r in recipients)]))
        clauses.append(f"cap pc: {party} at {draw(st.sampled_from(['250 000 SEK', '60 % of base']))}")
    if draw(st.booleans()):
        clauses.append("cap per year at 70 000 SEK" + during(True))
    if draw(st.integers(0, 2)) == 0:
        clauses.append("cap per participant at 9 000 SEK")
    if draw(st.booleans()):
        clauses.append(f"gate total above {draw(st.sampled_from(['loan_a', '100 000 SEK', 'spent']))} "
                       f"requires {draw(st.sampled_from(CONDITIONS))}")
    if draw(st.booleans()):
        when = draw(st.sampled_from(["", " when ok", " when rate > 30 %"]))
        clauses.append(f"floor tf: total at {draw(st.sampled_from(['60 000 SEK', '10 % of base']))}{when}\n"
                       f"  from city to fund due 2023-12-31")
    if draw(st.booleans()):
        clauses.append(f"cap tc: total at {draw(st.sampled_from(['700 000 SEK', 'base', '35 % of spent']))}")
    to_ngo = [n for n, _ in payments if "\n  from city to ngo" in next(x for x in lines if x.startswith(f"payment {n} "))]
    if to_ngo and (draw(st.booleans()) if waterfall is None else waterfall):  # issue 14: a waterfall distributes what ngo (the vehicle) is paid
        senior = "class senior" if klass and draw(st.booleans()) else "fund"
        rate = draw(st.sampled_from(["", " plus 5 % per year", " plus 3 % per year simple", " plus 12 % per year"]))
        tiers = [f"1. to {senior} until drawn{rate}"]
        second = draw(st.sampled_from(["split", "amount", "none"]))
        if second == "split" and two_investors:
            tiers.append(f"{len(tiers) + 1}. 70 % to {senior}, 30 % to bank until {senior} drawn plus 9 % per year")
        elif second == "amount":
            tiers.append(f"{len(tiers) + 1}. to {'bank' if two_investors else 'fund'} until "
                         f"{draw(st.sampled_from(['50 000 SEK', '123 457 SEK']))}")
        if draw(st.integers(0, 3)) > 0:
            tiers.append(f"{len(tiers) + 1}. rest " + draw(st.sampled_from(
                ["to bank", "60 % to fund, 40 % to bank"] if two_investors else ["to fund"])))
        names = draw(st.permutations(to_ngo))[:draw(st.integers(1, len(to_ngo)))]
        clauses.append(f"waterfall w: {', '.join(names)}\n  " + "\n  ".join(tiers))
    limits = draw(st.integers(0, 2))
    if limits >= 1:  # a rate over a period, or a rate of return on the dated flows (a weighted cut)
        clauses.append("return limit r1: " + draw(st.sampled_from([
            "8 % per year compound from 2020-01-01 to 2023-06-30", "8 % per year", "3 % per year simple",
            "2 % per year day count act/360", "4 % per year for fund day count 30e/360"])))
    if limits == 2:
        clauses.append("return limit r2: " + draw(st.sampled_from(
            ["15 % in total", "1.1 times drawn", "1.05 times committed"]
            + (["1 % per year for class senior"] if klass else []))))
    covers = draw(st.integers(0, 2))  # issue 14: first-loss cover, after every other step
    if covers >= 1:
        lines.append('party guarantor "Guarantor": payer')
        clauses.append("cover c1: " + draw(st.sampled_from([
            "loss of loan_a", "loss of loan_a up to 90 000 SEK", "75 % of the loss of loan_a up to 120 000 SEK",
            "33.3 % of the loss of loan_a"])) + " from guarantor" + draw(st.sampled_from(["", " due 2024-03-31"])))
    if covers == 2:  # a second cover counts what the first paid as received
        clauses.append("cover c2: " + ("50 % of the loss of loan_b from city" if two_investors else
                                       "loss of loan_a up to 10 000 SEK from city"))
    return "\n".join(lines + clauses) + "\n"
