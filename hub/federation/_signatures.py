"""HTTP Signatures: draft-cavage-http-signatures-12 (what Mastodon speaks) and RFC 9421.

Outgoing requests are signed the way Mastodon requires: ``rsa-sha256`` over
``(request-target) host date`` plus ``digest`` (``SHA-256=<base64>`` of the body) on POST.

Incoming requests may carry either a draft-cavage ``Signature`` header or RFC 9421
``Signature-Input`` / ``Signature`` headers. :func:`parse_signature` checks everything that does
not need the key (the covered components, the body digest, the age of the signature) and returns a
:class:`ParsedSignature` whose :meth:`~ParsedSignature.verify` checks the signature itself with a
public key. Every refusal is an :class:`~hub.errors.AuthError` naming what is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hub.errors import AuthError
from hub.federation._keys import load_private_key

__all__ = [
    "ParsedSignature",
    "content_digest",
    "digest_header",
    "http_date",
    "parse_signature",
    "sign_request",
    "sign_request_rfc9421",
]

_PARAM = re.compile(r'([A-Za-z]+)="([^"]*)"')


def http_date(when: float | None = None) -> str:
    return format_datetime(datetime.fromtimestamp(time.time() if when is None else when, UTC), usegmt=True)


def digest_header(body: bytes) -> str:
    """The draft-cavage / RFC 3230 ``Digest`` value: ``SHA-256=<base64>``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def content_digest(body: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` value: ``sha-256=:<base64>:``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def _target(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    path = parts.path or "/"
    return parts.netloc, path, f"{path}?{parts.query}" if parts.query else path


def sign_request(method: str, url: str, body: bytes | None, *, key_id: str, private_key_pem: str,
                 when: float | None = None) -> dict[str, str]:
    """Headers for a draft-cavage signed request: Date, Digest (with a body) and Signature.

    The signature covers ``host`` as the URL's authority, which is the Host header HTTP clients send
    (so it is not returned: a second Host header would make the request invalid).
    """
    host, _path, target = _target(url)
    headers = {"Host": host, "Date": http_date(when)}
    names = ["(request-target)", "host", "date"]
    if body is not None:
        headers["Digest"] = digest_header(body)
        names.append("digest")
    lines = [f"(request-target): {method.lower()} {target}"]
    lines += [f"{name}: {headers[name.title()]}" for name in names[1:]]
    signature = load_private_key(private_key_pem).sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["Signature"] = (f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
                            f'signature="{base64.b64encode(signature).decode()}"')
    del headers["Host"]
    return headers


def sign_request_rfc9421(method: str, url: str, body: bytes | None, *, key_id: str, private_key_pem: str,
                         when: float | None = None) -> dict[str, str]:
    """Headers for an RFC 9421 signed request (``rsa-v1_5-sha256`` over method, target URI, digest)."""
    created = int(time.time() if when is None else when)
    components = ['"@method"', '"@target-uri"']
    values = [method.upper(), url]
    headers: dict[str, str] = {}
    if body is not None:
        headers["Content-Digest"] = content_digest(body)
        components.append('"content-digest"')
        values.append(headers["Content-Digest"])
    params = f'({" ".join(components)});created={created};keyid="{key_id}";alg="rsa-v1_5-sha256"'
    lines = [f"{c}: {v}" for c, v in zip(components, values, strict=True)] + [f'"@signature-params": {params}']
    signature = load_private_key(private_key_pem).sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["Signature-Input"] = f"sig1={params}"
    headers["Signature"] = f"sig1=:{base64.b64encode(signature).decode()}:"
    return headers


@dataclass(frozen=True, slots=True)
class ParsedSignature:
    """A syntactically valid, fresh signature whose digest matched: ``verify(key)`` checks the signature."""

    scheme: str  # "cavage" | "rfc9421"
    key_id: str
    signing_string: bytes
    signature: bytes
    algorithm: str

    def verify(self, public_key_pem: str) -> bool:
        try:
            key = serialization.load_pem_public_key(public_key_pem.encode())
        except ValueError:
            return False
        if not isinstance(key, rsa.RSAPublicKey):
            return False
        try:
            if self.algorithm == "rsa-pss-sha512":
                key.verify(self.signature, self.signing_string,
                           padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64), hashes.SHA512())
            else:
                key.verify(self.signature, self.signing_string, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise AuthError(f"{what} is not valid base64") from None


def _check_digest(headers: Mapping[str, str], body: bytes, required: bool) -> None:
    digest = headers.get("digest")
    if digest is not None:
        algo, _, value = digest.partition("=")
        if algo.strip().lower() != "sha-256":
            raise AuthError("Digest must be SHA-256")
        if _b64(value.strip(), "Digest") != hashlib.sha256(body).digest():
            raise AuthError("Digest does not match the body")
    elif required:
        raise AuthError("a request with a body must carry a signed Digest header")


def _check_content_digest(headers: Mapping[str, str], body: bytes) -> None:
    value = headers.get("content-digest")
    if value is None:
        raise AuthError("a request with a body must carry a signed Content-Digest header")
    for item in value.split(","):
        algo, _, encoded = item.strip().partition("=")
        algo = algo.strip().lower()
        if algo in ("sha-256", "sha-512") and encoded.startswith(":") and encoded.endswith(":"):
            fn = hashlib.sha256 if algo == "sha-256" else hashlib.sha512
            if _b64(encoded[1:-1], "Content-Digest") != fn(body).digest():
                raise AuthError("Content-Digest does not match the body")
            return
    raise AuthError("Content-Digest must use sha-256 or sha-512")


def _check_age(when: float, max_skew: float, now: float, what: str) -> None:
    if abs(now - when) > max_skew:
        raise AuthError(f"{what} is too far from the current time (replayed or clock skew)")


def parse_signature(method: str, target_uri: str, headers: Mapping[str, str], body: bytes, *,
                    max_skew: float, now: float | None = None) -> ParsedSignature:
    """Check a request's signature headers (``headers``: lowercase names) against ``body``.

    ``target_uri`` is the full URL the client addressed (public base URL + path + query).
    """
    now = time.time() if now is None else now
    if "signature-input" in headers:
        return _parse_rfc9421(method, target_uri, headers, body, max_skew, now)
    if "signature" in headers:
        return _parse_cavage(method, target_uri, headers, body, max_skew, now)
    raise AuthError("the request is not signed (HTTP Signatures required)")


def _parse_cavage(method: str, target_uri: str, headers: Mapping[str, str], body: bytes,
                  max_skew: float, now: float) -> ParsedSignature:
    params = dict(_PARAM.findall(headers["signature"]))
    key_id, encoded = params.get("keyId"), params.get("signature")
    if not key_id or not encoded:
        raise AuthError("the Signature header needs keyId and signature")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in ("rsa-sha256", "hs2019"):
        raise AuthError(f"unsupported signature algorithm {algorithm!r}")
    names = params.get("headers", "date").lower().split()
    needed = {"(request-target)", "host", "date"} if "(created)" not in names else {"(request-target)", "host"}
    if method.upper() == "POST":
        needed.add("digest")
    if missing := needed - set(names):
        raise AuthError(f"the signature must cover {', '.join(sorted(missing))}")
    _host, _path, target = _target(target_uri)
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in ("(created)", "(expires)"):
            value = params.get(name[1:-1])
            if not value or not value.isdigit():
                raise AuthError(f"{name} is signed but missing")
            lines.append(f"{name}: {value}")
        elif name in headers:
            lines.append(f"{name}: {headers[name]}")
        else:
            raise AuthError(f"the signed header {name!r} is missing")
    if "date" in names:
        try:
            date = parsedate_to_datetime(headers["date"]).timestamp()
        except (TypeError, ValueError):
            raise AuthError("the Date header is not an HTTP date") from None
        _check_age(date, max_skew, now, "the signed Date")
    if "(created)" in names:
        _check_age(float(params["created"]), max_skew, now, "the signature's created time")
    if "(expires)" in names and float(params["expires"]) < now:
        raise AuthError("the signature has expired")
    _check_digest(headers, body, required=method.upper() == "POST")
    return ParsedSignature("cavage", key_id, "\n".join(lines).encode(), _b64(encoded, "signature"), "rsa-sha256")


_LABEL = re.compile(r'^\s*([a-z*][a-z0-9_.*-]*)=(.*)$', re.S)


def _split_members(value: str) -> list[tuple[str, str]]:
    """Dictionary members ``label=value`` of a structured field (commas outside quotes and parentheses)."""
    members, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(value + ","):
        if ch == '"' and (i == 0 or value[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == ",":
            match = _LABEL.match(value[start:i])
            if match:
                members.append((match.group(1), match.group(2).strip()))
            start = i + 1
    return members


def _parse_rfc9421(method: str, target_uri: str, headers: Mapping[str, str], body: bytes,
                   max_skew: float, now: float) -> ParsedSignature:
    inputs = _split_members(headers["signature-input"])
    signatures = dict(_split_members(headers.get("signature", "")))
    if not inputs:
        raise AuthError("Signature-Input is malformed")
    label, raw_params = inputs[0]
    sig_value = signatures.get(label, "")
    if not (sig_value.startswith(":") and sig_value.endswith(":")):
        raise AuthError(f"no signature for label {label!r}")
    match = re.match(r'^\(([^)]*)\)(.*)$', raw_params, re.S)
    if not match:
        raise AuthError("Signature-Input is malformed")
    components = re.findall(r'"([^"]+)"(;[^\s"]*)?', match.group(1))
    params = {k: v.strip('"') for k, v in re.findall(r';\s*([a-z]+)=("[^"]*"|[^;]*)', match.group(2))}
    key_id = params.get("keyid")
    if not key_id:
        raise AuthError("the signature needs a keyid")
    if not params.get("created", "").isdigit():
        raise AuthError("the signature needs a created time")
    _check_age(float(params["created"]), max_skew, now, "the signature's created time")
    if params.get("expires", "").isdigit() and float(params["expires"]) < now:
        raise AuthError("the signature has expired")
    algorithm = params.get("alg", "rsa-v1_5-sha256")
    if algorithm not in ("rsa-v1_5-sha256", "rsa-pss-sha512"):
        raise AuthError(f"unsupported signature algorithm {algorithm!r}")
    parts = urlsplit(target_uri)
    derived = {
        "@method": method.upper(),
        "@target-uri": target_uri,
        "@authority": parts.netloc.lower(),
        "@scheme": parts.scheme.lower(),
        "@path": parts.path or "/",
        "@query": f"?{parts.query}",
        "@request-target": _target(target_uri)[2],
    }
    names = [name for name, _ in components]
    if any(extra for _, extra in components):
        raise AuthError("component parameters are not supported")
    if "@method" not in names or not ("@target-uri" in names or {"@authority", "@path"} <= set(names)):
        raise AuthError("the signature must cover @method and @target-uri (or @authority and @path)")
    if method.upper() == "POST":
        if "content-digest" not in names:
            raise AuthError("the signature must cover content-digest")
        _check_content_digest(headers, body)
    lines = []
    for name in names:
        if name.startswith("@"):
            if name not in derived:
                raise AuthError(f"unsupported component {name!r}")
            lines.append(f'"{name}": {derived[name]}')
        elif name in headers:
            lines.append(f'"{name}": {headers[name].strip()}')
        else:
            raise AuthError(f"the signed header {name!r} is missing")
    lines.append(f'"@signature-params": {raw_params}')
    return ParsedSignature("rfc9421", key_id, "\n".join(lines).encode(), _b64(sig_value[1:-1], "signature"), algorithm)
