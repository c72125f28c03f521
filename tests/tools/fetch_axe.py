"""Fetch axe-core (the accessibility engine the browser tests run) into tests/.cache/axe.min.js.

Usage: python tests/tools/fetch_axe.py

Downloads one pinned release from the npm registry, checks the tarball against the
sha512 integrity npm publishes for it (pinned below) and writes package/axe.min.js.
Does nothing when the file is already there with the pinned sha256. Standard library only.

To move to a newer axe-core: read ``versions["<new>"].dist.integrity`` from
https://registry.npmjs.org/axe-core, update the three constants, delete the cached file
and run this script again (it prints the new file's sha256 when the old pin does not match).
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "4.14.1"
URL = f"https://registry.npmjs.org/axe-core/-/axe-core-{VERSION}.tgz"
# npm's dist.integrity for axe-core 4.14.1 (the sha512 of the .tgz, base64).
INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
# sha256 of package/axe.min.js inside that tarball.
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
MEMBER = "package/axe.min.js"

CACHE = Path(__file__).resolve().parent.parent / ".cache"
TARGET = CACHE / "axe.min.js"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def integrity(data: bytes) -> str:
    """The npm-style integrity string (``sha512-<base64>``) of ``data``."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def download(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "handouts-tests/fetch_axe"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read()


def main() -> int:
    if TARGET.is_file() and sha256(TARGET.read_bytes()) == AXE_SHA256:
        print(f"{TARGET} is axe-core {VERSION} already")
        return 0

    print(f"downloading {URL}")
    tarball = download(URL)
    got = integrity(tarball)
    if got != INTEGRITY:
        sys.exit(f"fetch_axe: INTEGRITY MISMATCH for {URL}\n  expected {INTEGRITY}\n  got      {got}\nNothing written.")

    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile(MEMBER)
        if member is None:
            sys.exit(f"fetch_axe: {MEMBER} is missing from {URL}")
        script = member.read()
    if sha256(script) != AXE_SHA256:
        sys.exit(
            f"fetch_axe: SHA256 MISMATCH for {MEMBER}\n  expected {AXE_SHA256}\n  got      {sha256(script)}\n"
            "Nothing written."
        )

    CACHE.mkdir(parents=True, exist_ok=True)
    partial = TARGET.with_name(TARGET.name + ".part")
    partial.write_bytes(script)
    partial.replace(TARGET)
    print(f"wrote {TARGET} (axe-core {VERSION}, {len(script)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
