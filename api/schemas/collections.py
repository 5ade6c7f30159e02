"""Document collections for retrieval: list them, add documents, search, remove."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from agentstage.api.redaction import RedactedString
from agentstage.api.schemas.common import Timestamp

__all__ = ["AddedSchema", "CollectionRemovedSchema", "CollectionSchema", "DocumentsAddSchema", "SearchResultSchema",
           "SearchSchema"]

MAX_DOCUMENTS = 100
MAX_TEXT = 1_000_000


class CollectionSchema(Schema):
    """A collection with the embedder it was made with and its sizes."""

    name = fields.String(required=True)
    embedder = fields.String(required=True, metadata={"description": "kind:model the vectors were made with"})
    dimensions = fields.Integer(required=True)
    created_at = Timestamp("when it was made", required=True)
    chunks = fields.Integer(required=True)
    sources = fields.Integer(required=True)


class DocumentSchema(Schema):
    source = fields.String(required=True, validate=validate.Length(1, 500),
                           metadata={"description": "a name for the text (a file name); adding it again replaces it"})
    text = fields.String(required=True, validate=validate.Length(1, MAX_TEXT))


class DocumentsAddSchema(Schema):
    """Texts to chunk, embed and store in the collection (made on first use)."""

    documents = fields.List(fields.Nested(DocumentSchema), required=True,
                            validate=validate.Length(1, MAX_DOCUMENTS))
    chunk_size = fields.Integer(load_default=800, validate=validate.Range(100, 10_000))
    overlap = fields.Integer(load_default=100, validate=validate.Range(0, 5_000))

    @validates_schema
    def check_overlap(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("overlap", 100) >= data.get("chunk_size", 800):
            raise ValidationError("must be less than chunk_size", "overlap")


class AddedSchema(Schema):
    collection = fields.String(required=True)
    sources = fields.List(fields.String(), required=True)
    chunks = fields.Integer(required=True, metadata={"description": "chunks stored for these documents"})


class SearchSchema(Schema):
    query = fields.String(required=True, validate=validate.Length(1, 10_000))
    k = fields.Integer(load_default=4, validate=validate.Range(1, 100))


class HitSchema(Schema):
    text = RedactedString(required=True, metadata={"description": "the passage (secrets redacted)"})
    source = fields.String(required=True)
    position = fields.Integer(required=True, metadata={"description": "the chunk's place in its source"})
    score = fields.Float(required=True, metadata={"description": "cosine similarity, 1 is closest"})


class SearchResultSchema(Schema):
    collection = fields.String(required=True)
    hits = fields.List(fields.Nested(HitSchema), required=True)


class CollectionRemovedSchema(Schema):
    collection = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["removed"]})
