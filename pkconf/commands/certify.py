"""`pkconf certify`: will Entra accept this authenticator? A vendor's report for a customer."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..admin.certify import (
    Certification,
    Sample,
    certify,
    get_info,
    info_json,
    sample_device,
    sample_profile,
    write_reports,
)
from ..authenticators import hid
from ..authenticators.files import (
    AuthenticatorFile,
    AuthenticatorFileError,
    ProfileError,
    is_authenticator_file,
    read_authenticator_file,
    resolve_profile,
)
from ..inputs import UsageError, read_json, read_metadata, read_rule_book
from ..paths import REPORTS, TEST_MDS_BLOB, TEST_MDS_ROOT
from ..tenant import rules
from ..tenant.attestation import Metadata
from ..tenant.decision import CeremonyContext, IssuedChallenge
from ..tenant.registration import MalformedRegistration, b64url_decode, parse_registration
from .common import add_rule_book_arguments

HELP = ("check an authenticator against Microsoft's vendor requirements and the tenant "
        "configurations that matter for it; write a report a customer can read")


def add_arguments(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--authenticator", metavar="FILE|NAME",
                        help="an authenticator file (.toml; its model joins the test MDS) or a "
                             "built-in profile, registered by its software authenticator")
    source.add_argument("--device", nargs="?", const="", metavar="PATH",
                        help="an attached FIDO key (default: the first one found); one touch, "
                             "the PIN from PKCONF_PIN or a prompt")
    source.add_argument("--responses", metavar="DIR",
                        help="registration responses captured elsewhere, one JSON file each: "
                             '{"response": <browser JSON>, "challenge": B64URL, "origin": URL, '
                             '"rpId": ID (default login.microsoft.com)}; each is certified')
    p.add_argument("--mds", metavar="BLOB",
                   help="a FIDO MDS3 BLOB (default: the suite's test BLOB)")
    p.add_argument("--mds-root", metavar="PEM", help="the root certificate the BLOB chains to")
    add_rule_book_arguments(p)
    p.add_argument("--json", action="store_true", help="print certification.json")
    p.add_argument("--reports", metavar="DIR",
                   help="write the report here (default: reports/certification/<name>/)")


def _device_sample(path: str, now: datetime) -> Sample:
    """The attached key at `path` (or the first), its getInfo shown before the touch."""
    keys = list(hid.attached_keys())
    chosen = [k for k in keys if not path or _path(k) == path]
    if not chosen:
        raise UsageError(f"no FIDO key attached{f' at {path}' if path else ''} "
                         f"({len(keys)} found; `pkconf authenticators` lists them)")
    device = chosen[0]
    info = info_json(get_info(device))
    print(f"device {_path(device)}: {device.product_name or 'unnamed'}", file=sys.stderr)
    print(f"  getInfo: {json.dumps(info) if info else 'none (CTAP1/U2F only)'}",
          file=sys.stderr)
    return sample_device(device, device.product_name or str((info or {}).get("aaguid")),
                         _path(device), now)


def _response_samples(directory: str, now: datetime) -> list[tuple[Sample, Path]]:
    """Each captured response with the ceremony it answered, judged as if just issued."""
    files = sorted(Path(directory).glob("*.json"))
    if not files:
        raise UsageError(f"--responses {directory}: no *.json response files there")
    samples = []
    for path in files:
        capture = read_json(path, "response")
        if not isinstance(capture, dict) or not {"response", "challenge", "origin"} <= set(capture):
            raise UsageError(f"{path}: needs response, challenge and origin")
        try:
            registration = parse_registration(capture["response"])
            challenge = b64url_decode(capture["challenge"], "challenge")
        except MalformedRegistration as e:
            raise UsageError(f"{path}: {e}") from None
        ceremony = CeremonyContext(
            now=now, challenge=IssuedChallenge(challenge, now + timedelta(minutes=5)),
            rp_id=str(capture.get("rpId") or rules.RP_ID), origins=(str(capture["origin"]),))
        samples.append((Sample(path.stem, None, registration, ceremony,
                               source=f"response {path}", captured=True), path))
    return samples


def _read_file(path: str) -> AuthenticatorFile:
    try:
        return read_authenticator_file(path)
    except AuthenticatorFileError as e:
        raise UsageError(str(e)) from None


def _path(device: hid.CtapHidDevice) -> str:
    path = device.descriptor.path
    return path.decode(errors="replace") if isinstance(path, bytes) else str(path)


def run(args: argparse.Namespace) -> int:
    book = read_rule_book(args.as_of, args.cloud)
    metadata = read_metadata(args.mds, args.mds_root)
    now = datetime.now(UTC)
    inputs = [Path(p) for p in (args.mds, args.mds_root) if p] or [TEST_MDS_BLOB, TEST_MDS_ROOT]
    if args.responses is not None:
        base = Path(args.reports) if args.reports else REPORTS / "certification"
        codes = [_report(certify(sample, metadata, book, now, [*inputs, path]),
                         base / sample.name, args.json)
                 for sample, path in _response_samples(args.responses, now)]
        return max(codes)
    if args.authenticator is not None and is_authenticator_file(args.authenticator):
        loaded = _read_file(args.authenticator)
        if not args.mds:  # the file's model is in the test MDS only as the loader builds it
            metadata = Metadata.from_blob(*loaded.metadata())
            inputs = []
        inputs.append(loaded.source)
        sample = sample_profile(loaded.profile, now)
    elif args.authenticator is not None:
        try:
            sample = sample_profile(resolve_profile(args.authenticator), now)
        except ProfileError as e:
            raise UsageError(str(e)) from None
    else:
        sample = _device_sample(args.device, now)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", sample.name).strip("-") or "authenticator"
    return _report(certify(sample, metadata, book, now, inputs),
                   Path(args.reports) if args.reports else REPORTS / "certification" / slug,
                   args.json)


def _report(cert: Certification, directory: Path, as_json: bool) -> int:
    """Write the report, print it (`--json`: the JSON) and the summary line; the exit code."""
    try:
        write_reports(cert, directory)
    except OSError as e:
        raise UsageError(f"cannot write the report to {directory}: {e.strerror or e}") from None
    if as_json:
        print(json.dumps(cert.to_json(), indent=2))
    else:
        for check in cert.checks:
            print(f"{'PASS' if check.passed else 'FAIL'}  {check.id}: {check.evidence}")
        print(f"report: {directory}")
    print(cert.summary_line(), file=sys.stderr if as_json else sys.stdout)
    return 0 if cert.ready else 1
