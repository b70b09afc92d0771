"""The operator panel for licenses, keys, devices, the validation log and usage.

Staff actions call the licensing services. Each asks for a reason on a confirmation page, then
records the change in the admin history (LogEntry) with who did it and why (the machinery is in
`qualitybytes.admin_actions`). Validation reads the license state from the database on every
call, so a change holds from the next validation. Lists annotate their counts with subqueries: the
query count of a page does not depend on how many rows it shows.

One module per model: `licenses`, `keys`, `devices`, `events` (the validation log and usage);
`common` holds what they share. Importing this package registers them all.
"""

from licensing.admin.devices import DeviceAdmin
from licensing.admin.events import UsageDailyAdmin, ValidationEventAdmin
from licensing.admin.keys import KeyInline, LicenseKeyAdmin
from licensing.admin.licenses import LicenseAdmin

__all__ = [
    "DeviceAdmin",
    "KeyInline",
    "LicenseAdmin",
    "LicenseKeyAdmin",
    "UsageDailyAdmin",
    "ValidationEventAdmin",
]
