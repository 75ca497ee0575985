# Contract test server: GitHub's REST API for Actions secrets (API version 2022-11-28), the
# endpoints envsync calls, for repository and environment secrets:
#   GET    /repos/{o}/{r}/actions/secrets/public-key
#   GET    /repos/{o}/{r}/actions/secrets?per_page=&page=
#   PUT    /repos/{o}/{r}/actions/secrets/{name}       {"encrypted_value", "key_id"}
#   DELETE /repos/{o}/{r}/actions/secrets/{name}
#   and the same under /repos/{o}/{r}/environments/{env}/secrets
# https://docs.github.com/rest/actions/secrets. Every request is checked as GitHub does
# (bearer token, Accept and X-GitHub-Api-Version headers, a User-Agent, body shape, the
# key_id of the current public key, secret-name rules, pagination limits) and answered in
# GitHub's documented formats. No emulator of GitHub is installable here.
#
# Each scope has its own X25519 key pair, made with libsodium (PyNaCl): every encrypted
# value must be a sealed box to that scope's key, and /_contract/opened opens each one with
# libsodium itself, so a value envsync sealed wrongly cannot pass.
#
# Prints its port, serves until stdin closes. GET /_contract/log lists the requests seen
# (method, path, and the problem found, if any); GET /_contract/opened the opened values;
# POST /_contract/touch?scope=S&name=N changes a secret as someone else would (new value,
# new updated_at); POST /_contract/put?scope=S&name=N adds one envsync did not write.
import base64, datetime, json, re, sys, threading, urllib.parse
from nacl.public import PrivateKey, SealedBox

TOKEN = "ghp_contract_token"
READ_ONLY_TOKEN = "ghp_read_only_token"  # may read the repository, not manage its secrets
REPOSITORIES = {"acme/app": ["production"]}
NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")

lock = threading.Lock()
log = []
keys = {}      # scope -> (key_id, PrivateKey)
secrets = {}   # scope -> {NAME: {"sealed": bytes, "created_at", "updated_at"}}
clock = [0]


def now():
    """A logical clock: every write gets its own second, as GitHub's second-precision
    updated_at would across real time."""
    clock[0] += 1
    stamp = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    stamp += datetime.timedelta(seconds=clock[0])
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def key_of(scope):
    if scope not in keys:
        keys[scope] = ("key-%d" % (len(keys) + 1), PrivateKey.generate())
    return keys[scope]


class Handler(ContractHandler):
    content_type = "application/json; charset=utf-8"

    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        raw = self.body()
        with lock:
            if url.path.startswith("/_contract/"):
                return contract(self, method, url.path, query)
            log.append({"method": method, "path": url.path})
            return api(self, method, url.path, query, raw)


def problem(h, status, message):
    log[-1]["problem"] = message
    return h.reply(status, {"message": message,
                            "documentation_url": "https://docs.github.com/rest"})


def api(h, method, path, query, raw):
    if h.headers.get("Authorization") not in ("Bearer " + TOKEN, "Bearer " + READ_ONLY_TOKEN):
        return problem(h, 401, "Bad credentials")
    if h.headers.get("Accept") != "application/vnd.github+json":
        return problem(h, 415, "Accept must be application/vnd.github+json")
    if h.headers.get("X-GitHub-Api-Version") != "2022-11-28":
        return problem(h, 400, "X-GitHub-Api-Version must be 2022-11-28")
    if not h.headers.get("User-Agent"):
        return problem(h, 403, "Request forbidden by administrative rules. "
                               "Please make sure your request has a User-Agent header")
    match = re.fullmatch(r"/repos/([^/]+)/([^/]+)/(?:actions|environments/([^/]+))/secrets"
                         r"(?:/([^/]+))?", path)
    if not match:
        return problem(h, 404, "Not Found")
    owner, repo, environment, rest = match.groups()
    repository = owner + "/" + repo
    if repository not in REPOSITORIES or (
            environment is not None and environment not in REPOSITORIES[repository]):
        return problem(h, 404, "Not Found")
    if environment is None and "/actions/" not in path:
        return problem(h, 404, "Not Found")
    if h.headers.get("Authorization") == "Bearer " + READ_ONLY_TOKEN:
        return problem(h, 403, "Resource not accessible by personal access token")
    scope = repository + ("@" + environment if environment else "")
    store = secrets.setdefault(scope, {})
    if rest == "public-key" and method == "GET":
        key_id, private = key_of(scope)
        return h.reply(200, {"key_id": key_id,
                             "key": base64.b64encode(bytes(private.public_key)).decode()})
    if rest is None and method == "GET":
        return list_secrets(h, store, query)
    if rest is not None and method == "PUT":
        return put_secret(h, scope, store, rest, raw)
    if rest is not None and method == "DELETE":
        if rest.upper() not in store:
            return problem(h, 404, "Not Found")
        del store[rest.upper()]
        return h.reply(204)
    return problem(h, 404, "Not Found")


