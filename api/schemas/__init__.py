"""Request and response bodies of the HTTP API (marshmallow 4); the OpenAPI document is built from them."""
