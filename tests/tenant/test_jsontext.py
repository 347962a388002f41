"""JSON text read strictly (`jsontext`): the nesting measured before parsing is the depth of its
arrays and objects (brackets inside strings, escaped quotes included, are text), and an object
names each member once."""

from __future__ import annotations

import random

import pytest

from pkconf.tenant.jsontext import JsonTextError, loads, too_deep


def _depth(text: str) -> int | None:
    """The deepest nesting, read character by character; None if a string never ends."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return None if in_string else deepest


def test_the_depth_is_that_of_a_character_by_character_reading_on_random_text() -> None:
    rng = random.Random(13)
    compared = 0
    for _ in range(20_000):
        text = "".join(rng.choice('[]{}"\\a,:\n') for _ in range(rng.randint(0, 60)))
        deepest = _depth(text)
        if deepest is None:
            continue
        compared += 1
        for limit in range(4):
            assert too_deep(text, limit) is (deepest > limit), (text, limit)
    assert compared > 5_000


@pytest.mark.parametrize(("text", "limit", "deep"), [
    ('{"a": "[[[[[[", "b": ["{{{{"]}', 2, False),  # brackets in strings are text
    ('["\\"[[[[", [[[1]]]]', 3, True),  # an escaped quote does not end the string
    ('["\\\\", [[[1]]]]', 3, True),  # an escaped backslash does
    ("[" * 33 + "]" * 33, 32, True),
    ("[" * 32 + "]" * 32, 32, False),
])
def test_nesting_counts_structure_only(text: str, limit: int, deep: bool) -> None:
    assert too_deep(text, limit) is deep


def test_text_nested_deeper_than_the_limit_is_refused_before_parsing() -> None:
    with pytest.raises(JsonTextError, match="nests too deeply"):
        loads("[" * 5_000 + "]" * 5_000)


@pytest.mark.parametrize(("text", "name"), [
    ('{"a": 1, "b": 2, "a": 3}', "a"),
    ('[{"x": {"b": 1, "c": 2, "c": 3, "b": 4}}]', "c"),  # the first name to come again
])
def test_a_member_name_twice_is_refused_naming_it(text: str, name: str) -> None:
    with pytest.raises(JsonTextError, match=f"has the member '{name}' twice"):
        loads(text)


def test_distinct_member_names_read_as_an_object() -> None:
    assert loads('{"a": 1, "b": {"a": 2}}') == {"a": 1, "b": {"a": 2}}
