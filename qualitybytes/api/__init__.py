"""The one API layer shared by the licensing, customer and team APIs.

Every API answers errors in one shape, `{code, detail}` plus `errors` (field errors, 400) or
`retry_after` (429, with a Retry-After header), and reads bodies with one parser that turns
anything malformed (too large, too deep, not UTF-8, NUL bytes, not an object) into a 400 or 413.
Settings wire both in as DRF's defaults (REST_FRAMEWORK in qualitybytes/settings.py); every API
view derives from `views.APIView`, which bounds the body before reading it.
"""
