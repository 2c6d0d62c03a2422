"""Pre-signed download URLs in the style of S3 query-string auth, and their verification.

The download origin trusts only the URL: path, date and lifetime are signed with a secret the API
origin holds, so a client needs no Circle-Token there, and a tampered or stale URL is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

ALGORITHM = "AWS4-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
URL_TTL_SECONDS = 3600


class UrlRejected(Exception):
    """The URL does not authorise the download; `code` and `message` go into S3's XML error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class UrlSigner:
    def __init__(self, secret: bytes, origin: str, ttl_seconds: int = URL_TTL_SECONDS) -> None:
        self._secret = secret
        self.origin = origin
        self.ttl_seconds = ttl_seconds

    def sign(self, path: str, now: datetime) -> str:
        amz_date = now.astimezone(UTC).strftime(DATE_FORMAT)
        credential = f"SIMULATOR/{amz_date[:8]}/us-east-1/s3/aws4_request"
        params = {
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Credential": credential,
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(self.ttl_seconds),
            "X-Amz-SignedHeaders": "host",
        }
        params["X-Amz-Signature"] = self._signature(path, params)
        return f"{self.origin}{path}?{urlencode(params)}"

    def verify(self, path: str, params: dict[str, str], now: datetime) -> None:
        """Raise UrlRejected unless the URL was signed here, for this path, and is still valid."""
        required = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                    "X-Amz-SignedHeaders", "X-Amz-Signature")
        if any(name not in params for name in required) or params["X-Amz-Algorithm"] != ALGORITHM:
            raise UrlRejected("AccessDenied", "Query-string authentication version 4 requires the "
                              "X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, "
                              "X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
        if not hmac.compare_digest(self._signature(path, params), params["X-Amz-Signature"]):
            raise UrlRejected("SignatureDoesNotMatch", "The request signature we calculated does not "
                              "match the signature you provided. Check your key and signing method.")
        signed_at = datetime.strptime(params["X-Amz-Date"], DATE_FORMAT).replace(tzinfo=UTC)
        if now > signed_at + timedelta(seconds=int(params["X-Amz-Expires"])):
            raise UrlRejected("AccessDenied", "Request has expired")

    def _signature(self, path: str, params: dict[str, str]) -> str:
        signed = "\n".join([path, params["X-Amz-Credential"], params["X-Amz-Date"],
                            params["X-Amz-Expires"], params["X-Amz-SignedHeaders"]])
        return hmac.new(self._secret, signed.encode(), hashlib.sha256).hexdigest()
