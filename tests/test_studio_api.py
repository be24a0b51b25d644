"""The studio's own routes over HTTP on a running `sibc studio`: open, format, save (atomic, never
over someone else's change), the document preview (posted as a form), and the token."""

from __future__ import annotations

import urllib.parse
from fractions import Fraction

import pytest

from sibdsl.serve import api

from .test_serve_api import CONTRACTS, Server, codes, served_copy


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return served_copy(tmp_path_factory)


@pytest.fixture(scope="module")
def studio(folder):
    s = Server(folder, command="studio")
    yield s
    s.stop()


def test_open_format_and_save(studio, folder):
    status, body = studio.get("/studio/api/file?name=norrkoping")
    assert status == 200 and body["source"] == (folder / "norrkoping.sib").read_text(encoding="utf-8")
    assert body["outcomes"]["school_improved"] is True and "_comment" not in body["outcomes"]
    version = body["version"]

    messy = body["source"].replace("cap ceiling \"Taket\"", "cap   ceiling   \"Taket\"")
    status, formatted = studio.post("/studio/api/format", {"source": messy})
    assert status == 200 and formatted["changed"] and formatted["source"] == body["source"]
    status, bad = studio.post("/studio/api/format", {"source": "contract oops"})
    assert status == 422 and codes(bad) == ["E102"]

    edited = body["source"] + "# saved from the studio\n"
    status, saved = studio.post("/studio/api/save", {"name": "norrkoping", "source": edited, "version": version})
    assert status == 200 and saved["version"] == api.fingerprint(edited)
    assert (folder / "norrkoping.sib").read_text(encoding="utf-8") == edited
    # the old version no longer matches: a second page that opened it cannot overwrite the change
    status, refused = studio.post("/studio/api/save", {"name": "norrkoping", "source": "lost", "version": version})
    assert status == 409 and codes(refused) == ["E865"]
    assert (folder / "norrkoping.sib").read_text(encoding="utf-8") == edited
    (folder / "norrkoping.sib").write_bytes((CONTRACTS / "norrkoping.sib").read_bytes())


@pytest.mark.parametrize("name", ["../escape", "a/b", "x.sib", "", None, ".hidden"])
def test_save_never_leaves_the_folder(studio, folder, name):
    status, body = studio.post("/studio/api/save", {"name": name, "source": "x"})
    assert status == 404 and codes(body) == ["E861"]
    assert not (folder.parent / "escape.sib").exists()


def test_a_failed_save_is_reported_and_changes_nothing(studio, folder):
    (folder / "taken.sib").mkdir()
    status, body = studio.post("/studio/api/save", {"name": "taken", "source": "contract \"x\"\n"})
    assert status == 500 and codes(body) == ["E866"]
    assert (folder / "taken.sib").is_dir()


