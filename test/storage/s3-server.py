"""moto's S3 server, plus what real S3 does with presigned URLs and moto 5 skips.

moto serves the S3 API (buckets, objects, multipart, ListParts, ETags) but does not check a presigned
URL: neither its signature nor its lifetime. This wraps moto's WSGI app with that check, done with
botocore's own SigV4 code (no crypto written here): a URL past X-Amz-Date + X-Amz-Expires gets
403 AccessDenied "Request has expired", a wrong signature 403 SignatureDoesNotMatch, as S3 answers.
Each request is also appended to a log ("METHOD path?query-names status") so a test can tell what crossed.

A test can hold requests at a gate (env S3_TEST_HOLD=regex, S3_TEST_GATE=path prefix): the n-th request
whose log line ("METHOD path?query-names") matches creates GATE.held.n and waits, before moto reads it,
until GATE.go.n or GATE.off exists, so the test can act on the host while that request is under way.

Usage: python3 s3-server.py HOST PORT LOGFILE   (env S3_TEST_KEYS="id:secret")
"""
import datetime, itertools, os, re, sys, threading, time, urllib.parse

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

host, port, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
keys = dict(pair.split(":", 1) for pair in os.environ["S3_TEST_KEYS"].split(","))
moto_app = DomainDispatcherApplication(create_backend_app)
hold = re.compile(os.environ["S3_TEST_HOLD"]) if os.environ.get("S3_TEST_HOLD") else None
gate = os.environ.get("S3_TEST_GATE", "")
held_count = itertools.count(1)
held_lock = threading.Lock()


def wait_at_gate(line):
    if hold is None or not hold.search(line) or os.path.exists(gate + ".off"):
        return
    with held_lock:
        n = next(held_count)
    open("%s.held.%d" % (gate, n), "w").close()
    for _ in range(3000):
        if os.path.exists("%s.go.%d" % (gate, n)) or os.path.exists(gate + ".off"):
            return
        time.sleep(0.05)


def error(start_response, code, message):
    body = ("<?xml version='1.0' encoding='UTF-8'?><Error><Code>%s</Code><Message>%s</Message></Error>" % (code, message)).encode()
    start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def check_presigned(environ):
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if "X-Amz-Signature" not in query:
        return None
    credential = query["X-Amz-Credential"][0].split("/")
    stamp = query["X-Amz-Date"][0]
    signed_at = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    expires = int(query["X-Amz-Expires"][0])
    if datetime.datetime.now(datetime.timezone.utc) > signed_at + datetime.timedelta(seconds=expires):
        return ("AccessDenied", "Request has expired")
    secret = keys.get(credential[0])
    if secret is None:
        return ("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
    raw = environ.get("QUERY_STRING", "")
    unsigned = "&".join(p for p in raw.split("&") if not p.startswith("X-Amz-Signature="))
    url = "http://%s%s?%s" % (environ["HTTP_HOST"], environ.get("RAW_URI", "").split("?")[0] or urllib.parse.quote(environ["PATH_INFO"]), unsigned)
    request = AWSRequest(method=environ["REQUEST_METHOD"], url=url, headers={"host": environ["HTTP_HOST"]})
    request.context["timestamp"] = stamp
    auth = S3SigV4QueryAuth(Credentials(credential[0], secret), credential[3], credential[2], expires=expires)
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if expected != query["X-Amz-Signature"][0]:
        return ("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
    return None


def app(environ, start_response):
    try:
        return serve(environ, start_response)
    except Exception:
        import traceback
        traceback.print_exc()
        raise


def serve(environ, start_response):
    problem = check_presigned(environ)
    names = ",".join(sorted(k for k in urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True) if not k.startswith("X-Amz-")))
    status_box = {}

    def record(status, headers, exc_info=None):
        status_box["status"] = status.split(" ")[0]
        return start_response(status, headers, exc_info)

    wait_at_gate("%s %s?%s" % (environ["REQUEST_METHOD"], environ["PATH_INFO"], names))
    if problem:
        result = error(record, *problem)
    else:
        result = moto_app(environ, record)
    with open(log_path, "a") as log:
        log.write("%s %s?%s %s\n" % (environ["REQUEST_METHOD"], environ["PATH_INFO"], names, status_box.get("status")))
    return result


run_simple(host, port, app, threaded=True)
