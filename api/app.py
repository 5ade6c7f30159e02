"""The Falcon app factory: routes, middleware, error handling, the OpenAPI document.

    from agentstage.api import create_app
    app = create_app(system)          # a started System; an ASGI app for any ASGI server

`agentstage ui-api` serves it with uvicorn (`agentstage.api.serve`). `get_app()` builds the
System from the environment, for `uvicorn --factory agentstage.api.app:get_app`.
"""

from __future__ import annotations

import atexit
from collections.abc import Iterable

import falcon

from agentstage.api.asgi import App
from agentstage.api.audit import AuditMiddleware
from agentstage.api.auth import AuthMiddleware
from agentstage.api.backend import Backend
from agentstage.api.errors import install_error_handling
from agentstage.api.middleware import (
    BodyLimitMiddleware,
    ErrorLogMiddleware,
    JsonOnlyMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from agentstage.api.openapi import build_openapi
from agentstage.api.resources.admin import AuditResource, KeyResource, KeysResource, LoginResource, MeResource
from agentstage.api.resources.base import Resource
from agentstage.api.resources.catalog import (
    BindingResource,
    BundlesResource,
    CatalogResource,
    CredentialsResource,
    GuardrailsResource,
    InstanceResource,
    InstancesResource,
    ProvidersResource,
    RegistryResource,
    TemplatesResource,
)
from agentstage.api.resources.collections import (
    CollectionDocumentsResource,
    CollectionResource,
    CollectionSearchResource,
    CollectionsResource,
)
from agentstage.api.resources.prompts import (
    PromptRenderResource,
    PromptResource,
    PromptsResource,
    PromptValidateResource,
)
from agentstage.api.resources.flows import FlowResource, FlowRunResource, FlowsResource
from agentstage.api.resources.orchestrations import OrchestrationResource, OrchestrationsResource, PatternsResource
from agentstage.api.resources.playground import PlaygroundRunResource, PlaygroundStreamResource
from agentstage.api.resources.skills import SkillResource, SkillsResource
from agentstage.api.resources.cron import CronHistoryResource, CronJobResource, CronJobsResource, CronTriggerResource
from agentstage.api.resources.dlq import DlqEntryResource, DlqRequeueResource, DlqResource
from agentstage.api.resources.evals import EvalCompareResource, EvalResource, EvalsResource
from agentstage.api.resources.events import EventsResource, EventStreamResource, RunStreamResource
from agentstage.api.resources.files import FileDownloadResource, FileViewResource
from agentstage.api.resources.meta import (
    HealthResource,
    MetricsResource,
    MetricsSeriesResource,
    OpenApiResource,
    ReadyResource,
)
from agentstage.api.resources.runs import (
    RunCheckpointResource,
    RunCheckpointsResource,
    RunEventsResource,
    RunResource,
    RunsResource,
)
from agentstage.api.resources.runtime import AttemptsResource, DetailsResource, QueuesResource, WorkersResource
from agentstage.api.resources.settings import ProviderEnvResource, ProviderModelsResource
from agentstage.api.resources.sessions import SessionRunsResource, SessionsResource
from agentstage.api.resources.steering import CancelResource, RequeueResource, RunForkResource, RunResumeResource
from agentstage.api.resources.workflows import WorkflowRegistryResource, WorkflowResource, WorkflowsResource
from agentstage.api.ui import UI_PREFIX, mount_ui
from agentstage.api.validation import loads
from agentstage.runtime import Config, System
from agentstage.runtime.control import LocalControl, QueuedControl, RunControl
from agentstage.runtime.distributed.ops import RuntimeOps

__all__ = ["create_app", "get_app"]

V1 = "/api/v1"


def _routes(backend: Backend) -> dict[str, Resource]:
    return {
        "/healthz": HealthResource(backend),
        "/readyz": ReadyResource(backend),
        f"{V1}/auth/login": LoginResource(backend),
        f"{V1}/auth/me": MeResource(backend),
        f"{V1}/auth/keys": KeysResource(backend),
        f"{V1}/auth/keys/{{key_id}}": KeyResource(backend),
        f"{V1}/audit": AuditResource(backend),
        f"{V1}/runs": RunsResource(backend),
        f"{V1}/runs/{{run_id}}": RunResource(backend),
        f"{V1}/runs/{{run_id}}/events": RunEventsResource(backend),
        f"{V1}/runs/{{run_id}}/events/stream": RunStreamResource(backend),
        f"{V1}/runs/{{run_id}}/checkpoints": RunCheckpointsResource(backend),
        f"{V1}/runs/{{run_id}}/checkpoints/{{step:int}}": RunCheckpointResource(backend),
        f"{V1}/runs/{{run_id}}/resume": RunResumeResource(backend),
        f"{V1}/runs/{{run_id}}/fork": RunForkResource(backend),
        f"{V1}/sessions": SessionsResource(backend),
        f"{V1}/sessions/{{session_id}}/runs": SessionRunsResource(backend),
        f"{V1}/events": EventsResource(backend),
        f"{V1}/stream/events": EventStreamResource(backend),
        f"{V1}/metrics/summary": MetricsResource(backend),
        f"{V1}/metrics/timeseries": MetricsSeriesResource(backend),
        f"{V1}/runtime/workers": WorkersResource(backend),
        f"{V1}/runtime/queues": QueuesResource(backend),
        f"{V1}/runtime/details": DetailsResource(backend),
        f"{V1}/runtime/dlq": DlqResource(backend),
        f"{V1}/runtime/dlq/{{dlq_id}}": DlqEntryResource(backend),
        f"{V1}/runtime/dlq/{{dlq_id}}/requeue": DlqRequeueResource(backend),
        f"{V1}/runtime/runs/{{run_id}}/cancel": CancelResource(backend),
        f"{V1}/runtime/runs/{{run_id}}/requeue": RequeueResource(backend),
        f"{V1}/runtime/runs/{{run_id}}/attempts": AttemptsResource(backend),
        f"{V1}/tools/registry": RegistryResource(backend),
        f"{V1}/tools/bundles": BundlesResource(backend),
        f"{V1}/tools/catalog": CatalogResource(backend),
        f"{V1}/tools/templates": TemplatesResource(backend),
        f"{V1}/tools/instances": InstancesResource(backend),
        f"{V1}/tools/instances/{{name}}": InstanceResource(backend),
        f"{V1}/workflows/{{name}}/tools/{{tool}}": BindingResource(backend),
        f"{V1}/guardrails": GuardrailsResource(backend),
        f"{V1}/integrations/providers": ProvidersResource(backend),
        f"{V1}/integrations/credentials": CredentialsResource(backend),
        f"{V1}/cron/jobs": CronJobsResource(backend),
        f"{V1}/cron/jobs/{{name}}": CronJobResource(backend),
        f"{V1}/cron/jobs/{{name}}/trigger": CronTriggerResource(backend),
        f"{V1}/cron/jobs/{{name}}/history": CronHistoryResource(backend),
        f"{V1}/cron/jobs/{{name}}/logs": CronHistoryResource(backend, "logs"),
        f"{V1}/files/view": FileViewResource(backend),
        f"{V1}/files/download": FileDownloadResource(backend),
        f"{V1}/settings/provider-env": ProviderEnvResource(backend),
        f"{V1}/settings/provider-models": ProviderModelsResource(backend),
        f"{V1}/flows": FlowsResource(backend),
        f"{V1}/flows/{{name}}": FlowResource(backend),
        f"{V1}/flows/{{name}}/run": FlowRunResource(backend),
        f"{V1}/playground/run": PlaygroundRunResource(backend),
        f"{V1}/playground/stream": PlaygroundStreamResource(backend),
        f"{V1}/skills": SkillsResource(backend),
        f"{V1}/skills/{{name}}": SkillResource(backend),
        f"{V1}/prompts": PromptsResource(backend),
        f"{V1}/prompts/render": PromptRenderResource(backend),
        f"{V1}/prompts/validate": PromptValidateResource(backend),
        f"{V1}/prompts/{{ref}}": PromptResource(backend),
        f"{V1}/collections": CollectionsResource(backend),
        f"{V1}/collections/{{name}}": CollectionResource(backend),
        f"{V1}/collections/{{name}}/documents": CollectionDocumentsResource(backend),
        f"{V1}/collections/{{name}}/search": CollectionSearchResource(backend),
        f"{V1}/evals": EvalsResource(backend),
        f"{V1}/evals/compare": EvalCompareResource(backend),
        f"{V1}/evals/{{eval_id}}": EvalResource(backend),
        f"{V1}/workflows": WorkflowsResource(backend),
        f"{V1}/workflows/registry": WorkflowRegistryResource(backend),
        f"{V1}/workflows/{{name}}": WorkflowResource(backend),
        f"{V1}/orchestrations": OrchestrationsResource(backend),
        f"{V1}/orchestrations/patterns": PatternsResource(backend),
        f"{V1}/orchestrations/{{name}}": OrchestrationResource(backend),
    }


def create_app(
    system: System,
    config: Config | None = None,
    *,
    local_admin: bool = False,
    login_tokens: Iterable[str] = (),
    control: RunControl | None = None,
    ops: RuntimeOps | None = None,
) -> App:
    """An ASGI app (`falcon.asgi.App`) serving the DevUI API over a started `system`; `app.backend` is
    what its resources share (`app.backend.close()` ends its streams and its thread pool).

    Args:
        system: the runtime (reads go to its state file, writes through its store actor).
        config: API settings (default: the system's config).
        local_admin: let loopback requests without a key in as admin (opt-in, for `agentstage ui`).
        login_tokens: one-time tokens `POST /api/v1/auth/login` exchanges for an admin key.
        control: how runs start and are steered (default: `LocalControl(system)`, in this process).
        ops: the distributed runtime's operations, for `control=QueuedControl(system, ops)`: runs go to
            its coordinator and workers.

    Every route is served in both modes; one that cannot apply (the DLQ in local mode) answers 409.
    """
    if control is None:
        control = QueuedControl(system, ops) if ops is not None else LocalControl(system)
    backend = Backend(system, control, config)
    backend.login_tokens.update(login_tokens)
    settings = backend.config
    origins = [o.strip() for o in settings.api_cors_origins.split(",") if o.strip()]
    middleware: list[object] = [SecurityHeadersMiddleware(UI_PREFIX, cors=bool(origins)), ErrorLogMiddleware(),
                                RequestIdMiddleware(), BodyLimitMiddleware(settings.api_max_body), JsonOnlyMiddleware(),
                                AuthMiddleware(backend, local_admin=local_admin), AuditMiddleware(backend)]
    if origins:
        middleware.insert(0, falcon.CORSMiddleware(allow_origins=origins, expose_headers=["X-Request-ID"]))
    app = App(middleware=middleware)
    app.backend = backend
    app.req_options.strip_url_path_trailing_slash = True
    # NOTE: JSON only: Falcon would otherwise parse form and multipart bodies into the same dicts.
    app.req_options.media_handlers = falcon.media.Handlers({falcon.MEDIA_JSON: falcon.media.JSONHandler(loads=loads)})
    install_error_handling(app)
    resources = _routes(backend)
    openapi = OpenApiResource(backend, {})
    resources[f"{V1}/openapi.json"] = openapi
    for template, resource in resources.items():
        app.add_route(template, resource)
    openapi.document = build_openapi(app, resources, control.capabilities())
    mount_ui(app)
    return app


def get_app() -> App:
    """The app over a System built from the environment (started now, stopped at exit)."""
    system = System(Config.from_env()).start()
    atexit.register(system.stop)
    return create_app(system)
