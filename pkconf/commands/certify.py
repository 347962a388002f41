"""`pkconf certify`: will Entra accept this authenticator? A vendor's report for a customer."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ..admin.certify import (
    Certification,
    Sample,
    TenantSection,
    certify,
    get_info,
    info_json,
    on_tenant,
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
from ..authenticators.profiles import Profile
from ..ceremonies.graph_client import GraphClient, GraphError, add_graph_options
from ..ceremonies.tenant import TenantError
from ..inputs import UsageError, read_json, read_metadata, read_rule_book
from ..paths import REPORTS, TEST_MDS_BLOB, TEST_MDS_ROOT
from ..tenant import rules
from ..tenant.attestation import Metadata
from ..tenant.decision import CeremonyContext, IssuedChallenge
from ..tenant.registration import MalformedRegistration, b64url_decode, parse_registration
from ..tenant.rules import Cloud
from .common import add_rule_book_arguments

if TYPE_CHECKING:
    from conformance.graph_target import GraphOptions

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
    p.add_argument("--target", choices=("in-process", "graph"), default="in-process",
                   help="in-process (default): the suite's own engine only; graph: then "
                        "provision the authenticator on a tenant through Microsoft Graph and "
                        "compare (docs/graph-target.md): under its current policy, and with "
                        "--allow-policy-changes under each provisioning configuration")
    add_graph_options(p.add_argument)


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
    options = _graph_options(args, book.cloud) if args.target == "graph" else None
    metadata = read_metadata(args.mds, args.mds_root)
    now = datetime.now(UTC)
    inputs = [Path(p) for p in (args.mds, args.mds_root) if p] or [TEST_MDS_BLOB, TEST_MDS_ROOT]
    if args.responses is not None:
        base = Path(args.reports) if args.reports else REPORTS / "certification"
        reports = [(certify(sample, metadata, book, now, [*inputs, path]), base / sample.name)
                   for sample, path in _response_samples(args.responses, now)]
    else:
        subject = _subject(args, now, metadata, inputs)
        sample = subject.sample
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", sample.name).strip("-") or "authenticator"
        cert = certify(sample, subject.metadata, book, now, subject.inputs, subject.on_paths)
        if options is not None:
            cert.tenant = _on_tenant(options, cert, subject)
        reports = [(cert, Path(args.reports) if args.reports
                    else REPORTS / "certification" / slug)]
    for cert, directory in reports:
        _write(cert, directory, args.json)
    if args.json:  # one object; an array of them for --responses
        documents = [cert.to_json() for cert, _ in reports]
        print(json.dumps(documents if args.responses is not None else documents[0], indent=2))
    return 0 if all(cert.ready for cert, _ in reports) else 1


def _graph_options(args: argparse.Namespace, cloud: Cloud) -> GraphOptions:
    """--target graph's options, checked before anything runs. Only a software authenticator
    is provisioned: it makes as many registrations as the tenant's challenges ask for."""
    from conformance.graph_target import graph_options

    if args.device is not None:
        raise UsageError("--target graph takes --authenticator NAME|FILE: a physical key could "
                         "be provisioned on a tenant too (one touch per configuration), but not "
                         "in this change")
    if args.responses is not None:
        raise UsageError("--target graph takes --authenticator NAME|FILE: captured responses "
                         "answer another challenge than the tenant's, so they cannot be "
                         "provisioned")
    return graph_options(lambda flag: getattr(args, flag[2:].replace("-", "_"), None),
                         REPORTS, cloud)


def _on_tenant(options: GraphOptions, cert: Certification, subject: _Subject) -> TenantSection:
    """The authenticator provisioned on the tenant, each result beside its in-process verdict;
    whatever the run did on the tenant is undone (its users, groups, and the policy)."""
    assert subject.profile is not None, "_graph_options refuses --device"
    at = datetime.now(UTC)
    with GraphClient(options.settings) as client:
        tenant = options.tenant(client)
        try:
            try:
                tenant.start()
                results = on_tenant(tenant, subject.profile, cert, subject.metadata)
            finally:
                for line in tenant.close():
                    print(line, file=sys.stderr)
        except (GraphError, TenantError) as e:
            raise UsageError(str(e)) from None
    return TenantSection(options.settings.tenant, options.settings.graph_url, at,
                         options.allow_policy_changes, results)


@dataclass(frozen=True)
class _Subject:
    """What is certified: the sample, the metadata it is checked against, the input files, for
    an authenticator file its sample on each declared platform path (Security info is certified
    per path), and the software authenticator behind the sample (None: an attached key)."""

    sample: Sample
    metadata: Metadata | None
    inputs: list[Path]
    on_paths: dict[str, Sample] | None = None
    profile: Profile | None = None


def _subject(args: argparse.Namespace, now: datetime, metadata: Metadata | None,
             inputs: list[Path]) -> _Subject:
    """The authenticator's or the device's sample; a file brings its own model's metadata."""
    if args.authenticator is None:
        return _Subject(_device_sample(args.device, now), metadata, inputs)
    if not is_authenticator_file(args.authenticator):
        try:
            profile = resolve_profile(args.authenticator)
        except ProfileError as e:
            raise UsageError(str(e)) from None
        return _Subject(sample_profile(profile, now), metadata, inputs, profile=profile)
    loaded = _read_file(args.authenticator)
    if not args.mds:  # the file's model is in the test MDS only as the loader builds it
        metadata, inputs = Metadata.from_blob(*loaded.metadata()), []
    on_paths = {path: sample_profile(profile, now) for path, profile in loaded.profiles.items()}
    # provisioning has no platform path: the first declared one's sample and profile serve it
    return _Subject(next(iter(on_paths.values())), metadata, [*inputs, loaded.source], on_paths,
                    next(iter(loaded.profiles.values())))


def _write(cert: Certification, directory: Path, as_json: bool) -> None:
    """Write the report; print the checklist (unless `--json`) and the summary line."""
    try:
        write_reports(cert, directory)
    except OSError as e:
        raise UsageError(f"cannot write the report to {directory}: {e.strerror or e}") from None
    if not as_json:
        for check in cert.checks:
            print(f"{'PASS' if check.passed else 'FAIL'}  {check.id}: {check.evidence}")
        for result in cert.tenant.results if cert.tenant else ():
            print(f"{result.verdict.upper():7} {result.configuration}: "
                  f"{result.observed_summary}")
        print(f"report: {directory}")
    out = sys.stderr if as_json else sys.stdout
    print(cert.summary_line(), file=out)
    if cert.tenant is not None:
        print(cert.tenant.summary_line(), file=out)
