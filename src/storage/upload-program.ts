// The Python (standard library only) that puts files into a bucket from the remote machine. It reads its
// plan, presigned URLs included, from stdin: no key and no URL is ever in argv, env or a file there.
// Multipart uploads resume: ListParts says which parts the bucket holds (same MD5), only the rest go up.
// A file written while it was read (a checkpoint saved in place) never replaces the object: its bytes are
// held (in memory, or as the parts of an upload not yet completed) and put in place only when the
// file's stat after the read is the one before it; else the upload is dropped and said `changed`.

export const UPLOAD_PROGRAM = String.raw`
import base64, hashlib, io, json, os, re, sys, time, urllib.error, urllib.request

plan = json.loads(sys.stdin.read())
timeout = plan.get("timeout", 60)
attempts = max(1, plan.get("attempts", 5))

def say(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()

def request(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return response.headers, response.read()

def put_bytes(url, data):
    md5 = hashlib.md5(data)
    # urllib would label the bytes a form (x-www-form-urlencoded): some servers then parse them as one.
    headers = {"Content-Length": str(len(data)), "Content-MD5": base64.b64encode(md5.digest()).decode(), "Content-Type": "application/octet-stream"}
    # As a file, the body goes out in 8 KiB sends, each bounded by the timeout: bytes handed over as one
    # sendall must all leave within it, so a part slower than the timeout failed while its bytes flowed.
    got, _ = request("PUT", url, io.BytesIO(data), headers)
    return (got.get("ETag") or '"%s"' % md5.hexdigest()), md5.hexdigest()

def list_done(url):
    _, body = request("GET", url)
    text = body.decode("utf-8", "replace")
    done = {}
    for part in re.findall(r"<Part>(.*?)</Part>", text, re.S):
        number = re.search(r"<PartNumber>(\d+)</PartNumber>", part)
        etag = re.search(r"<ETag>(.*?)</ETag>", part, re.S)
        if number and etag:
            done[int(number.group(1))] = etag.group(1).replace("&quot;", '"').strip('"')
    return done

def with_retries(what, action):
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except (urllib.error.URLError, OSError) as error:
            detail = error.read().decode("utf-8", "replace")[:300] if isinstance(error, urllib.error.HTTPError) else str(error)
            if attempt == attempts or (isinstance(error, urllib.error.HTTPError) and error.code in (400, 403, 404)):
                raise RuntimeError("%s: %s" % (what, detail))
            say(event="retry", what=what, attempt=attempt, error=detail)
            time.sleep(min(30, 2 ** attempt))

class Changed(Exception):
    pass

def stamp(f):
    st = os.fstat(f.fileno())
    return (st.st_size, st.st_mtime_ns, st.st_ino)

def check_listed(item, before):
    if before[0] != item["size"]:
        raise Changed("%s changed size since it was listed (%d, now %d)" % (item["path"], item["size"], before[0]))

def check_still(item, f, before):
    if stamp(f) != before:
        raise Changed("%s was written while it was read" % item["path"])

def upload_single(item):
    with open(item["path"], "rb") as f:
        before = stamp(f)
        check_listed(item, before)
        data = f.read()
        check_still(item, f, before)
    etag, _ = with_retries("PUT " + item["path"], lambda: put_bytes(item["put"], data))
    return hashlib.sha256(data).hexdigest(), etag

def multipart_etag(item):
    mp, digests = item["multipart"], b""
    sha = hashlib.sha256()
    with open(item["path"], "rb") as f:
        for _ in mp["parts"]:
            data = f.read(mp["partSize"])
            sha.update(data)
            digests += hashlib.md5(data).digest()
    return sha.hexdigest(), "%s-%d" % (hashlib.md5(digests).hexdigest(), len(mp["parts"]))

def finished_already(item):
    """An upload completed by an earlier try whose answer was lost: the object's ETag is that of these parts."""
    try:
        got, _ = request("HEAD", item["multipart"]["head"])
    except urllib.error.HTTPError:
        return None
    sha256, etag = multipart_etag(item)
    return (sha256, etag) if (got.get("ETag") or "").strip('"') == etag else None

def upload_multipart(item):
    mp = item["multipart"]
    try:
        done = list_done(mp["list"])
    except urllib.error.HTTPError as error:
        finished = finished_already(item) if error.code == 404 else None
        if finished:
            say(event="parts", path=item["path"], skipped=list(range(1, len(mp["parts"]) + 1)), sent=[])
            return finished
        done = with_retries("ListParts " + item["path"], lambda: list_done(mp["list"]))
    except OSError:
        done = with_retries("ListParts " + item["path"], lambda: list_done(mp["list"]))
    sha, etags, skipped, sent = hashlib.sha256(), [], [], []
    with open(item["path"], "rb") as f:
        before = stamp(f)
        check_listed(item, before)
        for index, url in enumerate(mp["parts"]):
            number = index + 1
            data = f.read(mp["partSize"])
            sha.update(data)
            md5 = hashlib.md5(data).hexdigest()
            if done.get(number) == md5:
                skipped.append(number)
                etags.append(md5)
                continue
            etag, _ = with_retries("part %d of %s" % (number, item["path"]), lambda: put_bytes(url, data))
            sent.append(number)
            etags.append(etag.strip('"'))
            say(event="part", path=item["path"], part=number, of=len(mp["parts"]))
        try:
            check_still(item, f, before)
        except Changed:
            # The parts mix two versions: never completed, so the object keeps its last whole version.
            try:
                request("DELETE", mp["abort"])
            except (urllib.error.URLError, OSError):
                pass
            raise
    body = "<CompleteMultipartUpload>" + "".join(
        '<Part><PartNumber>%d</PartNumber><ETag>"%s"</ETag></Part>' % (i + 1, e) for i, e in enumerate(etags)
    ) + "</CompleteMultipartUpload>"
    def complete():
        got, reply = request("POST", mp["complete"], body.encode(), {"Content-Type": "application/xml"})
        text = reply.decode("utf-8", "replace")
        if "<Error>" in text:
            raise RuntimeError("CompleteMultipartUpload of %s: %s" % (item["path"], text[:300]))
        found = re.search(r"<ETag>(.*?)</ETag>", text, re.S)
        return found.group(1).replace("&quot;", '"') if found else ""
    etag = with_retries("CompleteMultipartUpload " + item["path"], complete)
    say(event="parts", path=item["path"], skipped=skipped, sent=sent)
    return sha.hexdigest(), etag

failed = 0
for item in plan["files"]:
    try:
        sha256, etag = (upload_multipart if "multipart" in item else upload_single)(item)
        say(event="uploaded", path=item["path"], key=item["key"], size=item["size"], sha256=sha256, etag=etag.strip('"'))
    except Changed as error:
        # Not a failure here: a checkpoint takes the file at its next look; the caller decides.
        say(event="changed", path=item["path"], error=str(error))
    except Exception as error:
        failed += 1
        say(event="failed", path=item["path"], error=str(error))
sys.exit(1 if failed else 0)
`;
