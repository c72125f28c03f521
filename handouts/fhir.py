"""FHIR stage: a DocumentReference (R4) for every PDF in the manifest, and a Bundle per clinic.

Portals and EHRs import handouts as FHIR DocumentReferences. Everything comes from
the manifest and the PDFs it lists, so the JSON always describes the bytes on
disk. Identifiers are UUIDv5 of the output path: the same document keeps the same
id from build to build, and the same inputs give the same JSON.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from pathlib import Path

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


def document_reference(entry: Entry, clinic: Clinic, data: bytes, embed: bool) -> dict:
    """One PDF as a DocumentReference; ``embed`` puts the PDF itself in (base64) instead of its path."""
    attachment: dict = {
        "contentType": "application/pdf",
        "language": entry.language,
        "size": len(data),
        "hash": base64.b64encode(hashlib.sha1(data).digest()).decode(),  # FHIR defines the hash as SHA-1
        "title": entry.title,
        "creation": entry.reviewed,
    }
    if embed:
        attachment["data"] = base64.b64encode(data).decode()
    else:
        attachment["url"] = entry.path  # relative to the output folder
    document_id = stable_id("document", entry.path)
    return {
        "resourceType": "DocumentReference",
        "id": document_id,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{document_id}"}],
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [LOINC_EDUCATION_NOTE], "text": "Patient education handout"},
        "category": [CATEGORY],
        "date": f"{entry.reviewed}T00:00:00Z",
        "custodian": {"reference": f"urn:uuid:{stable_id('organization', clinic.id)}", "display": clinic.name},
        "description": entry.title,
        "content": [{"attachment": attachment}],
    }


def bundle(clinic: Clinic, references: list[dict]) -> dict:
    """A collection Bundle: the clinic's Organization and all its DocumentReferences."""
    resources = [organization(clinic), *references]
    return {
        "resourceType": "Bundle",
        "id": stable_id("bundle", clinic.id),
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource} for resource in resources],
    }


def _json_bytes(document: dict) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def export(project: Project, target: Path | None = None, embed: bool = False) -> list[Path]:
    """Write the FHIR JSON for every PDF in the manifest; returns the files written."""
    output_dir = project.output_dir
    entries = read_manifest(output_dir)
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
        data = (output_dir / entry.path).read_bytes()
        resource = document_reference(entry, clinics[entry.clinic], data, embed)
        by_clinic.setdefault(entry.clinic, []).append(resource)
        destination = target / entry.clinic / (Path(entry.path).stem + ".json")
        write_atomic(destination, _json_bytes(resource))
        written.append(destination)
    for clinic_id, references in by_clinic.items():
        destination = target / f"{clinic_id}.bundle.json"
        write_atomic(destination, _json_bytes(bundle(clinics[clinic_id], references)))
        written.append(destination)
    return written
