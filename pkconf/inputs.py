"""A person's input files, read into the decider's types: policies, users, FIDO metadata.

Everything here turns a bad file into a `UsageError` naming the file and the problem, so every
caller (the commands, the pytest plugin) reports one line and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from .paths import TEST_MDS_BLOB, TEST_MDS_ROOT
from .tenant import jsontext
from .tenant.attestation import Metadata, MetadataError
from .tenant.decision import UserContext, UserJsonError
from .tenant.policy import Fido2Policy, PolicyError, parse_policy
from .tenant.rules import Cloud, RuleBook


class UsageError(Exception):
    """Unusable input: printed as one line, exit code 2."""


def read_bytes(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {what} {path}: {e.strerror or e}") from None


def read_json(path: str | Path, what: str) -> Any:
    """A JSON file in any encoding RFC 8259 §8.1 allows readers to detect, nested no deeper
    than `jsontext.MAX_DEPTH`."""
    raw = read_bytes(path, what)
    try:
        return jsontext.loads(raw.decode(json.detect_encoding(raw)))
    except UnicodeDecodeError as e:
        raise UsageError(f"{what} {path} is not JSON: {e}") from None
    except jsontext.JsonTextError as e:
        raise UsageError(f"{what} {path} {e}") from None


FIDO2_ODATA_TYPE = "#microsoft.graph.fido2AuthenticationMethodConfiguration"


def fido2_configuration(obj: Any) -> tuple[Any, str]:
    """The fido2 configuration and its JSON path: the object itself, or the fido2 entry of a
    whole authentication methods policy (`authenticationMethodConfigurations[]`, id "Fido2" or
    the fido2 @odata.type), which is what `GET /policies/authenticationMethodsPolicy` exports."""
    if not isinstance(obj, dict) or "authenticationMethodConfigurations" not in obj:
        return obj, "$"
    entries = obj["authenticationMethodConfigurations"]
    if not isinstance(entries, list):
        raise PolicyError([("$.authenticationMethodConfigurations", "must be an array")])
    for i, entry in enumerate(entries):
        if isinstance(entry, dict) and (str(entry.get("id", "")).lower() == "fido2"
                                        or entry.get("@odata.type") == FIDO2_ODATA_TYPE):
            return entry, f"$.authenticationMethodConfigurations[{i}]"
    raise PolicyError([("$.authenticationMethodConfigurations",
                        'has no fido2 entry (id "Fido2")')])


def read_policy(path: str | Path) -> Fido2Policy:
    """The policy; what it holds only by inference (unknownFutureValue) is warned of on stderr,
    one line each, and does not fail it."""
    base = "$"
    try:
        obj, base = fido2_configuration(read_json(path, "policy"))
        policy = parse_policy(obj)
    except PolicyError as e:
        raise UsageError(f"policy {path} is invalid: "
                         f"{'; '.join(f'{_under(base, p)}: {m}' for p, m in e.problems)}") from None
    for where, message in policy.warnings:
        print(f"warning: policy {path}: {_under(base, where)}: {message}", file=sys.stderr)
    return policy


def _under(base: str, path: str) -> str:
    """A JSON path inside the fido2 configuration, as a path in the file read."""
    return base + path.removeprefix("$") if path.startswith("$") else path


def parse_user(obj: Any, where: str = "user") -> UserContext:
    """USER.json (`UserContext.from_json`), its error as a `UsageError`."""
    try:
        return UserContext.from_json(obj, where)
    except UserJsonError as e:
        raise UsageError(str(e)) from None


def _certificate_der(data: bytes, path: str) -> bytes:
    """A root certificate given as PEM or DER."""
    try:
        cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                else x509.load_der_x509_certificate(data))
    except ValueError as e:
        raise UsageError(f"MDS root {path} is not a certificate: {e}") from None
    return cert.public_bytes(Encoding.DER)


def read_metadata(blob: str | None, root: str | None, *,
                  test_blob: tuple[bytes, bytes] | None = None) -> Metadata | None:
    """--mds/--mds-root, else the suite's test MDS BLOB when it is present. `test_blob`
    (BLOB, root DER) stands in for the committed one: the test BLOB with the models of
    authenticator files added, which no committed BLOB lists."""
    if bool(blob) != bool(root):
        raise UsageError("--mds and --mds-root go together")
    if not blob and test_blob is not None:
        return Metadata.from_blob(*test_blob)
    if not blob:
        if not (TEST_MDS_BLOB.exists() and TEST_MDS_ROOT.exists()):
            return None
        blob, root = str(TEST_MDS_BLOB), str(TEST_MDS_ROOT)
    assert root is not None
    root_der = _certificate_der(read_bytes(root, "MDS root"), root)
    try:
        return Metadata.from_blob(read_bytes(blob, "MDS BLOB"), root_der)
    except MetadataError as e:
        raise UsageError(f"MDS BLOB {blob} is unusable: {e}") from None


AS_OF_HELP = ("decide by the rule book as of this day, YYYY-MM-DD (default: today); Entra's "
              "2026 changes date some rules (`pkconf rules --changes`)")
CLOUD_HELP = f"the tenant's cloud, {', '.join(Cloud)} (default: worldwide)"


def read_day(text: str, flag: str) -> date:
    """A day as YYYY-MM-DD (fromisoformat's compact and week forms are refused too)."""
    try:
        day: date | None = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or day.isoformat() != text:
        raise UsageError(f"{flag} {text!r} is not a date (YYYY-MM-DD)")
    return day


def read_cloud(text: str | None) -> Cloud:
    """--cloud; absent, worldwide."""
    if text is not None and text not in tuple(Cloud):
        raise UsageError(f"--cloud {text!r} is not one of {', '.join(Cloud)}")
    return Cloud(text or Cloud.WORLDWIDE)


def read_rule_book(as_of: str | None, cloud: str | None) -> RuleBook:
    """--as-of/--cloud as the rule book they name; absent, today's in the worldwide cloud."""
    return RuleBook(date.today() if as_of is None else read_day(as_of, "--as-of"),
                    read_cloud(cloud))
