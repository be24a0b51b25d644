// sibc studio: plain JavaScript over the /v1 API (docs/api.md) and /studio/api. No build step.
// Every value from the server or a file is put into the page with textContent or setAttribute,
// never parsed as HTML; amounts stay decimal strings and are grouped as text, never made floats.
"use strict";

// every text of the interface: key → [Swedish, English] (the columns of LANGS)
const LANGS = ["sv", "en"];
const T = {
  contract: ["Kontrakt", "Contract"], format: ["Formatera", "Format"], save: ["Spara", "Save"],
  new: ["Nytt…", "New…"], save_as: ["Spara som…", "Save as…"],
  ask_name: ["Namn på kontraktet (bokstäver, siffror, _ och -):", "Name of the contract (letters, digits, _ and -):"],
  bad_name: ["Ogiltigt namn.", "Not a valid name."], language: ["Språk", "Language"],
  problems: ["Problem", "Problems"], close: ["Stäng", "Close"],
  tab_settlement: ["Utfall och utbetalning", "Outcomes and settlement"],
  tab_curve: ["Utbetalningskurva", "Payout curve"], tab_scenarios: ["Scenarier", "Scenarios"],
  tab_verify: ["Bevis", "Proofs"], tab_diff: ["Jämför", "Compare"], tab_document: ["Dokument", "Document"],
  upload: ["Läs in utfall (CSV, JSON eller Excel)", "Load outcomes (CSV, JSON or Excel)"],
  measure: ["Mått", "Measure"], value: ["Värde", "Value"],
  run_scenarios: ["Kör scenariotabellen", "Run the scenario table"],
  run_verify: ["Bevisa egenskaperna", "Prove the properties"],
  compare_with: ["Jämför utkastet med", "Compare the draft with"], compare: ["Jämför", "Compare"],
  doc_lang: ["Dokumentets språk", "Document language"], show_document: ["Visa dokumentet", "Show the document"],
  download_pdf: ["Ladda ner PDF", "Download PDF"], download_docx: ["Ladda ner Word (DOCX)", "Download Word (DOCX)"],
  download_xlsx: ["Ladda ner utbetalningen (Excel)", "Download the settlement (Excel)"], saved: ["Sparat", "Saved"],
  unsaved: ["Ändrat, inte sparat", "Changed, not saved"], saving: ["Sparar…", "Saving…"],
  checking: ["Kontrollerar…", "Checking…"], no_problems: ["Inga problem", "No problems"], total: ["Totalt", "Total"],
  payment: ["Betalning", "Payment"], period: ["Period", "Period"], from_to: ["Från → till", "From → to"],
  recipient: ["Mottagare", "Recipient"],
  due: ["Förfaller", "Due"], amount: ["Belopp", "Amount"],
  returns: ["Investerarnas avkastning", "Investors' returns"], investor: ["Investerare", "Investor"],
  invested: ["Investerat", "Invested"], received: ["Mottaget", "Received"], net: ["Netto", "Net"],
  total_return: ["Avkastning", "Return"], irr: ["IRR", "IRR"], guarantees: ["Garantier", "Guarantees"],
  holds: ["håller", "holds"], broken: ["bryts", "broken"], yes: ["ja", "yes"], no: ["nej", "no"], unset: ["–", "–"],
  fix_first: ["Rätta kontraktets fel först.", "Fix the contract's errors first."], line: ["rad", "line"],
  passed: ["godkända", "passed"], failed: ["underkända", "failed"],
  load_form: ["Lägg in i formuläret", "Load into the form"], proved: ["bevisad", "proved"],
  violated: ["bryts", "violated"], unknownv: ["okänd", "unknown"],
  same_meaning: ["Utkasten betyder samma sak.", "The drafts mean the same."],
  clauses_changed: ["Ändrade klausuler", "Changed clauses"], money: ["Pengar", "Money"],
  differs_proved: ["skiljer sig (bevisat för alla utfall)", "differs (proved for every outcome)"],
  same_proved: ["samma för alla utfall (bevisat)", "the same for every outcome (proved)"],
  undecided: ["inte avgjort inom arbetsgränsen", "not decided within the work limit"],
  saved_version: ["den sparade versionen", "the saved version"],
  loaded_file: ["Utfallen läses från", "The outcomes are read from"],
  conflict: ["Filen har ändrats på disken sedan du öppnade den.", "The file was changed on disk since you opened it."],
  expected: ["förväntat", "expected"], actual: ["faktiskt", "actual"], running: ["Kör…", "Running…"],
  settlement_of: ["Utbetalning", "Settlement"],
  unsaved_leave: ["Du har osparade ändringar.", "You have unsaved changes."],
  explained: ["Så räknas utbetalningen, steg för steg", "How the payment is calculated, step by step"],
  parameters: ["Parametrar (utkast)", "Parameters (draft)"],
  parameters_note: ["Kontraktet är ett utkast: välj värden inom de intervall parterna förhandlar om.",
    "The contract is a draft: choose values within the ranges the parties negotiate."],
  range: ["mellan", "between"], and: ["och", "and"], out_of_range: ["utanför intervallet", "outside the range"],
  interim: ["Delavräkning och tidigare betalningar", "Interim settlement and earlier payments"],
  interim_note: ["Lämna ett värde tomt om det inte är mätt än.", "Leave a value empty if it is not measured yet."],
  as_of: ["Avräkna per", "Settle as of"], clear: ["Ta bort", "Remove"],
  paid_upload: ["Redan betalt (tidigare avräkning, JSON eller CSV)", "Already paid (an earlier settlement, JSON or CSV)"],
  interim_as_of: ["Delavräkning per", "Interim settlement as of"],
  reconciled: ["Avräkning mot tidigare betalningar", "Settlement reconciled with earlier payments"],
  status_col: ["Status", "Status"], st_settled: ["avräknad", "settled"], st_waiting: ["väntar på data", "waiting for data"],
  "st_not due": ["inte förfallen", "not due"], paid_before: ["Betalt tidigare", "Paid before"],
  pay_now: ["Att betala nu", "Pay now"], paid_to_date: ["Betalt hittills efter denna avräkning", "Paid to date after this settlement"],
  waits_for: ["Väntar på", "Waits for"], overpaid: ["överbetalt, återkrävs inte", "overpaid, not clawed back"],
  save_interim: ["Spara avräkningen (JSON) som underlag för nästa", "Save this settlement (JSON) for the next one"],
  why: ["Varför inte (mer)?", "Why not (more)?"],
  why_none: ["Ingen ändring av utfallen hade gett den här raden mer.", "No change of the outcomes would have paid this line more."],
  waterfall: ["Vattenfall: vilket steg betalade vem", "Waterfall: which step paid whom"], step: ["Steg", "Step"],
  terms: ["Villkor", "Terms"], paid_to: ["Betalt till", "Paid to"],
  broken_assumption: ["Utfallen bryter ett antagande i kontraktet och avräknas inte.",
    "The outcomes break an assumption of the contract and are not settled."],
  show_in_contract: ["Visa i kontraktet", "Show in the contract"],
  guarantee_monotone: ["gäller alla utfall – bevisas under Bevis", "a property of all outcomes – proved under Proofs"],
  guarantee_condition: ["gäller inte här (villkoret är inte uppfyllt)", "does not apply (its condition does not hold)"],
  proofs_stopped: ["Bevisen hann inte bli klara inom serverns tidsgräns (E864): kör dem under Bevis.",
    "The proofs did not finish within the server's time budget (E864): run them under Proofs."],
  proofs_failed: ["Bevisen kunde inte köras", "The proofs could not be run"],
  offline: ["Studion svarar inte: starta `sibc studio` igen. Din text finns kvar här.", "The studio does not answer: start `sibc studio` again. Your text is still here."],
};

// the kinds of step in the audit trail, named in the interface's language (the kind itself is data)
const STEPS = {
  sv: {"computed": "beräknat", "gate passed": "villkoret uppfyllt", "gate failed": "villkoret inte uppfyllt",
    "floor": "golv", "floor top-up": "tillägg upp till golvet", "cap": "tak", "period cap": "tak för perioden",
    "participant cap": "tak per deltagare", "return limit": "avkastningstak",
    "stream floor": "golv för alla perioder", "stream cap": "tak för alla perioder", "party cap": "tak för en part",
    "waterfall": "vattenfall", "rate card cap": "prislistans tak", "first-loss cover": "förlustskydd",
    "limit released": "frigjort av taket"},
  en: {"floor top-up": "floor top-up", "period cap": "cap for the period", "participant cap": "cap per participant",
    "stream floor": "floor over all periods", "stream cap": "cap over all periods", "party cap": "cap on a party"},
};
const stepName = (kind) => (STEPS[state.lang] && STEPS[state.lang][kind]) || kind;

const state = {
  lang: "sv", token: "", name: null, version: null, summary: null, measures: [], diagnostics: [],
  checkSeq: 0, evalSeq: 0, dirty: false, note: "", curvePoints: null, curveRange: null, csv: null,
  xlsx: null,  // an uploaded workbook: {data: base64, name}, sent as is until the form is edited
  paid: null,  // what was paid before (an earlier settlement): {body: {paid: …} or {paid_csv: …}, name}
  why: null,  // the answer of /v1/eval with `why` for the settlement on screen: {seq, request}
  texts: {},  // word tables sent by the server (sibdsl/texts/NAME.json): {diff: {sv: …, en: …}}
  diff: null,  // the last answer of /v1/diff, drawn again in the other language on a switch
};
const $ = (id) => document.getElementById(id);
const t = (key) => (T[key] && (T[key][LANGS.indexOf(state.lang)] || T[key][1])) || key;

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function call(path, body) {
  const headers = {"Content-Type": "application/json"};
  if (state.token) headers.Authorization = "Bearer " + state.token;
  let response;
  try {
    response = await fetch(path, body === undefined ? {headers} :
      {method: "POST", headers, body: JSON.stringify(body)});
  } catch (e) {  // the server was stopped or the network is gone: say so, keep the text
    setStatus(t("offline"));
    return {status: 0, data: {ok: false, diagnostics: []}};
  }
  let data = null;
  try { data = await response.json(); } catch (e) { data = {ok: false, diagnostics: []}; }
  return {status: response.status, data};
}

