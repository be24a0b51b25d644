"""`sibc new`: a contract started from a template, with the essentials filled in.

Each template is a complete contract of a common kind; the answers (title, parties, amounts,
dates) are inserted as values, never as code: texts are written as sib strings by the canonical
printer, so a name with quotes or å, ä, ö stays a name. The result checks cleanly at once.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import attrs

from .unparse import number, string

TEMPLATES = {
    "savings-floor-cap": "savings against a baseline, with a guaranteed floor, a gate and a cap (Norrköping-like)",
    "rate-card": "a price per outcome achieved, per year, with a yearly cap (rate-card contracts)",
    "tiered-grid": "a payment grid by the reduction achieved, in steps (NYC ABLE-like)",
}


@attrs.frozen
class Answers:
    title: str = "Socialt utfallskontrakt"
    payer: str = "Kommunen"
    investor: str = "Investeraren"
    provider: str = "Utföraren"
    currency: str = "SEK"
    investment: Decimal = Decimal(10_000_000)
    start: datetime.date = datetime.date(2026, 1, 1)
    years: int = 4


def _money(amount: Decimal, currency: str) -> str:
    return f"{number(amount.quantize(Decimal(1)))} {currency}"


def _anniversary(start: datetime.date, years: int) -> datetime.date:
    """The same day `years` later; 29 February becomes 1 March in a year without it."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return datetime.date(start.year + years, 3, 1)


def render(template: str, a: Answers) -> str:
    if template not in TEMPLATES:
        raise ValueError(f"no template {template!r}; templates: {', '.join(TEMPLATES)}")
    # the term is exactly `years` years: from the start to the day before the anniversary (a start
    # on 29 February ends on 28 February); every payment falls due within it
    end = _anniversary(a.start, a.years) - datetime.timedelta(days=1)
    settle = end
    cur = a.currency
    loan = _money(a.investment, cur)
    head = f"""# Started with `sibc new --template {template}`: {TEMPLATES[template]}.
# Every clause below is a starting point: replace the figures with the negotiated ones.
contract {string(a.title)}
  languages sv, en
  currency {cur}
  rounding 1 {cur} half up

§ 1 "Parter" @en "Parties"
party payer {string(a.payer)}: payer
party investor {string(a.investor)}: investor
party provider {string(a.provider)}: provider

§ 2 "Avtalstid" @en "Term"
term {a.start.isoformat()} to {settle.isoformat()}

§ 3 "Investering" @en "Investment"
investment loan "Lånet" @en "The loan": {loan} from investor on {a.start.isoformat()}
"""
    if template == "savings-floor-cap":
        body = f"""
§ 4 "Utfallsmått" @en "Outcome measures"
measure actual_costs "Målgruppens kostnader" @en "Costs of the target group": money
  better lower
measure reference_costs "Jämförelsegruppens kostnader" @en "Costs of the reference group": money
measure goal_met "Målet uppnått" @en "Goal met": boolean

§ 5 "Ersättning" @en "Payments"
define savings "Besparing" @en "Savings" = max(reference_costs - actual_costs, 0 {cur})
payment activity "Aktivitetsersättning" @en "Activity payment" = 40 % of loan
  from payer to investor due {settle.isoformat()}
payment outcome "Utfallsersättning" @en "Outcome payment" = min(60 % of savings, 60 % of loan)
  from payer to investor due {settle.isoformat()}
payment bonus "Tilläggsersättning" @en "Additional payment" = min(max(savings - loan, 0 {cur}), 20 % of loan)
  from payer to investor due {settle.isoformat()}

§ 6 "Villkor och tak" @en "Condition and cap"
gate goal_gate "Målvillkoret" @en "The goal condition": total above loan requires goal_met
# sibc: allow W410: a safeguard; the three payments add up to at most 120 % of the loan as written
cap ceiling "Taket" @en "The cap": total at 120 % of loan

§ 7 "Utfästelser" @en "Assurances"
guarantee never_above_cap "Aldrig över taket" @en "Never above the cap": total <= 120 % of loan
guarantee grows "Ersättningen växer med besparingen" @en "The payout grows with the savings":
  total nondecreasing in savings
"""
    elif template == "rate-card":
        years = ", ".join(f"y{a.start.year + i} {_anniversary(a.start, i).isoformat()} to "
                          f"{(_anniversary(a.start, i + 1) - datetime.timedelta(days=1)).isoformat()}"
                          for i in range(a.years))
        price = _money(a.investment / 40, cur)
        body = f"""
§ 4 "Utfall" @en "Outcomes"
periods year "År" @en "Year": {years}
measure placed "Personer i arbete" @en "People in work": count per year better higher
measure sustained "Personer i arbete efter ett år" @en "People still in work after a year": count per year
  better higher

§ 5 "Ersättning per utfall" @en "Payment per outcome"
payment placements "Ersättning för arbete" @en "Payment for work" = placed * {price}
  from payer to investor per year due 0 days after end
payment sustainment "Ersättning för varaktigt arbete" @en "Payment for lasting work" = sustained * {price}
  from payer to investor per year due 0 days after end

§ 6 "Tak" @en "Caps"
cap per year at 50 % of loan
cap ceiling "Taket" @en "The cap": total at 150 % of loan

§ 7 "Utfästelser" @en "Assurances"
guarantee never_above_cap "Aldrig över taket" @en "Never above the cap": total <= 150 % of loan
"""
    else:
        body = f"""
§ 4 "Utfall" @en "Outcome"
measure reduction "Minskning av återfall" @en "Reduction in reoffending": percentage
  better higher
  between -100 % and 100 %

§ 5 "Betalningstrappa" @en "Payment grid"
define grid "Betalningstrappa" @en "Payment grid" = tiers(reduction) {{
  below: 0 {cur},
  from 8.5 %: 50 % of loan,
  from 10 %: 100 % of loan,
  from 15 %: 110 % of loan,
  from 20 %: 120 % of loan
}}
payment success "Resultatersättning" @en "Success payment" = grid
  from payer to investor due {settle.isoformat()}

§ 6 "Tak" @en "Cap"
# sibc: allow W410: a safeguard; the grid's top row pays exactly 120 % of the loan as written
cap ceiling "Taket" @en "The cap": total at 120 % of loan

§ 7 "Utfästelser" @en "Assurances"
guarantee more_pays_more "Större minskning betalar aldrig mindre" @en "A larger reduction never pays less":
  total nondecreasing in reduction
"""
    return head + body
