"""The studio's responsiveness in a real browser (issue 20): diagnostics on screen ≤ 150 ms after a
keystroke on Norrköping and ≤ 500 ms on a 5,000-clause contract; the settlement ≤ 100 ms after an
outcome changes.

    .venv/bin/python benchmarks/studio.py [--samples 15]
    .venv/bin/python benchmarks/studio.py --compare OTHER_CHECKOUT   # before/after, paired
    .venv/bin/python benchmarks/studio.py --collector   # the server's check with the collector held, in process

With `--compare`, a second studio runs from the other checkout (its `sibdsl` first on the path), in
a second Chromium, and the samples alternate between the two — one keystroke here, one there —
so that the machine's load falls on both alike; both are reported, and the ratio of the medians.

Drives Debian's headless Chromium (as tests/test_studio_browser.py does) against `sibc studio` on a
temporary folder with Norrköping and a generated 5,000-clause contract (benchmarks/bench.py's
`generated`). Each sample is one real keystroke (a `z` typed on into a name, so that every keystroke
is a text the studio has not checked before, each with its E201; on the large contract also a `)`
typed on after a name, each a new text with a syntax error) or one outcome typed into the form; the page itself
records the time from the key's `input` event until the result is drawn (any pause for more keys
included). Prints the median and the 90th percentile of each, and for the keystrokes where that
time went: the request (from the check's fetch to its answer received, Resource Timing), of it the
server's share (its `Server-Timing` header, docs/api.md: the whole answer and the processor time of
the check; a checkout without the header shows none), and the page's share — the rest: any pause
for more keys, making the request, and drawing the answer — with the layout Chromium did for the
keystroke (its own counter, `Performance.getMetrics`). Each keystroke is checked to give the
diagnostic it is meant to (E201, or a syntax error), so a caret that moved cannot time something else.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--compare", type=Path, help="another checkout of sibdsl (the code before a change)")
    parser.add_argument("--collector", action="store_true",
                        help="only time the check of a keystroke with and without the collector held (in process)")
    args = parser.parse_args()
    if args.collector:
        return collector(args.samples)

    from bench import generated
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.test_serve_api import Server

    folder = Path(tempfile.mkdtemp(prefix="sibc-studio-bench-"))
    for name in ("norrkoping.sib", "norrkoping.outcomes.json"):
        shutil.copy(ROOT / "contracts" / name, folder / name)
    (folder / "large.sib").write_text(generated(5_000), encoding="utf-8")
    sides = {"": ROOT} if args.compare is None else {"before": args.compare.resolve(), "after": ROOT}
    profiles = []

    def browser():
        profile = tempfile.mkdtemp(prefix="sibc-chromium-")
        profiles.append(profile)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for arg in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                    "--window-size=1400,1000"]:
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        driver.execute_cdp_cmd("Emulation.setFocusEmulationEnabled", {"enabled": True})  # as a focused window
        return driver

    servers, drivers = {}, {}

    def opened(name: str) -> None:
        for side, driver in drivers.items():
            driver.get(f"{servers[side].base}/studio/#file={name}")
            driver.refresh()
            WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.body.dataset.ready") == "true")

    def measured(driver, key: str, act) -> float:
        driver.execute_script(f"delete document.body.dataset.{key}")
        act()
        WebDriverWait(driver, 60, poll_frequency=0.01).until(
            lambda d: d.execute_script(f"return document.body.dataset.{key}"))
        return float(driver.execute_script(f"return document.body.dataset.{key}"))

    def metrics(driver) -> dict[str, float]:
        return {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}

    def keystrokes(needle: str, key: str = "z", code=lambda c: c == "E201") -> dict[str, list[float]]:
        typed = {side: 0 for side in drivers}
        for driver in drivers.values():
            driver.execute_cdp_cmd("Performance.enable", {})
        times: dict[str, list[float]] = {side: [] for side in drivers}
        for i in range(args.samples):
            # typing on into the name: each keystroke a text the server has not seen (a `z` typed and
            # deleted again gives back a text it has checked, and answers from its cache); or `)`
            # typed on after a name, each a new text with a syntax error
            for side in order(i):  # one keystroke on each side in turn
                driver = drivers[side]
                # the caret after what was typed so far, set again before each key (nothing else may move it)
                driver.execute_script(
                    "const e = document.getElementById('editor'); const at = e.value.indexOf(arguments[0]) + "
                    "arguments[0].length + arguments[1]; e.focus(); e.setSelectionRange(at, at);", needle, typed[side])
                driver.execute_script("performance.clearResourceTimings()")
                before = metrics(driver)
                # a real key to the focused text area (an element's send_keys would move the caret to
                # the end of the text when the window has not had the focus)
                times[side].append(measured(driver, "checkMs",
                                            lambda key=key, driver=driver: ActionChains(driver).send_keys(key).perform()))
                typed[side] += 1
                after = metrics(driver)
                shown = driver.execute_script("return state.diagnostics.map((d) => d.code)")
                assert any(code(c) for c in shown), f"{side}: the keystroke gave {shown}"
                # the check whose answer was drawn: the last one sent for this keystroke
                request, total, cpu = driver.execute_script(
                    "const e = performance.getEntriesByType('resource').filter((r) => r.name.endsWith('/v1/check'));"
                    "const r = e[e.length - 1], t = Object.fromEntries(r.serverTiming.map((x) => [x.name, x.duration]));"
                    "return [r.responseEnd - r.startTime, t.total ?? null, t.cpu ?? null];")
                server[side].append((request, total, cpu))
                page[side].append((times[side][-1] - request, (after["LayoutDuration"] - before["LayoutDuration"]) * 1000))
                quiet(driver)
        return times

    page: dict[str, list] = {side: [] for side in sides}
    server: dict[str, list] = {side: [] for side in sides}

    def breakdown() -> None:
        """Where the keystrokes' time went, median per side (then cleared for the next kind of keystroke)."""
        for side in drivers:
            own = statistics.median(x for x, _ in page[side])
            layout = statistics.median(y for _, y in page[side])
            request = statistics.median(s[0] for s in server[side])
            answered = [s for s in server[side] if s[1] is not None]
            said = (f"server {statistics.median(s[1] for s in answered):6.1f} (processor "
                    f"{statistics.median(s[2] for s in answered):5.1f})" if answered else "server: no Server-Timing")
            print(f"{'':<4}{side or 'this checkout':<7} medians: request {request:6.1f} ms, of it {said};"
                  f"   page {own:6.1f} ms (layout {layout:5.1f})")
            page[side].clear()
            server[side].clear()

    def order(i: int) -> list[str]:
        """The sides, the first one first in even rounds and last in odd ones: neither always follows the other."""
        sides_ = list(drivers)
        return sides_ if i % 2 == 0 else sides_[::-1]

    def quiet(driver) -> None:
        """Wait until the studio is idle: a text without errors has its proofs run (in a child process,
        a second after the check) — they must not fall into the next sample, on this side or the other."""
        time.sleep(0.2)
        if len(drivers) == 1:
            return
        checked = driver.execute_script("return document.body.dataset.checked")
        if driver.execute_script("return state.diagnostics.some((d) => d.severity === 'error')"):
            return
        deadline = time.monotonic() + 30  # or the proofs ran out of their budget (no `proved` then)
        while time.monotonic() < deadline and \
                driver.execute_script("return document.body.dataset.proved") != checked:
            time.sleep(0.05)

    def report(label: str, times: dict[str, list[float]], budget: float) -> None:
        for side, samples in times.items():
            ordered = sorted(samples)
            p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
            median = statistics.median(samples)
            print(f"{label + (f' ({side})' if side else ''):<61} median {median:7.1f} ms   p90 {p90:7.1f} ms   "
                  f"({median / budget:.2f} × the {budget:.0f} ms budget)")
        if len(times) == 2:
            print(f"{'':<61} before / after: {statistics.median(times['before']) / statistics.median(times['after']):.2f}×")

    try:
        for side, checkout in sides.items():
            # run from the served folder, so `python -m sibdsl.cli` finds sibdsl on PYTHONPATH only
            os.chdir(folder)
            servers[side] = Server(folder, "--lang", "en", command="studio", env={"PYTHONPATH": str(checkout)})
            drivers[side] = browser()
        opened("norrkoping")
        report("Norrköping: keystroke → diagnostics", keystrokes("min(60 % of savings"), 150)
        breakdown()
        settle: dict[str, list[float]] = {side: [] for side in drivers}
        fields = {side: d.find_element(By.CSS_SELECTOR, '#outcomes [data-measure="actual_costs"]')
                  for side, d in drivers.items()}
        for i in range(args.samples):
            for side in order(i):
                driver, field = drivers[side], fields[side]
                field.clear()
                field.send_keys(f"{49 + i % 5},000,00")  # all but the last digit, settled before the sample
                time.sleep(0.3)
                settle[side].append(measured(driver, "settleMs", lambda field=field: field.send_keys("0")))
                time.sleep(0.2)
        report("Norrköping: outcome typed → settlement", settle, 100)
        opened("large")
        report("5,000 clauses: keystroke → diagnostics", keystrokes("define d2500 = max(d2499"), 500)
        breakdown()
        report("5,000 clauses: keystroke, syntax error → diagnostics",
               keystrokes("define d1500 = max(d1499", ")", lambda c: c.startswith("E1")), 500)
        breakdown()
        print(f"load average at the end: {os.getloadavg()[0]:.1f} (1 min), {os.getloadavg()[1]:.1f} (5 min) "
              f"on {os.cpu_count()} cores")
    finally:
        for driver in drivers.values():
            driver.quit()
        for server in servers.values():
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
        for profile in profiles:
            shutil.rmtree(profile, ignore_errors=True)


