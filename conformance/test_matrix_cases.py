"""The generated matrix (fixtures/matrix/): t-wise combinations judged by the rule table."""

CASE_SOURCE = "matrix"


def test_entra_decides_as_the_rule_table_says(case, conformance):
    conformance(case)
