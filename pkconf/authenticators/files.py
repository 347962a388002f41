"""Authenticator files: a vendor's authenticator described in TOML, loaded into a `Profile`.

A vendor asking "will Entra accept my authenticator?" should not have to write Python: the
file names what the built-in profiles name (AAGUID, attestation, flags, capacity, extensions,
the platform paths it is used from) and loads into the same `Profile` record, so every command
that takes a profile takes the file. The format is documented in docs/authenticator-file.md.

The attestation chain is either generated (a test root derived from the file's name and
AAGUID, so the same file always attests the same way) or the vendor's own PEM files. Either
way the file's model gets a test MDS entry (`AuthenticatorFile.metadata`), built from the file
or taken from the vendor's metadata statement, so enforced attestation can verify it.

The built-in profiles are files too (pkconf/authenticators/builtin/), read by this loader into
`BUILTIN_PROFILES`, which `pkconf.authenticators.profiles` names `PROFILES`.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fido2.cose import ES256, RS256
from fido2.mds3 import AuthenticatorStatus

from .. import testpki as pki
from . import mds
from .model import (
    AUTHENTICATOR_ANDROID,
    AUTHENTICATOR_IOS,
    CHROME_ANDROID,
    CHROME_MACOS,
    CHROME_WINDOWS,
    EDGE_WINDOWS,
    OEM_WEBVIEW,
    SAFARI_IOS,
    SAMSUNG_INTERNET,
    Attachment,
    AttesterSpec,
    Client,
    Platform,
    Profile,
    Quirk,
    Uv,
)
from .statements import Defect

# The platform paths a file may declare: the platform family reported and the client used.
PATHS: dict[str, tuple[Platform, Client]] = {
    "windows": (Platform.WINDOWS, EDGE_WINDOWS),
    "iphone-nfc": (Platform.IPHONE, SAFARI_IOS),
    "iphone-lightning": (Platform.IPHONE, SAFARI_IOS),
    "iphone-hybrid": (Platform.IPHONE, CHROME_WINDOWS),
    "android": (Platform.ANDROID, CHROME_ANDROID),
    "desktop": (Platform.DESKTOP, CHROME_WINDOWS),
}
# The clients a file with one fixed `platform` may name instead of declaring `paths`.
CLIENTS: dict[str, Client] = {
    "edge-windows": EDGE_WINDOWS,
    "chrome-windows": CHROME_WINDOWS,
    "chrome-macos": CHROME_MACOS,
    "safari-ios": SAFARI_IOS,
    "authenticator-ios": AUTHENTICATOR_IOS,
    "chrome-android": CHROME_ANDROID,
    "samsung-internet": SAMSUNG_INTERNET,
    "authenticator-android": AUTHENTICATOR_ANDROID,
    "oem-webview": OEM_WEBVIEW,
}
UV_METHODS = {"built-in": Uv.BUILT_IN, "client-pin": Uv.PIN, "none": Uv.NONE}
ALGORITHMS = {"ES256": ES256.ALGORITHM, "RS256": RS256.ALGORITHM}  # what the device can make
EXTENSIONS = ("credProtect", "hmac-secret", "prf", "credProps")
VERSIONS = ("U2F_V2", "FIDO_2_0", "FIDO_2_1_PRE", "FIDO_2_1", "FIDO_2_2")
TRANSPORTS = ("usb", "nfc", "ble", "smart-card", "hybrid", "internal")
ASSUMABLE = tuple(Profile.__dataclass_fields__)  # the fields `assumed` may name
FORMATS = ("none", "packed", "tpm", "android-key", "apple", "fido-u2f")
STATUSES = tuple(s.value for s in AuthenticatorStatus)  # MDS3 status reports (§3.1.4)
_AAGUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_LABEL_LENGTH = 30  # keeps the test certificates' subjects within RFC 5280's 64 characters
# the built-in profiles, NN-<name>.toml: part of pkconf, so PKCONF_FIXTURES does not move them
BUILTIN = Path(__file__).with_name("builtin")


class ProfileError(ValueError):
    """A profile name or file that cannot be used; one line, for a usage error."""


class AuthenticatorFileError(ProfileError):
    """An authenticator file that cannot be loaded: the message names the file and the key."""


@dataclass(frozen=True)
class AuthenticatorFile:
    """A loaded file: one profile per declared platform path, its chain and its MDS entry."""

    source: Path
    profiles: Mapping[str, Profile]  # platform path -> the authenticator used from it
    record: mds.MetadataRecord

    @property
    def profile(self) -> Profile:
        """The authenticator on the first platform path the file declares."""
        return next(iter(self.profiles.values()))

    def metadata(self) -> tuple[bytes, bytes]:
        """(BLOB, MDS root DER): the test MDS BLOB with this file's entry (`metadata_with`)."""
        return metadata_with([self])


