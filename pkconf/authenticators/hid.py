"""FIDO keys on USB HID: discovery of real ones, and a virtual one with real CTAPHID framing.

The virtual key is a `fido2.hid.base.CtapHidConnection`: python-fido2's `CtapHidDevice` talks to
it through 64-byte reports exactly as to a key on a USB port, and it answers as the CTAPHID
layer of CTAP 2.1 §11.2 does (channel allocation by INIT, init/continuation packets with
sequence numbers, KEEPALIVE while waiting for a touch, ERROR packets, CANCEL). So CI, with no
key attached, still exercises the transport a physical key uses. Every read is bounded by a
timeout: a broken exchange ends in an error, never a hang.
"""

from __future__ import annotations

import os
import queue
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass

from fido2.ctap import STATUS, CtapDevice, CtapError
from fido2.hid import CAPABILITY, CTAPHID, TYPE_INIT, CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor

from .device import SoftwareAuthenticator

ERR = CtapError.ERR
PACKET_SIZE = 64  # full-speed USB HID report
BROADCAST_CID = 0xFFFFFFFF
INIT_DATA = PACKET_SIZE - 7  # CID(4) CMD(1) BCNT(2)
CONT_DATA = PACKET_SIZE - 5  # CID(4) SEQ(1)
MAX_MESSAGE = INIT_DATA + 128 * CONT_DATA  # 7609 bytes: sequence numbers run 0..127
CTAPHID_VERSION = 2
DEVICE_VERSION = (5, 7, 0)
READ_TIMEOUT = 2.0  # seconds a read waits for a report before giving up
TRANSACTION_TIMEOUT = 0.5  # seconds a half-sent message may wait for its next packet


class HidReadTimeout(TimeoutError):
    """No report arrived in time: the exchange is broken, not merely slow."""


@dataclass
class _Transaction:
    """A request being reassembled from its packets."""

    cid: int
    cmd: int
    length: int
    data: bytearray
    seq: int = 0
    started: float = 0.0


