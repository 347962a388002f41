"""The virtual HID key speaks CTAPHID: python-fido2 uses it as a USB key, bad frames get errors.

Raw-frame tests write 64-byte reports by hand and read the answer, each read bounded by a
timeout, so a framing bug fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import struct
import time

import pytest
from fido2.ctap import CtapError
from fido2.hid import CTAPHID, TYPE_INIT
from fido2.server import Fido2Server
from fido2.webauthn import PublicKeyCredentialRpEntity, PublicKeyCredentialUserEntity

from pkconf.authenticators.device import SoftwareAuthenticator
from pkconf.authenticators.hid import HidReadTimeout, VirtualHidConnection, virtual_key
from pkconf.authenticators.profiles import PROFILES
from pkconf.authenticators.statements.none import NoneAttester
from pkconf.ceremonies.client import ScriptedInteraction, authenticate, register

ERR = CtapError.ERR
ORIGIN = "https://login.microsoft.com"
RP = PublicKeyCredentialRpEntity(id="login.microsoft.com", name="Microsoft")
USER = PublicKeyCredentialUserEntity(id=b"user-1", name="adele@contoso.com")
BROADCAST = 0xFFFFFFFF


def _connection(name: str = "yubikey-5-usb", **timeouts: float) -> VirtualHidConnection:
    device = SoftwareAuthenticator(PROFILES[name], NoneAttester())
    return VirtualHidConnection(device, **({"read_timeout": 0.5} | timeouts))


def _init_packet(cid: int, cmd: int, length: int, data: bytes = b"") -> bytes:
    return struct.pack(">IBH", cid, TYPE_INIT | cmd, length) + data.ljust(57, b"\0")


def _cont_packet(cid: int, seq: int, data: bytes = b"") -> bytes:
    return struct.pack(">IB", cid, seq) + data.ljust(59, b"\0")


def _allocate(conn: VirtualHidConnection) -> int:
    nonce = os.urandom(8)
    conn.write_packet(_init_packet(BROADCAST, CTAPHID.INIT, 8, nonce))
    answer = conn.read_packet()
    assert answer[:4] == struct.pack(">I", BROADCAST)
    assert answer[7:15] == nonce
    return struct.unpack_from(">I", answer, 15)[0]


def _error_code(conn: VirtualHidConnection, cid: int) -> int:
    """The answer must be an ERROR packet on `cid`: its error code."""
    answer = conn.read_packet()
    assert struct.unpack_from(">IBH", answer) == (cid, TYPE_INIT | CTAPHID.ERROR, 1)
    return answer[7]


# --- through python-fido2's CtapHidDevice ------------------------------------------------------
@pytest.mark.parametrize(("name", "requirement"), [
    ("yubikey-5-usb", "required"),
    ("u2f-only-key", "discouraged"),
])
def test_virtual_key_registers_and_signs_in(name: str, requirement: str) -> None:
    key = virtual_key(SoftwareAuthenticator(PROFILES[name]))
    server = Fido2Server(RP)
    interaction = ScriptedInteraction(pin="271828")
    options, state = server.register_begin(USER, resident_key_requirement=requirement,
                                           user_verification=requirement)
    response = register(key, options.public_key, ORIGIN, user_interaction=interaction)
    auth_data = server.register_complete(state, response)
    assert dict(response)["response"]["transports"] == ["usb"]
    request, state = server.authenticate_begin([auth_data.credential_data],
                                               user_verification=requirement)
    assertion = authenticate(key, request.public_key, ORIGIN, user_interaction=interaction)
    signed_in = server.authenticate_complete(state, [auth_data.credential_data], assertion)
    assert signed_in.credential_id == auth_data.credential_data.credential_id


def test_touch_request_arrives_as_keepalive_and_reaches_the_interaction() -> None:
    key = virtual_key(SoftwareAuthenticator(PROFILES["windows-hello-hardware"], NoneAttester()))
    options, _ = Fido2Server(RP).register_begin(USER, user_verification="required")
    interaction = ScriptedInteraction()
    register(key, options.public_key, ORIGIN, user_interaction=interaction)
    assert interaction.touches == 1


def test_long_message_crosses_continuation_packets_intact() -> None:
    key = virtual_key(SoftwareAuthenticator(PROFILES["yubikey-5-usb"], NoneAttester()))
    message = bytes(range(256)) * 4  # 1024 bytes: one init and 17 continuation packets
    assert key.ping(message) == message


def test_init_gives_each_caller_its_own_channel() -> None:
    conn = _connection()
    assert len({_allocate(conn) for _ in range(3)}) == 3


# --- malformed frames ----------------------------------------------------------------------------
def test_continuation_out_of_sequence_is_invalid_seq() -> None:
    conn = _connection()
    cid = _allocate(conn)
    conn.write_packet(_init_packet(cid, CTAPHID.PING, 100, b"a" * 57))
    conn.write_packet(_cont_packet(cid, 1, b"b" * 43))  # seq 0 expected
    assert _error_code(conn, cid) == ERR.INVALID_SEQ


def test_unallocated_channel_is_invalid_channel() -> None:
    conn = _connection()
    _allocate(conn)
    conn.write_packet(_init_packet(0x0BADCAFE, CTAPHID.PING, 1, b"x"))
    assert _error_code(conn, 0x0BADCAFE) == ERR.INVALID_CHANNEL


def test_command_on_the_broadcast_channel_is_invalid_channel() -> None:
    conn = _connection()
    conn.write_packet(_init_packet(BROADCAST, CTAPHID.CBOR, 1, b"\x04"))
    assert _error_code(conn, BROADCAST) == ERR.INVALID_CHANNEL


def test_length_beyond_128_continuations_is_invalid_length() -> None:
    conn = _connection()
    cid = _allocate(conn)
    conn.write_packet(_init_packet(cid, CTAPHID.CBOR, 7610, b"\x04"))
    assert _error_code(conn, cid) == ERR.INVALID_LENGTH


def test_report_of_the_wrong_size_is_invalid_length() -> None:
    conn = _connection()
    cid = _allocate(conn)
    conn.write_packet(_init_packet(cid, CTAPHID.PING, 1, b"x")[:40])
    assert _error_code(conn, cid) == ERR.INVALID_LENGTH


@pytest.mark.parametrize(("name", "cmd"), [
    ("yubikey-5-usb", 0x2A),  # no such CTAPHID command
    ("u2f-only-key", CTAPHID.CBOR),  # a U2F-only key has no CTAP2
])
def test_command_the_key_does_not_have_is_invalid_command(name: str, cmd: int) -> None:
    conn = _connection(name)
    cid = _allocate(conn)
    conn.write_packet(_init_packet(cid, cmd, 1, b"\x04"))
    assert _error_code(conn, cid) == ERR.INVALID_COMMAND


def test_new_request_on_a_busy_channel_is_refused_for_the_other_channel() -> None:
    conn = _connection()
    first, second = _allocate(conn), _allocate(conn)
    conn.write_packet(_init_packet(first, CTAPHID.PING, 100, b"a" * 57))
    conn.write_packet(_init_packet(second, CTAPHID.PING, 1, b"x"))
    assert _error_code(conn, second) == ERR.CHANNEL_BUSY


def test_stalled_message_times_out_with_an_error_not_a_hang() -> None:
    conn = _connection(transaction_timeout=0.05)
    cid = _allocate(conn)
    conn.write_packet(_init_packet(cid, CTAPHID.PING, 100, b"a" * 57))  # continuation never sent
    assert _error_code(conn, cid) == ERR.TIMEOUT


def test_read_with_nothing_to_answer_ends_within_its_timeout() -> None:
    conn = _connection(read_timeout=0.1)
    _allocate(conn)
    started = time.monotonic()
    with pytest.raises(HidReadTimeout):
        conn.read_packet()
    assert time.monotonic() - started < 1.0


def test_fido2_sees_a_refused_frame_as_a_ctap_error() -> None:
    key = virtual_key(SoftwareAuthenticator(PROFILES["u2f-only-key"]))
    with pytest.raises(CtapError) as caught:
        key.call(CTAPHID.CBOR, b"\x04")
    assert caught.value.code == ERR.INVALID_COMMAND
