"""Where the suite serves Entra's host names and points a browser: the page contract's hosts.

Which origins Entra accepts for a registration is the rule book's
(`pkconf.tenant.rules.ALLOWED_ORIGINS`); where the emulator's Security-info pages live is not a
fact about Entra but the contract between the emulator and the browser ceremony
(docs/page-contract.md), which both read from here as they read files' places from
`pkconf.paths`. The emulator's TLS certificate covers `HOSTS`; the browser maps them to it.
"""

from __future__ import annotations

RP_HOST = "login.microsoft.com"  # the relying party's host (rules.RP_ID, rules.ORIGIN)
PAGES_HOST = "mysignins.microsoft.com"  # the emulator's Security-info pages
PAGES_ORIGIN = f"https://{PAGES_HOST}"
HOSTS = (RP_HOST, PAGES_HOST)