class VirtualHidConnection(CtapHidConnection):
    """CTAPHID framing in front of a `CtapDevice`; requests are served as their last packet
    is written, and answers queue up for `read_packet`."""

    def __init__(self, device: CtapDevice, *, read_timeout: float = READ_TIMEOUT,
                 transaction_timeout: float = TRANSACTION_TIMEOUT):
        self.device = device
        self.read_timeout = read_timeout
        self.transaction_timeout = transaction_timeout
        self._outbox: queue.Queue[bytes] = queue.Queue()
        self._channels: set[int] = set()
        self._next_cid = 1
        self._pending: _Transaction | None = None
        self._closed = False

    # --- CtapHidConnection ----------------------------------------------------------------------
    def write_packet(self, data: bytes) -> None:
        if self._closed:
            raise OSError("virtual HID connection is closed")
        if len(data) < 5:
            return  # not even a channel id and command: no one to answer
        cid = struct.unpack_from(">I", data)[0]
        if len(data) != PACKET_SIZE:
            self._error(cid, ERR.INVALID_LENGTH)
        elif data[4] & TYPE_INIT:
            self._init_packet(cid, data[4] & ~TYPE_INIT, data)
        else:
            self._continuation(cid, data[4], data[5:])

    def read_packet(self) -> bytes:
        deadline = time.monotonic() + self.read_timeout
        while True:
            pending = self._pending
            if pending is not None and \
                    time.monotonic() - pending.started > self.transaction_timeout:
                self._pending = None  # §11.2.9.1.2: a stalled message times out
                self._error(pending.cid, ERR.TIMEOUT)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HidReadTimeout(f"no HID report within {self.read_timeout} s")
            try:
                return self._outbox.get(timeout=min(remaining, self.transaction_timeout))
            except queue.Empty:
                continue

    def close(self) -> None:
        self._closed = True

    # --- framing --------------------------------------------------------------------------------
    def _init_packet(self, cid: int, cmd: int, packet: bytes) -> None:
        length = struct.unpack_from(">H", packet, 5)[0]
        if cmd == CTAPHID.INIT:
            self._init(cid, packet[7:7 + length])
            return
        if cmd == CTAPHID.CANCEL:
            return  # requests are served whole, so there is never one left to cancel
        if cid == 0 or cid == BROADCAST_CID or cid not in self._channels:
            self._error(cid, ERR.INVALID_CHANNEL)
            return
        if self._pending is not None:
            busy_elsewhere = self._pending.cid != cid
            self._error(cid, ERR.CHANNEL_BUSY if busy_elsewhere else ERR.INVALID_SEQ)
            if not busy_elsewhere:
                self._pending = None
            return
        if length > MAX_MESSAGE:
            self._error(cid, ERR.INVALID_LENGTH)
            return
        body = bytearray(packet[7:7 + min(length, INIT_DATA)])
        self._pending = _Transaction(cid, cmd, length, body, started=time.monotonic())
        self._complete_if_whole()

    def _continuation(self, cid: int, seq: int, body: bytes) -> None:
        pending = self._pending
        if pending is None or pending.cid != cid:
            if pending is not None and cid in self._channels:
                self._error(cid, ERR.CHANNEL_BUSY)
            return  # §11.2.4: spurious continuation packets are ignored
        if seq != pending.seq:
            self._pending = None
            self._error(cid, ERR.INVALID_SEQ)
            return
        pending.seq += 1
        pending.data += body[:pending.length - len(pending.data)]
        self._complete_if_whole()

    def _complete_if_whole(self) -> None:
        pending = self._pending
        if pending is None or len(pending.data) < pending.length:
            return
        self._pending = None
        self._serve(pending.cid, pending.cmd, bytes(pending.data))

    def _init(self, cid: int, nonce: bytes) -> None:
        """INIT: allocate a channel (from broadcast) or resynchronise one (§11.2.9.1.3)."""
        if len(nonce) != 8:
            self._error(cid, ERR.INVALID_LENGTH)
            return
        if cid == BROADCAST_CID:
            new_cid = self._next_cid
            self._next_cid += 1
            self._channels.add(new_cid)
        elif cid in self._channels:
            new_cid = cid
            if self._pending is not None and self._pending.cid == cid:
                self._pending = None
        else:
            self._error(cid, ERR.INVALID_CHANNEL)
            return
        payload = nonce + struct.pack(">IB3BB", new_cid, CTAPHID_VERSION, *DEVICE_VERSION,
                                      self.device.capabilities)
        self._send(cid, CTAPHID.INIT, payload)

    def _serve(self, cid: int, cmd: int, data: bytes) -> None:
        def keepalive(status: STATUS) -> None:
            self._send(cid, CTAPHID.KEEPALIVE, bytes([status]))

        if cmd not in (CTAPHID.PING, CTAPHID.MSG, CTAPHID.CBOR, CTAPHID.WINK):
            self._error(cid, ERR.INVALID_COMMAND)
            return
        if cmd == CTAPHID.WINK and not self.device.capabilities & CAPABILITY.WINK:
            self._error(cid, ERR.INVALID_COMMAND)
            return
        try:
            response = self.device.call(cmd, data, on_keepalive=keepalive)
        except CtapError as e:  # the device refuses the command itself (e.g. CBOR on U2F)
            self._error(cid, e.code)
            return
        self._send(cid, cmd, response)

    def _error(self, cid: int, code: int) -> None:
        self._send(cid, CTAPHID.ERROR, bytes([code]))

    def _send(self, cid: int, cmd: int, payload: bytes) -> None:
        """Split one response into an init packet and numbered continuation packets."""
        header = struct.pack(">IBH", cid, TYPE_INIT | cmd, len(payload))
        self._outbox.put((header + payload[:INIT_DATA]).ljust(PACKET_SIZE, b"\0"))
        rest = payload[INIT_DATA:]
        for seq in range(0, (len(rest) + CONT_DATA - 1) // CONT_DATA):
            chunk = rest[seq * CONT_DATA:(seq + 1) * CONT_DATA]
            self._outbox.put((struct.pack(">IB", cid, seq) + chunk).ljust(PACKET_SIZE, b"\0"))


def virtual_key(device: SoftwareAuthenticator, **timeouts: float) -> CtapHidDevice:
    """A `CtapHidDevice` whose USB port is a `VirtualHidConnection` to `device`."""
    descriptor = HidDescriptor(
        path=f"virtual:{device.profile.name}", vid=0x1209, pid=0x000F,  # pid.codes test ids
        report_size_in=PACKET_SIZE, report_size_out=PACKET_SIZE,
        product_name=f"pkconf virtual {device.profile.description}",
        serial_number=os.urandom(4).hex(),
    )
    return CtapHidDevice(descriptor, VirtualHidConnection(device, **timeouts))


def attached_keys() -> Iterator[CtapHidDevice]:
    """FIDO HID devices on this machine; none where HID cannot be read (no devices, no rights)."""
    try:
        yield from CtapHidDevice.list_devices()
    except OSError:
        return
