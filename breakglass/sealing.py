"""The encryption of a break-glass bundle, the same scheme the file's own script undoes in a browser.

PBKDF2-HMAC-SHA256 (BREAK_GLASS_KDF_ITERATIONS, at least 600,000) turns the passphrase and a random
16-byte salt into a 256-bit key; AES-GCM with a random 12-byte nonce seals the page. Salt, nonce,
iteration count and ciphertext travel base64-encoded in the file, so a passphrase is all it needs.
The passphrase is trimmed of surrounding spaces on both sides (phones' keyboards add them).
The page is gzipped before sealing (HTML shrinks ~10×; the browser's DecompressionStream undoes it).
"""

import base64
import gzip
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

MIN_ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-HMAC-SHA256
SCHEME = "PBKDF2-SHA256/AES-GCM-256"


def derive_key(passphrase, salt, iterations):
    """The 32-byte AES key for `passphrase` (trimmed) and `salt`."""
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations)
    return kdf.derive(passphrase.strip().encode("utf-8"))


def seal(plaintext, passphrase, iterations=MIN_ITERATIONS):
    """`plaintext` (bytes) encrypted with `passphrase`: a dict of what the file carries, base64 inside."""
    if not passphrase.strip():
        raise ValueError("a break-glass bundle needs a passphrase (BREAK_GLASS_PASSPHRASE)")
    if iterations < MIN_ITERATIONS:
        raise ValueError(f"PBKDF2 iterations must be at least {MIN_ITERATIONS}")
    salt, nonce = os.urandom(16), os.urandom(12)
    packed = gzip.compress(plaintext, compresslevel=6, mtime=0)
    ciphertext = AESGCM(derive_key(passphrase, salt, iterations)).encrypt(nonce, packed, None)
    return {
        "scheme": SCHEME,
        "compression": "gzip",
        "iterations": iterations,
        "salt": base64.b64encode(salt).decode(),
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }


def unseal(sealed, passphrase):
    """The plaintext of a sealed dict; raises cryptography's InvalidTag for a wrong passphrase."""
    key = derive_key(passphrase, base64.b64decode(sealed["salt"]), int(sealed["iterations"]))
    packed = AESGCM(key).decrypt(base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]), None)
    return gzip.decompress(packed) if sealed.get("compression") == "gzip" else packed
