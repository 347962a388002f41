"""The end of the pipeline: what a run leaves for people to read.

`summary` turns reports/results.jsonl into reports/summary.json and a terminal table, `html`
builds the single-file Allure report, and `browser` finds the Chromium that Playwright drives
(here to check the report, later for browser ceremonies).
"""
