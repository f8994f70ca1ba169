"""
The operators' pages in a real browser: headless Chromium (Debian
C{chromium}, driven by Selenium through Debian's C{chromium-driver})
against the real daemon on 127.0.0.1, and SIPp as a booting phone.

Each test saves screenshots of the pages it visits under
C{build/screenshots/} (artifacts; two are shown in README).
"""

from __future__ import annotations

import os
import re
import shutil

import pytest

from daemon import ROOT, Daemon
from test_pnp_interop import SIP_KEYS, runSipp, urlFor

pytestmark = pytest.mark.interop

SHOTS = os.path.join(ROOT, "build", "screenshots")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT = 20.0


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    if shutil.which("sipp") is None:
        pytest.skip("sipp is not installed (Debian: apt-get install sip-tester)")
    running = Daemon(tmp_path_factory.mktemp("pages"), tftp=False, sipConfig=SIP_KEYS).start()
    added = running.run("user", "add", "ada", input="ada-secret\n")
    assert added.returncode == 0, added.stderr
    yield running
    running.stop()


@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        pytest.skip("chromium and chromium-driver are not installed (Debian: apt-get install chromium "
                    "chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    os.makedirs(SHOTS, exist_ok=True)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def _wait(driver, condition, message: str):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # A form that submits with GET loads a new page: an element found on the
    # old one goes stale between finding it and reading it; look again.
    return WebDriverWait(driver, WAIT, poll_frequency=0.2,
                         ignored_exceptions=(StaleElementReferenceException,)).until(condition, message)


def _focusIn(driver, field: str) -> None:
    """
    Wait for the focus to be in C{field} (by id): the browser applies
    C{autofocus} when it next renders, not as the page loads.
    """
    _wait(driver, lambda d: d.switch_to.active_element.get_attribute("id") == field, f"the focus in {field}")


def logIn(driver, daemon, password: str = "ada-secret") -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{daemon.baseURL}/")
    assert "/login" in driver.current_url
    shot(driver, "login")
    driver.find_element(By.ID, "f-name").send_keys("ada")
    driver.find_element(By.ID, "f-password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "body[data-live]"), "the dashboard after login")


def test_logInAndBadPassword(daemon, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{daemon.baseURL}/login")
    browser.find_element(By.ID, "f-name").send_keys("ada")
    browser.find_element(By.ID, "f-password").send_keys("wrong")
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    error = _wait(browser, lambda d: d.find_elements(By.ID, "f-password-error"), "the error beside the field")
    assert "do not match" in error[0].text
    assert browser.find_element(By.ID, "f-password").get_attribute("aria-invalid") == "true"
    shot(browser, "login-refused")
    logIn(browser, daemon)
    assert "ada (admin)" in browser.find_element(By.TAG_NAME, "header").text
    browser.get(f"{daemon.baseURL}/users")
    assert "ada" in browser.find_element(By.ID, "operators").text
    shot(browser, "users")


def test_scanRegisterWithGeneratedPassword(daemon, browser):
    """
    A MAC typed as a scanner would (then Enter) registers the phone with
    a generated password shown once; the focus is back in the MAC field.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    logIn(browser, daemon)
    browser.get(f"{daemon.baseURL}/register")
    _focusIn(browser, "f-mac")
    Select(browser.find_element(By.ID, "f-vendor")).select_by_value("snom")
    browser.find_element(By.ID, "f-model").send_keys("snomD785")
    browser.find_element(By.ID, "f-registrar").send_keys("pbx.example.org")
    browser.find_element(By.ID, "f-line1_user").send_keys("1001")
    browser.find_element(By.ID, "f-line1_display").send_keys("Ada Lovelace")
    mac = browser.find_element(By.ID, "f-mac")
    mac.click()
    mac.send_keys("00-04-13-29-88-2c" + Keys.ENTER)
    secret = _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#registered .secret"),
                   "the generated password")
    password = secret[0].text
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", password)
    _focusIn(browser, "f-mac")
    assert Select(browser.find_element(By.ID, "f-vendor")).first_selected_option.get_attribute("value") == "snom"
    shot(browser, "register")
    browser.find_element(By.LINK_TEXT, "00041329882C").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "lines"), "the device page")
    assert password not in browser.page_source and "set (hidden)" in browser.page_source
    browser.find_element(By.CSS_SELECTOR, "form[action$='/reveal'] button").click()
    _wait(browser, lambda d: password in d.page_source, "the revealed password")
    shot(browser, "device")
    shown = daemon.run("devices", "--json")
    assert "00041329882C" in shown.stdout


def test_subscribeAppearsOnTheOpenDashboardThenResync(daemon, browser, tmp_path):
    """
    A real SUBSCRIBE (SIPp) shows on the open dashboard without a reload:
    the event, the counts and the phone waiting; resyncing the phone from
    its page shows the push in its events.
    """
    from selenium.webdriver.common.by import By

    logIn(browser, daemon)
    browser.execute_script("window.notReloaded = true;")
    before = browser.find_element(By.CSS_SELECTOR, "[data-live-key='total']").text
    mac = "000413AA0B01"
    runSipp(tmp_path, daemon.sipPort, "pnp_subscribe.xml", [(mac, urlFor(daemon, mac))])
    _wait(browser, lambda d: mac in d.find_element(By.CSS_SELECTOR, "[data-live-events]").text,
          "the SUBSCRIBE on the dashboard")
    _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-live-key='total']").text != before,
          "the counts moved")
    _wait(browser, lambda d: mac in d.find_element(By.CSS_SELECTOR, "[data-live-waiting]").text,
          "the phone waiting")
    assert browser.execute_script("return window.notReloaded === true;")
    shot(browser, "dashboard")
    browser.set_window_size(390, 844)
    shot(browser, "dashboard-phone")
    browser.set_window_size(1280, 900)
    browser.get(f"{daemon.baseURL}/devices")
    assert mac in browser.find_element(By.ID, "devices").text
    browser.find_element(By.CSS_SELECTOR, "input[data-select-all]").click()
    boxes = browser.find_elements(By.CSS_SELECTOR, "#devices input[name=mac]")
    assert boxes and all(box.is_selected() for box in boxes)
    shot(browser, "devices")
    browser.find_element(By.CSS_SELECTOR, "form[action='/devices/resync'] button").click()
    _wait(browser, lambda d: re.search(r"Resync queued for [1-9]\d* phone", d.page_source), "the resync queued")
    browser.get(f"{daemon.baseURL}/devices/{mac}")
    browser.find_element(By.CSS_SELECTOR, "form[action$='/resync'] button").click()
    _wait(browser, lambda d: "Resync queued for 1 phone" in d.page_source, "the resync queued")
    _wait(browser, lambda d: "1 queued at" in d.find_element(By.ID, "events").text, "the resync's event")
    shot(browser, "device-resync")


SITE_XML = (b'<?xml version="1.0" encoding="utf-8"?>\n<settings>\n<phone-settings>\n'
            b'<language perm="RW">Deutsch</language>\n<timezone perm="RW">GER+1</timezone>\n'
            b'</phone-settings>\n</settings>\n')
BROKEN_XML = (b'<?xml version="1.0" encoding="utf-8"?>\n<settings>\n<phone-settings>\n'
              b'<language perm="RW">Deutsch</language>\n<timezone>GER+1</timezon>\n'
              b'</phone-settings>\n</settings>\n')


def _fileText(driver, name: str) -> str:
    """
    The text of the device page's rendered file C{name}.
    """
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f"pre[data-file='{name}']").get_attribute("textContent")


def test_browseLoadPlanApplyAndBrokenFile(daemon, browser, tmp_path):
    """
    Browse / Load a settings XML into the site layer: the plan names the
    phone and shows the diff; Apply; the phone's rendered file has the
    new setting.  A broken file is refused with its line beside the field.
    """
    from selenium.webdriver.common.by import By

    mac = "000413AA0C01"
    imported = daemon.run("import", "/dev/stdin", input="mac,vendor,model,line,user,password,display_name,"
                          f"registrar\n{mac},snom,snomD785,1,2001,pw-2001,Load Test,pbx.example.org\n")
    assert imported.returncode == 0, imported.stderr
    logIn(browser, daemon)
    browser.get(f"{daemon.baseURL}/devices/{mac}")
    before = _fileText(browser, f"snom/{mac}-settings.xml")
    assert "Deutsch" not in before
    broken = tmp_path / "broken.xml"
    broken.write_bytes(BROKEN_XML)
    browser.get(f"{daemon.baseURL}/settings")
    browser.find_element(By.ID, "f-file").send_keys(str(broken))
    browser.find_element(By.CSS_SELECTOR, "form[action='/settings/plan'] button").click()
    error = _wait(browser, lambda d: d.find_elements(By.ID, "f-file-error"), "the broken file's error")
    assert re.match(r"line 5: ", error[0].text), error[0].text
    shot(browser, "settings-broken")
    good = tmp_path / "site.xml"
    good.write_bytes(SITE_XML)
    scope = browser.find_element(By.ID, "f-scope")
    scope.clear()
    scope.send_keys("site")
    browser.find_element(By.ID, "f-file").send_keys(str(good))
    browser.find_element(By.CSS_SELECTOR, "form[action='/settings/plan'] button").click()
    summary = _wait(browser, lambda d: d.find_elements(By.ID, "plan-summary"), "the plan")
    assert re.search(r"Files of [1-9]\d* of the \d+ phones it covers change", summary[0].text)
    assert mac in browser.page_source and "Deutsch" in browser.page_source
    shot(browser, "settings-plan")
    browser.find_element(By.CSS_SELECTOR, "form[action='/settings/apply'] button").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "layer"), "the applied layer")
    assert "Applied layer site" in browser.page_source
    shot(browser, "settings")
    browser.get(f"{daemon.baseURL}/devices/{mac}")
    after = _fileText(browser, f"snom/{mac}-settings.xml")
    assert "Deutsch" in after and after != before
    assert re.search(r"<td>language</td><td></td><td>Deutsch</td><td>RW</td><td><a[^>]*>site</a>",
                     browser.page_source)


_CSV_HEADER = "mac,vendor,model,line,user,password,display_name,registrar\n"


def _importPhones(browser, daemon, csv, count: int, prefix: str, user: int) -> None:
    """
    Log in and upload a CSV file of C{count} phones (MACs C{prefix} and a
    number, users from C{user}) from the import page.
    """
    from selenium.webdriver.common.by import By

    width = 12 - len(prefix)
    csv.write_text(_CSV_HEADER + "".join(
        f"{prefix}{n:0{width}X},snom,snomD785,1,{user + n},,Phone {n},pbx.example.org\n" for n in range(count)))
    logIn(browser, daemon)
    browser.get(f"{daemon.baseURL}/import")
    browser.find_element(By.ID, "f-file").send_keys(str(csv))
    browser.find_element(By.CSS_SELECTOR, "form[action='/import'] button").click()


def test_importTwoHundredPhones(daemon, browser, tmp_path):
    from selenium.webdriver.common.by import By

    _importPhones(browser, daemon, tmp_path / "phones.csv", 200, "000413BB", 3000)
    done = _wait(browser, lambda d: d.find_elements(By.ID, "imported"), "the import's result")
    assert "200 devices with 200 lines imported" in done[0].text
    rows = browser.find_elements(By.CSS_SELECTOR, "#generated tbody tr")
    assert len(rows) == 200
    shot(browser, "import")
    bad = tmp_path / "bad.csv"
    bad.write_text(_CSV_HEADER + "000413CC0001,snom,,1,1,,A,pbx\nnope,snom,,1,2,,B,pbx\n000413CC0003,nokia,,1,3,,C,pbx\n")
    browser.find_element(By.ID, "f-file").send_keys(str(bad))
    browser.find_element(By.CSS_SELECTOR, "form[action='/import'] button").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "problems"), "the bad rows")
    lines = [row.find_element(By.TAG_NAME, "td").text
             for row in browser.find_elements(By.CSS_SELECTOR, "#problems tbody tr")]
    assert lines == ["3", "4"]
    shot(browser, "import-refused")


def test_importFiveThousandPhones(daemon, browser, tmp_path):
    """
    A 5,000-row import answers the upload at once with its progress (the
    daemon's store is read in its threads: the import cannot be done
    within the upload's answer), which the script follows over its stream
    until it goes to the job's result page, shown once.
    """
    from selenium.webdriver.common.by import By

    _importPhones(browser, daemon, tmp_path / "many.csv", 5000, "000413D", 50000)
    shown = _wait(browser, lambda d: d.find_elements(By.ID, "import-progress") or d.find_elements(By.ID, "imported"),
                  "the import's progress or result")
    if shown[0].get_attribute("id") == "import-progress":  # a screenshot, when it is not done already
        shot(browser, "import-progress")
    done = _wait(browser, lambda d: d.find_elements(By.ID, "imported"), "the import's result")
    assert "5000 devices with 5000 lines imported" in done[0].text
    # The result came from the job's page, where the progress page's
    # script went when the stream said done.
    assert re.fullmatch(re.escape(daemon.baseURL) + r"/import/[A-Za-z0-9_-]{16}", browser.current_url)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#generated tbody tr")) == 5000
    browser.refresh()
    assert "shown once" in browser.page_source


def test_ldapLookUp(browser, slapd, tmp_path):
    """
    With [ldap] on a real slapd, "Look up" fills line 1 and the notes; with
    the directory stopped (SIGSTOP) the form says so within the timeout.
    """
    from selenium.webdriver.common.by import By

    from slapdserver import PEOPLE

    running = Daemon(tmp_path, sip=False, tftp=False,
                     extraConfig=f'[ldap]\nurl = "{slapd.url}"\nbase_dn = "{PEOPLE}"\ntimeout = 1\n').start()
    try:
        assert running.run("user", "add", "ada", input="ada-secret\n").returncode == 0
        logIn(browser, running)
        browser.get(f"{running.baseURL}/register")
        browser.find_element(By.ID, "f-login").send_keys("ada")
        browser.find_element(By.CSS_SELECTOR, "#lookup button").click()
        _wait(browser, lambda d: d.find_element(By.ID, "f-line1_display").get_attribute("value"), "the look-up")
        assert browser.find_element(By.ID, "f-line1_display").get_attribute("value") == "Ada Lovelace"
        assert browser.find_element(By.ID, "f-line1_user").get_attribute("value") == "1001"
        assert browser.find_element(By.ID, "f-notes").get_attribute("value") == "e-mail: ada@example.org"
        _focusIn(browser, "f-mac")
        shot(browser, "register-ldap")
        slapd.pause()
        try:
            field = browser.find_element(By.ID, "f-login")
            field.clear()
            field.send_keys("grace")
            browser.find_element(By.CSS_SELECTOR, "#lookup button").click()
            error = _wait(browser, lambda d: d.find_elements(By.ID, "f-login-error"), "the slow directory")
            assert "did not answer within 1 s" in error[0].text
            shot(browser, "register-ldap-slow")
        finally:
            slapd.resume()
    finally:
        running.stop()
