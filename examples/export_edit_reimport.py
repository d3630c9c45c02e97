"""Export the whole database, edit one record, check the edit with a dry run, re-import it.

POLICYDB_URL=http://127.0.0.1:8000 POLICYDB_KEY=pdb_... python examples/export_edit_reimport.py
"""

import os
from typing import Any

import httpx


def export_edit_reimport(
    client: httpx.Client, key: str, slug: str, new_summary: str
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    bundle = client.get("/api/v1/export", params={"format": "json"}).json()
    policy = next(p for p in bundle["policies"] if p["slug"] == slug)
    policy["summary"] = new_summary
    dry = client.post("/api/v1/import", params={"dry_run": "true"}, json=bundle, headers=headers)
    dry.raise_for_status()
    assert dry.json()["counts"]["policies"]["updated"] == 1, dry.json()
    response = client.post("/api/v1/import", json=bundle, headers=headers)
    response.raise_for_status()
    report: dict[str, Any] = response.json()
    return report


if __name__ == "__main__":
    with httpx.Client(base_url=os.environ.get("POLICYDB_URL", "http://127.0.0.1:8000")) as http:
        report = export_edit_reimport(
            http,
            os.environ["POLICYDB_KEY"],
            "new-generation-ai-development-plan",
            "China's 2017 national plan to lead the world in AI by 2030 (edited).",
        )
        print(report)
