"""schemathesis hooks for tests/server_api.rs (loaded through SCHEMATHESIS_HOOKS).

The server runs with --behind-proxy, taking the client's address from
the last X-Forwarded-For entry. Each call gets an address of its own, so that the failed
sign-in limiter (which refuses every token from an address after ten failures, rightly)
judges the fuzzer's deliberately wrong tokens one call at a time and never blocks the valid
token the run is testing with.
"""

import itertools

import schemathesis

_addresses = itertools.count(1)


@schemathesis.hook
def before_call(context, case, **kwargs):
    headers = dict(case.headers or {})
    number = next(_addresses)
    address = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
    headers["X-Forwarded-For"] = f"203.0.113.9, {address}"
    case.headers = headers
