// The Python (standard library only) that fetches `inputs:` objects on the remote machine into a cache keyed
// by ETag, then links them into the run's folder: an object already cached is not transferred again.
// Its plan, presigned URLs included, comes on stdin: nothing secret in argv, env or files there.

export const INPUTS_PROGRAM = String.raw`
import hashlib, json, os, re, sys, urllib.request

plan = json.loads(sys.stdin.read())
timeout = plan.get("timeout", 60)
cache_root = os.path.expanduser(plan["cacheDir"])

def say(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()

def head(url):
    req = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return response.headers.get("ETag", "").strip('"'), int(response.headers.get("Content-Length", "-1"))

def download(url, path, etag, size):
    temp = "%s.part-%d" % (path, os.getpid())
    md5, got = hashlib.md5(), 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(temp, "wb") as out:
            served = response.headers.get("ETag", "").strip('"')
            if served != etag:
                raise RuntimeError("the object changed while it was fetched (ETag %s, then %s)" % (etag, served))
            while True:
                chunk = response.read(1 << 20)
                if not chunk:
                    break
                md5.update(chunk)
                got += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if got != size:
            raise RuntimeError("got %d bytes of %d" % (got, size))
        # A single-part ETag is the MD5 of the bytes: check it; a multipart one ("…-N") is not.
        if re.fullmatch(r"[0-9a-f]{32}", etag) and md5.hexdigest() != etag:
            raise RuntimeError("MD5 %s does not match the ETag %s" % (md5.hexdigest(), etag))
        os.chmod(temp, 0o444)
        os.rename(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return got

def place(cached, dest):
    parent = os.path.dirname(dest)
    if parent:
        os.makedirs(parent, exist_ok=True)
    temp = "%s.offload-%d" % (dest, os.getpid())
    try:
        os.link(cached, temp)
    except OSError:
        with open(cached, "rb") as src, open(temp, "wb") as out:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
    os.rename(temp, dest)

failed = 0
for item in plan["inputs"]:
    try:
        etag, size = head(item["head"])
        if not etag:
            raise RuntimeError("the bucket gave no ETag: nothing to key the cache by")
        folder = os.path.join(cache_root, item["cacheKey"])
        os.makedirs(folder, exist_ok=True)
        cached = os.path.join(folder, re.sub(r"[^A-Za-z0-9-]", "_", etag))
        transferred = 0
        hit = os.path.exists(cached) and os.path.getsize(cached) == size
        if not hit:
            transferred = download(item["get"], cached, etag, size)
        place(cached, item["dest"])
        say(event="input", url=item["url"], dest=item["dest"], etag=etag, size=size, cached=hit, bytes=transferred)
    except Exception as error:
        failed += 1
        say(event="failed", url=item["url"], dest=item["dest"], error=str(error))
sys.exit(1 if failed else 0)
`;
