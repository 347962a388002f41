"""WebAuthn ceremonies as a browser runs them: `client` drives python-fido2's CTAP client."""
