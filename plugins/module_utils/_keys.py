# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key pairs of the mesh VPNs: fastd (ec25519), WireGuard (X25519) and tinc 1.0 (RSA).

WireGuard keys are X25519 keys from the cryptography library, tinc 1.0 keys PKCS#1 PEM RSA keys
from the same library. fastd's public key is the point secret*B packed in libuecc's own format
(x on libuecc's legacy curve plus the parity of y). No maintained Python library produces that:
X25519 gives only the Montgomery u, which has lost the sign of x, and Ed25519 hashes its seed
instead of taking the scalar. So the Curve25519 arithmetic below exists for fastd alone; the
tests compare every result with ``fastd --show-key`` (and WireGuard's with ``wg pubkey``).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import typing as t

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa, x25519

    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

KEY_TYPES = ("fastd", "wireguard", "tinc")
TINC_KEY_SIZE = 2048

_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


class KeyFormatError(ValueError):
    """A key file whose content is not a key of the expected type."""


def _sqrt(square: int) -> int:
    root = pow(square, (_P + 3) // 8, _P)
    if (root * root - square) % _P:
        root = root * _SQRT_M1 % _P
    if (root * root - square) % _P:
        raise ArithmeticError("no square root")
    return root


_Point = t.Tuple[int, int, int, int]


def _edwards_add(a: _Point, b: _Point) -> _Point:
    """Addition on Ed25519 in extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, x*y = T/Z."""
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    e1 = (y1 - x1) * (y2 - x2) % _P
    e2 = (y1 + x1) * (y2 + x2) % _P
    c = 2 * _D * t1 * t2 % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = e2 - e1, d - c, d + c, e2 + e1
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _base_point() -> t.Tuple[int, int]:
    y = 4 * pow(5, _P - 2, _P) % _P
    x = _sqrt((y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P)
    return (_P - x if x & 1 else x), y


_BASE = _base_point()
# x on libuecc's legacy curve (a = 486664, d = 486660) is x on Ed25519 times sqrt(-1/486664).
_ED25519_TO_LEGACY = _sqrt(-pow(486664, _P - 2, _P) % _P)


def _scalar_base_mult(scalar: int) -> t.Tuple[int, int]:
    """Affine (x, y) of scalar*B."""
    result, addend = (0, 1, 1, 0), (_BASE[0], _BASE[1], 1, _BASE[0] * _BASE[1] % _P)
    while scalar:
        if scalar & 1:
            result = _edwards_add(result, addend)
        addend = _edwards_add(addend, addend)
        scalar >>= 1
    z_inverse = pow(result[2], _P - 2, _P)
    return result[0] * z_inverse % _P, result[1] * z_inverse % _P


def _clamp(secret: bytes) -> int:
    scalar = bytearray(secret)
    scalar[0] &= 0xF8
    scalar[31] = (scalar[31] & 0x7F) | 0x40
    return int.from_bytes(bytes(scalar), "little")


def fastd_public_key(secret_hex: str) -> str:
    """fastd's public key: the point secret*B packed in libuecc's legacy format (x, parity of y)."""
    x, y = _scalar_base_mult(int.from_bytes(bytes.fromhex(secret_hex), "little"))
    packed = (x * _ED25519_TO_LEGACY % _P) | ((y & 1) << 255)
    return packed.to_bytes(32, "little").hex()


def _wireguard_public(private_key: t.Any) -> str:
    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def wireguard_public_key(private_b64: str) -> str:
    """The X25519 public key of a base64 private key, as ``wg pubkey`` prints it."""
    _require_cryptography("WireGuard")
    return _wireguard_public(x25519.X25519PrivateKey.from_private_bytes(base64.b64decode(private_b64, validate=True)))


_FASTD_SECRET = re.compile(r'^\s*(?:secret\s+"([0-9a-fA-F]{64})"\s*;|([0-9a-fA-F]{64}))\s*$')


def _parse_fastd(text: str) -> str:
    match = _FASTD_SECRET.match(text)
    if not match:
        raise KeyFormatError('not a fastd secret: expected secret "<64 hex digits>"; or the bare hex')
    return (match.group(1) or match.group(2)).lower()


def _parse_wireguard(text: str) -> str:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError(f"not a WireGuard private key: {exc}") from exc
    if len(raw) != 32:
        raise KeyFormatError(f"not a WireGuard private key: {len(raw)} bytes instead of 32")
    return text.strip()


def _require_cryptography(what: str) -> None:
    if not HAS_CRYPTOGRAPHY:
        raise ImportError(f"the Python library cryptography is required for {what} keys (python3-cryptography)")


def _tinc_public(private_key: t.Any) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    ).decode("ascii")


def public_key(key_type: str, private_text: str) -> str:
    """The public key of a stored private key; KeyFormatError if the text is not such a key."""
    if key_type == "fastd":
        return fastd_public_key(_parse_fastd(private_text))
    if key_type == "wireguard":
        return wireguard_public_key(_parse_wireguard(private_text))
    if key_type == "tinc":
        _require_cryptography("tinc")
        try:
            private_key = serialization.load_pem_private_key(private_text.encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError) as exc:
            raise KeyFormatError(f"not an unencrypted PEM private key: {exc}") from exc
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise KeyFormatError("tinc 1.0 needs an RSA key")
        return _tinc_public(private_key)
    raise ValueError(f"unknown key type {key_type!r}; known: {', '.join(KEY_TYPES)}")


def generate(key_type: str, size: int = TINC_KEY_SIZE) -> t.Tuple[str, str]:
    """A new (private file content, public key) pair."""
    if key_type == "fastd":
        secret = _clamp(os.urandom(32)).to_bytes(32, "little").hex()
        return f'secret "{secret}";\n', fastd_public_key(secret)
    if key_type == "wireguard":
        _require_cryptography("WireGuard")
        private_key = x25519.X25519PrivateKey.generate()
        raw = private_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        return base64.b64encode(raw).decode("ascii") + "\n", _wireguard_public(private_key)
    if key_type == "tinc":
        _require_cryptography("tinc")
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=size)
        pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode("ascii")
        return pem, _tinc_public(private_key)
    raise ValueError(f"unknown key type {key_type!r}; known: {', '.join(KEY_TYPES)}")


_FASTD_PUBLIC = re.compile(r"^[0-9a-f]{64}$")
_TINC_PUBLIC = re.compile(r"^-----BEGIN RSA PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END RSA PUBLIC KEY-----\n?$")


def validate_public_key(key_type: str, key: t.Any) -> str:
    """A public key as received from another host, checked for its format (never for trust)."""
    if not isinstance(key, str):
        raise KeyFormatError(f"a {key_type} public key must be a string, got {type(key).__name__}")
    if key_type == "fastd" and _FASTD_PUBLIC.match(key.strip().lower()):
        return key.strip().lower()
    if key_type == "wireguard":
        try:
            if len(base64.b64decode(key.strip(), validate=True)) == 32:
                return key.strip()
        except (binascii.Error, ValueError):
            pass
    if key_type == "tinc" and _TINC_PUBLIC.match(key.strip() + "\n"):
        return key.strip() + "\n"
    if key_type not in KEY_TYPES:
        raise ValueError(f"unknown key type {key_type!r}; known: {', '.join(KEY_TYPES)}")
    raise KeyFormatError(f"not a {key_type} public key ({len(key)} characters)")


def private_file(key_type: str, private_text: str) -> str:
    """A stored private key in the form this collection writes; KeyFormatError if it is none."""
    public_key(key_type, private_text)
    if key_type == "fastd":
        return f'secret "{_parse_fastd(private_text)}";\n'
    return private_text.strip() + "\n"