// This page's runs of a document, by kind: a newer request of the same job stops the older run on
// the server (its text was edited since), instead of leaving it a core until its budget ends.
const PAGE = Math.random().toString(36).slice(2) + Date.now().toString(36);
const job = (kind) => `${PAGE}:${state.name || "draft"}:${kind}`;

function draft() {
  const ref = {source: $("editor").value};
  if (state.name) ref.name = state.name;
  return ref;
}

function label(texts) {
  if (!texts) return "";
  return texts[state.lang] || texts.default || "";
}

// ------------------------------------------------------------ numbers as text (exact)
function groupDecimal(text) {
  // "-1234567.5" → "−1 234 567,5" (sv) or "-1,234,567.5" (en): string work only, no floats.
  let s = String(text);
  let sign = "";
  if (s.startsWith("-")) { sign = state.lang === "sv" ? "−" : "-"; s = s.slice(1); }
  const [whole, frac] = s.split(".");
  const sep = state.lang === "sv" ? "\u00a0" : ",";
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
  return sign + grouped + (frac ? (state.lang === "sv" ? "," : ".") + frac : "");
}
function currencyUnit(currency, lang) {
  // Swedish kronor are `kr` in Swedish (lang.format_money); every other currency is its ISO code
  return lang === "sv" && currency === "SEK" ? "kr" : currency;
}
function formatMoney(text, currency, lang) {
  // An amount as sibdsl.lang.money(Decimal(text), currency, lang) writes it, character for character
  // (a browser test holds the two equal over a table of amounts × currencies × languages):
  //   sv "12 000 000 kr", "398 987,50 kr", "1 500 USD"  ·  en "12 000 000 SEK", "398 987.50 SEK".
  // Rounded half to even to the cent, written without decimals when that is whole ("1.00" is "1"),
  // and never a minus on zero. Digits are handled as text and BigInt, never as a float.
  const m = /^([-+]?)(\d+)(?:\.(\d+))?$/.exec(String(text).trim());
  if (!m) return String(text);
  const frac = (m[3] || "").padEnd(2, "0");
  const n = BigInt(m[2] + frac), d = 10n ** BigInt(frac.length - 2);
  let cents = n / d;
  const twice = 2n * (n % d);
  if (twice > d || (twice === d && cents % 2n === 1n)) cents += 1n;
  const whole = String(cents / 100n), rest = cents % 100n;
  const decimals = rest === 0n ? "" : (lang === "sv" ? "," : ".") + String(rest).padStart(2, "0");
  const sign = m[1] === "-" && cents !== 0n ? "-" : "";
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, " ") + decimals;
  return sign + grouped + " " + (lang === "sv" ? currencyUnit(currency, lang) : currency);
}
function money(text, currency) {
  // on the page the spaces are no-break ones, so that an amount is never split over two lines
  if (text === null || text === undefined) return t("unset");
  const unit = currency || (state.summary && state.summary.currency) || "";
  return formatMoney(text, unit, state.lang).replace(/ /g, "\u00a0");
}
function share(text) {
  if (text === null || text === undefined) return t("unset");
  // a share such as "0.083333" shown as a percentage, by moving the decimal point in the string
  const negative = String(text).startsWith("-");
  let [whole, frac = ""] = String(text).replace("-", "").split(".");
  frac = (frac + "00");
  let digits = (whole + frac.slice(0, 2)).replace(/^0+(?=\d)/, "");
  let rest = frac.slice(2, 4).replace(/0+$/, "");
  return (negative ? "-" : "") + groupDecimal(digits + (rest ? "." + rest : "")) + "\u00a0%";
}
function normaliseNumber(raw) {
  // Swedish or English input → the plain form outcome files take: "1 234,5" / "1,234.5" → "1234.5"
  let s = String(raw).trim().replace(/[\s\u00a0\u202f]/g, "").replace(/[−–]/g, "-");
  s = s.replace(/(kr|sek|eur|usd|gbp|%)$/i, "");
  if (state.lang === "sv") s = s.replace(/\./g, "").replace(",", ".");
  else s = s.replace(/,/g, "");
  return s;
}
function displayNumber(raw) {
  // an outcome file's value ("62 000 000 SEK", "0 %", 1420) → what the form shows in the UI language
  let s = String(raw).trim().replace(/\s*(SEK|EUR|USD|GBP|kr|%)$/i, "").replace(/[\s\u00a0]/g, "");
  if (!/^-?\d+(\.\d+)?$/.test(s)) return String(raw);
  return groupDecimal(s);
}

// ------------------------------------------------------------ highlighting and squiggles
const KEYWORDS = new Set(("contract party term periods cohort investment measure define baseline payment gate floor " +
  "cap return limit guarantee clause cover assume parameter waterfall coupon repayment redemption least principal full otherwise accrued rest until plus loss the id version languages currency rounding signed size eligibility better between " +
  "source description indexed for from to due after end per when requires above at participant in simple compound " +
  "nondecreasing nonincreasing half up down even year on below drawn committed class times day count during through over by all period payments and or not of if then else " +
  "table ratecard step linear claim declaration order proportion").split(" "));
