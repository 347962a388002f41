"""What the speed-up tests share: fido2 structures made comparable, and the process-wide
speed-ups left as each test found them (the plugin turns them on for the whole run)."""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import fido2.utils
import pytest

from pkconf.ceremonies.speedups import disable_fido2_speedups, enable_fido2_speedups


def plain(value: Any) -> Any:
    """A fido2 structure as plain dicts and lists, through its Mapping view (the field keys)."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(v) for v in value]
    return value


def _on() -> bool:
    return fido2.utils.get_type_hints is not typing.get_type_hints


@pytest.fixture(autouse=True)
def keep_speedups_setting() -> Iterator[None]:
    """Each test leaves the speed-ups on or off as it found them."""
    was_on = _on()
    yield
    if was_on:
        enable_fido2_speedups()
    else:
        disable_fido2_speedups()
