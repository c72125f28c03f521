"""FHIR stage: a DocumentReference (R4) for every PDF in the manifest, and a Bundle per clinic.

Portals and EHRs import handouts as FHIR DocumentReferences. Everything comes from
the manifest and the PDFs it lists, so the JSON always describes the bytes on
disk. Identifiers are UUIDv5 of the output path: the same document keeps the same
id from build to build, and the same inputs give the same JSON.

Each per-handout file stands on its own: its custodian (the clinic) is a
``contained`` Organization. A clinic's Bundle is either a ``collection`` (the
Organization and its DocumentReferences, linked by ``urn:uuid``) or a
``transaction`` of ``PUT`` requests keyed by the stable ids, which a FHIR server
applies as upserts. ``subject`` is absent: a generic handout is about no patient.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
import uuid
from pathlib import Path
from urllib.parse import quote

from . import loading
from .errors import UsageError
from .manifest import Entry, read_manifest
from .models import Clinic, Project
from .outfolder import write_atomic

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://handouts.invalid/fhir")
LOINC_EDUCATION_NOTE = {"system": "http://loinc.org", "code": "34895-3", "display": "Education note"}
CATEGORY = {
    "coding": [
        {
            "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
            "code": "clinical-note",
            "display": "Clinical Note",
        }
    ],
    "text": "Patient education",
}
DEFAULT_FOLDER = "fhir"
BUNDLE_TYPES = ("collection", "transaction")
BASE_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d+)?(?:/[^\s?#]*)?$")
CONTAINED_ID = "custodian"


def stable_id(kind: str, key: str) -> str:
    """A UUIDv5 from ``kind`` and ``key``: the same resource keeps its id from build to build."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def organization(clinic: Clinic) -> dict:
    """The clinic as a FHIR Organization (the custodian of its handouts)."""
    telecom = [{"system": "phone", "value": clinic.contact.phone, "use": "work"}]
    if clinic.contact.website:
        telecom.append({"system": "url", "value": clinic.contact.website, "use": "work"})
    if clinic.contact.email:
        telecom.append({"system": "email", "value": clinic.contact.email, "use": "work"})
    resource = {
        "resourceType": "Organization",
        "id": stable_id("organization", clinic.id),
        "identifier": [{"system": "urn:handouts:clinic", "value": clinic.id}],
        "active": True,
        "name": clinic.name,
        "telecom": telecom,
    }
    if clinic.contact.address:
        resource["address"] = [{"text": clinic.contact.address}]
    return resource


def check_base_url(base_url: str | None) -> str | None:
    """``--base-url``: an http(s) address without query or fragment (its trailing slash dropped)."""
    if base_url is None:
        return None
    if not BASE_URL.match(base_url):
        raise UsageError(f"--base-url {base_url!r}: expected an address like https://example.org/handouts")
    return base_url.rstrip("/")


def attachment_url(entry: Entry, base_url: str | None) -> str:
    """The PDF's address: relative to the output folder, or absolute under ``base_url``."""
    return f"{base_url}/{quote(entry.path)}" if base_url else entry.path


def document_reference(
    entry: Entry, clinic: Clinic, data: bytes, embed: bool = False, base_url: str | None = None, custodian: str = ""
) -> dict:
    """One PDF as a DocumentReference; ``embed`` puts the PDF itself in (base64) instead of its address.

    ``custodian`` is the reference to the clinic's Organization; without it the Organization is
    ``contained``, so the resource resolves its custodian on its own.
    """
    attachment: dict = {
        "contentType": "application/pdf",
        "language": entry.language,
        "size": len(data),
        "hash": base64.b64encode(hashlib.sha1(data).digest()).decode(),  # FHIR defines the hash as SHA-1
        "title": entry.title,
        "creation": entry.updated,
    }
    if embed:
        attachment["data"] = base64.b64encode(data).decode()
    else:
        attachment["url"] = attachment_url(entry, base_url)
    document_id = stable_id("document", entry.path)
    resource = {
        "resourceType": "DocumentReference",
        "id": document_id,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{document_id}"}],
        "status": "current",
        "docStatus": "preliminary" if entry.status == "draft" else "final",
        "type": {"coding": [LOINC_EDUCATION_NOTE], "text": "Patient education handout"},
        "category": [CATEGORY],
        "date": f"{entry.updated}T00:00:00Z",
        "custodian": {"reference": custodian or f"#{CONTAINED_ID}", "display": clinic.name},
        "description": entry.title,
        "content": [{"attachment": attachment}],
    }
    if not custodian:
        resource = {"contained": [{**organization(clinic), "id": CONTAINED_ID}], **resource}
        resource = {key: resource[key] for key in ("resourceType", "id", "contained", *resource) if key in resource}
    return resource


