"""Fuzzing the loaders of what a user hands the CLI: the policy (`parse_policy`, `load_policy`,
`inputs.read_policy`), the user (`UserContext.from_json`, `inputs.parse_user`) and `pkconf
verify` over files of any content. Invariant: a value or the project's own error; for the CLI,
exit 0/1 (a decision) or 2 with one line and no traceback."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from pkconf.cli import main
from pkconf.inputs import UsageError, parse_user, read_policy
from pkconf.paths import FIXTURES
from pkconf.tenant import rules
from pkconf.tenant.decision import UserContext, UserJsonError
from pkconf.tenant.policy import PolicyError, load_policy, parse_policy
from tests.hostile.samples import sample

from .harness import fuzz
from .strategies import edit, edits, json_values, leaves, replaced, samples

POLICY_FILES = sorted((FIXTURES / "policies").glob("*.json"))
USER_KEYS = ("userType", "groups", "mfaAgeSeconds", "tap", "windowsHelloForBusiness", "id",
             "inTapPolicy", "registrationInterrupt", "conditionalAccessUnmet",
             "platformCredentials", "other")


@st.composite
def policies(draw: st.DrawFn) -> Any:
    """A fixture policy with one value anywhere replaced, or any JSON at all."""
    if draw(st.booleans()):
        return draw(json_values)
    policy = json.loads(draw(st.sampled_from(POLICY_FILES)).read_text())
    return replaced(policy, draw(st.sampled_from(leaves(policy))), draw(json_values))


users = st.dictionaries(st.sampled_from(USER_KEYS), json_values, max_size=6) | json_values
nested = st.integers(1, 6000).map(lambda depth: "[" * depth + "]" * depth)


@fuzz("policy loader", policy=policies())
def test_any_policy_is_read_or_refused_as_policy_error(policy: Any) -> None:
    try:
        parse_policy(policy)
    except PolicyError as e:
        assert e.problems


@fuzz("policy loader: text", text=st.text(max_size=200) | nested | policies().map(json.dumps))
def test_any_policy_text_is_read_or_refused_as_policy_error(text: str) -> None:
    try:
        load_policy(text)
    except PolicyError as e:
        assert e.problems


@fuzz("user loader", user=users)
def test_any_user_is_read_or_refused_with_its_path(user: Any) -> None:
    try:
        UserContext.from_json(user)
    except UserJsonError as e:
        assert str(e).startswith("user")
    try:
        parse_user(user)
    except UsageError as e:
        assert str(e)


def _files(folder: Path, **contents: bytes) -> dict[str, str]:
    paths = {}
    for name, data in contents.items():
        (path := folder / f"{name}.json").write_bytes(data)
        paths[name] = str(path)
    return paths


@st.composite
def response_files(draw: st.DrawFn) -> bytes:
    """A sample's response JSON: as it is, with a value replaced, bytes edited, or nested."""
    response = dict(sample(draw(samples)).response)
    match draw(st.sampled_from(("as-is", "value", "bytes", "nested"))):
        case "value":
            response = replaced(response, draw(st.sampled_from(leaves(response))),
                                draw(json_values))
        case "bytes":
            return edit(json.dumps(response).encode(), draw(edits))
        case "nested":
            return draw(nested).encode()
    return json.dumps(response).encode()


@fuzz("pkconf verify (CLI)", weight=0.5, response=response_files(),
      policy=policies().map(lambda p: json.dumps(p).encode()) | nested.map(str.encode),
      user=users.map(lambda u: json.dumps(u).encode()) | st.binary(max_size=40),
      challenge=st.text(min_size=1, max_size=60).filter(lambda c: "\0" not in c))
def test_pkconf_verify_decides_or_exits_2_in_one_line(response: bytes, policy: bytes,
                                                      user: bytes, challenge: str) -> None:
    err = io.StringIO()
    with tempfile.TemporaryDirectory() as folder:
        files = _files(Path(folder), response=response, policy=policy, user=user)
        argv = ["verify", files["response"], "--policy", files["policy"], "--user",
                files["user"], f"--challenge={challenge}", "--origin", rules.ORIGIN,
                "--rp-id", rules.RP_ID]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as e:  # argparse's own usage error
                code = e.code if isinstance(e.code, int) else 2
    assert code in (0, 1, 2), err.getvalue()
    assert "Traceback" not in err.getvalue()
    if code == 2:
        assert err.getvalue().strip(), "exit 2 says why"


@fuzz("policy loader: file", weight=0.5, policy=policies().map(lambda p: json.dumps(p).encode())
      | nested.map(str.encode) | st.binary(max_size=60))
def test_any_policy_file_is_read_or_refused_as_usage_error(policy: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = _files(Path(folder), policy=policy)
        with contextlib.redirect_stderr(io.StringIO()):
            try:
                read_policy(files["policy"])
            except UsageError as e:
                assert "\n" not in str(e)
