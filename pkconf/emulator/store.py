"""The emulator's state in SQLite: one connection behind a lock.

The web service runs in a uvicorn thread while tests (and the pytest plugin) may read or seed
state from another, so every call takes the lock; SQLite itself serialises writers. A file
database survives a restart; `:memory:` is private to one `Store`.

Single-statement writes run in SQLite's autocommit mode (each is its own transaction, as
durable as an explicit one); several writes that belong together run in `transaction()`. Values
parsed from stored text (the policy, options, rule book) are remembered by that text, so a row
read again is not parsed again, while the row stays the one truth.

The emulator clock is frozen: it moves only when set or advanced, so every time-window rule
(MFA age, TAP lifetime, challenge expiry) is reproducible in a test instead of racing real time.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any, TypeVar

from ..tenant.decision import IssuedChallenge, UserType
from ..tenant.policy import ALL_USERS, Fido2Policy, parse_policy
from ..tenant.rules import Cloud, RuleBook

_T = TypeVar("_T")
DEFAULT_PROFILE_ID = "00000000-0000-0000-0000-000000000001"  # the sample id of entra-facts §1.5


def default_policy() -> dict[str, Any]:
    """A fresh tenant's policy: passkeys on for everyone through one permissive Default profile."""
    return {
        "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
        "id": "Fido2",
        "state": "enabled",
        "isSelfServiceRegistrationAllowed": True,
        "defaultPasskeyProfile": DEFAULT_PROFILE_ID,
        "includeTargets": [{
            "id": ALL_USERS, "targetType": "group", "isRegistrationRequired": False,
            "allowedPasskeyProfiles": [DEFAULT_PROFILE_ID],
        }],
        "excludeTargets": [],
        "passkeyProfiles": [{
            "id": DEFAULT_PROFILE_ID,
            "name": "Default passkey profile",
            "passkeyTypes": "deviceBound,synced",
            "attestationEnforcement": "disabled",
            "keyRestrictions": {"isEnforced": False, "enforcementType": "block", "aaGuids": []},
        }],
    }


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, user_principal_name TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
    user_type TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS groups (id TEXT PRIMARY KEY, display_name TEXT NOT NULL,
    created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memberships (group_id TEXT NOT NULL, user_id TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id));
CREATE TABLE IF NOT EXISTS policy_versions (version INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS challenges (value BLOB PRIMARY KEY, user_id TEXT NOT NULL,
    issued TEXT NOT NULL, expires TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS taps (id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
    pass TEXT NOT NULL, is_usable_once INTEGER NOT NULL, lifetime_minutes INTEGER NOT NULL,
    start TEXT NOT NULL, created TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, user_id TEXT NOT NULL,
    method TEXT NOT NULL, signed_in TEXT NOT NULL, tap_id TEXT);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT NOT NULL, user_id TEXT NOT NULL, credential_id BLOB NOT NULL, aaguid TEXT NOT NULL,
    model TEXT, attestation_level TEXT, passkey_type TEXT, display_name TEXT, created TEXT NOT NULL,
    public_key BLOB, attestation_certificates TEXT NOT NULL DEFAULT '[]',
    windows_hello_for_business INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, id));
