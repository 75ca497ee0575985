# Contract test server: the Kubernetes API server's core/v1 Secret endpoints that
# `kubectl get|create|replace --raw` call (https://kubernetes.io/docs/reference/kubernetes-api/
# config-and-storage-resources/secret-v1/):
#   GET  /api/v1/namespaces/{namespace}/secrets/{name}
#   POST /api/v1/namespaces/{namespace}/secrets
#   PUT  /api/v1/namespaces/{namespace}/secrets/{name}
# over HTTPS (kubectl sends a bearer token only over TLS) with a certificate made here by
# openssl. Every request is checked as the API server does: the bearer token, the namespace
# and name in the path against the body's, the body's shape (apiVersion v1, kind Secret, no
# unknown fields, base64 data under valid keys), resourceVersion on replace (409 when stale),
# AlreadyExists on create; errors are `Status` objects, which kubectl prints as
# `Error from server (Reason): message`. No Kubernetes API server is installable here.
#
# argv[1]: a directory for the certificate (ca.pem). Prints its port, serves until stdin
# closes. GET /_contract/log lists the requests seen; GET /_contract/objects the Secrets as
# stored; /_contract/edit?namespace=N&name=S changes a Secret's data as someone else
# would (a new resourceVersion).
import base64, json, os, re, ssl, subprocess, sys, threading, urllib.parse

TOKEN = "k8s-contract-token"
FORBIDDEN_NAMESPACE = "locked"  # the token may not touch Secrets there
LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
TOP = {"apiVersion", "kind", "metadata", "data", "stringData", "type", "immutable"}
META = {"name", "namespace", "labels", "annotations", "resourceVersion", "uid",
        "creationTimestamp", "managedFields"}

lock = threading.Lock()
log = []
objects = {}  # "namespace/name" -> Secret as stored
version = [0]


class Handler(ContractHandler):
    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        raw = self.body()
        with lock:
            if url.path.startswith("/_contract/"):
                return contract(self, method, url.path, urllib.parse.parse_qs(url.query))
            log.append({"method": method, "path": url.path})
            return api(self, method, url.path, raw)


def status(h, code, reason, message, problem=True):
    if problem:
        log[-1]["problem"] = message
    return h.reply(code, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                          "status": "Failure", "message": message, "reason": reason,
                          "code": code})


def api(h, method, path, raw):
    if path == "/version":  # the kubectl of Google's Cloud SDK asks this first
        return h.reply(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.4"})
    if h.headers.get("Authorization") != "Bearer " + TOKEN:
        return status(h, 401, "Unauthorized", "Unauthorized")
    match = re.fullmatch(r"/api/v1/namespaces/([^/]+)/secrets(?:/([^/]+))?", path)
    if not match:
        return status(h, 404, "NotFound", "the server could not find the requested resource")
    namespace, name = match.groups()
    if namespace == FORBIDDEN_NAMESPACE:
        return status(h, 403, "Forbidden",
                      'secrets is forbidden: User "ci" cannot %s resource "secrets" in API '
                      'group "" in the namespace "%s"' % (method.lower(), namespace))
    if method == "GET" and name:
        if namespace + "/" + name not in objects:
            return status(h, 404, "NotFound", 'secrets "%s" not found' % name, problem=False)
        return h.reply(200, objects[namespace + "/" + name])
    if method in ("POST", "PUT") and (name is None) == (method == "POST"):
        return write(h, method, namespace, name, raw)
    return status(h, 405, "MethodNotAllowed", "the server does not allow this method")


def invalid(secret, namespace, name):
    """Why the API server would refuse this Secret, or None."""
    if not isinstance(secret, dict) or set(secret) - TOP:
        return "unknown or missing fields"
    if secret.get("apiVersion") != "v1" or secret.get("kind") != "Secret":
        return "apiVersion must be v1 and kind Secret"
    meta = secret.get("metadata")
    if not isinstance(meta, dict) or set(meta) - META:
        return "metadata: unknown fields"
    if meta.get("namespace", namespace) != namespace:
        return "the namespace of the provided object does not match the namespace sent"
    if name is not None and meta.get("name") != name:
        return "the name of the object (%s) does not match the name on the URL" % meta.get("name")
    if not all(LABEL.match(part) for part in str(meta.get("name", "")).split(".")):
        return "metadata.name: Invalid value: a lowercase RFC 1123 subdomain must consist of..."
    data = secret.get("data", {})
    if not isinstance(data, dict):
        return "data must be a map"
    for key, value in data.items():
        if not KEY.match(key):
            return "data[%s]: Invalid value: a valid config key must consist of ..." % key
        try:
            base64.b64decode(value, validate=True)
        except Exception:
            return "data[%s]: illegal base64 data" % key
    return None


def write(h, method, namespace, name, raw):
    if h.headers.get("Content-Type", "").split(";")[0] not in ("application/json", ""):
        return status(h, 415, "UnsupportedMediaType", "unsupported media type")
    try:
        secret = json.loads(raw)
    except ValueError:
        return status(h, 400, "BadRequest", "the body of the request was not JSON")
    reason = invalid(secret, namespace, name)
    if reason:
        return status(h, 422, "Invalid", 'Secret "%s" is invalid: %s' % (name or "", reason))
    key = namespace + "/" + secret["metadata"]["name"]
    if method == "POST" and key in objects:
        return status(h, 409, "AlreadyExists", 'secrets "%s" already exists'
                      % secret["metadata"]["name"])
    if method == "PUT":
        if key not in objects:
            return status(h, 404, "NotFound", 'secrets "%s" not found' % name)
        current = objects[key]["metadata"]["resourceVersion"]
        if secret["metadata"].get("resourceVersion") != current:
            return status(h, 409, "Conflict",
                          'Operation cannot be fulfilled on secrets "%s": the object has been '
                          'modified; please apply your changes to the latest version and try '
                          'again' % name)
    store(key, namespace, secret)
    return h.reply(201 if method == "POST" else 200, objects[key])


def store(key, namespace, secret):
    version[0] += 1
    secret = json.loads(json.dumps(secret))
    secret["metadata"]["namespace"] = namespace
    secret["metadata"]["resourceVersion"] = str(version[0])
    secret["metadata"].setdefault("uid", "uid-" + key)
    secret.setdefault("type", "Opaque")
    objects[key] = secret


def contract(h, method, path, query):
    one = lambda key: (query.get(key) or [""])[0]
    if path == "/_contract/log":
        return h.reply(200, log)
    if path == "/_contract/objects":
        return h.reply(200, objects)
    if path == "/_contract/edit":
        key = one("namespace") + "/" + one("name")
        secret = objects[key]
        secret["data"]["EDITED"] = base64.b64encode(b"by someone else").decode()
        store(key, one("namespace"), secret)
        return h.reply(200, {})
    return h.reply(404, {"message": "no such contract call"})


directory = sys.argv[1]
cert, key = os.path.join(directory, "ca.pem"), os.path.join(directory, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1"],
               check=True, capture_output=True)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
serve(Handler, lambda socket: context.wrap_socket(socket, server_side=True))
