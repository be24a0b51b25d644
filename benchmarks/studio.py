"""The studio's responsiveness in a real browser (issue 20): diagnostics on screen ≤ 150 ms after a
keystroke on Norrköping and ≤ 500 ms on a 5,000-clause contract; the settlement ≤ 100 ms after an
outcome changes.

    .venv/bin/python benchmarks/studio.py [--samples 15]
    .venv/bin/python benchmarks/studio.py --compare OTHER_CHECKOUT   # before/after, paired

With `--compare`, a second studio runs from the other checkout (its `sibdsl` first on the path), in
a second Chromium, and the samples alternate between the two — one keystroke here, one there —
so that the machine's load falls on both alike; both are reported, and the ratio of the medians.

Drives Debian's headless Chromium (as tests/test_studio_browser.py does) against `sibc studio` on a
temporary folder with Norrköping and a generated 5,000-clause contract (benchmarks/bench.py's
`generated`). Each sample is one real keystroke (a `z` typed on into a name, so that every keystroke
is a text the studio has not checked before, each with its E201; on the large contract also a `)`
typed on after a name, each a new text with a syntax error) or one outcome typed into the form; the page itself
records the time from the key's `input` event until the result is drawn (the debounce included).
Prints the median and the 90th percentile of each.
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
    args = parser.parse_args()

    from bench import generated
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
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
        return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)

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

    def keystrokes(needle: str, key: str = "z") -> dict[str, list[float]]:
        editors = {}
        for side, driver in drivers.items():
            editors[side] = driver.find_element(By.ID, "editor")
            driver.execute_script("const e = document.getElementById('editor'); const at = e.value.indexOf("
                                  "arguments[0]) + arguments[0].length; e.focus(); e.setSelectionRange(at, at);", needle)
        times: dict[str, list[float]] = {side: [] for side in drivers}
        for i in range(args.samples):
            # typing on into the name: each keystroke a text the server has not seen (a `z` typed and
            # deleted again gives back a text it has checked, and answers from its cache); or `)`
            # typed on after a name, each a new text with a syntax error
            for side in order(i):  # one keystroke on each side in turn
                driver, editor = drivers[side], editors[side]
                times[side].append(measured(driver, "checkMs", lambda key=key, editor=editor: editor.send_keys(key)))
                quiet(driver)
        return times

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
        report("5,000 clauses: keystroke, syntax error → diagnostics", keystrokes("define d1500 = max(d1499", ")"), 500)
    finally:
        for driver in drivers.values():
            driver.quit()
        for server in servers.values():
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
        for profile in profiles:
            shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