def metadata_with(files: Sequence[AuthenticatorFile]) -> tuple[bytes, bytes]:
    """(BLOB, MDS root DER): the test MDS BLOB with the files' entries in place of any built-in
    entry for the same AAGUID, signed as the committed one is, so enforced attestation can
    verify a model no committed BLOB lists."""
    added = [f.record for f in files]
    aaguids = {r.aaguid for r in added}
    entries = [r for r in mds.records() if r.aaguid not in aaguids]
    return mds.build_blob([*entries, *added]), mds.MDS_ROOT.der


def read_authenticator_file(path: str | Path) -> AuthenticatorFile:
    """Load and validate an authenticator file; any problem is an `AuthenticatorFileError`."""
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as e:
        raise AuthenticatorFileError(f"{source}: cannot read: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise AuthenticatorFileError(f"{source}: not TOML: {e}") from None
    return _Reader(source, data).file()


def _read_profiles(source: Path) -> Mapping[str, Profile]:
    """A file's profiles without its MDS entry (the built-in models' entries are mds.py's)."""
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise AuthenticatorFileError(f"{source}: cannot load: {e}") from None
    return _Reader(source, data).profiles()[0]


def builtin_profiles(directory: Path = BUILTIN) -> dict[str, Profile]:
    """The built-in profiles by name, in the order of their files (NN-<name>.toml): each file
    declares one fixed platform and client, so it is one profile."""
    found: dict[str, Profile] = {}
    for source in sorted(directory.glob("*.toml")):
        (profile,) = _read_profiles(source).values()
        if source.stem.partition("-")[2] != profile.name or profile.name in found:
            raise AuthenticatorFileError(f"{source}: name: {profile.name!r} does not match the "
                                         "file name NN-<name>.toml, or is given twice")
        found[profile.name] = profile
    return found


def load_authenticator(path: str | Path, platform_path: str | None = None) -> Profile:
    """The file's authenticator on `platform_path` (default: the first path it declares)."""
    loaded = read_authenticator_file(path)
    if platform_path is None:
        return loaded.profile
    if platform_path not in loaded.profiles:
        raise AuthenticatorFileError(f"{path}: paths: {platform_path!r} is not declared "
                                     f"(declared: {', '.join(loaded.profiles)})")
    return loaded.profiles[platform_path]


def is_authenticator_file(name_or_path: str) -> bool:
    """Whether a --profile value names a file rather than a built-in profile (never a name:
    built-in names are kebab-case words, without a suffix or a directory)."""
    return name_or_path.endswith(".toml") or "/" in name_or_path


def resolve_profile(name_or_path: str) -> Profile:
    """A built-in profile by name, or the authenticator an authenticator file describes."""
    if is_authenticator_file(name_or_path):
        return load_authenticator(name_or_path)
    try:
        return BUILTIN_PROFILES[name_or_path]
    except KeyError:
        raise ProfileError(f"unknown profile {name_or_path!r}; `pkconf authenticators` lists "
                           "them, or give an authenticator file (.toml)") from None


class _Reader:
    """Reads one parsed file key by key, so every error can name the key it is about."""

    TOP = frozenset({"name", "description", "aaguid", "attachment", "transports", "paths",
           "backup_eligible", "backup_state", "uv", "rk_capacity", "algorithms", "extensions",
           "versions", "quirks", "attestation", "metadata", "platform", "client", "assumed",
           "test_only"})
    ATTESTATION = frozenset({"format", "chain", "certificate", "private_key", "root", "vendor",
                             "defect"})
    METADATA = frozenset({"statement", "status"})

    def __init__(self, source: Path, data: Mapping[str, Any]):
        self.source = source
        self.data = data

    def fail(self, key: str, message: str) -> AuthenticatorFileError:
        return AuthenticatorFileError(f"{self.source}: {key}: {message}")

    def table(self, key: str, allowed: frozenset[str]) -> Mapping[str, Any]:
        """A [table] (the top level when key is ""), refusing keys the format does not have."""
        value = self.data if not key else self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        for unknown in sorted(set(value) - allowed):
            raise self.fail(f"{key}.{unknown}" if key else unknown,
                            f"unknown key (known: {', '.join(sorted(allowed))})")
        return value

    def get(self, table: Mapping[str, Any], key: str, kind: type, default: Any = None) -> Any:
        value = table.get(key.rpartition(".")[2], default)
        if value is None:
            raise self.fail(key, "is required")
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(key, f"must be {_KINDS[kind]}, not {value!r}")
        return value

    def choice(self, table: Mapping[str, Any], key: str, choices: Collection[str],
               default: str | None = None) -> str:
        value: str = self.get(table, key, str, default)
        if value not in choices:
            raise self.fail(key, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def choices(self, table: Mapping[str, Any], key: str,
                choices: Collection[str], default: list[str] | None = None,
                *, non_empty: bool = False) -> tuple[str, ...]:
        values = self.get(table, key, list, default)
        for value in values:
            if not isinstance(value, str) or value not in choices:
                raise self.fail(key, f"{value!r} is not one of {', '.join(choices)}")
        if len(set(values)) != len(values):
            raise self.fail(key, "lists a value twice")
        if non_empty and not values:
            raise self.fail(key, "must not be empty")
        return tuple(values)

    def path(self, table: Mapping[str, Any], key: str) -> Path:
        """A file named relative to the authenticator file, which must exist."""
        found = self.source.parent / self.get(table, key, str)
        if not found.is_file():
            raise self.fail(key, f"no such file {found}")
        return found

    def file(self) -> AuthenticatorFile:
        profiles, base, vendor = self.profiles()
        return AuthenticatorFile(self.source, profiles, self.record(base, vendor))

    def profiles(self) -> tuple[dict[str, Profile], Profile, Callable[[], pki.VendorPki]]:
        """(platform path -> profile, the profile before any path, the hierarchy whose root
        its metadata lists, made only when asked for)."""
        top = self.table("", self.TOP)
        name = self.get(top, "name", str)
        if not _NAME.fullmatch(name):
            raise self.fail("name", f"{name!r} is not kebab-case (a-z, 0-9, '-')")
        aaguid = self.get(top, "aaguid", str).lower()
        if not _AAGUID.fullmatch(aaguid):
            raise self.fail("aaguid", f"{aaguid!r} is not a UUID (8-4-4-4-12 hex digits)")
        backup_eligible = self.get(top, "backup_eligible", bool, False)
        backup_state = self.get(top, "backup_state", bool, False)
        if backup_state and not backup_eligible:
            raise self.fail("backup_state", "cannot be set without backup_eligible (WebAuthn "
                                            "§6.1.3: BS requires BE)")
        rk_capacity = self.get(top, "rk_capacity", int)
        if rk_capacity < 0:
            raise self.fail("rk_capacity", "must not be negative")
        attachment = self.choice(top, "attachment", {a.value: a for a in Attachment})
        base = Profile(
            name=name, description=self.get(top, "description", str, name),
            platform=Platform.DESKTOP, aaguid=aaguid, attestation=AttesterSpec("none"),
            transports=self.choices(top, "transports", TRANSPORTS),
            attachment=Attachment(attachment),
            backup_eligible=backup_eligible, backup_state=backup_state,
            uv=UV_METHODS[self.choice(top, "uv", UV_METHODS)], rk_capacity=rk_capacity,
            algorithms=tuple(ALGORITHMS[a] for a in self.choices(top, "algorithms", ALGORITHMS,
                                                                 ["ES256"], non_empty=True)),
            extensions=self.choices(top, "extensions", EXTENSIONS, []),
            client=CHROME_WINDOWS,
            quirks=frozenset(Quirk(q) for q in self.choices(
                top, "quirks", tuple(Quirk), [])),
            versions=self.choices(top, "versions", VERSIONS, ["FIDO_2_0", "FIDO_2_1"],
                                  non_empty=True),
            assumed=frozenset(self.choices(top, "assumed", ASSUMABLE, [])),
            test_only=self.get(top, "test_only", bool, False),
        )
        spec, vendor = self.attestation(lambda: _generated_vendor(name, aaguid))
        base = replace(base, attestation=spec)
        return self.placed(top, base), base, vendor

    def placed(self, top: Mapping[str, Any], base: Profile) -> dict[str, Profile]:
        """The profile on each declared platform path, or on its one fixed platform and client
        (`platform` and `client` instead of `paths`), keyed by the platform."""
        fixed = {"platform", "client"} & set(top)
        if fixed:
            if "paths" in top:
                raise self.fail(sorted(fixed)[0], "give either paths or platform and client, "
                                                  "not both")
            platform = Platform(self.choice(top, "platform", tuple(Platform)))
            client = CLIENTS[self.choice(top, "client", CLIENTS)]
            return {platform.value: replace(base, platform=platform, client=client)}
        return {p: replace(base, platform=PATHS[p][0], client=PATHS[p][1])
                for p in self.choices(top, "paths", PATHS, non_empty=True)}

    def attestation(self, generated: Callable[[], pki.VendorPki]
                    ) -> tuple[AttesterSpec, Callable[[], pki.VendorPki]]:
        """The attester spec, and the hierarchy whose root the metadata lists (made when
        asked for: generating one costs key derivations a built-in profile does not need)."""
        table = self.table("attestation", self.ATTESTATION)
        fmt = self.choice(table, "attestation.format", FORMATS)
        pems = {"certificate", "private_key", "root"} & set(table)
        chain = table.get("chain")
        named = table.get("vendor")
        defect = (Defect(self.choice(table, "attestation.defect", tuple(Defect)))
                  if "defect" in table else None)
        if chain is not None and pems:
            raise self.fail("attestation.chain", "give either chain or the PEM files "
                                                 "(certificate, private_key, root), not both")
        if named is not None and (chain is not None or pems):
            raise self.fail("attestation.vendor", "give either vendor or chain or the PEM "
                                                  "files, not two of them")
        if fmt == "none":
            if chain is not None or pems or named is not None or defect is not None:
                raise self.fail("attestation.format", "none carries no chain")
            return AttesterSpec("none"), generated
        if named is not None:
            name = self.choice(table, "attestation.vendor", tuple(pki.VENDORS))
            return AttesterSpec(fmt, name, defect), lambda: pki.VENDORS[name]
        if pems:
            if fmt != "packed":
                raise self.fail("attestation.format", "a vendor's PEM files are used for "
                                                      "packed attestation only")
            vendor = self.vendor_pems(table, generated())
            return AttesterSpec(fmt, vendor, defect), lambda: vendor
        chain = self.choice(table, "attestation.chain", ("generated", "self"))
        if chain == "self":
            if fmt != "packed":
                raise self.fail("attestation.chain", "self attestation is packed only")
            return AttesterSpec(fmt, None, defect), generated
        made = generated()
        return AttesterSpec(fmt, made, defect), lambda: made

    def vendor_pems(self, table: Mapping[str, Any], generated: pki.VendorPki) -> pki.VendorPki:
        """The vendor's batch certificate (optionally followed by its issuing CA), its key and
        root, as a hierarchy the packed attester signs with."""
        certs = self.parse("attestation.certificate", self.path(table, "attestation.certificate"),
                         x509.load_pem_x509_certificates)
        key = self.parse("attestation.private_key", self.path(table, "attestation.private_key"),
                         lambda data: serialization.load_pem_private_key(data, password=None))
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise self.fail("attestation.private_key", "must be an EC or RSA key")
        root = self.parse("attestation.root", self.path(table, "attestation.root"),
                        x509.load_pem_x509_certificate)
        if len(certs) > 2:
            raise self.fail("attestation.certificate", "holds more than the batch certificate "
                                                       "and its issuing CA")
        if certs[0].public_key() != key.public_key():
            raise self.fail("attestation.private_key", "is not the certificate's key")
        return pki.VendorPki(generated.name, generated.label, pki.CertKey(root, None),
                             pki.CertKey(certs[1], None) if len(certs) == 2 else None,
                             batch=pki.CertKey(certs[0], key))

    def parse(self, key: str, path: Path, parse: Callable[[bytes], Any]) -> Any:
        try:
            return parse(path.read_bytes())
        except (ValueError, TypeError) as e:
            raise self.fail(key, f"{path} is not a usable PEM: {e}") from None

    def record(self, profile: Profile, vendor: Callable[[], pki.VendorPki]
               ) -> mds.MetadataRecord:
        """The file's MDS entry: the vendor's statement when given, else one built from the
        file's facts (what the model's getInfo says, over the chain's root)."""
        table = self.table("metadata", self.METADATA)
        statuses = tuple(mds.StatusRecord(s) for s in self.choices(
            table, "metadata.status", STATUSES, ["FIDO_CERTIFIED_L1"], non_empty=True))
        statement = None
        if "statement" in table:
            statement_path = self.path(table, "metadata.statement")
            statement = self.parse("metadata.statement", statement_path, json.loads)
            if not isinstance(statement, dict):
                raise self.fail("metadata.statement", f"{statement_path} is not a JSON object")
        options = {"rk": profile.rk_capacity > 0, "up": True}
        if profile.uv is Uv.BUILT_IN:
            options["uv"] = True
        if profile.uv is Uv.PIN:
            options["clientPin"] = True
        fmt = profile.attestation.fmt
        kind = ("none" if fmt == "none" else "self" if profile.attestation.vendor is None
                else "attca" if fmt == "tpm" else "basic_full")
        return mds.MetadataRecord(
            profile.description, vendor(), profile.aaguid, attestation_types=(kind,),
            versions=profile.versions, extensions=profile.extensions, options=options,
            statuses=statuses,
            attachment_hint=("internal",) if profile.attachment is Attachment.PLATFORM
            else ("external", *profile.transports),
            vendor_statement=statement,
        )


_KINDS = {str: "a string", bool: "true or false", int: "an integer", list: "a list"}


def _generated_vendor(name: str, aaguid: str) -> pki.VendorPki:
    """The file's own test hierarchy, a pure function of its name and AAGUID."""
    return pki.make_vendor(f"authenticator-file/{name}/{aaguid}",
                           f"{name[:_LABEL_LENGTH]}-like")


BUILTIN_PROFILES = builtin_profiles()  # pkconf.authenticators.profiles.PROFILES