const FUNCTIONS = new Set("tiers interpolate min max abs sum previous to_date cumulative".split(" "));
const LITERALS = new Set("true false total period_index period_start period_end contract_year".split(" "));
const TOKEN = /(#[^\n]*)|("(?:[^"\\\n]|\\.)*"?)|(§[ \t]*\d+(?:\.\d+)*[a-z]?)|(\b\d{4}-\d{2}-\d{2}\b)|(\b\d{1,3}(?:[ _]\d{3})+(?:\.\d+)?\b|\b\d+(?:\.\d+)?\b)|(@[a-z]+)|([A-Za-z_][A-Za-z0-9_]*)/g;

function tokens(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    if (m.index > last) out.push([last, m.index, ""]);
    let cls = "";
    if (m[1]) cls = "t-com"; else if (m[2]) cls = "t-str"; else if (m[3]) cls = "t-sec";
    else if (m[4]) cls = "t-date"; else if (m[5]) cls = "t-num"; else if (m[6]) cls = "t-lang";
    else if (KEYWORDS.has(m[7])) cls = "t-kw"; else if (FUNCTIONS.has(m[7])) cls = "t-fn";
    else if (LITERALS.has(m[7])) cls = "t-lit";
    out.push([m.index, m.index + m[0].length, cls]);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push([last, text.length, ""]);
  return out;
}

// the offset of each line's start; kept for the text it was made of (a keystroke makes it again once,
// however often the caret, the squiggles and the layer ask for it)
let startsOf = {text: null, starts: [0]};
function lineStarts(text) {
  if (startsOf.text === text) return startsOf.starts;
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  startsOf = {text, starts};
  return starts;
}

function rangeOf(d, starts, text) {
  if (!d.span) return null;
  const at = (line, col) => Math.min(text.length, (starts[line - 1] ?? text.length) + col - 1);
  let start = at(d.span.line, d.span.column);
  let end = at(d.span.end_line, d.span.end_column);
  if (end <= start) {  // an empty span: underline the character (or the end of the line) it points at
    end = Math.min(text.length, start + 1);
    if (start === text.length && start > 0) start -= 1;
  }
  return [start, end];
}

// The coloured layer under the text area holds only the lines it colours: all of them up to LARGE
// characters, else those in view and a screenful either side. It is moved (a CSS transform, no
// layout) to where the text area shows those lines, so that a keystroke or a scroll lays out a few
// screens of text, not the whole contract: the text area's lines are exactly `lineHeight()` apart
// (an integer line height in studio.css), so the first painted line's place is known without the
// lines above it being in the layer at all.
const LARGE = 50000;  // characters: a longer contract is painted around the view only
let painted = {first: 0, last: 0, text: null};

function lineHeight() {
  return parseFloat(getComputedStyle($("editor")).lineHeight) || 19;
}

function paint() {
  const text = $("editor").value;
  const starts = lineStarts(text);
  const [first, last] = text.length < LARGE ? [0, starts.length] : shown(starts.length);
  const from = starts[first] ?? text.length, to = last < starts.length ? starts[last] : text.length;
  // the squiggles of the painted lines only: a thousand problems elsewhere cost nothing here
  const marks = [];
  for (const d of state.diagnostics) {
    if (d.file && d.file !== "<source>" && state.name && d.file !== state.name + ".sib") continue;
    const r = rangeOf(d, starts, text);
    if (r && r[1] > from && r[0] < to) marks.push([Math.max(r[0], from), Math.min(r[1], to), d]);
  }
  const cuts = [...new Set(marks.flatMap(([a, b]) => [a, b]))].sort((x, y) => x - y);
  const fragment = document.createDocumentFragment();
  for (const [a, b, cls] of tokens(text.slice(from, to)).map(([a, b, cls]) => [a + from, b + from, cls])) {
    const points = [a, ...cuts.filter((c) => c > a && c < b), b];
    for (let i = 0; i + 1 < points.length; i++) {
      const [p, q] = [points[i], points[i + 1]];
      const hit = marks.find(([s, e]) => p >= s && q <= e);
      const classes = [cls, hit ? "squiggle-" + hit[2].severity : ""].filter(Boolean).join(" ");
      const piece = text.slice(p, q);
      fragment.append(classes ? el("span", {class: classes, title: hit ? hit[2].code + ": " + hit[2].message : null},
        piece) : document.createTextNode(piece));
    }
  }
  fragment.append(document.createTextNode("\n"));  // keeps the last line's height when it is empty
  const layer = $("highlight-lines");
  layer.replaceChildren(fragment);
  layer.dataset.first = String(first);
  painted = {first, last, text};
  syncScroll();
}

// [first, last) lines: those in view and a screenful above and below
function shown(lines) {
  const editor = $("editor");
  const line = lineHeight();
  const screen = Math.ceil(editor.clientHeight / line);
  const first = Math.max(0, Math.floor(editor.scrollTop / line) - screen);
  return [first, Math.min(lines, first + 3 * screen)];
}

// the layer follows the text area's scroll; a long contract's is painted again as soon as the view
// leaves the lines it holds (a few screens: cheap enough to do in the scroll event itself)
function syncScroll() {
  const editor = $("editor");
  const top = painted.first * lineHeight();
  $("highlight-lines").style.transform = `translate(${-editor.scrollLeft}px, ${top - editor.scrollTop}px)`;
  if (painted.text !== null && painted.text.length >= LARGE) {
    const [first, last] = shown(lineStarts(painted.text).length);
    if (first < painted.first || last > painted.last) paint();
  }
}

let listed = null;  // the diagnostics (and language) the list was last made of
function showDiagnostics() {
  atCaret();
  const list = $("diagnostics");
  const errors = state.diagnostics.filter((d) => d.severity === "error").length;
  document.body.dataset.errors = String(errors);
  // the same problems as the list shows (a keystroke elsewhere in the text): nothing to make again
  const now = state.lang + JSON.stringify(state.diagnostics);
  if (now === listed) return;
  listed = now;
  $("problem-count").textContent = state.diagnostics.length ? `(${state.diagnostics.length})` : "";
  if (!state.diagnostics.length) {
    list.replaceChildren(el("li", {class: "none", id: "no-problems", text: t("no_problems")}));
    return;
  }
  list.replaceChildren(...state.diagnostics.map((d) => el("li",
    {class: "diagnostic " + d.severity, "data-code": d.code, onclick: () => goTo(d)},
    el("button", {type: "button", class: "code", title: t("close"), onclick: (e) => { e.stopPropagation(); explain(d.code); }},
      d.code),
    d.span ? el("span", {class: "where", text: `${t("line")} ${d.span.line}:${d.span.column}`}) : null,
    el("span", {class: "message", text: d.message}),
    d.hint ? el("span", {class: "hint", text: "→ " + d.hint}) : null)));
}

// the problem under the caret, spelled out beside the editor (the underline itself cannot be hovered:
// the text area lies over it)
function atCaret() {
  const editor = $("editor");
  const text = editor.value, at = editor.selectionStart, starts = lineStarts(text);
  const hit = state.diagnostics.find((d) => { const r = rangeOf(d, starts, text); return r && at >= r[0] && at <= r[1]; });
  const box = $("at-caret");
  box.className = hit ? hit.severity : "";
  box.textContent = hit ? `${hit.code}: ${hit.message}${hit.hint ? " — " + hit.hint : ""}` : "";
}

function goTo(d) {
  if (!d.span) return;
  const text = $("editor").value;
  const r = rangeOf(d, lineStarts(text), text);
  const editor = $("editor");
  editor.focus();
  editor.setSelectionRange(r[0], r[1]);
}

async function explain(code) {
  const {data} = await call("/v1/explain/" + encodeURIComponent(code));
  $("explanation-text").textContent = data.page || (data.diagnostics || []).map((d) => d.message).join("\n");
  $("explanation").hidden = false;
}

// ------------------------------------------------------------ checking as you type
// One check in flight per page. A keystroke while none is sends the text at once (no pause for more
// keys: nothing waits on a timer); keystrokes while one is on its way wait for its answer, and then
// the newest text is sent, once. An answer for a text edited since is not drawn (the newer text's
// check follows it), so a fast typist costs the server one check at a time, never a queue of them.
let checking = null, again = null, checkTimer = null;
function scheduleCheck(delay = 0) {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, delay);
}

function check() {
  if (checking) {
    if (!again) {
      const next = () => { again = null; return check(); };
      again = checking.then(next, next);
    }
    return again;
  }
  checking = checkNow();
  const done = () => { checking = null; };
  checking.then(done, done);
  return checking;
}

async function checkNow() {
  const seq = ++state.checkSeq;
  const ref = draft();
  $("status").textContent = t("checking");
  // the check carries the page's proofs job: a run of the proofs of an older text still going is
  // stopped by it at once (E867), instead of keeping a core busy while the next keys are checked
  const {status, data} = await call("/v1/check", {contract: ref, verify: false, job: job("proofs")});
  if (status === 0 || ref.source !== $("editor").value) return;  // no server, or edited since: stale
  state.diagnostics = data.diagnostics || [];
  paint();
  showDiagnostics();
  setStatus();
  // keystroke → diagnostics on screen, for benchmarks/studio.py
  if (state.typedAt) { document.body.dataset.checkMs = String(performance.now() - state.typedAt); state.typedAt = 0; }
  if (status === 200 && data.summary && !data.diagnostics.some((d) => d.severity === "error")) scheduleProofs();
  if (status === 200 && data.summary) {
    const before = JSON.stringify(state.measures);
    state.summary = data.summary;
    state.measures = data.summary.measures;
    // the form and the curve's choices are made again only when the measures they show changed
    if (JSON.stringify(state.measures) !== before) { buildForm(); fillCurveMeasures(); }
    buildParametersIfChanged();
    $("as-of").min = data.summary.term ? data.summary.term[0] : "";
    settleAfterEdit();
  } else if (status === 200) {
    $("settlement").replaceChildren(el("p", {class: "problems", text: t("fix_first")}));
  }
  document.body.dataset.checked = String(seq);
}

// The settlement follows an edit of the text when typing pauses: settling a new text compiles it
// (on a contract of thousands of clauses, several times its check), which the next keystroke's
// check would otherwise wait behind; the next pause's settlement stops it (job "settle").
const SETTLE_PAUSE = 300;  // ms without a keystroke
let settleAfterEditTimer = null;
function settleAfterEdit() {
  clearTimeout(settleAfterEditTimer);
  settleAfterEditTimer = setTimeout(settle, SETTLE_PAUSE);
}

// The proofs (as `sibc check` runs them) follow when typing pauses: a broken promise is underlined
// like any other problem. Their result is shown only if the text has not changed meanwhile.
let proofTimer = null;
function scheduleProofs() {
  clearTimeout(proofTimer);
  proofTimer = setTimeout(async () => {
    const seq = state.checkSeq;
    const ref = draft();
    const {status, data} = await call("/v1/check", {contract: ref, verify: true, job: job("proofs")});
    // stale (edited since), or stopped by a newer request of the same job (409, E867): nothing to show
    if (status === 0 || status === 409 || ref.source !== $("editor").value) return;
    if (status !== 200) {  // stopped past the server's time budget (E864), or refused or failed: said,
      // not silently dropped, and in the server's own words when it is not the budget
      const first = ((data && data.diagnostics) || [])[0];
      state.note = first && first.code && first.code !== "E864"
        ? `${t("proofs_failed")} (${first.code}): ${first.message || ""}` : t("proofs_stopped");
      setStatus();
      document.body.dataset.proofs = "stopped";
      document.body.dataset.proved = String(seq);
      return;
    }
    state.diagnostics = data.diagnostics || [];
    paint();
    showDiagnostics();
    document.body.dataset.proofs = "done";
    document.body.dataset.proved = String(seq);
  }, 1000);
}

// a keystroke: the pending proofs and settlement of the text before it are not asked for
function edited() {
  clearTimeout(proofTimer);
  clearTimeout(settleAfterEditTimer);
}

function setStatus(text) {
  // a refused save stays in view until the next edit or save (a check finishing later keeps it)
  $("status").textContent = text || state.note || (state.dirty ? t("unsaved") : t("saved"));
}

// ------------------------------------------------------------ outcomes form
function unitOf(m) {
  if (m.kind === "money") return currencyUnit(m.currency || "", state.lang);  // beside a field: "kr" in Swedish
  if (m.kind === "share") return "%";
  if (m.kind === "days") return state.lang === "sv" ? "dagar" : "days";
  return "";
}

function input(m, period) {
  const name = period ? `${m.name}[${period}]` : m.name;
  const field = m.kind === "bool"
    ? el("select", {name, "data-measure": m.name, "data-period": period || null, onchange: scheduleSettle},
        el("option", {value: "", text: t("unset")}), el("option", {value: "true", text: t("yes")}),
        el("option", {value: "false", text: t("no")}))
    : el("input", {name, "data-measure": m.name, "data-period": period || null, inputmode: "decimal",
        "aria-label": name, oninput: scheduleSettle});
  return field;
}

