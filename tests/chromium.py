"""Headless Chromium for the browser tests (Debian's chromium and chromium-driver,
installed by `scripts/install-system-packages --test`), driven by Selenium."""

from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # the tests may run as root (CI containers)
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    # No connections of its own (updates, sync, QUIC probes): the tests may run offline.
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def start_chromium(profile_dir: Path, *extra_flags: str) -> webdriver.Chrome:
    """A fresh headless Chromium with an empty profile; fails (never skips) without it."""
    for program in (CHROMIUM, CHROMEDRIVER):
        if not program.is_file():
            pytest.fail(
                f"{program} not found: install Chromium with scripts/install-system-packages --test"
            )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*CHROMIUM_FLAGS, *extra_flags, f"--user-data-dir={profile_dir}"]:
        options.add_argument(flag)
    # Keeps the console's messages for csp_violations() below.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with pytest.MonkeyPatch.context() as environment:
        # The driver's path is given, so Selenium Manager has nothing to download;
        # these also keep it from sending usage statistics if it ever runs.
        environment.setenv("SE_AVOID_STATS", "true")
        environment.setenv("SE_OFFLINE", "true")
        return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def csp_violations(driver: webdriver.Chrome) -> list[str]:
    """The console's Content-Security-Policy errors since the last call (reading the
    console's log empties it). Chromium reports each blocked script, style, image or
    request there: "Refused to execute inline script because it violates …"."""
    messages = [entry["message"] for entry in driver.get_log("browser")]
    return [message for message in messages if "Content Security Policy" in message]
