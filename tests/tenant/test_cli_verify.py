"""`pkconf verify`: decisions and exit codes (0 accepted, 1 rejected, 2 unusable input)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fido2.utils import websafe_encode

from pkconf.cli import main
from pkconf.paths import FIXTURES, TEST_MDS_BLOB, TEST_MDS_ROOT
from tests.vectors import VECTORS, vectors

from .builders import CHALLENGE, client_data_json, make_response, nested, with_client_data

PERMISSIVE = FIXTURES / "policies" / "permissive.json"
ENFORCED = FIXTURES / "policies" / "attestation-enforced.json"
FRESH_MEMBER = {"userType": "Member", "groups": [], "mfaAgeSeconds": 60, "tap": None}
needs_vectors = pytest.mark.skipif(not VECTORS.exists(), reason=f"no vectors at {VECTORS}")


@pytest.fixture
def files(tmp_path: Path):
    """Write named JSON inputs into tmp_path and return their paths."""

    def write(name: str, content: object) -> str:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)

    return write


def verify(files, response: object, *extra: str, user: object = FRESH_MEMBER,
           policy: Path | str = PERMISSIVE, challenge: str = websafe_encode(CHALLENGE),
           origin: str = "https://login.microsoft.com", rp_id: str = "login.microsoft.com"):
    return main(["verify", files("response.json", response), "--policy", str(policy),
                 "--user", files("user.json", user), "--challenge", challenge,
                 "--origin", origin, "--rp-id", rp_id, *extra])


def test_accepted_registration_exits_0_and_prints_the_decision_as_json(files, capsys):
    assert verify(files, make_response(), "--json") == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["outcome"] == "accepted" and decision["reason"] == "ACCEPTED"
    assert set(decision) == {"outcome", "family", "reason", "detail", "aaguid", "passkeyType",
                             "attestationFormat", "attestationLevel", "matchedProfiles",
                             "profileFailures", "source", "asOf", "cloud"}


def test_rejected_registration_exits_1_and_names_family_and_reason(files, capsys):
    assert verify(files, make_response(), user={**FRESH_MEMBER, "mfaAgeSeconds": 900}) == 1
    out = capsys.readouterr().out
    assert "REJECTED  bootstrap  MFA_STALE" in out


def test_graph_post_body_is_accepted_as_the_response(files):
    assert verify(files, {"displayName": "key", "publicKeyCredential": make_response()}) == 0


def test_challenge_given_on_the_command_line_is_the_one_checked(files, capsys):
    assert verify(files, make_response(), "--json", challenge="b3RoZXI") == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "CHALLENGE_MISMATCH"


def test_one_time_tap_user_file_is_honoured(files, capsys):
    user = {"userType": "Member", "groups": [], "mfaAgeSeconds": None,
            "tap": {"isUsableOnce": True, "ageSeconds": 700}}
    assert verify(files, make_response(), "--json", user=user) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "TAP_EXPIRED"


@pytest.mark.parametrize(
    ("response", "user", "extra", "words"),
    [
        ("{not json", FRESH_MEMBER, (), "is not JSON"),
        ([1, 2], FRESH_MEMBER, (), "must be a JSON object"),
        ({"id": "AQ", "response": {}}, FRESH_MEMBER, (), "clientDataJSON is missing"),
        ({**make_response(), "id": "not base64url!"}, FRESH_MEMBER, (), "id is not base64url"),
        ("TRUNCATED", FRESH_MEMBER, (), "not a valid CBOR attestation object"),
        ("TRAILING", FRESH_MEMBER, (), "not a valid CBOR attestation object"),
        (make_response(), {"userType": "Admin"}, (), "userType must be Member or Guest"),
        (make_response(), {"groups": "g1"}, (), "groups must be a list"),
        (make_response(), {"mfaAgeSeconds": "recent"}, (), "mfaAgeSeconds must be"),
        (make_response(), {"tap": {"isUsableOnce": True}}, (), "tap.ageSeconds is required"),
        (make_response(), FRESH_MEMBER, ("--at", "yesterday"), "is not an ISO 8601 time"),
        (make_response(), FRESH_MEMBER, ("--at", "9999-12-31T23:58:00Z"),
         "outside the years 1970 to 9000"),
        ("EMPTY-ID", FRESH_MEMBER, (), "authData's credential id is 0 bytes"),
        (with_client_data(make_response(), client_data_json(
            '"type":"webauthn.create"', type_="webauthn.get")), FRESH_MEMBER, (),
         "has the member 'type' twice"),
        (make_response(), FRESH_MEMBER, ("--mds", "x.jwt"), "--mds and --mds-root go together"),
    ],
)
def test_unusable_input_exits_2_with_a_one_line_reason(files, capsys, response, user, extra,
                                                       words):
    if response == "EMPTY-ID":
        response = make_response(credential_id=b"")
        response["id"] = response["rawId"] = "AQID"
    if response in ("TRUNCATED", "TRAILING"):
        good = make_response()
        blob = good["response"]["attestationObject"]
        good["response"]["attestationObject"] = blob[:40] if response == "TRUNCATED" else (
            blob + "AAAA")
        response = good
    assert verify(files, response, *extra, user=user) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err and "Traceback" not in err


def test_invalid_policy_exits_2_naming_the_json_path(files, capsys):
    policy = files("policy.json", {**json.loads(PERMISSIVE.read_text()), "state": "paused"})
    assert verify(files, make_response(), policy=policy) == 2
    assert "$.state: unknown value 'paused'" in capsys.readouterr().err


def test_missing_response_file_exits_2(capsys):
    code = main(["verify", "/nonexistent/response.json", "--policy", str(PERMISSIVE), "--user",
                 "/nonexistent/user.json", "--challenge", "AA", "--origin", "o", "--rp-id", "r"])
    assert code == 2 and "cannot read response" in capsys.readouterr().err


@pytest.mark.skipif(not TEST_MDS_BLOB.exists(), reason="no test MDS BLOB in fixtures")
def test_unusable_mds_blob_exits_2(files, capsys):
    blob = files("blob.jwt", TEST_MDS_BLOB.read_text()[:-10] + "AAAAAAAAAA")
    assert verify(files, make_response(), "--mds", blob, "--mds-root", str(TEST_MDS_ROOT)) == 2
    assert "is unusable" in capsys.readouterr().err


@needs_vectors
def test_real_capture_verifies_at_its_own_site_and_pinned_time(files, capsys):
    vector = vectors()[27]  # AuthenTrend ATKey.Pro, packed full attestation
    code = verify(files, vector["credential"], "--json", "--at", "2022-01-01T00:00:00Z",
                  "--mds", str(TEST_MDS_BLOB), "--mds-root", str(TEST_MDS_ROOT),
                  policy=ENFORCED, challenge=vector["expected_challenge"],
                  origin=vector["expected_origin"], rp_id=vector["expected_rp_id"])
    assert code == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "AUTHENTICATOR_NOT_IN_METADATA"


def test_command_line_entry_point_prints_no_traceback_on_bad_input(tmp_path):
    bad = tmp_path / "r.json"
    bad.write_text("[]")
    result = subprocess.run(
        [sys.executable, "-m", "pkconf", "verify", str(bad), "--policy", str(PERMISSIVE),
         "--user", str(bad), "--challenge", "AA", "--origin", "o", "--rp-id", "r"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1



def _deep_input(where: str, depth: int) -> dict[str, object]:
    """verify's inputs with one of them nested `depth` levels deep."""
    deep = f'{{"x":{nested(depth)}}}'
    if where == "clientDataJSON":
        return {"response": with_client_data(make_response(), client_data_json(
            f'"x":{nested(depth)}'))}
    return {"response": make_response(), where: deep}


