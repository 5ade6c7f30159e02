"""Collection routes: an operator adds documents, anyone with a key searches and lists, an operator removes;
the known passage comes first, bad input is a 4xx naming the field, changes are audited, secrets never leave."""

from __future__ import annotations

import pytest

COLLECTIONS = "/api/v1/collections"
CORPUS = [{"source": "workers.md", "text": "Workers claim tasks from Redis Streams and extend their leases."},
          {"source": "graphs.md", "text": "A graph checkpoints its state after every node transition."},
          {"source": "keys.md", "text": "Rotate the deploy key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD."}]


def add(client, keys, name: str = "handbook", documents=CORPUS, **options):
    return client.simulate_post(f"{COLLECTIONS}/{name}/documents", json={"documents": documents, **options},
                                headers=keys.headers("operator"))


def audit_rows(api_system) -> list[tuple[str, str, str]]:
    return list(api_system.reader().connection.execute(
        "SELECT action, target, role FROM audit_log WHERE action LIKE 'collection.%' ORDER BY ts"))


def test_documents_added_are_listed_and_the_known_passage_comes_first(client, keys, api_system) -> None:
    added = add(client, keys)
    assert added.status_code == 201, added.text
    assert added.json["sources"] == ["workers.md", "graphs.md", "keys.md"] and added.json["chunks"] == 3
    [listed] = client.simulate_get(COLLECTIONS, headers=keys.headers("viewer")).json
    assert (listed["name"], listed["chunks"], listed["sources"]) == ("handbook", 3, 3)
    found = client.simulate_post(f"{COLLECTIONS}/handbook/search", json={"query": "leases of workers", "k": 2},
                                 headers=keys.headers("viewer"))
    assert found.status_code == 200 and found.json["hits"][0]["source"] == "workers.md"
    assert len(found.json["hits"]) == 2 and found.json["hits"][0]["score"] >= found.json["hits"][1]["score"]
    assert audit_rows(api_system) == [("collection.add", "handbook", "operator")]


def test_a_secret_in_a_document_is_redacted_in_search_results(client, keys) -> None:
    add(client, keys)
    found = client.simulate_post(f"{COLLECTIONS}/handbook/search", json={"query": "deploy key", "k": 3},
                                 headers=keys.headers("viewer"))
    assert "sk-proj-abcdefghijklmnopqrstuvwxyz" not in found.text and "[REDACTED:" in found.text


def test_a_source_added_again_replaces_its_chunks(client, keys) -> None:
    add(client, keys)
    add(client, keys, documents=[{"source": "workers.md", "text": "Workers drain within five seconds."}])
    [listed] = client.simulate_get(COLLECTIONS, headers=keys.headers("viewer")).json
    assert (listed["chunks"], listed["sources"]) == (3, 3)
    hits = client.simulate_post(f"{COLLECTIONS}/handbook/search", json={"query": "drain", "k": 1},
                                headers=keys.headers("viewer")).json["hits"]
    assert hits[0]["text"] == "Workers drain within five seconds."


def test_an_operator_removes_a_collection_and_then_it_is_gone(client, keys, api_system) -> None:
    add(client, keys)
    removed = client.simulate_delete(f"{COLLECTIONS}/handbook", headers=keys.headers("operator"))
    assert removed.status_code == 200 and removed.json == {"collection": "handbook", "status": "removed"}
    assert client.simulate_get(COLLECTIONS, headers=keys.headers("viewer")).json == []
    assert client.simulate_delete(f"{COLLECTIONS}/handbook", headers=keys.headers("operator")).status_code == 404
    assert client.simulate_post(f"{COLLECTIONS}/handbook/search", json={"query": "x"},
                                headers=keys.headers("viewer")).status_code == 404
    assert audit_rows(api_system)[-1] == ("collection.remove", "handbook", "operator")


@pytest.mark.parametrize(("name", "body", "field"), [
    ("handbook", {"documents": []}, "documents"),
    ("handbook", {"documents": [{"source": "a.md"}]}, "documents"),
    ("handbook", {"documents": [{"source": "a.md", "text": "x" * 1_000_001}]}, "documents"),
    ("handbook", {"documents": CORPUS, "chunk_size": 200, "overlap": 200}, "overlap"),
    ("handbook", {"documents": "all of them"}, "documents"),
    ("-leading", {"documents": CORPUS}, "name"),
    ("a" * 101, {"documents": CORPUS}, "name"),
])
def test_bad_input_is_a_4xx_naming_the_field_and_stores_nothing(client, keys, name, body, field) -> None:
    result = client.simulate_post(f"{COLLECTIONS}/{name}/documents", json=body, headers=keys.headers("operator"))
    assert result.status_code in (413, 422), result.text
    if result.status_code == 422:
        assert field in result.json["errors"], result.json
    assert client.simulate_get(COLLECTIONS, headers=keys.headers("viewer")).json == []


def test_a_traversal_in_the_name_reaches_no_collection(client, keys) -> None:
    for name in ("..%2f..%2fetc", "..", "%2e%2e"):
        result = client.simulate_post(f"{COLLECTIONS}/{name}/documents", json={"documents": CORPUS},
                                      headers=keys.headers("operator"))
        assert result.status_code in (404, 422), (name, result.text)
    assert client.simulate_get(COLLECTIONS, headers=keys.headers("viewer")).json == []


def test_a_query_out_of_bounds_names_its_field(client, keys) -> None:
    add(client, keys)
    for body, field in (({"query": ""}, "query"), ({"query": "x", "k": 0}, "k"), ({"query": "x", "k": 101}, "k"),
                        ({}, "query")):
        result = client.simulate_post(f"{COLLECTIONS}/handbook/search", json=body, headers=keys.headers("viewer"))
        assert result.status_code == 422 and field in result.json["errors"], (body, result.text)


def test_a_viewer_cannot_add_or_remove(client, keys) -> None:
    add(client, keys)
    assert client.simulate_post(f"{COLLECTIONS}/handbook/documents", json={"documents": CORPUS},
                                headers=keys.headers("viewer")).status_code == 403
    assert client.simulate_delete(f"{COLLECTIONS}/handbook", headers=keys.headers("viewer")).status_code == 403


def test_a_query_the_embedder_finds_nothing_in_scores_zero_instead_of_failing(client, keys) -> None:
    add(client, keys)
    result = client.simulate_post(f"{COLLECTIONS}/handbook/search", json={"query": "\u008e", "k": 2},
                                  headers=keys.headers("viewer"))
    assert result.status_code == 200 and all(hit["score"] == 0.0 for hit in result.json["hits"])