def bundle(clinic: Clinic, references: list[dict], kind: str = "collection") -> dict:
    """The clinic's Organization and all its DocumentReferences: a ``collection`` linked by urn:uuid, or a
    ``transaction`` of PUT requests (``Organization/<id>``, ``DocumentReference/<id>``) for a FHIR server."""
    resources = [organization(clinic), *references]
    if kind == "transaction":
        entries = [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources
        ]
    else:
        entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    return {"resourceType": "Bundle", "id": stable_id("bundle", clinic.id), "type": kind, "entry": entries}


def _json_bytes(document: dict) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def _output_bytes(output_dir: Path, entry: Entry) -> bytes:
    """The PDF an entry lists, read without following links, and only if it is the file the entry describes."""
    try:
        descriptor = os.open(output_dir / entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise OSError("not a regular file")
            data = handle.read(entry.bytes + 1)
    except OSError as error:
        raise UsageError(f"cannot read {entry.path} listed in the manifest: {error}; run 'handouts build'") from None
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise UsageError(f"{entry.path} is not the file the manifest lists (it changed); run 'handouts build'")
    return data


def export(
    project: Project,
    target: Path | None = None,
    embed: bool = False,
    base_url: str | None = None,
    bundle_type: str = "collection",
) -> list[Path]:
    """Write the FHIR JSON for every PDF in the manifest; returns the files written."""
    base_url = check_base_url(base_url)
    if bundle_type not in BUNDLE_TYPES:
        raise UsageError(f"--bundle {bundle_type!r}: choose one of {', '.join(BUNDLE_TYPES)}")
    output_dir = project.output_dir
    entries = read_manifest(output_dir)  # only sound entries: paths inside the folder, no links followed
    if not entries:
        raise UsageError(f"no handouts in {project.relative(output_dir)}/manifest.json: run 'handouts build' first")
    target = target or output_dir / DEFAULT_FOLDER
    clinics: dict[str, Clinic] = {}
    by_clinic: dict[str, list[dict]] = {}
    written = []
    for path in sorted(entries):
        entry = entries[path]
        if entry.clinic not in clinics:
            clinics[entry.clinic] = loading.load_clinic(project, entry.clinic)
        clinic = clinics[entry.clinic]
        data = _output_bytes(output_dir, entry)
        destination = target / entry.clinic / (Path(entry.path).stem + ".json")
        write_atomic(destination, _json_bytes(document_reference(entry, clinic, data, embed, base_url)))
        written.append(destination)
        in_bundle = (
            f"Organization/{stable_id('organization', clinic.id)}"
            if bundle_type == "transaction"
            else (f"urn:uuid:{stable_id('organization', clinic.id)}")
        )
        by_clinic.setdefault(entry.clinic, []).append(
            document_reference(entry, clinic, data, embed, base_url, in_bundle)
        )
    for clinic_id, references in by_clinic.items():
        destination = target / f"{clinic_id}.bundle.json"
        write_atomic(destination, _json_bytes(bundle(clinics[clinic_id], references, bundle_type)))
        written.append(destination)
    return written
