"""`{{ session.user_agent|device }}`: "Chrome on Windows" from a User-Agent header, for the
sessions page. A short table of the browsers and systems people use; anything else is named as
"Unknown browser" rather than shown raw."""

import re

from django import template

register = template.Library()

# Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari", Android says "Linux".
BROWSERS = [
    (r"Edg(e|A|iOS)?/", "Edge"),
    (r"OPR/|Opera", "Opera"),
    (r"Firefox/|FxiOS/", "Firefox"),
    (r"HeadlessChrome/", "Headless Chrome"),
    (r"Chromium/", "Chromium"),
    (r"Chrome/|CriOS/", "Chrome"),
    (r"Safari/", "Safari"),
    (r"curl/", "curl"),
]
SYSTEMS = [
    (r"iPhone|iPad|iPod", "iOS"),
    (r"Android", "Android"),
    (r"CrOS", "ChromeOS"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"Linux|X11", "Linux"),
]


def _first(table, text: str) -> str:
    return next((name for pattern, name in table if re.search(pattern, text)), "")


@register.filter
def device(user_agent: str) -> str:
    browser = _first(BROWSERS, user_agent or "") or "Unknown browser"
    system = _first(SYSTEMS, user_agent or "")
    return f"{browser} on {system}" if system else browser