CREATE TABLE IF NOT EXISTS platform_credentials (user_id TEXT PRIMARY KEY,
    count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bootstrap_scopes (user_id TEXT PRIMARY KEY,
    in_tap_policy INTEGER NOT NULL, registration_interrupt INTEGER NOT NULL,
    conditional_access_unmet INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS session_details (token TEXT PRIMARY KEY, client TEXT NOT NULL,
    mfa_at TEXT);
-- a user's passkeys in creation order and groups without a sort or a scan of every user's
CREATE INDEX IF NOT EXISTS credentials_by_user ON credentials (user_id, created);
CREATE INDEX IF NOT EXISTS memberships_by_user ON memberships (user_id);
"""
_TABLES = ("users", "groups", "memberships", "policy_versions", "challenges", "taps",
           "sessions", "credentials", "platform_credentials", "bootstrap_scopes",
           "session_details", "meta")
_LATEST_POLICY = "SELECT body FROM policy_versions ORDER BY version DESC LIMIT 1"
_POLICY_IDENTITY = ("@odata.type", "id")  # what a PATCH keeps of the stored policy
_SETTINGS = ("SELECT (SELECT value FROM meta WHERE key = 'clock'), "
             "(SELECT value FROM meta WHERE key = 'ruleBook'), "
             "(SELECT value FROM meta WHERE key = 'options')")
_SETTINGS_AND_POLICY = f"{_SETTINGS}, ({_LATEST_POLICY})"
# The client a session's token is for: Security info (its pages, and the emulator's /me calls
# by default) or the user's own Graph client, whose /me registrations follow Graph's rule.
SECURITY_INFO_CLIENT, GRAPH_CLIENT = "security-info", "graph"
CLIENTS = (SECURITY_INFO_CLIENT, GRAPH_CLIENT)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    """Graph's DateTimeOffset form: UTC with a Z (the store's own times are UTC already)."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return utc.isoformat().replace("+00:00", "Z")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _starts_with(prefix: tuple[str, str] | None,
                 columns: dict[str, str]) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause for "property starts with text" (case-insensitive), or none."""
    if prefix is None:
        return "", ()
    prop, text = prefix
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return (f"WHERE lower({columns[prop]}) LIKE lower(?) ESCAPE '\\'",  # fixed column names
            (escaped + "%",))


@dataclass(frozen=True)
class RuleBookSetting:
    """Which day's rules the emulator decides by, and in which cloud: `as_of` None follows the
    emulator clock's date, so a clock moved past a change moves the rules with it."""

    as_of: date | None = None
    cloud: Cloud = Cloud.WORLDWIDE

    def book(self, now: datetime) -> RuleBook:
        return RuleBook(self.as_of or now.date(), self.cloud)

    def to_json(self) -> dict[str, str | None]:
        """The `/_emulator/ruleBook` form."""
        return {"asOf": self.as_of.isoformat() if self.as_of else None, "cloud": str(self.cloud)}


EXCLUDE_ENCODINGS = ("base64url", "base64", "base64url-padding-digit")


@dataclass(frozen=True)
class Options:
    """How the emulator answers where real tenants differ or where a test needs a lever:
    `excludeCredentials` ids' encoding, the page size of lists, whether answers carry the
    emulator's decision annotations (a real tenant's never do), and the fido2 policy's write
    throttle (None: off)."""

    exclude_credentials_encoding: str = EXCLUDE_ENCODINGS[0]
    page_size: int = 100  # [INFERRED] Graph's default page size for directory lists
    annotations: bool = True
    policy_writes_per_minute: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The `/_emulator/options` form."""
        return {"excludeCredentialsEncoding": self.exclude_credentials_encoding,
                "pageSize": self.page_size, "annotations": self.annotations,
                "policyWritesPerMinute": self.policy_writes_per_minute}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Options:
        """The inverse of to_json, for values to_json wrote (requests are checked before)."""
        return cls(obj["excludeCredentialsEncoding"], obj["pageSize"], obj["annotations"],
                   obj["policyWritesPerMinute"])


@dataclass(frozen=True)
class Settings:
    """The clock, rule book setting and options, read together: a request that needs more than
    one of them reads the meta table once."""

    now: datetime
    rule_book: RuleBookSetting
    options: Options


def _read_rule_book(text: str) -> RuleBookSetting:
    setting = json.loads(text)
    as_of = setting["asOf"]
    return RuleBookSetting(date.fromisoformat(as_of) if as_of else None, Cloud(setting["cloud"]))


def _read_options(text: str) -> Options:
    return Options.from_json(json.loads(text))


def _read_policy(text: str) -> Fido2Policy:
    return parse_policy(json.loads(text))


def _read_policy_identity(text: str) -> Mapping[str, Any]:
    body = json.loads(text)
    return MappingProxyType({key: body[key] for key in _POLICY_IDENTITY})


@dataclass(frozen=True)
class User:
    id: str
    user_principal_name: str
    display_name: str
    user_type: UserType
    created: datetime


@dataclass(frozen=True)
class Group:
    id: str
    display_name: str


@dataclass(frozen=True)
class Tap:
    id: str
    user_id: str
    temporary_access_pass: str
    is_usable_once: bool
    lifetime_minutes: int
    start: datetime
    created: datetime
    used: bool

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.lifetime_minutes)

    def usability(self, now: datetime) -> str:
        """Graph's methodUsabilityReason for this pass at `now`."""
        if self.used:
            return "OneTimeUsed"
        if now < self.start:
            return "NotYetValid"
        if now >= self.end:
            return "Expired"
        return "EnabledByPolicy"


