"""The explicit cases of fixtures/cases/: one test per (case, profile, ceremony)."""

CASE_SOURCE = "explicit"


def test_entra_decides_as_documented(case, conformance):
    conformance(case)
