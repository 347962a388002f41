"""The admin's tools: what a tenant's own policy and directory mean before a change ships.

They read the admin's exports (pkconf.inputs) and judge them by the suite's decider
(pkconf.tenant) and its rule book.
"""
