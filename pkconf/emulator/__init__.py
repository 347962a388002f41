"""The embedded Entra emulator: a loopback ASGI service hosting the decider (`pkconf.tenant`).

`app` builds the Starlette app from Graph's resources (`graph`), the emulator-only controls
(`controls`) and the Security-info pages (`pages`); `http` and `shapes` hold the request and
Graph-shape helpers they share; `store` keeps state in SQLite; `server` runs it on 127.0.0.1,
over the test TLS of `tls` when a browser needs Entra's host names.
"""