function buildForm() {
  const old = formValues(true);
  const form = $("outcomes");
  form.replaceChildren(...state.measures.map((m) => {
    const unit = unitOf(m);
    const body = m.periods
      ? el("div", {class: "periods"}, ...m.periods.map((p) => el("label", {}, p, el("span", {}, input(m, p),
          unit ? el("span", {class: "unit", text: unit}) : null))))
      : el("span", {}, input(m, null), unit ? el("span", {class: "unit", text: unit}) : null);
    return el("div", {class: "measure"},
      el("label", {}, label(m.label) || m.name, el("span", {class: "name", text: m.name})), body);
  }));
  setFormValues(old, true);
}

function formValues(raw) {
  const values = {};
  for (const field of $("outcomes").querySelectorAll("[data-measure]")) {
    const key = field.dataset.measure, period = field.dataset.period;
    const v = raw ? field.value : field.value;
    if (period) { values[key] = values[key] || {}; values[key][period] = v; } else values[key] = v;
  }
  return values;
}

function setFormValues(values, raw) {
  for (const field of $("parameters").querySelectorAll("[data-parameter]")) {  // a counterexample names them
    const v = values[field.dataset.parameter];
    if (v === undefined || v === null || typeof v === "object") continue;
    field.value = field.tagName === "SELECT" ? String(v) : raw ? String(v) : displayNumber(v);
  }
  for (const field of $("outcomes").querySelectorAll("[data-measure]")) {
    const key = field.dataset.measure, period = field.dataset.period;
    let v = values[key];
    if (period) v = v && typeof v === "object" ? v[period] : undefined;
    if (v === undefined || v === null || typeof v === "object") continue;
    field.value = field.tagName === "SELECT" ? String(v) : raw ? String(v) : displayNumber(v);
  }
}

function outcomesForRequest() {
  // the form → an outcome object: numbers normalised from the UI language, shares with "%"; in an
  // interim settlement an empty field is a value not yet measured (null), as in an outcome file
  const out = {};
  const pending = interimAsked();
  const byName = Object.fromEntries(state.measures.map((m) => [m.name, m]));
  for (const field of $("outcomes").querySelectorAll("[data-measure]")) {
    const m = byName[field.dataset.measure];
    if (!m || (field.value.trim() === "" && !pending)) continue;
    let value = field.value.trim() === "" ? null : m.kind === "bool" ? field.value === "true" : normaliseNumber(field.value);
    if (value !== null && m.kind === "share") value = value + " %";
    if (field.dataset.period) { out[m.name] = out[m.name] || {}; out[m.name][field.dataset.period] = value; }
    else out[m.name] = value;
  }
  return out;
}


// ------------------------------------------------------------ a draft's parameters
function rangeText(p) {
  if (p.kind === "bool") return "";
  const show = (x) => p.kind === "money" ? money(x, p.currency) : p.kind === "share" ? share(x) : groupDecimal(x);
  return `${t("range")} ${show(p.lower)} ${t("and")} ${show(p.upper)}`;
}

let builtParameters = "";
function buildParametersIfChanged() {
  const now = JSON.stringify((state.summary && state.summary.parameters) || []);
  if (now !== builtParameters) { builtParameters = now; buildParameters(); }
}

function buildParameters() {
  const parameters = (state.summary && state.summary.parameters) || [];
  const old = Object.fromEntries([...$("parameters").querySelectorAll("[data-parameter]")].map((f) => [f.dataset.parameter, f.value]));
  $("parameters-box").hidden = !parameters.length;
  $("parameters").replaceChildren(...parameters.map((p) => {
    const field = p.kind === "bool"
      ? el("select", {"data-parameter": p.name, "aria-label": p.name, onchange: parameterChanged},
          el("option", {value: "true", text: t("yes")}), el("option", {value: "false", text: t("no")}))
      : el("input", {type: "text", "data-parameter": p.name, inputmode: "decimal", "aria-label": p.name,
          oninput: parameterChanged});
    // a new draft's parameter starts at the bottom of its range: a settlement is shown at once
    field.value = old[p.name] !== undefined ? old[p.name]
      : p.kind === "bool" ? "false" : displayNumber(p.kind === "share" ? shareNumber(p.lower) : p.lower);
    const slider = p.kind === "bool" ? null : el("input", {type: "range", min: 0, max: 1000, step: 1,
      "data-slider": p.name, "aria-label": p.name, oninput: (e) => slideParameter(p, field, e.target)});
    return el("div", {class: "parameter"},
      el("label", {}, label(p.label) || p.name, el("span", {class: "name", text: p.name})),
      el("span", {}, field, el("span", {class: "unit", text: unitOf(p)}),
        el("span", {class: "range", "data-range": p.name, text: rangeText(p)})), slider);
  }));
  checkParameters();
}

function shareNumber(text) {  // "0.125" → "12.5": a share is typed as a percentage
  return share(text).replace(/\u00a0%$/, "").replace(/\u00a0/g, "").replace(",", ".");
}

function slideParameter(p, field, slider) {
  // one of 1 001 steps of the range, written as text (whole units; a share in whole per mille)
  const lo = Number(p.kind === "share" ? shareNumber(p.lower) : p.lower);
  const hi = Number(p.kind === "share" ? shareNumber(p.upper) : p.upper);
  const v = lo + (hi - lo) * Number(slider.value) / 1000;
  field.value = groupDecimal(String(p.kind === "share" ? Math.round(v * 10) / 10 : Math.round(v)));
  parameterChanged();
}

function checkParameters() {
  // a value outside its range is marked here at once; the server's diagnostic (E505) says the same
  let ok = true;
  for (const p of (state.summary && state.summary.parameters) || []) {
    const field = $("parameters").querySelector(`[data-parameter="${CSS.escape(p.name)}"]`);
    if (!field || p.kind === "bool") continue;
    const v = Number(normaliseNumber(field.value));
    const lo = Number(p.kind === "share" ? shareNumber(p.lower) : p.lower);
    const hi = Number(p.kind === "share" ? shareNumber(p.upper) : p.upper);
    const bad = field.value.trim() === "" || Number.isNaN(v) || v < lo || v > hi;
    field.classList.toggle("invalid", bad);
    const slider = $("parameters").querySelector(`[data-slider="${CSS.escape(p.name)}"]`);
    if (slider && !bad && document.activeElement !== slider) slider.value = String(Math.round(1000 * (v - lo) / ((hi - lo) || 1)));
    $("parameters").querySelector(`[data-range="${CSS.escape(p.name)}"]`).textContent =
      rangeText(p) + (bad && field.value.trim() !== "" ? ` — ${t("out_of_range")}` : "");
    ok = ok && !bad;
  }
  return ok;
}

function parameterChanged() {
  checkParameters();
  state.changedAt = state.changedAt || performance.now();
  clearTimeout(settleTimer);
  settleTimer = setTimeout(settle, 40);
}

function paramsBody() {
  const params = {};
  for (const p of (state.summary && state.summary.parameters) || []) {
    const field = $("parameters").querySelector(`[data-parameter="${CSS.escape(p.name)}"]`);
    if (!field || field.value.trim() === "") continue;
    params[p.name] = p.kind === "bool" ? field.value === "true"
      : normaliseNumber(field.value) + (p.kind === "share" ? " %" : "");
  }
  return Object.keys(params).length ? {params} : {};
}

// ------------------------------------------------------------ interim settlements
function interimAsked() {
  return Boolean($("as-of").value) || state.paid !== null;
}

function interimBody() {
  const body = {};
  if ($("as-of").value) body.as_of = $("as-of").value;
  if (state.paid) Object.assign(body, state.paid.body);
  return body;
}

async function paidUpload(event) {
  const file = event.target.files[0];
  if (!file) return;
  event.target.value = "";
  const text = await file.text();
  let body = {paid_csv: text};
  if (/\.json$/i.test(file.name)) {
    try {
      const data = JSON.parse(text);
      // the answer of the studio's "save" (or of /v1/eval), or the JSON `sibc eval --format json` wrote
      body = {paid: data.interim || data.settlement || data};
    } catch (e) {
      body = {paid_csv: text};  // not JSON: the server says where (E554)
    }
  }
  state.paid = {body, name: file.name};
  $("paid-name").textContent = file.name;
  $("paid-clear").hidden = false;
  settle();
}

function clearPaid() {
  state.paid = null;
  $("paid-name").textContent = "";
  $("paid-clear").hidden = true;
  settle();
}

function outcomesBody() {
  // what /v1/eval settles: the uploaded file as it is (the server reads and locates its cells), else the form
  if (state.xlsx !== null) return {outcomes_xlsx: state.xlsx.data, outcomes_filename: state.xlsx.name};
  if (state.csv !== null) return {outcomes_csv: state.csv};
  return {outcomes: outcomesForRequest()};
}

let settleTimer = null;
function scheduleSettle() {
  state.csv = null;
  state.xlsx = null;
  state.changedAt = state.changedAt || performance.now();
  clearTimeout(settleTimer);
  settleTimer = setTimeout(settle, 40);
}