def test_preview_is_a_sandboxed_document(studio):
    source = (CONTRACTS / "norrkoping.sib").read_text(encoding="utf-8")
    form = urllib.parse.urlencode({"source": source, "name": "norrkoping", "lang": "en", "format": "html"}).encode()
    status, headers, data = studio.request("POST", "/studio/preview", raw=form,
                                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and b"Social outcome contract" in data
    csp = {k.lower(): v for k, v in headers.items()}["content-security-policy"]
    assert "sandbox" in csp and "script-src" not in csp and "default-src 'none'" in csp
    form = urllib.parse.urlencode({"source": "contract oops"}).encode()
    status, headers, data = studio.request("POST", "/studio/preview", raw=form,
                                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 422 and b"E102" in data and b"<script" not in data


def test_studio_page_has_a_strict_policy(studio):
    status, headers, data = studio.request("GET", "/studio/")
    csp = {k.lower(): v for k, v in headers.items()}["content-security-policy"]
    assert status == 200 and b"studio.js" in data
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert b"<script>" not in data and b" on" not in data.replace(b" one", b"")  # no inline script or handler


def test_serve_has_no_studio_routes(folder):
    s = Server(folder)
    try:
        status, body = s.post("/studio/api/save", {"name": "norrkoping", "source": "x"})
        assert status == 404 and codes(body) == ["E860"]
    finally:
        s.stop()


def test_studio_with_a_token(folder, tmp_path):
    token = "studio-token-0123456789abcdef"
    (tmp_path / "token").write_text(token + "\n")
    s = Server(folder, "--token-file", str(tmp_path / "token"), command="studio")
    try:
        assert s.request("GET", "/studio/")[0] == 200  # the page itself holds nothing of the user's
        status, body = s.get("/studio/api/file?name=norrkoping")
        assert status == 401 and codes(body) == ["E863"]
        status, body = s.get("/studio/api/file?name=norrkoping", headers={"Authorization": f"Bearer {token}"})
        assert status == 200
        form = {"source": "contract oops", "lang": "en"}
        status, _h, _d = s.request("POST", "/studio/preview", raw=urllib.parse.urlencode(form).encode(),
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 401
        status, _h, data = s.request("POST", "/studio/preview", raw=urllib.parse.urlencode(
            {**form, "token": token}).encode(), headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 422 and b"E102" in data
    finally:
        s.stop()


def test_the_wheel_ships_the_studio(tmp_path):
    """The studio is plain files inside the package: nothing to build when sibc is installed."""
    import zipfile

    from hatchling.builders.wheel import WheelBuilder

    from .conftest import ROOT

    wheel = next(iter(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for name in ("index.html", "studio.js", "studio.css"):
        assert f"sibdsl/serve/static/{name}" in names


def test_new_contract_from_a_template_never_over_a_file(studio, folder):
    status, body = studio.post("/studio/api/new", {"name": "utkast", "title": 'Nytt "kontrakt" <b>'})
    assert status == 200 and (folder / "utkast.sib").read_text(encoding="utf-8") == body["source"]
    status, checked = studio.post("/v1/check", {"contract": "utkast", "verify": False})
    assert status == 200 and checked["ok"], checked["diagnostics"]
    assert checked["summary"]["title"]["default"] == 'Nytt "kontrakt" <b>'  # a value, never code
    status, body = studio.post("/studio/api/new", {"name": "norrkoping"})
    assert status == 409 and codes(body) == ["E865"] and "already exists" in body["diagnostics"][0]["message"]
    status, body = studio.post("/studio/api/save", {"name": "norrkoping", "source": "x", "create": True})
    assert status == 409 and codes(body) == ["E865"]
    assert (folder / "norrkoping.sib").read_bytes() == (CONTRACTS / "norrkoping.sib").read_bytes()
    for template in ("nonsense", ["rate-card"], {"a": 1}):
        status, body = studio.post("/studio/api/new", {"name": "other", "template": template})
        assert status == 400 and codes(body) == ["E860"]
    (folder / "utkast.sib").unlink()


def test_the_pictures_in_the_studio_page_exist():
    import re

    from .conftest import ROOT

    page = (ROOT / "docs" / "studio.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert len(images) >= 5
    for image in images:
        assert (ROOT / "docs" / image).is_file(), image


@pytest.mark.parametrize("path", [
    "/studio/api/file?name=..%2F..%2Fetc%2Fpasswd", "/studio/api/file?name=%2Fetc%2Fpasswd",
    "/studio/api/file?name=norrkoping.sib", "/studio/api/file?name=nope",
])
def test_opening_never_leaves_the_folder(studio, path):
    status, body = studio.get(path)
    assert status == 404 and codes(body) == ["E861"]


@pytest.mark.parametrize("path", ["/studio/static/..%2F..%2Fserve%2Fapi.py", "/studio/static/../api.py",
                                  "/studio/static/%2e%2e/app.py"])
def test_static_files_never_leave_their_folder(studio, path):
    status, _headers, data = studio.request("GET", path)
    assert status == 404 and b"import" not in data


def test_the_lines_why_asks_about_include_a_line_paid_in_part(studio):
    """`why_lines` of POST /v1/eval: the lines the studio's "why not (more)?" button goes on — unpaid,
    cut, and paid in part (below a step of the formula other outcomes reach), found without solving.
    Peterborough's final payment paid 5.6 M of the most its tiers pay: a partial line, which had no
    button (the studio only looked for lines at 0 or cut); the why answer for it is the solver's."""
    outcomes = {"pilot_events": {"cohort_1": 1420, "cohort_2": 1400},
                "comparison_events": {"cohort_1": 1550, "cohort_2": 1550}}
    status, body = studio.post("/v1/eval", {"contract": "peterborough", "outcomes": outcomes})
    assert status == 200, body
    lines = {(w["payment"], w["period"]): w for w in body["why_lines"]}
    assert lines[("final_payment", None)]["status"] == "partial"
    assert lines[("final_payment", None)]["to"] == "investors"
    assert {k for k, w in lines.items() if w["status"] == "unpaid"} == {("cohort_payment", "cohort_1"),
                                                                        ("cohort_payment", "cohort_2")}
    paid = {(ln["payment"], ln["period"]): ln["amount"] for ln in body["settlement"]["lines"]}
    assert paid[("final_payment", None)] == "5600000"  # paid, and yet asked about
    status, why = studio.post("/v1/eval", {"contract": "peterborough", "outcomes": outcomes, "why": True,
                                           "lang": "en"})
    assert status == 200, why
    answer = next(x for x in why["why"] if x["payment"] == "final_payment")
    assert answer["status"] == "partial" and answer["can_pay_more"] is True
    assert Fraction(answer["would_pay"]) > 5_600_000 and answer["smallest_change"]
    # every line `why` answers is one the studio offers the button on
    assert {(x["payment"], x["period"], x["to"]) for x in why["why"]} <= {
        (w["payment"], w["period"], w["to"]) for w in body["why_lines"]}


def test_a_payment_a_waterfall_distributes_is_asked_about_whole(studio):
    """Massachusetts' bed-day payment paid 16 M of its top tier's 21 M, all of it passed on by the
    waterfall: the payment is asked about on the vehicle's line, for the whole payment (why.py
    explains it so), never on a step's line."""
    outcomes = {"bed_day_reduction": "40 %", "ready_quarters": 7000, "employed_quarters": 2000}
    status, body = studio.post("/v1/eval", {"contract": "massachusetts_jj", "outcomes": outcomes})
    assert status == 200, body
    assert [(w["payment"], w["to"], w["clause"], w["status"]) for w in body["why_lines"]] == [
        ("bed_days", "ysi", "bed_days", "partial")]
