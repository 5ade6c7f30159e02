"""Document collections over HTTP: the same store `agentstage docs` and the `search_documents` tool use."""

from __future__ import annotations

import re
from dataclasses import asdict

import falcon.asgi

from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump, load_body
from agentstage.api.schemas.collections import (
    AddedSchema,
    CollectionRemovedSchema,
    CollectionSchema,
    DocumentsAddSchema,
    SearchResultSchema,
    SearchSchema,
)
from agentstage.runtime.retrieval import Retrieval

__all__ = ["CollectionDocumentsResource", "CollectionResource", "CollectionSearchResource", "CollectionsResource"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise FieldError(422, title="Invalid request", description="some fields are invalid",
                         errors={"name": ["1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"]})
    return name


class _CollectionResource(Resource):
    @property
    def documents(self) -> Retrieval:
        return self.backend.system.tool_context.documents


class CollectionsResource(_CollectionResource):
    OPS = {"GET": Op("Document collections with their embedder and sizes", "collections", CollectionSchema,
                     many=True)}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, CollectionSchema, await self.backend.call(lambda: self.documents.store().collections()), many=True)


class CollectionDocumentsResource(_CollectionResource):
    OPS = {"POST": Op("Chunk, embed and store documents in a collection (made on first use)", "collections",
                      AddedSchema, status=201, body=DocumentsAddSchema, errors=(409, 422),
                      description="A source added again replaces its earlier chunks. A collection keeps the "
                                  "embedder it was made with: documents embedded another way are a 409.")}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        collection = _checked(name)
        body = await load_body(req, DocumentsAddSchema)
        documents = self.documents

        def add() -> int:
            try:
                return documents.store().add_many(collection, [(d["source"], d["text"]) for d in body["documents"]],
                                                  documents.embedder(), chunk_size=body["chunk_size"],
                                                  overlap=body["overlap"])
            except ValueError as exc:
                raise FieldError(409, title="Conflict", description=str(exc), errors={"name": [str(exc)]}) from None

        chunks = await self.backend.call(add)
        sources = [d["source"] for d in body["documents"]]
        await self.backend.commit(req, "collection.add", collection, (), {"sources": sources, "chunks": chunks})
        dump(resp, AddedSchema, {"collection": collection, "sources": sources, "chunks": chunks}, status=201)


class CollectionSearchResource(_CollectionResource):
    OPS = {"POST": Op("The passages of a collection closest to a query", "collections", SearchResultSchema,
                      body=SearchSchema, errors=(404, 409, 422))}

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        collection = _checked(name)
        body = await load_body(req, SearchSchema)

        def search() -> list[dict]:
            try:
                return [asdict(hit) for hit in self.documents.search(collection, body["query"], body["k"])]
            except ValueError as exc:
                raise FieldError(409, title="Conflict", description=str(exc), errors={"name": [str(exc)]}) from None

        dump(resp, SearchResultSchema, {"collection": collection, "hits": await self.backend.call(search)})


class CollectionResource(_CollectionResource):
    OPS = {"DELETE": Op("Delete a collection and its chunks", "collections", CollectionRemovedSchema,
                        errors=(404, 422))}

    async def on_delete(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        collection = _checked(name)
        await self.backend.call(lambda: self.documents.store().remove(collection))
        await self.backend.commit(req, "collection.remove", collection)
        dump(resp, CollectionRemovedSchema, {"collection": collection, "status": "removed"})
