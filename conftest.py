"""Glue: the conformance plugin (case selection, emulator per worker, Allure, results)."""

pytest_plugins = ["conformance.plugin"]
