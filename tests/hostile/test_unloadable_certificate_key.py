"""An x5c certificate whose EC public key cryptography cannot load is unusable input, never an
exception escaping decide(): where attestation is enforced it is rejected; where it is not, the
statement is not the decision's business (the rule book), but reading its level must not raise.

Found by `make fuzz` (attestationObject bytes): capture 12 (android-key) with one bit of its
second x5c certificate flipped (byte 993 of the re-encoded attestation object, 0x2a -> 0x2b).
"""

from __future__ import annotations

import cbor2
from fido2.utils import websafe_encode

from tests.hostile.battery import POLICIES, Input, judge
from tests.hostile.mutations import Hostile, Mutation
from tests.hostile.samples import sample


def _flipped(h: Hostile) -> object:
    raw = bytearray(cbor2.dumps(h.att))
    raw[993] ^= 1  # inside x5c[1]'s SubjectPublicKeyInfo
    return h.with_fields("response", "attestationObject", value=websafe_encode(bytes(raw)))


def test_a_certificate_key_cryptography_cannot_load_is_rejected_not_raised() -> None:
    item = Input(Mutation("Resp-A F-2 (fuzz)", "x5c[1] key unloadable", _flipped),
                 "capture-android-key")
    sample(item.sample)
    verdicts = {name: judge(item, name) for name in POLICIES}
    assert all(v.outcome != "exception" for v in verdicts.values()), verdicts
    assert verdicts["attestation-enforced"].outcome in ("rejected", "refused"), verdicts
