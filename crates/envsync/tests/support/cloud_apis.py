# Contract test server: Google Cloud Secret Manager (v1 REST), Azure Key Vault (secrets,
# api-version 7.4) with the Microsoft identity platform's v2.0 token endpoint, and HashiCorp
# Vault KV v2 — the parts of their documented HTTP APIs that envsync calls, checking every
# request the way the real services do (authentication, methods, paths, query, body shape)
# and answering in their documented formats. No emulator of these is installable here.
#
# Prints its port, serves until stdin closes. GET /_contract/log lists the requests seen
# (method, path, and the names of problems found); GET /_contract/state dumps the stores.
import base64, json, threading, urllib.parse

GCP_TOKEN = "gcp-test-token"
AZURE_TENANT, AZURE_CLIENT, AZURE_SECRET = "tenant-1", "client-1", "azure-client-secret"
AZURE_TOKEN = "azure-test-token"
VAULT_TOKEN = "vault-test-token"

lock = threading.Lock()
log = []
gcp = {}      # "projects/P/secrets/S" -> list of base64 payloads (None until a version)
azure = {}    # name -> list of values
vault = {}    # "mount/path" -> list of data dicts


class Handler(ContractHandler):
    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        raw = self.body()
        with lock:
            log.append({"method": method, "path": url.path})
            if url.path == "/_contract/log":
                return self.reply(200, log)
            if url.path == "/_contract/state":
                return self.reply(200, {"gcp": gcp, "azure": azure, "vault": vault})
            for prefix, handler in ROUTES:
                if url.path.startswith(prefix):
                    return handler(self, method, url.path, query, raw)
            return self.reply(404, {"error": {"code": 404, "message": "no such API"}})


def problem(handler, status, message):
    log[-1]["problem"] = message
    return handler.reply(status, {"error": {"code": status, "message": message}})


# --- Google Cloud Secret Manager: https://cloud.google.com/secret-manager/docs/reference/rest
def gcp_api(h, method, path, query, raw):
    if h.headers.get("Authorization") != "Bearer " + GCP_TOKEN:
        return problem(h, 401, "Request had invalid authentication credentials.")
    rest = path[len("/v1/"):]
    parts = rest.split("/")
    if method == "GET" and rest.endswith("/versions/latest:access") and len(parts) == 6:
        name = "/".join(parts[:4])
        versions = gcp.get(name)
        if not versions:
            return problem(h, 404, "Secret [%s] not found or has no versions." % name)
        return h.reply(200, {"name": name + "/versions/%d" % len(versions),
                             "payload": {"data": versions[-1]}})
    if method == "POST" and rest.endswith(":addVersion") and len(parts) == 4:
        name = rest[: -len(":addVersion")]
        if name not in gcp:
            return problem(h, 404, "Secret [%s] not found." % name)
        body = json.loads(raw or b"{}")
        data = body.get("payload", {}).get("data")
        if not isinstance(data, str):
            return problem(h, 400, "payload.data is required")
        base64.b64decode(data, validate=True)
        gcp[name].append(data)
        return h.reply(200, {"name": name + "/versions/%d" % len(gcp[name]), "state": "ENABLED"})
    if method == "POST" and len(parts) == 3 and parts[2] == "secrets":
        secret_id = (query.get("secretId") or [""])[0]
        body = json.loads(raw or b"{}")
        if not secret_id or "replication" not in body:
            return problem(h, 400, "secretId and replication are required")
        name = "/".join(parts[:3]) + "/" + secret_id
        if name in gcp:
            return problem(h, 409, "Secret [%s] already exists." % name)
        gcp[name] = []
        return h.reply(200, {"name": name, "replication": body["replication"]})
    return problem(h, 400, "unexpected Secret Manager call")


# --- Microsoft identity platform, client credentials grant (v2.0 token endpoint).
def azure_token(h, method, path, query, raw):
    form = urllib.parse.parse_qs(raw.decode())
    one = lambda key: (form.get(key) or [""])[0]
    if (method != "POST" or path != "/%s/oauth2/v2.0/token" % AZURE_TENANT
            or h.headers.get("Content-Type") != "application/x-www-form-urlencoded"):
        return problem(h, 400, "AADSTS900144: malformed token request")
    proof = one("client_secret") == AZURE_SECRET or (
        one("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        and one("client_assertion") == "federated-test-jwt")
    if (one("grant_type") != "client_credentials" or one("client_id") != AZURE_CLIENT
            or one("scope") != "https://vault.azure.net/.default" or not proof):
        return h.reply(401, {"error": "invalid_client",
                             "error_description": "AADSTS7000215: Invalid client secret provided."})
    return h.reply(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": AZURE_TOKEN})


# --- Azure Key Vault secrets: https://learn.microsoft.com/rest/api/keyvault/secrets/
def azure_api(h, method, path, query, raw):
    if (query.get("api-version") or [""])[0] != "7.4":
        return problem(h, 400, "The api-version query parameter is required.")
    if h.headers.get("Authorization") != "Bearer " + AZURE_TOKEN:
        return problem(h, 401, "AKV10000: Request is missing a Bearer or PoP token.")
    name = path[len("/secrets/"):]
    if not name or "/" in name:
        return problem(h, 400, "bad secret name")
    if method == "GET":
        if name not in azure:
            return h.reply(404, {"error": {"code": "SecretNotFound",
                                           "message": "A secret with (name/id) %s was not found in this key vault." % name}})
        return h.reply(200, {"value": azure[name][-1], "id": "https://vault/secrets/" + name,
                             "attributes": {"enabled": True}})
    if method == "PUT":
        body = json.loads(raw or b"{}")
        if not isinstance(body.get("value"), str):
            return problem(h, 400, "value is required")
        azure.setdefault(name, []).append(body["value"])
        return h.reply(200, {"value": body["value"], "id": "https://vault/secrets/" + name})
    return problem(h, 405, "method not allowed")


# --- HashiCorp Vault KV v2: https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2
def vault_api(h, method, path, query, raw):
    if h.headers.get("X-Vault-Token") != VAULT_TOKEN:
        return h.reply(403, {"errors": ["permission denied"]})
    rest = path[len("/v1/"):]
    mount, _, tail = rest.partition("/")
    if not tail.startswith("data/"):
        return h.reply(404, {"errors": []})
    key = mount + "/" + tail[len("data/"):]
    versions = vault.get(key, [])
    if method == "GET":
        if not versions:
            return h.reply(404, {"errors": []})
        return h.reply(200, {"data": {"data": versions[-1],
                                      "metadata": {"version": len(versions), "destroyed": False}}})
    if method == "POST":
        body = json.loads(raw or b"{}")
        if not isinstance(body.get("data"), dict):
            return h.reply(400, {"errors": ["no data provided"]})
        cas = body.get("options", {}).get("cas")
        if cas is not None and cas != len(versions):
            return h.reply(400, {"errors": ["check-and-set parameter did not match the current version"]})
        vault.setdefault(key, []).append(body["data"])
        return h.reply(200, {"data": {"version": len(vault[key])}})
    return h.reply(405, {"errors": ["unsupported operation"]})


ROUTES = [
    ("/v1/projects/", gcp_api),
    ("/%s/oauth2/" % AZURE_TENANT, azure_token),
    ("/secrets/", azure_api),
    ("/v1/", vault_api),
]

serve(Handler)
