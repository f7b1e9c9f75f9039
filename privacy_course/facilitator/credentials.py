"""Signed credentials that anyone can check offline: the proof behind each certificate.

A certificate's credential is a W3C Verifiable Credential (Data Model 2.0) shaped as a 1EdTech
Open Badges 3.0 `OpenBadgeCredential`, secured with an embedded W3C Data Integrity proof of the
`eddsa-jcs-2022` cryptosuite ("Data Integrity EdDSA Cryptosuites v1.0", W3C Recommendation):

- the credential without its proof, and the proof's options, are each put in canonical form by
  the JSON Canonicalization Scheme (RFC 8785, the `rfc8785` package);
- each is hashed with SHA-256, and the two hashes (options first) are signed with Ed25519 (the
  `cryptography` package);
- the signature goes into `proof.proofValue` as base58-btc multibase, and the key is named by a
  `did:key` identifier, which holds the public key itself: checking needs no network.

Why built here on those two packages rather than taken from a credentials library: no Python
library that issues and verifies Data Integrity proofs was well kept when this was written
(DIDKit's Python package is no longer maintained; the others are early releases by single
authors), while `cryptography` and `rfc8785` are maintained and small, and `eddsa-jcs-2022`
needs nothing else: no JSON-LD processing, so no context documents fetched from the web.
Open Badges 3.0 asks for a proof of the VC-DI-EDDSA suite; its own test vector uses the suite's
RDF variant (`eddsa-rdfc-2022`), so a wallet or verifier that checks only that variant will not
check these. The tests reproduce the W3C specification's own `eddsa-jcs-2022` test vector.

The issuer's key is made once per course installation, kept in a file only its owner can read
(mode 0600; see `load_issuer_key`), and its public half is exported for verifiers
(`public_key_document`).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from privacy_course.errors import CourseError

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_TYPE = "DataIntegrityProof"
# Multicodec prefixes (varint) of an Ed25519 public key and private key (seed).
ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
DID_KEY = re.compile(r"did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+")


class CredentialError(CourseError, ValueError):
    """The issuer key or a credential cannot be used; the message says which file and why."""


def base58_encode(data: bytes) -> str:
    """Bitcoin's base58 alphabet, as multibase's `z` prefix means it."""
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = BASE58[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = BASE58.find(char)
        if digit < 0:
            raise ValueError(f"{char!r} is not a base58 digit")
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def did_key(public_bytes: bytes) -> str:
    """The `did:key` identifier of a 32-byte Ed25519 public key."""
    return "did:key:z" + base58_encode(ED25519_PUB + public_bytes)


def public_bytes_of(did: str) -> bytes:
    """The Ed25519 public key a `did:key` identifier holds; ValueError if it holds none."""
    if not DID_KEY.fullmatch(did):
        raise ValueError(f"{did!r} is not an Ed25519 did:key identifier")
    raw = base58_decode(did[len("did:key:z"):])
    if not raw.startswith(ED25519_PUB) or len(raw) != 34:
        raise ValueError(f"{did!r} does not hold an Ed25519 public key")
    return raw[2:]


def fingerprint(did: str) -> str:
    """A short form of the issuer key for people to compare by eye (printed on certificates):
    the first 80 bits of the key's SHA-256, in five groups of four hexadecimal digits."""
    digest = hashlib.sha256(public_bytes_of(did)).hexdigest().upper()[:20]
    return " ".join(digest[i:i + 4] for i in range(0, 20, 4))


