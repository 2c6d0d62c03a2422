"""The download origin: serves export files at pre-signed URLs, like S3 behind CircleCI.

It trusts the URL's signature and nothing else (no Circle-Token), answers refusals with S3's XML
error bodies, and applies the download faults (expired URL, truncated gzip).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from ciwatch_etl.simulator.circleci.export_jobs import ExportJobs
from ciwatch_etl.simulator.faults import ExpiredUrl, Faults, TruncatedGzip
from ciwatch_etl.simulator.http_base import Request, Response
from ciwatch_etl.simulator.circleci.presign import UrlRejected, UrlSigner

_FILE_PATH = re.compile(r"/usage-exports/(?P<org_id>[^/]+)/(?P<job_id>[^/]+)/part-(?P<index>\d{4})\.csv\.gz")


def s3_error(status: int, code: str, text: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(text)}</Message>"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    )
    return Response.text(status, body, content_type="application/xml")


class Downloads:
    def __init__(self, jobs: ExportJobs, faults: Faults, signer: UrlSigner) -> None:
        self._jobs = jobs
        self._faults = faults
        self._signer = signer

    def __call__(self, request: Request) -> Response:
        if request.method != "GET":
            return s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        # S3 refuses a second credential next to query-string auth, which catches clients that
        # send their API credentials along with the pre-signed URL.
        if "authorization" in request.headers:
            return s3_error(400, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm "
                            "query parameter, Signature query string parameter or the Authorization header "
                            "should be specified")
        if self._faults.take(ExpiredUrl) is not None:
            return s3_error(403, "AccessDenied", "Request has expired")
        try:
            self._signer.verify(request.path, request.params, datetime.now(UTC))
        except UrlRejected as rejected:
            return s3_error(403, rejected.code, rejected.message)
        match = _FILE_PATH.fullmatch(request.path)
        body = None if match is None else self._jobs.file(match["org_id"], match["job_id"], int(match["index"]))
        if body is None:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        if self._faults.take(TruncatedGzip) is not None:
            # A complete HTTP response whose gzip stream stops half way: only a client that
            # checks the gzip end-of-stream notices.
            body = body[: len(body) // 2]
        return Response(200, body, {"Content-Type": "binary/octet-stream"})
