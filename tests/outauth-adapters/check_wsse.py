#!/usr/bin/env python3
"""Checks WS-Security UsernameToken headers the way a SOAP server does, independently of ponte.

usage: check_wsse.py USERNAME PASSWORD TTL_SECONDS ENVELOPE_FILE...

For every envelope: the UsernameToken names USERNAME; its PasswordDigest equals
Base64(SHA-1(nonce + created + password)) (OASIS UsernameToken Profile 1.0, section 3.1); its
Created is within five minutes of now; a Timestamp is there and expires TTL_SECONDS after it was
created. Across all envelopes: no nonce is used twice. Prints "ok N" and exits 0, or prints what is
wrong and exits 1. Standard library only.
"""

import base64
import datetime
import hashlib
import sys
import xml.etree.ElementTree as ET

WSSE = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}"
WSU = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}"
SOAP11 = "{http://schemas.xmlsoap.org/soap/envelope/}"
DIGEST_TYPE = (
    "http://docs.oasis-open.org/wss/2004/01/"
    "oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
)
FRESHNESS = datetime.timedelta(minutes=5)


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def check(path, username, password, ttl, seen_nonces):
    root = ET.parse(path).getroot()
    security = root.find(f"{SOAP11}Header/{WSSE}Security")
    if security is None:
        return "no wsse:Security in soap:Header"
    token = security.find(f"{WSSE}UsernameToken")
    if token is None:
        return "no UsernameToken"
    if token.findtext(f"{WSSE}Username") != username:
        return "wrong Username"
    pw = token.find(f"{WSSE}Password")
    if pw is None or pw.get("Type") != DIGEST_TYPE:
        return "the Password is not a PasswordDigest"
    nonce_text = token.findtext(f"{WSSE}Nonce") or ""
    created = token.findtext(f"{WSU}Created") or ""
    nonce = base64.b64decode(nonce_text, validate=True)
    if len(nonce) < 16:
        return "the nonce is shorter than 16 bytes"
    if nonce in seen_nonces:
        return "a nonce was used twice"
    seen_nonces.add(nonce)
    expected = base64.b64encode(
        hashlib.sha1(nonce + created.encode("utf-8") + password.encode("utf-8")).digest()
    ).decode("ascii")
    if pw.text != expected:
        return "the PasswordDigest does not match"
    now = datetime.datetime.now(datetime.timezone.utc)
    if abs(now - parse_time(created)) > FRESHNESS:
        return "Created is not fresh"
    stamp = security.find(f"{WSU}Timestamp")
    if stamp is None:
        return "no Timestamp"
    life = parse_time(stamp.findtext(f"{WSU}Expires")) - parse_time(
        stamp.findtext(f"{WSU}Created")
    )
    if life != datetime.timedelta(seconds=ttl):
        return f"the Timestamp lives {life}, not {ttl}s"
    return None


def main():
    username, password, ttl = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = sys.argv[4:]
    seen = set()
    for path in files:
        problem = check(path, username, password, ttl, seen)
        if problem:
            print(f"{path}: {problem}")
            return 1
    print(f"ok {len(files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
