"""The authenticators the suite registers with.

`profiles` names them (AAGUID, attestation, flags, platform and client), `device` is the
software CTAP authenticator a profile drives, `statements/` sign its attestation with the test
PKI of `pki`, `hid` puts it behind a virtual USB HID port (and finds real keys), and `physical`
registers with a real key while a person touches it.
"""