@dataclass(frozen=True)
class IssuerKey:
    """The course installation's signing key."""

    private: Any  # cryptography's Ed25519PrivateKey
    path: Path | None = None

    @property
    def public_bytes(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        raw: bytes = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return raw

    @property
    def did(self) -> str:
        return did_key(self.public_bytes)

    @property
    def verification_method(self) -> str:
        return f"{self.did}#{self.did.removeprefix('did:key:')}"

    @classmethod
    def from_seed(cls, seed: bytes) -> IssuerKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_multibase(cls, text: str) -> IssuerKey:
        """A key given as a multibase private key (the form of the W3C test vectors)."""
        raw = base58_decode(text.removeprefix("z"))
        if not raw.startswith(ED25519_PRIV) or len(raw) != 34:
            raise CredentialError("not a multibase Ed25519 private key")
        return cls.from_seed(raw[2:])


def _check_private(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialError(
            f"{path}: the certificate signing key can be read by other accounts on this "
            f"machine (mode {stat.S_IMODE(mode):o}). Run `chmod 600 {path}`; if learners could "
            "have copied it, move it away and run `privacy-course certificates` again to make a "
            "new key (credentials signed before then verify against the old key only).")


def load_issuer_key(path: Path, create: bool = True) -> IssuerKey:
    """The signing key in `path` (PEM, PKCS#8), made on first use when `create` is set.

    The key is made with mode 0600 in a folder of mode 0700, so other accounts (learners on
    the same machine or hub) cannot read it; a key file others can read is refused, since
    anyone holding it could sign certificates in the issuer's name. The grading sandbox never
    sees the course folder, so learners' code cannot reach it either."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
    )

    if not path.exists():
        if not create:
            raise CredentialError(f"{path}: there is no certificate signing key yet")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        made = Ed25519PrivateKey.generate()
        pem = made.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        return IssuerKey(made, path)
    _check_private(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise CredentialError(f"{path}: not a usable signing key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CredentialError(f"{path}: not an Ed25519 key")
    return IssuerKey(key, path)


def public_key_document(key: IssuerKey, issuer: str) -> dict[str, Any]:
    """What a verifier needs to trust the issuer's certificates: the issuer's name, the key as
    `did:key` and as PEM, and the fingerprint printed on every certificate."""
    from cryptography.hazmat.primitives import serialization

    pem = key.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"issuer": issuer, "id": key.did, "fingerprint": fingerprint(key.did),
            "publicKeyMultibase": key.did.removeprefix("did:key:"),
            "publicKeyPem": pem.decode("ascii"),
            "howToVerify": "privacy-course certificates verify CREDENTIAL.json "
                           "--issuer-key THIS-FILE"}


def trusted_did(path: Path) -> str:
    """The issuer key a verifier trusts, from a file: the exported public-key document, a PEM
    public key, or any text holding a `did:key` identifier."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialError(f"{path}: cannot be read as an issuer key ({exc})") from exc
    found = DID_KEY.search(text)
    if found:  # the exported document, or a did:key written anywhere in the file
        return found.group(0)
    if "BEGIN PUBLIC KEY" in text:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            public = serialization.load_pem_public_key(text.encode("ascii"))
        except ValueError as exc:
            raise CredentialError(f"{path}: not a usable public key ({exc})") from exc
        if not isinstance(public, Ed25519PublicKey):
            raise CredentialError(f"{path}: not an Ed25519 public key")
        return did_key(public.public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw))
    raise CredentialError(f"{path}: holds no issuer key (no did:key identifier and no PEM "
                          "public key)")


def _canonical(document: Any) -> bytes:
    import rfc8785

    return rfc8785.dumps(document)


def _hash_data(unsecured: dict[str, Any], options: dict[str, Any]) -> bytes:
    return (hashlib.sha256(_canonical(options)).digest()
            + hashlib.sha256(_canonical(unsecured)).digest())


def utc_stamp(when: datetime) -> str:
    """An XML Schema dateTime in UTC to the second, as credentials write them."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.replace(microsecond=0).isoformat() + "Z"


def sign(credential: dict[str, Any], key: IssuerKey, created: datetime) -> dict[str, Any]:
    """A copy of `credential` with an `eddsa-jcs-2022` proof made with `key`."""
    unsecured = copy.deepcopy(credential)
    unsecured.pop("proof", None)
    options: dict[str, Any] = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE,
                               "created": utc_stamp(created),
                               "verificationMethod": key.verification_method,
                               "proofPurpose": "assertionMethod"}
    if "@context" in unsecured:
        options["@context"] = unsecured["@context"]
    signature = key.private.sign(_hash_data(unsecured, options))
    return {**unsecured, "proof": {**options, "proofValue": "z" + base58_encode(signature)}}


@dataclass
class Verification:
    """What checking one credential found. `signature_ok`: the proof matches the content (it
    was not changed since it was signed) and was made with the key it names. `issuer_signed`:
    that key is the key of the issuer the credential names. `issuer_known`: the key is one
    the verifier trusts (None when no trusted key was given to compare)."""

    signature_ok: bool
    issuer_signed: bool = False
    issuer_known: bool | None = None
    problem: str = ""
    signer: str = ""
    credential: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.signature_ok and self.issuer_signed and self.issuer_known is True


def verify(secured: Any, trusted: list[str] | None = None) -> Verification:
    """Check a credential's `eddsa-jcs-2022` proof, offline; `trusted` are the `did:key`
    identifiers of issuers the verifier trusts. Every failure is said in words."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not isinstance(secured, dict):
        return Verification(False, problem="it is not a credential (not a JSON object)")
    proof = secured.get("proof")
    if not isinstance(proof, dict):
        return Verification(False, problem="it carries no signature (no proof)",
                            credential=secured)
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return Verification(False, credential=secured, problem=(
            f"it is signed in a way this tool does not check ({proof.get('type')!r}, "
            f"{proof.get('cryptosuite')!r}; this tool checks {CRYPTOSUITE})"))
    did = str(proof.get("verificationMethod", "")).split("#", 1)[0]
    failed = Verification(False, signer=did, credential=secured)
    if proof.get("proofPurpose") != "assertionMethod":
        failed.problem = "its signature is not an issuer's assertion (proofPurpose)"
        return failed
    try:
        public = Ed25519PublicKey.from_public_bytes(public_bytes_of(did))
        value = str(proof.get("proofValue", ""))
        if not value.startswith("z"):
            raise ValueError("the signature is not base58-btc multibase")
        signature = base58_decode(value[1:])
    except ValueError as exc:
        failed.problem = f"its signature cannot be read ({exc})"
        return failed
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    if "@context" in options:
        context, wanted = unsecured.get("@context"), options["@context"]
        if not isinstance(context, list) or not isinstance(wanted, list) \
                or context[:len(wanted)] != wanted:
            failed.problem = "its signature does not match its content (@context changed)"
            return failed
        unsecured["@context"] = wanted
    try:
        public.verify(signature, _hash_data(unsecured, options))
    except InvalidSignature:
        failed.problem = ("its signature does not match its content: something in it was "
                          "changed after it was signed")
        return failed
    except Exception as exc:  # rfc8785 refuses numbers JSON cannot carry exactly
        failed.problem = f"its content cannot be checked ({exc})"
        return failed
    issuer = secured.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    result = Verification(True, did == issuer_id, None if not trusted else did in trusted,
                          signer=did, credential=secured)
    if not result.issuer_signed:
        result.problem = ("its signature is sound, but the key that made it is not the key of "
                          "the issuer it names")
    return result


def read_credential(path: Path) -> Any:
    """A credential file's JSON; CredentialError in words when it is not one."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CredentialError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CredentialError(f"{path}: is not a credential file (not valid JSON text; the "
                              "credential is the .credential.json file beside the PDF)") from exc


def hashed_identity(value: str, salt: str) -> str:
    """Open Badges' salted hash of a recipient identity: `sha256$` + hex(SHA-256(value+salt))."""
    return "sha256$" + hashlib.sha256((value + salt).encode("utf-8")).hexdigest()


def new_salt() -> str:
    return base64.b32encode(os.urandom(10)).decode("ascii").lower()
