"""Thin Falcon resources: load with a schema, call the runtime, dump with a schema."""