def list_secrets(h, store, query):
    try:
        per_page = int((query.get("per_page") or ["30"])[0])
        page = int((query.get("page") or ["1"])[0])
    except ValueError:
        return problem(h, 422, "per_page and page must be integers")
    if not 1 <= per_page <= 100 or page < 1:
        return problem(h, 422, "per_page must be 1 to 100, page at least 1")
    names = sorted(store)
    chunk = names[(page - 1) * per_page: page * per_page]
    return h.reply(200, {"total_count": len(names), "secrets": [
        {"name": name, "created_at": store[name]["created_at"],
         "updated_at": store[name]["updated_at"]} for name in chunk]})


def put_secret(h, scope, store, name, raw):
    if h.headers.get("Content-Type", "").split(";")[0] != "application/json":
        return problem(h, 415, "Content-Type must be application/json")
    name = name.upper()
    if not NAME.match(name) or name.startswith("GITHUB_"):
        return problem(h, 422, "Secret names can only contain alphanumeric characters "
                               "([a-z], [A-Z], [0-9]) or underscores (_), must not start "
                               "with a number or GITHUB_")
    try:
        body = json.loads(raw)
    except ValueError:
        return problem(h, 400, "Problems parsing JSON")
    if (not isinstance(body, dict) or set(body) != {"encrypted_value", "key_id"}
            or not all(isinstance(body[field], str) for field in body)):
        return problem(h, 422, "encrypted_value and key_id (strings) are required")
    key_id, private = key_of(scope)
    if body["key_id"] != key_id:
        return problem(h, 422, "key_id does not match the current public key")
    try:
        sealed = base64.b64decode(body["encrypted_value"], validate=True)
        SealedBox(private).decrypt(sealed)
    except Exception:
        return problem(h, 422, "encrypted_value is not a sealed box to the public key")
    created = name not in store
    stamp = now()
    store[name] = {"sealed": sealed, "updated_at": stamp,
                   "created_at": stamp if created else store[name]["created_at"]}
    return h.reply(201 if created else 204, {} if created else None)


def contract(h, method, path, query):
    one = lambda key: (query.get(key) or [""])[0]
    if path == "/_contract/log":
        return h.reply(200, log)
    if path == "/_contract/opened":
        opened = {}
        for scope, store in secrets.items():
            private = key_of(scope)[1]
            opened[scope] = {name: SealedBox(private).decrypt(entry["sealed"]).decode()
                             for name, entry in store.items()}
        return h.reply(200, opened)
    if path in ("/_contract/touch", "/_contract/put") and method == "POST":
        scope, name = one("scope"), one("name")
        public = key_of(scope)[1].public_key
        stamp = now()
        store = secrets.setdefault(scope, {})
        created = store.get(name, {}).get("created_at", stamp)
        store[name] = {"sealed": SealedBox(public).encrypt(b"set by someone else"),
                       "created_at": created, "updated_at": stamp}
        return h.reply(200, {})
    return h.reply(404, {"message": "no such contract call"})


serve(Handler)
