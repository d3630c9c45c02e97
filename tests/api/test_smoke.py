from fastapi.testclient import TestClient


def test_policies_list(client: TestClient) -> None:
    response = client.get("/api/v1/policies", params={"limit": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["items"]) == 5
    assert body["total"] >= 20