def collector(samples: int) -> None:
    """The studio's check of a keystroke (E201 in the middle of 5,000 clauses, each a new text) in
    processor time, the cyclic collector as Python runs it against held off until the answer is
    made (sibdsl/serve/app.py, `_Collector`), alternating; and the collector's pass that then runs
    after the answer. Processor time: the machine's load does not lengthen it."""
    import gc

    from bench import generated

    from sibdsl.serve import api

    ws = api.Workspace(None)
    text = generated(5_000)
    needle = "define d2500 = max(d2499"
    at = text.index(needle) + len(needle)

    def check(t: str) -> None:
        _, body = api.check(ws, {"contract": {"source": t, "name": "large"}, "verify": False})
        assert [d["code"] for d in body["diagnostics"]] == ["E201"], body["diagnostics"]

    api.check(ws, {"contract": {"source": text, "name": "large"}, "verify": False})
    times: dict[str, list[float]] = {"with the collector as Python runs it": [], "with the collector held": [],
                                     "(the collector's pass after the answer)": []}
    for i in range(2 * samples):
        t = text[:at] + "z" * (i + 1) + text[at:]
        started = time.process_time()
        if i % 2:
            gc.disable()
            try:
                check(t)
            finally:
                times["with the collector held"].append(time.process_time() - started)
                gc.enable()
            started = time.process_time()
            gc.collect(1)  # what the first allocation after the answer sets off: the young generations
            times["(the collector's pass after the answer)"].append(time.process_time() - started)
        else:
            check(t)
            times["with the collector as Python runs it"].append(time.process_time() - started)
    for label, values in times.items():
        ordered = sorted(values)
        q1, q3 = ordered[len(ordered) // 4], ordered[(3 * len(ordered)) // 4]
        print(f"5,000 clauses, a keystroke's check {label:<42} median {statistics.median(values) * 1000:6.1f} ms "
              f"processor time ({q1 * 1000:.1f}–{q3 * 1000:.1f})")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