async function settle() {
  clearTimeout(settleAfterEditTimer);
  if (!state.summary) return;
  const seq = ++state.evalSeq;
  const interim = interimAsked();
  // the audit trail's details (what a floor, cap, gate or rounding did) in the interface's language
  // named by the page's settle job: a newer settlement stops this one on the server, its compile of a
  // new text included (409, E867; dropped below as stale)
  const body = {contract: draft(), ...outcomesBody(), ...paramsBody(), ...interimBody(), lang: state.lang,
                job: job("settle")};
  if (!interim) body.explain = state.lang;  // an interim settlement is answered without an explanation
  $("download-xlsx").hidden = interim;
  const fromFile = state.xlsx !== null || state.csv !== null;
  const {status, data} = await call("/v1/eval", body);
  if (seq !== state.evalSeq || status === 0) return;
  if (fromFile && data.outcomes) {  // the form shows what the file was read as
    for (const field of $("outcomes").querySelectorAll("[data-measure]")) field.value = "";
    setFormValues(data.outcomes, false);
  }
  markInvalid(data.diagnostics || []);
  if (data.interim) renderInterim(data.interim, data.diagnostics || []);
  else if (data.settlement) renderSettlement(data.settlement, data.diagnostics || [], data.explanation, body, data.why_lines || []);
  else renderProblems($("settlement"), data.diagnostics || []);
  const from = state.xlsx !== null ? state.xlsx.name : state.csv !== null ? state.csvName : null;
  if (from) $("settlement").prepend(el("p", {id: "outcomes-source", text: `${t("loaded_file")} ${from}`}));
  if (state.changedAt) { document.body.dataset.settleMs = String(performance.now() - state.changedAt); state.changedAt = 0; }
  document.body.dataset.settled = String(seq);
  if (!$("tab-curve").hidden) curve();
}

function markInvalid(diagnostics) {
  for (const field of $("outcomes").querySelectorAll("[data-measure]")) field.classList.remove("invalid");
  for (const d of diagnostics) {
    const m = /`([A-Za-z_][A-Za-z0-9_]*)`/.exec(d.message);
    if (m) for (const f of $("outcomes").querySelectorAll(`[data-measure="${CSS.escape(m[1])}"]`)) f.classList.add("invalid");
  }
}

function renderProblems(target, diagnostics) {
  // outcomes that break an assumption (E473) are said first, with the assumption shown in the contract
  const broken = diagnostics.filter((d) => d.code === "E473");
  target.replaceChildren(
    broken.length ? el("div", {class: "broken-assumption", id: "broken-assumption"},
      el("b", {text: t("broken_assumption")}),
      ...broken.map((d) => el("p", {}, d.message, " ", d.span ? el("button", {type: "button", class: "show-in-contract",
        text: t("show_in_contract"), onclick: () => goTo(d)}) : null))) : null,
    el("ul", {class: "problems"}, ...diagnostics.map((d) =>
      el("li", {"data-code": d.code}, el("b", {text: d.code}), " ", d.message, d.hint ? el("br") : null,
        d.hint ? el("i", {text: d.hint}) : null))));
}

function payerName(name) {
  const party = state.summary && state.summary.parties.find((p) => p.name === name);
  return party ? label(party.label) || name : name;
}

function measureName(name, period) {
  const m = state.measures.find((x) => x.name === name);
  return (m ? label(m.label) || name : name) + (period ? ` (${period})` : "");
}

function renderInterim(r, diagnostics) {
  // each line settled, waiting for data (with what it waits for) or not due, and what to pay now
  const cur = r.currency;
  const payments = Object.fromEntries((state.summary.payments || []).map((p) => [p.name, label(p.label)]));
  const rows = r.lines.flatMap((ln) => {
    // a line is known by its payment, period, recipient and clause (interim.line_key): a waterfall pays
    // one payment to several parties, step by step
    const step = ln.clause && ln.clause.name !== ln.payment ? ln.clause.name : null;
    const key = {"data-payment": ln.payment, "data-period": ln.period || null, "data-status": ln.status,
      "data-recipient": ln.to, "data-clause": step};
    const row = el("tr", {class: "interim-line", ...key},
      el("td", {}, payments[ln.payment] || ln.payment, el("span", {class: "name", text: " " + ln.payment}),
        el("div", {class: "parties", text: `${payerName(ln.from)} →`}),  // → the recipient, in its own column
        ln.steps.length ? el("ol", {class: "trail"}, ...ln.steps.map((st) => el("li", {},
          `${stepName(st.kind)}: ${st.before === null ? "" : money(st.before, cur) + " → "}${money(st.after, cur)}`,
          st.detail ? ` (${st.detail})` : ""))) : null),
      el("td", {class: "recipient"}, payerName(ln.to), step ? el("div", {class: "name", text: step}) : null),
      el("td", {text: ln.period || ""}),
      el("td", {text: ln.due || ""}),
      el("td", {class: "status", text: t("st_" + ln.status)}),
      el("td", {class: "amount", text: ln.amount === null ? "" : money(ln.amount, cur)}),
      el("td", {class: "amount", text: money(ln.paid_before, cur)}),
      el("td", {class: "amount", text: ln.status === "settled" ? money(ln.pay_now, cur) : ""}));
    // what the line waits for, and an overpayment, in a row of their own under it
    const notes = [
      ln.waits_for.length ? el("div", {class: "waits", text: `${t("waits_for")}: ` +
        ln.waits_for.map((w) => measureName(w.measure, w.period)).join("; ")}) : null,
      ln.overpaid !== "0" ? el("div", {class: "fail", text: `${money(ln.overpaid, cur)} ${t("overpaid")}`}) : null,
    ].filter(Boolean);
    return notes.length ? [row, el("tr", {class: "waits-row", ...key}, el("td", {colspan: 8}, ...notes))] : [row];
  });
  const parts = [
    el("h3", {id: "interim-title", text: r.as_of ? `${t("interim_as_of")} ${r.as_of}` : t("reconciled")}),
    el("p", {class: "total"}, t("pay_now") + ": ", el("span", {id: "pay-now", "data-amount": r.pay_now, text: money(r.pay_now, cur)})),
    el("p", {}, `${t("paid_before")}: ${money(r.paid_before, cur)}; ${t("paid_to_date")}: ${money(r.paid_to_date, cur)}`),
    el("table", {id: "interim-lines"}, el("thead", {}, el("tr", {}, ...[["payment"], ["recipient"], ["period"], ["due"],
      ["status_col"], ["amount", "amount"], ["paid_before", "amount"], ["pay_now", "amount"]].map(([k, c]) =>
      el("th", {class: c || null, text: t(k)})))), el("tbody", {}, ...rows)),
    el("p", {}, el("button", {type: "button", id: "save-interim", text: t("save_interim"),
      onclick: () => saveJson(r, `${state.name || "contract"}.${r.as_of || "final"}.paid.json`)})),
  ];
  if (diagnostics.length) { const box = el("div"); renderProblems(box, diagnostics); parts.push(box); }
  $("settlement").replaceChildren(...parts);
}

function saveJson(data, filename) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2) + "\n"], {type: "application/json"}));
  const a = el("a", {href: url, download: filename});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function whyable(ln, whyLines) {
  // the lines the server says `why` asks about (why.questions): not paid, cut by a clause, or paid in
  // part — below a step of the formula that other outcomes reach. A payment a waterfall distributes
  // is asked about whole, on the vehicle's line; the steps' lines are not asked about.
  return whyLines.some((w) => w.payment === ln.payment && (w.period || null) === (ln.period || null)
    && w.to === ln.to && (!ln.clause || w.clause === ln.clause.name));
}

async function whyNotPaid(ln, body, target) {
  target.replaceChildren(el("p", {class: "note", text: t("running")}));
  const seq = state.evalSeq;
  if (!state.why || state.why.seq !== seq || state.why.lang !== state.lang) {
    const request = {...body, why: true, lang: state.lang, job: job("why")};
    delete request.explain;
    state.why = {seq, lang: state.lang, request: call("/v1/eval", request)};
  }
  const {data} = await state.why.request;
  if (!data.why) { renderProblems(target, data.diagnostics || []); return; }
  const item = data.why.find((x) => x.payment === ln.payment && (x.period || null) === (ln.period || null)
    && (x.to == null || x.to === ln.to) && (x.clause == null || !ln.clause || x.clause === ln.clause.name));
  target.replaceChildren(el("p", {class: "why-answer",
    text: item ? item.words[state.lang] || Object.values(item.words)[0] : t("why_none")}));
}

