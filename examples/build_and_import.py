"""Build a small bundle in Python and import it over HTTP.

POLICYDB_URL=http://127.0.0.1:8000 POLICYDB_KEY=pdb_... python examples/build_and_import.py
"""

import os
from typing import Any

import httpx

SOURCE = "example-press-release"


def build_bundle() -> dict[str, Any]:
    """A bundle: one source, a region, an actor and a policy with a goal, all cited."""
    cite = {"source": SOURCE, "section": "Announcement", "paragraph": 1}
    return {
        "format": "policydb-bundle",
        "version": 1,
        "sources": [
            {
                "slug": SOURCE,
                "title": "Example City launches an AI talent programme",
                "publisher": "Example City Government",
                "published": "2024-03",
                "language": "en",
            }
        ],
        "regions": [
            {
                "slug": "example-city",
                "name": "Example City",
                "kind": "city",
                "parent": "cn",
                "citations": [cite],
            }
        ],
        "actors": [
            {
                "slug": "example-city-government",
                "name": "Example City Government",
                "kind": "local_government",
                "region": "example-city",
                "citations": [cite],
            }
        ],
        "policies": [
            {
                "slug": "example-city-ai-talent-programme",
                "title": "Example City AI Talent Programme",
                "kind": "programme",
                "status": "in_force",
                "announced": "2024-03",
                "in_force_from": "2024",
                "in_force_to": "2027",
                "money": {"amount": "50000000", "currency": "CNY"},
                "topics": ["talent", "artificial_intelligence"],
                "actors": [
                    {"actor": "example-city-government", "role": "issuer", "citations": [cite]}
                ],
                "regions": [
                    {"region": "example-city", "role": "jurisdiction", "citations": [cite]}
                ],
                "citations": [cite],
            }
        ],
        "goals": [
            {
                "slug": "example-city-ai-talent-target",
                "statement": "Attract 1,000 AI researchers.",
                "policy": "example-city-ai-talent-programme",
                "target_value": "1000",
                "unit": "persons",
                "deadline": "2027",
                "citations": [cite],
            }
        ],
    }


def import_bundle(client: httpx.Client, key: str, bundle: dict[str, Any]) -> dict[str, Any]:
    """Dry-run first, then import for real; return the report."""
    headers = {"Authorization": f"Bearer {key}"}
    dry = client.post("/api/v1/import", params={"dry_run": "true"}, json=bundle, headers=headers)
    dry.raise_for_status()
    response = client.post("/api/v1/import", json=bundle, headers=headers)
    response.raise_for_status()
    report: dict[str, Any] = response.json()
    return report


if __name__ == "__main__":
    with httpx.Client(base_url=os.environ.get("POLICYDB_URL", "http://127.0.0.1:8000")) as http:
        print(import_bundle(http, os.environ["POLICYDB_KEY"], build_bundle()))
