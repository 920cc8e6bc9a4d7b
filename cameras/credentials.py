"""Camera secrets encrypted at rest: stream credentials, and the key a camera signs its requests with.

A camera's user name and password are stored together as one Fernet token (AES-128-CBC with
HMAC-SHA256, from the `cryptography` package) in `Camera.stream_credentials`. The key comes
from BANKWATCH_STREAM_KEYS (comma-separated Fernet keys, newest first, so a key can be rotated:
old tokens still decrypt, new ones use the first) or, by default, is derived from SECRET_KEY.

The password never leaves this module except into the reader that opens the stream: the admin
shows only whether one is stored, the API and camera_status never include it, and every message
that could carry a URL or a library's error text goes through `redact` first.

`seal` / `unseal` are the same encryption for any other camera secret: the request-signing
secret (`Camera.signing_secret`, cameras/signing.py) is stored this way too.
"""

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@dataclass(frozen=True)
class StreamCredentials:
    username: str = ""
    password: str = ""

    def __bool__(self) -> bool:
        return bool(self.username or self.password)

    def __repr__(self) -> str:  # never the password, whoever prints it
        return f"StreamCredentials(username={self.username!r}, password={'***' if self.password else ''!r})"


def _fernet() -> MultiFernet:
    keys = list(settings.STREAM_KEYS)
    if not keys:
        derived = hashlib.sha256(f"bankwatch-stream-credentials:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def seal(secret: str) -> str:
    """A secret as stored: one Fernet token ("" stays "")."""
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


def unseal(token: str, what: str = "secret") -> str:
    """The stored secret ("" when none). Raises ValueError for a key that does not fit."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError(
            f"the stored {what} cannot be read: the keys do not decrypt it (BANKWATCH_STREAM_KEYS)"
        ) from None


def encrypt(credentials: StreamCredentials) -> str:
    if not credentials:
        return ""
    return seal(json.dumps({"u": credentials.username, "p": credentials.password}))


def decrypt(token: str) -> StreamCredentials:
    """The stored credentials; empty ones when none are stored. Raises ValueError for a key that does not fit."""
    if not token:
        return StreamCredentials()
    payload = json.loads(unseal(token, "stream credentials"))
    return StreamCredentials(str(payload.get("u", "")), str(payload.get("p", "")))


def split_url(url: str) -> tuple[str, StreamCredentials]:
    """`rtsp://user:pass@host/path` -> (`rtsp://host/path`, credentials): what is stored is the URL without them."""
    parts = urlsplit(url.strip())
    if parts.username is None and parts.password is None:
        return url.strip(), StreamCredentials()
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, StreamCredentials(unquote(parts.username or ""), unquote(parts.password or ""))


def with_credentials(url: str, credentials: StreamCredentials) -> str:
    """The URL a reader opens (RTSP carries its credentials in the URL); never logged, never shown."""
    if not credentials:
        return url
    parts = urlsplit(url)
    userinfo = quote(credentials.username, safe="")
    if credentials.password:
        userinfo += ":" + quote(credentials.password, safe="")
    return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, parts.fragment))


_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s'\"]+@")


def redact(text: str, *secrets: str) -> str:
    """Text safe to log or show: any `user:pass@` in a URL, and each given secret, replaced."""
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    for secret in secrets:
        for form in {secret, quote(secret, safe="")}:
            if form and len(form) >= 1:
                text = text.replace(form, "***")
    return text
