"""The distributed runtime: a coordinator and workers over Redis Streams, and their operations."""

from agentstage.runtime.lazy import lazy_exports as _lazy_exports

__getattr__ = _lazy_exports(__name__, {
    "CoordinatorNode": "agentstage.runtime.distributed.node",
    "WorkerNode": "agentstage.runtime.distributed.node",
    "WorkerSetup": "agentstage.runtime.distributed.node",
    "default_worker_id": "agentstage.runtime.distributed.node",
    "load_setup": "agentstage.runtime.distributed.node",
})

__all__ = ["CoordinatorNode", "WorkerNode", "WorkerSetup", "default_worker_id", "load_setup"]