@pytest.mark.parametrize("depth", [200, 100_000])
@pytest.mark.parametrize("where", ["clientDataJSON", "response", "policy", "user"])
def test_deeply_nested_input_exits_2_with_one_line(files, capsys, where, depth):
    inputs = _deep_input(where, depth)
    policy = files("policy.json", inputs["policy"]) if "policy" in inputs else PERMISSIVE
    code = verify(files, inputs["response"], user=inputs.get("user", FRESH_MEMBER),
                  policy=policy)
    err = capsys.readouterr().err.strip()
    assert code == 2 and "nests too deeply" in err and "\n" not in err, err


@pytest.mark.parametrize("challenge", [b"\xf8" + CHALLENGE[1:], b"\xfb\xef" + CHALLENGE[2:],
                                       b"\xfa\x1c" + CHALLENGE[2:]],
                         ids=["dash", "two-dashes", "dash-h"])
@pytest.mark.parametrize("attached", [False, True], ids=["separate", "attached"])
def test_a_challenge_starting_with_a_dash_is_a_value_not_an_option(files, capsys, challenge,
                                                                  attached):
    """One base64url challenge in 64 starts with '-'; argparse alone reads it as an option."""
    value = websafe_encode(challenge)
    assert value.startswith("-")
    response = files("response.json", make_response(challenge=challenge))
    given = [f"--challenge={value}"] if attached else ["--challenge", value]
    code = main(["verify", response, "--policy", str(PERMISSIVE), "--user",
                 files("user.json", FRESH_MEMBER), *given, "--origin",
                 "https://login.microsoft.com", "--rp-id", "login.microsoft.com", "--json"])
    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["outcome"] == "accepted"


def test_the_help_shows_how_to_attach_a_challenge(capsys):
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    assert "--challenge=B64URL" in capsys.readouterr().out
