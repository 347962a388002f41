"""What a ceremony brings back: the tenant's decision and the raw material behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CeremonyResult:
    """The decision as the tenant answered it, plus everything exchanged to get there.

    `decision` has the shape of `Decision.to_json()`: for a 201 the emulator's method object is
    turned into an accepted decision; for a refusal it is the Graph error's
    `innerError.pkconfDecision`.
    """

    decision: dict[str, Any]
    status: int | None = None  # HTTP status of the registration POST
    options: dict[str, Any] | None = None  # the creationOptions JSON
    client_data_json: bytes | None = None
    attestation_object: bytes | None = None
    request: dict[str, Any] | None = None  # the POST body
    response: dict[str, Any] | None = None  # the POST's JSON answer
    steps: list[str] = field(default_factory=list)  # what the runner did, in order

    @property
    def outcome(self) -> str:
        return str(self.decision.get("outcome"))
