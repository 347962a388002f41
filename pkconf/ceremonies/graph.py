"""The Graph ceremonies: an admin provisions a passkey on a user's behalf, or the user's own
Graph client registers one on `/me`.

Graph's flow (entra-facts §7): `GET /users/{id}/authentication/fido2Methods/creationOptions`,
the authenticator makes the credential, `POST /users/{id}/authentication/fido2Methods`. It is
the CTAP flow on the provisioning path: no user session, the admin's call.
"""

from __future__ import annotations

from ..authenticators.profiles import Profile
from ..tenant.decision import RegistrationPath
from .ctap import Setup
from .ctap import register as _register
from .result import CeremonyResult
from .tenant import Tenant


def register(api: Tenant, profile: Profile, setup: Setup, *,
             variation: str | None = None) -> CeremonyResult:
    return _register(api, profile, setup, path=RegistrationPath.PROVISIONING,
                     variation=variation)


def register_me(api: Tenant, profile: Profile, setup: Setup, *,
                variation: str | None = None) -> CeremonyResult:
    """The user, signed in to their own Graph client, on `/me` (Graph's 10-minute rule)."""
    return _register(api, profile, setup, path=RegistrationPath.GRAPH_ME, variation=variation)
