"""Multi-factor authentication with TOTP (RFC 6238) authenticator apps and recovery codes.

A user enrols (the secret is made here and kept encrypted), confirms with a first code and
gets ten single-use recovery codes; from then on a password login answers a short-lived
challenge that a code completes. A product may require MFA for holders of given roles or
permissions (``ProductSettings.mfa_required_roles`` / ``mfa_required_permissions``).
"""
