"""Verifies a wxauth result token with PyJWT and prints its claims as JSON.

    pip install PyJWT
    TOKEN_SIGNING_KEY=… python3 verify.py TOKEN ISSUER AUDIENCE

ISSUER is the gateway's base URL (e.g. https://login.example.com), AUDIENCE your page's
origin (e.g. https://app.example.com). Exit 0 with the claims on stdout; 1 when the token is
refused (the reason on stderr); 2 on wrong usage. See docs/clients.md.
"""

import json
import os
import sys

import jwt

# The header's typ of a result token: no ID token or other JWT signed with the same key has it.
RESULT_TOKEN_TYPE = "wxauth-result+jwt"


class WrongTokenType(jwt.InvalidTokenError):
    """A correctly signed JWT that is not a result token (its header's typ)."""


def verify(token: str, key: str, issuer: str, audience: str) -> dict:
    """The token's claims if it verifies; raises jwt.InvalidTokenError otherwise."""
    # decode_complete: PyJWT has no typ check of its own, so the verified header is read.
    verified = jwt.decode_complete(
        token,
        key,  # TOKEN_SIGNING_KEY's text itself is the key (UTF-8 bytes)
        algorithms=["HS256"],  # only HS256: "none" and every other algorithm are refused
        issuer=issuer,  # iss must equal the gateway's base URL
        audience=audience,  # aud must be your origin
        options={"require": ["exp", "iss", "aud", "sub"]},  # exp is checked, and must be there
        # Seconds of clock difference between the gateway and this machine: PyJWT also
        # refuses a token whose iat is ahead of this clock, as it is right after issue
        # when the gateway's clock is a second ahead.
        leeway=30,
    )
    if verified["header"].get("typ") != RESULT_TOKEN_TYPE:
        raise WrongTokenType(f"typ is not {RESULT_TOKEN_TYPE}")
    return verified["payload"]


def main() -> int:
    key = os.environ.get("TOKEN_SIGNING_KEY")
    if len(sys.argv) != 4 or not key:
        print("usage: TOKEN_SIGNING_KEY=… python3 verify.py TOKEN ISSUER AUDIENCE", file=sys.stderr)
        return 2
    token, issuer, audience = sys.argv[1:]
    try:
        claims = verify(token, key, issuer, audience)
    except jwt.InvalidTokenError as error:
        print(f"token refused: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(claims))  # claims["sub"] is the openid
    return 0


if __name__ == "__main__":
    sys.exit(main())
