"""What a page asked the network for, from Chromium's performance log."""

from __future__ import annotations

import json
from typing import Any


def requested_urls(driver: Any) -> list[str]:
    """The URLs requested since the log was last read (reading it empties it)."""
    found = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            found.append(message["params"]["request"]["url"])
    return found