@dataclass(frozen=True)
class BootstrapScope:
    """The tenant policies around a user's bootstrap (USER.json's inTapPolicy,
    registrationInterrupt, conditionalAccessUnmet), named as UserContext's fields."""

    in_tap_policy: bool = True
    registration_interrupt: bool = False
    conditional_access_unmet: bool = False


@dataclass(frozen=True)
class Standing:
    """What a registration's decision needs of the user besides the session: groups, bootstrap
    scope and the platform credential count (read in one query)."""

    groups: frozenset[str]
    scope: BootstrapScope
    platform_credentials: int


@dataclass(frozen=True)
class Session:
    token: str
    user_id: str
    method: str  # password | mfa | tap
    signed_in: datetime
    tap: Tap | None
    client: str = SECURITY_INFO_CLIENT
    mfa_at: datetime | None = None  # the session's MFA: its sign-in, or one after a TAP's


@dataclass(frozen=True)
class Credential:
    id: str  # the Graph method id
    user_id: str
    credential_id: bytes
    aaguid: str
    model: str | None
    attestation_level: str | None
    passkey_type: str | None
    display_name: str | None
    created: datetime
    public_key: bytes | None
    attestation_certificates: tuple[str, ...]
    windows_hello_for_business: bool


class Store:
    """All emulator state; safe to share between the server thread and the caller's thread."""

    def __init__(self, path: str = ":memory:",
                 rule_book: RuleBookSetting = RuleBookSetting(),
                 options: Options = Options()) -> None:
        self._lock = threading.RLock()
        self._parsed: dict[str, tuple[str, Any]] = {}  # what -> (stored text, parsed value)
        self._tx_clock: datetime | None = None  # the clock as read in the open transaction
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.executescript(_SCHEMA)
        self._initial_rule_book, self.initial_options = rule_book, options
        with self._tx() as db:
            self._seed()
            # the server's settings, even over a file's: a start with other flags reconfigures
            self._write_rule_book(db, rule_book)
            self._write_options(db, options)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Writes that belong together (a scenario's): all committed at the end, or none."""
        with self._tx():
            yield

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._db.in_transaction:  # in transaction(): its writes commit with it
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._tx_clock = None
            self._db.execute("COMMIT")

    def _write(self, sql: str, *args: Any) -> int:
        """One write statement, committed on its own (or with the open transaction()); the
        number of rows it changed."""
        with self._lock:
            return self._db.execute(sql, args).rowcount

    def _remembered(self, what: str, text: str, parse: Callable[[str], _T]) -> _T:
        """`parse(text)`, remembered by the text it was parsed from (one per `what`): unchanged
        text is not parsed again, changed text is. Only for immutable values."""
        memo = self._parsed.get(what)
        if memo is not None and memo[0] == text:
            value: _T = memo[1]
            return value
        value = parse(text)
        self._parsed[what] = (text, value)
        return value

    def _rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            cur = self._db.execute(sql, args)
            cur.row_factory = sqlite3.Row
            return cur.fetchall()

    def _seed(self) -> None:
        """Give an empty database its clock and default policy; leave an existing one alone."""
        now = iso(utc_now())
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('clock', ?)", (now,))
        if not self._db.execute("SELECT 1 FROM policy_versions").fetchone():
            self._db.execute("INSERT INTO policy_versions (body, created) VALUES (?, ?)",
                             (json.dumps(default_policy()), now))

    def reset(self) -> None:
        """Wipe everything back to a fresh tenant (real time, default policy, the rule book
        setting and options the store started with)."""
        with self._tx() as db:
            for table in _TABLES:
                db.execute(f"DELETE FROM {table}")  # fixed names, not input
            db.execute("DELETE FROM sqlite_sequence WHERE name = 'policy_versions'")
            self._seed()
            self._write_rule_book(db, self._initial_rule_book)
            self._write_options(db, self.initial_options)

    # --- clock ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The emulator clock; read once per transaction (BEGIN IMMEDIATE: no other writer
        can move it meanwhile, and set_clock forgets the reading)."""
        with self._lock:
            if self._tx_clock is not None:
                return self._tx_clock
            now = _dt(self._rows("SELECT value FROM meta WHERE key = 'clock'")[0]["value"])
            if self._db.in_transaction:
                self._tx_clock = now
            return now

    def set_clock(self, moment: datetime) -> datetime:
        with self._lock:
            self._tx_clock = None
            self._write("UPDATE meta SET value = ? WHERE key = 'clock'", iso(moment))
            return self.now()

    def settings(self) -> Settings:
        """The clock, rule book setting and options in one read."""
        return self._settings(*self._rows(_SETTINGS)[0])

    def settings_and_policy(self) -> tuple[Settings, Fido2Policy]:
        """`settings()` and the current policy as the decision reads it (parsed once per stored
        text), in one read: a registration needs both."""
        clock, rule_book, options, policy = self._rows(_SETTINGS_AND_POLICY)[0]
        return (self._settings(clock, rule_book, options),
                self._remembered("policy", policy, _read_policy))

    def _settings(self, clock: str, rule_book: str, options: str) -> Settings:
        return Settings(_dt(clock), self._remembered("ruleBook", rule_book, _read_rule_book),
                        self._remembered("options", options, _read_options))

    def advance_clock(self, seconds: float) -> datetime:
        with self._lock:
            return self.set_clock(self.now() + timedelta(seconds=seconds))

    # --- rule book -----------------------------------------------------------------------------
    def rule_book(self) -> RuleBookSetting:
        text = self._rows("SELECT value FROM meta WHERE key = 'ruleBook'")[0]["value"]
        return self._remembered("ruleBook", text, _read_rule_book)

    def set_rule_book(self, setting: RuleBookSetting) -> RuleBookSetting:
        with self._lock:
            self._write_rule_book(self._db, setting)
        return self.rule_book()

    @staticmethod
    def _write_rule_book(db: sqlite3.Connection, setting: RuleBookSetting) -> None:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('ruleBook', ?)",
                   (json.dumps(setting.to_json()),))

    # --- options -------------------------------------------------------------------------------
    def options(self) -> Options:
        text = self._rows("SELECT value FROM meta WHERE key = 'options'")[0]["value"]
        return self._remembered("options", text, _read_options)

    def set_options(self, options: Options) -> Options:
        with self._lock:
            self._write_options(self._db, options)
        return self.options()

    @staticmethod
    def _write_options(db: sqlite3.Connection, options: Options) -> None:
        db.execute("INSERT OR REPLACE INTO meta VALUES ('options', ?)",
                   (json.dumps(options.to_json()),))

    # --- directory -----------------------------------------------------------------------------
    def add_user(self, user_principal_name: str, display_name: str, user_type: UserType) -> User:
        """A new user; raises ValueError when the UPN is taken."""
        user = User(str(uuid.uuid4()), user_principal_name, display_name, user_type, self.now())
        try:
            self._write("INSERT INTO users VALUES (?, ?, ?, ?, ?)", user.id, user_principal_name,
                        display_name, str(user_type), iso(user.created))
        except sqlite3.IntegrityError:
            raise ValueError(f"userPrincipalName {user_principal_name!r} is already in use") \
                from None
        return user

    def user(self, user_id: str) -> User | None:
        rows = self._rows("SELECT * FROM users WHERE id = ?", user_id)
        if not rows:
            return None
        r = rows[0]
        return User(r["id"], r["user_principal_name"], r["display_name"],
                    UserType(r["user_type"]), _dt(r["created"]))

    def users(self, prefix: tuple[str, str] | None = None) -> list[User]:
        """Every user in creation order, or those whose `displayName` or `userPrincipalName`
        (the pair's first item) starts with its second, case-insensitively as Graph's
        startswith."""
        where, args = _starts_with(prefix, {"displayName": "display_name",
                                            "userPrincipalName": "user_principal_name"})
        rows = self._rows(f"SELECT * FROM users {where} ORDER BY created, rowid", *args)
        return [User(r["id"], r["user_principal_name"], r["display_name"],
                     UserType(r["user_type"]), _dt(r["created"])) for r in rows]

    def delete_user(self, user_id: str) -> bool:
        """Delete a user with everything that is theirs: passkeys, memberships, challenges,
        passes, sessions; False when there was no such user."""
        with self._tx() as db:
            tokens = [r[0] for r in db.execute("SELECT token FROM sessions WHERE user_id = ?",
                                               (user_id,))]
            db.executemany("DELETE FROM session_details WHERE token = ?",
                           [(t,) for t in tokens])
            for table in ("credentials", "memberships", "challenges", "taps", "sessions",
                          "platform_credentials", "bootstrap_scopes"):
                db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))  # fixed names
            return db.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount == 1

    def user_by_upn(self, user_principal_name: str) -> User | None:
        """The user signing in by name: UPNs compare case-insensitively, as in Entra."""
        rows = self._rows("SELECT id FROM users WHERE lower(user_principal_name) = lower(?)",
                          user_principal_name)
        return self.user(rows[0]["id"]) if rows else None

    def add_group(self, display_name: str) -> Group:
        group = Group(str(uuid.uuid4()), display_name)
        self._write("INSERT INTO groups VALUES (?, ?, ?)", group.id, display_name, iso(self.now()))
        return group

    def group(self, group_id: str) -> Group | None:
        rows = self._rows("SELECT id, display_name FROM groups WHERE id = ?", group_id)
        return Group(rows[0]["id"], rows[0]["display_name"]) if rows else None

    def groups(self, prefix: tuple[str, str] | None = None) -> list[Group]:
        """Every group in creation order, or those whose displayName starts with a prefix."""
        where, args = _starts_with(prefix, {"displayName": "display_name"})
        rows = self._rows(f"SELECT id, display_name FROM groups {where} ORDER BY created, rowid",
                          *args)
        return [Group(r["id"], r["display_name"]) for r in rows]

    def delete_group(self, group_id: str) -> bool:
        """Delete a group and its memberships; False when there was no such group."""
        with self._tx() as db:
            db.execute("DELETE FROM memberships WHERE group_id = ?", (group_id,))
            return db.execute("DELETE FROM groups WHERE id = ?", (group_id,)).rowcount == 1

    def add_member(self, group_id: str, user_id: str) -> bool:
        """Add a membership; False when it already exists."""
        return self._write("INSERT OR IGNORE INTO memberships VALUES (?, ?)",
                           group_id, user_id) == 1

    def remove_member(self, group_id: str, user_id: str) -> bool:
        """Remove a membership; False when there was none."""
        return self._write("DELETE FROM memberships WHERE group_id = ? AND user_id = ?",
                           group_id, user_id) == 1

    def groups_of(self, user_id: str) -> frozenset[str]:
        rows = self._rows("SELECT group_id FROM memberships WHERE user_id = ?", user_id)
        return frozenset(r["group_id"] for r in rows)

    # --- policy --------------------------------------------------------------------------------
    def policy(self) -> dict[str, Any]:
        """The current (latest) policy body."""
        rows = self._rows(_LATEST_POLICY)
        return json.loads(rows[0]["body"])

    def policy_identity(self) -> Mapping[str, Any]:
        """The current policy's `@odata.type` and `id`, read once per stored text (where
        `policy()` would parse the whole body every time)."""
        rows = self._rows(_LATEST_POLICY)
        return self._remembered("policyIdentity", rows[0]["body"], _read_policy_identity)

    def save_policy(self, body: dict[str, Any]) -> int:
        """Store a new policy version (never overwrite one); returns its version number."""
        return self.save_policy_text(json.dumps(body))

    def save_policy_text(self, text: str) -> int:
        """`save_policy` of a body already in its stored form, `json.dumps(body)`."""
        with self._lock:
            cur = self._db.execute("INSERT INTO policy_versions (body, created) VALUES (?, ?)",
                                   (text, iso(self.now())))
            return int(cur.lastrowid or 0)

    def policy_versions(self) -> list[tuple[int, dict[str, Any]]]:
        rows = self._rows("SELECT version, body FROM policy_versions ORDER BY version")
        return [(r["version"], json.loads(r["body"])) for r in rows]

    # --- challenges ----------------------------------------------------------------------------
    def issue_challenge(self, user_id: str, minutes: int,
                        issued: datetime) -> tuple[bytes, datetime]:
        """A fresh 32-byte challenge for the user, issued at `issued` (the emulator clock's
        now, which the caller has read), and when it expires."""
        value = secrets.token_bytes(32)
        expires = issued + timedelta(minutes=minutes)
        self._write("INSERT INTO challenges VALUES (?, ?, ?, ?, 0)",
                    value, user_id, iso(issued), iso(expires))
        return value, expires

    def consume_challenge(self, value: bytes, user_id: str) -> IssuedChallenge | None:
        """The challenge as it was before this attempt, now marked used; None if not the user's.

        Consumed by the first attempt whatever its outcome (rule CHALLENGE_REUSED): one
        statement marks a fresh one used; only a challenge that was not fresh is looked up.
        """
        with self._lock:
            fresh = self._db.execute(  # fetchall: the statement completes, so it commits
                "UPDATE challenges SET used = 1 WHERE value = ? AND user_id = ? AND used = 0 "
                "RETURNING expires", (value, user_id)).fetchall()
            if fresh:
                return IssuedChallenge(value=value, expires_at=_dt(fresh[0][0]), used=False)
            spent = self._db.execute("SELECT expires FROM challenges WHERE value = ? AND "
                                     "user_id = ?", (value, user_id)).fetchone()
        return (None if spent is None
                else IssuedChallenge(value=value, expires_at=_dt(spent[0]), used=True))

    # --- Temporary Access Passes ---------------------------------------------------------------
    def add_tap(self, user_id: str, *, is_usable_once: bool, lifetime_minutes: int,
                start: datetime) -> Tap:
        # 8 characters, the policy default length (entra-facts §3); unambiguous alphabet
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789@#$%&"
        tap = Tap(str(uuid.uuid4()), user_id, "".join(secrets.choice(alphabet) for _ in range(8)),
                  is_usable_once, lifetime_minutes, start, self.now(), used=False)
        self._write("INSERT INTO taps VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                    tap.id, user_id, tap.temporary_access_pass, int(is_usable_once),
                    lifetime_minutes, iso(start), iso(tap.created))
        return tap

    @staticmethod
    def _tap(row: Sequence[Any]) -> Tap:
        """A pass from its table's columns, in the table's order (`SELECT *`)."""
        return Tap(row[0], row[1], row[2], bool(row[3]), row[4], _dt(row[5]), _dt(row[6]),
                   bool(row[7]))

    def tap_by_pass(self, user_id: str, temporary_access_pass: str) -> Tap | None:
        rows = self._rows("SELECT * FROM taps WHERE user_id = ? AND pass = ?",
                          user_id, temporary_access_pass)
        return self._tap(rows[0]) if rows else None

    def tap(self, tap_id: str) -> Tap | None:
        rows = self._rows("SELECT * FROM taps WHERE id = ?", tap_id)
        return self._tap(rows[0]) if rows else None

    def use_tap(self, tap_id: str) -> bool:
        """Consume a one-time pass; False if it was already consumed."""
        return self._write("UPDATE taps SET used = 1 WHERE id = ? AND used = 0", tap_id) == 1

    # --- sessions ------------------------------------------------------------------------------
    def add_session(self, user_id: str, method: str, signed_in: datetime,
                    tap_id: str | None = None, *, client: str = SECURITY_INFO_CLIENT,
                    mfa_at: datetime | None = None) -> str:
        """A session token; an MFA sign-in is the session's MFA, a TAP sign-in may have one
        after it (`mfa_at`)."""
        token = secrets.token_urlsafe(32)
        mfa_at = signed_in if method == "mfa" else mfa_at
        with self._tx() as db:
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                       (token, user_id, method, iso(signed_in), tap_id))
            db.execute("INSERT INTO session_details VALUES (?, ?, ?)",
                       (token, client, iso(mfa_at) if mfa_at else None))
        return token

    def session(self, token: str) -> Session | None:
        found = self.session_user(token)
        return found[0] if found else None

    def session_user(self, token: str) -> tuple[Session, User | None] | None:
        """The session and its user (None if gone), with its pass, in one query."""
        rows = self._rows(
            "SELECT s.user_id, s.method, s.signed_in, d.client, d.mfa_at, "
            "u.user_principal_name, u.display_name, u.user_type, u.created, t.* "
            "FROM sessions s LEFT JOIN session_details d USING (token) "
            "LEFT JOIN users u ON u.id = s.user_id LEFT JOIN taps t ON t.id = s.tap_id "
            "WHERE s.token = ?", token)
        if not rows:
            return None
        r = tuple(rows[0])
        session = Session(token, r[0], r[1], _dt(r[2]),
                          self._tap(r[9:]) if r[9] is not None else None,
                          r[3] or SECURITY_INFO_CLIENT, _dt(r[4]) if r[4] else None)
        user = None if r[5] is None else User(r[0], r[5], r[6], UserType(r[7]), _dt(r[8]))
        return session, user

    # --- credentials ---------------------------------------------------------------------------
    def add_credential(self, cred: Credential) -> bool:
        """Store a credential; False when the user already has one with that id."""
        return self._write(
            "INSERT OR IGNORE INTO credentials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            cred.id, cred.user_id, cred.credential_id, cred.aaguid, cred.model,
            cred.attestation_level, cred.passkey_type, cred.display_name, iso(cred.created),
            cred.public_key, json.dumps(list(cred.attestation_certificates)),
            int(cred.windows_hello_for_business)) == 1

    def credentials(self, user_id: str) -> list[Credential]:
        rows = self._rows("SELECT * FROM credentials WHERE user_id = ? ORDER BY created, rowid",
                          user_id)
        return [Credential(
            r["id"], r["user_id"], r["credential_id"], r["aaguid"], r["model"],
            r["attestation_level"], r["passkey_type"], r["display_name"], _dt(r["created"]),
            r["public_key"], tuple(json.loads(r["attestation_certificates"])),
            bool(r["windows_hello_for_business"]),
        ) for r in rows]

    def set_bootstrap_scope(self, user_id: str, scope: BootstrapScope) -> None:
        self._write("INSERT OR REPLACE INTO bootstrap_scopes VALUES (?, ?, ?, ?)",
                    user_id, int(scope.in_tap_policy), int(scope.registration_interrupt),
                    int(scope.conditional_access_unmet))

    def standing(self, user_id: str) -> Standing:
        """The user's groups, bootstrap scope (a user the scenario did not set is in none of
        the blockers) and platform credential count (0 unless set)."""
        r = self._rows(
            "SELECT (SELECT json_group_array(group_id) FROM memberships WHERE user_id = ?1), "
            "(SELECT count FROM platform_credentials WHERE user_id = ?1), b.in_tap_policy, "
            "b.registration_interrupt, b.conditional_access_unmet "
            "FROM (SELECT 1) LEFT JOIN bootstrap_scopes b ON b.user_id = ?1", user_id)[0]
        scope = (BootstrapScope() if r[2] is None
                 else BootstrapScope(bool(r[2]), bool(r[3]), bool(r[4])))
        return Standing(frozenset(json.loads(r[0])), scope, int(r[1] or 0))

    def set_platform_credentials(self, user_id: str, count: int) -> None:
        """How many platform credentials Entra counts for the user (USER.json's
        platformCredentials): a number, not rows, since only the count decides (WHfB conflict)."""
        self._write("INSERT OR REPLACE INTO platform_credentials VALUES (?, ?)", user_id, count)

    def delete_credential(self, user_id: str, method_id: str) -> bool:
        return self._write("DELETE FROM credentials WHERE user_id = ? AND id = ?",
                           user_id, method_id) == 1
