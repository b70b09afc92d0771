"""One date format on every page and in the admin: "3 Mar 2026" and "3 Mar 2026, 14:05".

Django prefers the locale's formats to the DATE_FORMAT settings; this module (FORMAT_MODULE_PATH)
is the locale's, for English.
"""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