function renderSettlement(s, diagnostics, explanation, body, whyLines) {
  const cur = s.currency;
  const payments = Object.fromEntries((state.summary.payments || []).map((p) => [p.name, label(p.label)]));
  const rows = s.lines.flatMap((ln) => {
    const key = {"data-payment": ln.payment, "data-period": ln.period || null};
    // the answer to "why not (more)?" goes in a row of its own under the line, the table's full width
    const answer = body && whyable(ln, whyLines) ? el("td", {colspan: 5, class: "why-box"}) : null;
    const row = el("tr", key,
      el("td", {}, payments[ln.payment] || ln.payment, el("span", {class: "name", text: " " + ln.payment}),
        el("ol", {class: "trail"}, ...ln.steps.map((st) => el("li", {},
          `${stepName(st.kind)}: ${st.before === null ? "" : money(st.before, cur) + " → "}${money(st.after, cur)}`,
          st.detail ? ` (${st.detail})` : "",
          st.clause ? ` — ${st.clause.heading || ""} ${t("line")} ${st.clause.line}` : ""))),
        answer ? el("button", {type: "button", class: "why", "data-payment": ln.payment, text: t("why"),
          onclick: () => whyNotPaid(ln, body, answer)}) : null),
      el("td", {text: ln.period || ""}),
      el("td", {text: `${payerName(ln.from)} → ${payerName(ln.to)}`}),
      el("td", {text: ln.due || ""}),
      el("td", {class: "amount", text: money(ln.amount, cur)}));
    return answer ? [row, el("tr", {...key, class: "why-row"}, answer)] : [row];
  });
  const parts = [
    el("p", {class: "total"}, t("total") + ": ", el("span", {id: "total", "data-amount": s.total, text: money(s.total, cur)})),
    el("table", {id: "lines"}, el("thead", {}, el("tr", {}, el("th", {text: t("payment")}), el("th", {text: t("period")}),
      el("th", {text: t("from_to")}), el("th", {text: t("due")}), el("th", {class: "amount", text: t("amount")}))),
      el("tbody", {}, ...rows)),
  ];
  if (s.returns.length) {
    parts.push(el("h3", {text: t("returns")}), el("table", {id: "returns"},
      el("tr", {}, ...["investor", "invested", "received", "net", "total_return", "irr"].map((k) =>
        el("th", {class: k === "investor" ? null : "amount", text: t(k)}))),
      ...s.returns.map((r) => el("tr", {}, el("td", {text: payerName(r.investor)}),
        el("td", {class: "amount", text: money(r.invested, cur)}), el("td", {class: "amount", text: money(r.received, cur)}),
        el("td", {class: "amount", text: money(r.net, cur)}), el("td", {class: "amount", text: share(r.total_return)}),
        el("td", {class: "amount", text: share(r.irr)})))));
  }
  if (s.waterfalls && s.waterfalls.length) {  // issue 14: which step of a waterfall paid whom
    parts.push(el("h3", {text: t("waterfall")}), el("table", {id: "waterfall"},
      el("tr", {}, el("th", {text: t("step")}), el("th", {text: t("terms")}), el("th", {text: t("paid_to")})),
      ...s.waterfalls.map((w) => el("tr", {class: "waterfall-step"}, el("td", {text: w.step}), el("td", {text: w.terms}),
        el("td", {}, ...Object.entries(w.paid).map(([who, amount]) =>
          el("div", {text: `${payerName(who)}: ${money(amount, cur)}`})))))));
  }
  if (s.guarantees.length) {
    parts.push(el("h3", {text: t("guarantees")}), el("ul", {}, ...s.guarantees.map((g) =>
      // holds true or false for these outcomes; null: not a question of these outcomes (as `sibc eval`
      // says: a property of all outcomes, or a promise whose condition does not hold) — never "broken"
      el("li", {class: g.holds === true ? "pass" : g.holds === false ? "fail" : "unknown", "data-guarantee": g.name},
        `${g.name}: ${g.holds === true ? t("holds") : g.holds === false ? t("broken")
          : t("guarantee_" + g.reason) !== "guarantee_" + g.reason ? t("guarantee_" + g.reason) : g.reason}`))));
  }
  if (explanation) {
    parts.push(el("details", {id: "explanation-of-settlement"}, el("summary", {text: t("explained")}),
      el("pre", {class: "explained", text: explanation})));
  }
  if (diagnostics.length) { const box = el("div"); renderProblems(box, diagnostics); parts.push(box); }
  const open = document.getElementById("explanation-of-settlement");
  $("settlement").replaceChildren(...parts);
  if (open && open.open) document.getElementById("explanation-of-settlement").open = true;
}

async function upload(event) {
  const file = event.target.files[0];
  if (!file) return;
  event.target.value = "";  // the same file chosen again (after editing it) is read again
  if (/\.xlsx$/i.test(file.name)) {
    // the workbook's bytes, base64, to /v1/eval: the server reads it as `sibc eval` does (docs/api.md)
    const bytes = new Uint8Array(await file.arrayBuffer());
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    state.csv = null;
    state.xlsx = {data: btoa(binary), name: /^[^\/\\\x00-\x1f]{1,100}\.xlsx$/i.test(file.name) ? file.name : "outcomes.xlsx"};
    settle();
    return;
  }
  const text = await file.text();
  if (/\.json$/i.test(file.name)) {
    try {
      const data = JSON.parse(text);
      state.csv = null;
      state.xlsx = null;
      setFormValues(data, false);
      settle();
      return;
    } catch (e) { /* not JSON: the server says where, as for a CSV */ }
  }
  state.xlsx = null;
  state.csv = text;
  state.csvName = file.name;
  settle();
}

// ------------------------------------------------------------ payout curve
function fillCurveMeasures() {
  const select = $("curve-measure");
  const usable = state.measures.filter((m) => m.kind !== "bool" && !m.periods);
  const current = select.value;
  select.replaceChildren(...usable.map((m) => el("option", {value: m.name, text: label(m.label) || m.name})));
  if (usable.some((m) => m.name === current)) select.value = current;
}

async function curve() {
  const name = $("curve-measure").value;
  if (!name || !state.summary) return;
  // the axis stays where it was while the value moves inside it (it is chosen afresh for a new measure)
  const outcomes = outcomesForRequest();
  for (const key of Object.keys(outcomes)) if (outcomes[key] === null) delete outcomes[key];
  const body = {contract: draft(), outcomes, ...paramsBody(), measure: name, points: 61};
  const range = state.curveRange;
  const here = body.outcomes[name] !== undefined ? Number(body.outcomes[name]) : NaN;
  if (range && range.measure === name && here >= Number(range.from) && here <= Number(range.to)) {
    body.from = range.from;
    body.to = range.to;
  }
  const {data} = await call("/v1/curve", body);
  if (!data.points) { renderProblems($("curve"), data.diagnostics || []); return; }
  state.curvePoints = data;
  state.curveRange = {measure: name, from: data.points[0].x, to: data.points[data.points.length - 1].x};
  drawCurve(data);
}

function drawCurve(data) {
  // coordinates only: the amounts on screen come from the exact strings
  const W = 640, H = 300, L = 90, B = 40;
  const xs = data.points.map((p) => Number(p.x)), ys = data.points.map((p) => Number(p.total));
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y1 = Math.max(...ys, 1), y0 = Math.min(0, ...ys);
  const px = (x) => L + (W - L - 10) * (x - x0) / ((x1 - x0) || 1);
  const py = (y) => H - B - (H - B - 10) * (y - y0) / ((y1 - y0) || 1);
  const ns = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs) => { const n = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v)); return n; };
  const root = svg("svg", {viewBox: `0 0 ${W} ${H}`, role: "img", id: "curve-svg"});
  root.append(svg("line", {x1: L, y1: H - B, x2: W - 10, y2: H - B, stroke: "#52606d"}),
    svg("line", {x1: L, y1: 10, x2: L, y2: H - B, stroke: "#52606d"}),
    svg("polyline", {fill: "none", stroke: "#1864ab", "stroke-width": 2,
      points: xs.map((x, i) => `${px(x).toFixed(1)},${py(ys[i]).toFixed(1)}`).join(" ")}));
  const text = (x, y, s, anchor) => { const n = svg("text", {x, y, "font-size": 11, "text-anchor": anchor}); n.textContent = s; return n; };
  root.append(text(L - 4, py(y1) + 4, money(data.points[ys.indexOf(y1)].total, data.currency), "end"),
    text(L - 4, H - B, money(String(y0 === 0 ? 0 : data.points[ys.indexOf(y0)].total), data.currency), "end"),
    text(L, H - B + 16, groupDecimal(data.points[0].x), "start"),
    text(W - 10, H - B + 16, groupDecimal(data.points[data.points.length - 1].x), "end"),
    text((L + W) / 2, H - 6, data.measure, "middle"));
  if (data.at !== null) {
    const x = px(Number(data.at));
    root.append(svg("line", {x1: x, y1: 10, x2: x, y2: H - B, stroke: "#e03131", "stroke-dasharray": "4 3", id: "curve-at"}));
  }
  $("curve").replaceChildren(root);
  const slider = $("curve-slider");
  slider.dataset.from = data.points[0].x;
  slider.dataset.to = data.points[data.points.length - 1].x;
  const total = document.getElementById("total");
  $("curve-total").textContent = total ? `${t("total")}: ${total.textContent}` : "";
  const field = $("outcomes").querySelector(`[data-measure="${CSS.escape(data.measure)}"]`);
  if (field && document.activeElement !== $("curve-value")) $("curve-value").value = field.value;
}

function curveValue(value) {
  const field = $("outcomes").querySelector(`[data-measure="${CSS.escape($("curve-measure").value)}"]`);
  if (!field) return;
  field.value = value;
  scheduleSettle();
}

function slide() {
  // the slider picks one of 1 001 steps between the curve's ends; the value is written as text
  const s = $("curve-slider");
  const from = Number(s.dataset.from || 0), to = Number(s.dataset.to || 0);
  const v = Math.round(from + (to - from) * Number(s.value) / 1000);
  $("curve-value").value = groupDecimal(String(v));
  curveValue($("curve-value").value);
}

// ------------------------------------------------------------ scenarios, proofs, diff
async function runScenarios() {
  $("scenarios").replaceChildren(el("p", {text: t("running")}));
  const {data} = await call("/v1/test", {contract: draft(), lang: state.lang});
  if (!data.scenarios) { renderProblems($("scenarios"), data.diagnostics || []); return; }
  $("scenarios").replaceChildren(el("p", {id: "scenario-summary", text: `${data.passed} ${t("passed")}, ${data.failed} ${t("failed")}`}),
    el("table", {}, ...data.scenarios.map((r) => el("tr", {class: "scenario"},
      el("td", {class: r.passed ? "pass" : "fail", text: r.passed ? "PASS" : "FAIL"}),
      el("td", {}, el("b", {text: r.name}), ` (${t("line")} ${r.row})`,
        r.error ? el("div", {class: "problems", text: r.error}) : null,
        ...r.checks.filter((c) => !c.ok).map((c) => el("div", {class: "fail",
          text: `${c.expected}: ${t("expected")} ${money(c.amount)}, ${t("actual")} ${money(c.actual)}`})),
        r.explanation.length ? el("ul", {class: "trail"}, ...r.explanation.map((x) => el("li", {text: x}))) : null),
      el("td", {}, el("button", {type: "button", text: t("load_form"),
        onclick: () => loadOutcomes(r.outcomes)}))))));
}

