"""The distributed runtime: a coordinator and workers over Redis Streams, and their operations."""

from agentstage.runtime.distributed.node import CoordinatorNode, WorkerNode, WorkerSetup, default_worker_id, load_setup

__all__ = ["CoordinatorNode", "WorkerNode", "WorkerSetup", "default_worker_id", "load_setup"]