function loadOutcomes(values) {
  for (const field of $("outcomes").querySelectorAll("[data-measure]")) field.value = "";
  setFormValues(values || {}, false);
  showTab("settlement");
  scheduleSettle();
}

let verifySeq = 0;
async function runVerify() {
  const seq = ++verifySeq;
  $("verify").replaceChildren(el("p", {text: t("running")}));
  const {data} = await call("/v1/verify", {contract: draft(), job: job("verify")});
  if (seq !== verifySeq) return;  // a newer run was asked for (and stopped this one: E867)
  if (!data.properties) { renderProblems($("verify"), data.diagnostics || []); return; }
  const word = {proved: t("proved"), violated: t("violated"), unknown: t("unknownv")};
  $("verify").replaceChildren(el("table", {id: "proofs"}, ...data.properties.map((p) => el("tr", {class: "property"},
    el("td", {class: p.verdict === "proved" ? "pass" : p.verdict === "violated" ? "fail" : "unknown",
      text: word[p.verdict] || p.verdict}),
    el("td", {}, el("b", {text: p.property}), " ", p.description,
      p.verdict !== "proved" && p.reason ? el("div", {text: p.reason}) : null,
      ...(p.counterexample || []).map((outcomes) => el("div", {class: "counterexample",
        text: Object.entries(outcomes).filter(([k]) => !k.startsWith("_"))
          .map(([k, v]) => `${k} = ${typeof v === "object" && v !== null ? JSON.stringify(v) : v}`).join(", ")}))),
    el("td", {}, p.counterexample ? el("button", {type: "button", class: "load-counterexample", text: t("load_form"),
      onclick: () => loadOutcomes(p.counterexample[0])}) : null)))));
}

async function fillDiffChoices(contracts) {
  const select = $("diff-old");
  select.replaceChildren(...contracts.map((c) => el("option", {value: c.name,
    text: c.name === state.name ? `${c.name} (${t("saved_version")})` : c.name})));
  if (state.name) select.value = state.name;
}

// The comparison's words are the CLI's, in both languages: sibdsl/texts/diff.json, sent by
// /studio/api/config. `{name}` blanks are filled in one pass with text, and the result goes into the
// page as textContent like every other value.
function words(table, key, values) {
  const texts = (state.texts && state.texts[table]) || {};
  const phrase = (texts[state.lang] || texts.en || {})[key];
  if (phrase === undefined) return key;
  return phrase.replace(/\{(\w+)\}/g, (whole, name) => (values && name in values ? String(values[name]) : whole));
}
const diffWords = (key, values) => words("diff", key, values);

function exactDecimal(text) {
  // "22000001/2" (a Fraction as the diff's JSON writes it) → "11000000.5", by BigInt long division;
  // a fraction whose decimal does not end stays as it is (exact either way, never a float)
  const m = /^(-?)(\d+)\/(\d+)$/.exec(String(text));
  if (!m) return String(text);
  const n = BigInt(m[2]), d = BigInt(m[3]);
  for (let digits = 0; digits <= 40; digits++) {
    const scaled = n * 10n ** BigInt(digits);
    if (scaled % d === 0n) {
      const q = String(scaled / d).padStart(digits + 1, "0");
      const whole = q.slice(0, q.length - digits), frac = q.slice(q.length - digits);
      return m[1] + whole + (digits ? "." + frac : "");
    }
  }
  return String(text);
}
const diffMoney = (text, currency) => money(exactDecimal(text).replace(/^-/, ""), currency);

function diffValue(value, kind, currency) {
  // a value of a measure or definition as the comparison shows it: yes/no, an amount, a share in %
  if (value === true || value === false) return t(value ? "yes" : "no");
  if (value !== null && typeof value === "object") {
    return Object.entries(value).map(([k, v]) => `${k}: ${diffValue(v, kind, currency)}`).join(", ");
  }
  const text = exactDecimal(value);
  const unit = /^(-?[\d.]+) (%|[A-Z]{3})$/.exec(text);  // an outcome file's "13000000 SEK", "11 %"
  if (unit) return unit[2] === "%" ? groupDecimal(unit[1]) + "\u00a0%" : money(unit[1], unit[2]);
  if (!/^-?\d+(\.\d+)?$/.test(text)) return text;
  if (kind === "money") return money(text, currency);
  if (kind === "share") return share(text);
  return groupDecimal(text);
}

function diffExtreme(x, increase, cur) {
  const way = diffWords(increase ? "increase" : "decrease");
  const bound = x.bound === null || x.bound === undefined ? null : diffMoney(x.bound, cur);
  if (x.status === "bounded") return diffWords("bounded", {way, bound});
  const how = x.status === "within" ? diffWords("within", {bound}) :
    x.status === "partial" ? diffWords(bound === null ? "partial" : "partial_bound", {bound}) : diffWords(x.status);
  const at = Object.entries(x.outcomes_that_matter || {}).map(([k, v]) => `${k} = ${diffValue(v)}`).join(", ");
  return diffWords("extreme", {way, amount: diffMoney(x.amount, cur), how, at: at || diffWords("neutral"),
    old: money(exactDecimal(x.old), cur), new: money(exactDecimal(x.new), cur)}) +
    (x.confirmed === false ? diffWords("unconfirmed") : "");
}

function diffRegion(data) {
  // where the totals can differ, as `sibc diff` says it: only the outside is claimed
  const few = (names) => names.length > 4 ?
    diffWords("and_more", {names: names.slice(0, 4).join(", "), n: names.length - 4}) : names.join(", ");
  const unexamined = data.region_not_examined || [];
  const ranges = (data.differ_only_where || []).map((r) => {
    const value = (v) => diffValue(v, r.kind, r.currency);
    if (r.values) return diffWords("range_value", {measure: r.measure, value: value(r.values[0])});
    if (r.from !== null && r.to !== null) return diffWords("range_between", {measure: r.measure, low: value(r.from), high: value(r.to)});
    if (r.from !== null) return diffWords("range_at_least", {measure: r.measure, low: value(r.from)});
    return diffWords("range_at_most", {measure: r.measure, high: value(r.to)});
  });
  if (!ranges.length) return unexamined.length ? diffWords("region_none", {names: few(unexamined)}) : null;
  return diffWords(ranges.length === 1 ? "region_one" : "region_many", {ranges: ranges.join("; ")}) +
    (unexamined.length ? diffWords("region_unexamined", {names: few(unexamined)}) : "");
}

async function runDiff() {
  document.body.dataset.diff = "running";  // a state tests wait for (never a time)
  $("diff").replaceChildren(el("p", {text: t("running")}));
  const {data} = await call("/v1/diff", {old: $("diff-old").value, new: draft()});
  state.diff = data;  // shown again in the other language when the language is switched
  showDiff(data);
  document.body.dataset.diff = "done";
}

// A changed clause's heading in the interface's language: the server words it in each language from
// sibdsl/texts/diff.json (`words`, as `sibc diff --lang` does); an answer without them, as written.
const changeWords = (c) => (c.words && (c.words[state.lang] || c.words.en)) || `${c.kind} ${c.what}`;
// a line of the money effect as `sibc diff` names it: the total, what a payer pays, a payment
const lineName = (e) => e.kind === "total" ? diffWords("total") :
  e.kind === "payer" ? diffWords("paid_by", {name: e.line}) : e.line;

function showDiff(data) {
  if (!data.money) { renderProblems($("diff"), data.diagnostics || []); return; }
  const cur = state.summary ? state.summary.currency : "";
  if (data.same_meaning) { $("diff").replaceChildren(el("p", {id: "diff-summary", text: t("same_meaning")})); return; }
  const m = data.money;
  const spent = (m.budget && m.budget.spent_before) || [], sampled = (m.sampled && m.sampled.lines) || [];
  const samples = m.sampled ? m.sampled.outcomes : "";  // given whenever a line was sampled
  const note = (line) => spent.includes(line) ? diffWords("spent_line", {n: samples}) :
    sampled.includes(line) ? diffWords("sampled_line", {n: samples}) :
    (m.not_exact || []).includes(line) ? diffWords("not_exact") : null;
  const region = diffRegion(m);
  $("diff").replaceChildren(
    el("h3", {id: "diff-summary", text: `${t("clauses_changed")} (${data.changes.length})`}),
    el("ul", {id: "diff-changes"}, ...data.changes.map((c) => el("li", {}, el("b", {class: "diff-change", text: changeWords(c)}),
      c.old ? el("pre", {class: "fail", text: "- " + c.old}) : null, c.new ? el("pre", {class: "pass", text: "+ " + c.new}) : null))),
    el("h3", {text: t("money")}),
    el("ul", {id: "diff-money"}, ...m.lines.map((e) => el("li", {class: "diff-line", "data-line": e.line},
      `${lineName(e)}: ${t(e.differs === true ? "differs_proved" : e.differs === false ? "same_proved" : "undecided")}`,
      note(e.line) ? el("div", {class: "diff-note", text: note(e.line)}) : null,
      ...[[true, e.largest_increase], [false, e.largest_decrease]].filter(([, x]) => x).map(([increase, x]) =>
        el("div", {class: "diff-extreme", "data-status": x.status, "data-way": increase ? "increase" : "decrease",
          text: diffExtreme(x, increase, cur)}))))),
    region ? el("p", {id: "diff-region", text: region}) : null);
}

// ------------------------------------------------------------ document, files, saving
function previewForm() {
  const form = $("preview-form");
  form.elements.source.value = $("editor").value;
  form.elements.name.value = state.name || "";
  form.elements.token.value = state.token;
  return form;
}

async function download(path, body, fallback) {
  // a file from the API saved under the name the server gives it (Content-Disposition), or the
  // request's diagnostics shown on the settlement tab
  const headers = {"Content-Type": "application/json"};
  if (state.token) headers.Authorization = "Bearer " + state.token;
  let response;
  try {
    response = await fetch(path, {method: "POST", headers, body: JSON.stringify(body)});
  } catch (e) { setStatus(t("offline")); return; }
  if (!response.ok) {
    let data = {diagnostics: []};
    try { data = await response.json(); } catch (e) { /* no JSON: nothing more to show */ }
    renderProblems($("settlement"), data.diagnostics || []);
    showTab("settlement");
    return;
  }
  const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  const url = URL.createObjectURL(await response.blob());
  const a = el("a", {href: url, download: named ? named[1] : fallback});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function downloadDocument(format) {
  const lang = previewForm().elements.lang.value;
  return download("/v1/render", {contract: draft(), format, lang}, `${state.name || "contract"}.${lang}.${format}`);
}

function downloadSettlement() {
  return download("/v1/eval", {contract: draft(), format: "xlsx", ...outcomesBody(), ...paramsBody(), lang: state.lang},
    `${state.name || "contract"}.settlement.xlsx`);
}

async function openFile(name) {
  if (state.dirty && !confirm(t("unsaved_leave"))) { $("file").value = state.name; return; }
  const {status, data} = await call("/studio/api/file?name=" + encodeURIComponent(name));
  if (status !== 200) { state.diagnostics = data.diagnostics || []; showDiagnostics(); return; }
  state.name = data.name;
  state.version = data.version;
  state.dirty = false;
  // an interim settlement's date and what was paid belong to the contract they were entered for
  $("as-of").value = "";
  state.paid = null;
  $("paid-name").textContent = "";
  $("paid-clear").hidden = true;
  // the comparison defaults to the saved version of the file just opened, not the first in the list
  for (const option of $("diff-old").options) {
    option.text = option.value === state.name ? `${option.value} (${t("saved_version")})` : option.value;
  }
  $("diff-old").value = state.name;
  $("editor").value = data.source;
  paint();
  history.replaceState(null, "", "#" + new URLSearchParams({file: name}).toString());
  await check();
  if (data.outcomes) { setFormValues(data.outcomes, false); settle(); }
  const docLang = $("preview-form").elements.lang;
  docLang.value = state.summary && state.summary.languages.includes(state.lang) ? state.lang : docLang.value;
}

async function save() {
  if (!state.name) return saveAs();
  setStatus(t("saving"));
  const {status, data} = await call("/studio/api/save", {name: state.name, source: $("editor").value, version: state.version});
  if (status === 200) {
    state.version = data.version;
    state.dirty = false;
    state.note = "";
    setStatus(t("saved"));
  } else {
    state.note = status === 409 ? t("conflict") : (data.diagnostics || []).map((d) => `${d.code}: ${d.message}`).join("; ");
    setStatus();
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

function askName() {
  const name = (prompt(t("ask_name")) || "").trim().replace(/\.sib$/, "");
  if (name && !NAME.test(name)) { setStatus(t("bad_name")); return null; }
  return name || null;
}

async function refreshFiles(select) {
  const {data} = await call("/v1/contracts");
  const contracts = data.contracts || [];
  $("file").replaceChildren(...contracts.map((c) => el("option", {value: c.name, text: c.name})));
  fillDiffChoices(contracts);
  if (select) $("file").value = select;
}

async function createNew() {
  if (state.dirty && !confirm(t("unsaved_leave"))) return;
  const name = askName();
  if (!name) return;
  const {status, data} = await call("/studio/api/new", {name, template: "savings-floor-cap"});
  if (status !== 200) { state.note = (data.diagnostics || []).map((d) => `${d.code}: ${d.message}`).join("; "); setStatus(); return; }
  state.dirty = false;
  await refreshFiles(name);
  await openFile(name);
}

async function saveAs() {
  const name = askName();
  if (!name) return;
  const {status, data} = await call("/studio/api/save", {name, source: $("editor").value, create: true});
  if (status !== 200) { state.note = (data.diagnostics || []).map((d) => `${d.code}: ${d.message}`).join("; "); setStatus(); return; }
  state.name = name;
  state.version = data.version;
  state.dirty = false;
  state.note = "";
  await refreshFiles(name);
  history.replaceState(null, "", "#" + new URLSearchParams({file: name}).toString());
  setStatus(t("saved"));
}

async function format() {
  const {status, data} = await call("/studio/api/format", {source: $("editor").value});
  if (status === 200) {
    if (data.changed) {
      const editor = $("editor");
      editor.select();
      if (!document.execCommand || !document.execCommand("insertText", false, data.source)) editor.value = data.source;
      state.dirty = true;
      paint();
      scheduleCheck(0);
    }
  } else {
    state.diagnostics = data.diagnostics || [];
    paint();
    showDiagnostics();
  }
}

function showTab(name) {
  for (const button of document.querySelectorAll("#tabs button")) button.setAttribute("aria-selected", String(button.dataset.tab === name));
  for (const tab of document.querySelectorAll(".tab")) tab.hidden = tab.id !== "tab-" + name;
  if (name === "curve") curve();
}

// the numbers in the forms as plain decimals ("1 234,5" in Swedish → "1234.5"), read in the language
// they were typed in: switching the language shows them again in the new one
function plainValues() {
  const values = {};
  for (const field of $("parameters").querySelectorAll("[data-parameter]")) {
    values[field.dataset.parameter] = field.tagName === "SELECT" || !field.value.trim() ? field.value : normaliseNumber(field.value);
  }
  for (const field of $("outcomes").querySelectorAll("[data-measure]")) {
    const v = field.tagName === "SELECT" || !field.value.trim() ? field.value : normaliseNumber(field.value);
    const key = field.dataset.measure, period = field.dataset.period;
    if (period) { values[key] = values[key] || {}; values[key][period] = v; } else values[key] = v;
  }
  return values;
}

function translate(kept) {
  document.documentElement.lang = state.lang;
  const docLang = $("preview-form").elements.lang;
  if (!state.summary || state.summary.languages.includes(state.lang)) docLang.value = state.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  $("lang").value = state.lang;
  if (state.measures.length) { buildForm(); fillCurveMeasures(); }
  if (state.summary) buildParameters();
  if (kept) setFormValues(kept, false);
  if (state.diff) showDiff(state.diff);
  showDiagnostics();
  setStatus();
  if (state.summary) settle();
}

async function start() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) { sessionStorage.setItem("sibc-token", hash.get("token")); hash.delete("token"); }
  state.token = sessionStorage.getItem("sibc-token") || "";
  const {data: config} = await call("/studio/api/config");
  state.lang = localStorage.getItem("sibc-lang") || config.lang || "sv";
  state.texts = config.texts || {};
  translate();
  $("editor").addEventListener("input", () => { state.typedAt = state.typedAt || performance.now();
    state.dirty = true; state.note = ""; setStatus(); edited(); check(); paint(); });
  $("editor").addEventListener("scroll", syncScroll);
  for (const kind of ["keyup", "click", "select"]) $("editor").addEventListener(kind, atCaret);
  $("editor").addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === "s") { e.preventDefault(); save(); }
    if (e.key === "Tab" && !e.shiftKey && !e.ctrlKey) { e.preventDefault(); document.execCommand("insertText", false, "  "); }
  });
  $("save").addEventListener("click", save);
  $("save-as").addEventListener("click", saveAs);
  $("new").addEventListener("click", createNew);
  $("format").addEventListener("click", format);
  $("lang").addEventListener("change", () => {
    const kept = plainValues();
    state.lang = $("lang").value;
    localStorage.setItem("sibc-lang", state.lang);
    translate(kept);
  });
  $("file").addEventListener("change", () => openFile($("file").value));
  $("close-explanation").addEventListener("click", () => { $("explanation").hidden = true; });
  for (const button of document.querySelectorAll("#tabs button")) button.addEventListener("click", () => showTab(button.dataset.tab));
  $("upload").addEventListener("change", upload);
  $("as-of").addEventListener("change", () => settle());
  $("as-of-clear").addEventListener("click", () => { $("as-of").value = ""; settle(); });
  $("paid-upload").addEventListener("change", paidUpload);
  $("paid-clear").addEventListener("click", clearPaid);
  $("curve-measure").addEventListener("change", curve);
  $("curve-value").addEventListener("input", () => curveValue($("curve-value").value));
  $("curve-slider").addEventListener("input", slide);
  $("run-scenarios").addEventListener("click", runScenarios);
  $("run-verify").addEventListener("click", runVerify);
  $("run-diff").addEventListener("click", runDiff);
  $("preview-form").addEventListener("submit", () => previewForm());
  $("download-pdf").addEventListener("click", () => downloadDocument("pdf"));
  $("download-docx").addEventListener("click", () => downloadDocument("docx"));
  $("download-xlsx").addEventListener("click", downloadSettlement);
  window.addEventListener("beforeunload", (e) => { if (state.dirty) { e.preventDefault(); e.returnValue = ""; } });
  showTab("settlement");
  const {data} = await call("/v1/contracts");
  const contracts = data.contracts || [];
  await refreshFiles();
  const wanted = hash.get("file");
  const first = contracts.find((c) => c.name === wanted) || contracts[0];
  if (first) { $("file").value = first.name; await openFile(first.name); }
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", start);
