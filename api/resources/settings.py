"""Provider settings at the reference DevUI's paths: `settings/provider-env` (read only) and
`settings/provider-models`.

Unlike the reference, provider settings cannot be changed over HTTP: its PUT rewrote the process
environment and wrote the submitted keys into the audit log. Here they come from the environment or
`.env` of each process (API, coordinator, workers alike), so a PUT answers 405 saying so.
"""

from __future__ import annotations

import falcon.asgi

from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump, load_query
from agentstage.api.schemas.common import ErrorSchema
from agentstage.api.schemas.settings import ProviderEnvSchema, ProviderModelsQuery, ProviderModelsSchema
from agentstage.runtime.llm.models import list_models
from agentstage.runtime.llm.settings import provider_env

__all__ = ["ProviderEnvResource", "ProviderModelsResource"]

_READ_ONLY = ("provider settings are read from the environment or .env of each agentstage process "
              "(see .env.example); set them there and restart, they are not changed over HTTP")


class ProviderEnvResource(Resource):
    OPS = {
        "GET": Op("Provider variables: which are set, the values of those that are not secret", "settings",
                  ProviderEnvSchema),
        "PUT": Op("Not offered: provider settings are not changed over HTTP", "settings", ErrorSchema, status=405,
                  description=_READ_ONLY),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        dump(resp, ProviderEnvSchema, provider_env(self.backend.system.config))

    async def on_put(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        raise FieldError(405, title="Method not allowed", description=_READ_ONLY, headers={"Allow": "GET"})


class ProviderModelsResource(Resource):
    OPS = {"GET": Op("Models a provider offers: from its server when configured, else a fallback list", "settings",
                     ProviderModelsSchema, query=ProviderModelsQuery, errors=(422,),
                     description="The provider's server is asked (20 s at most) only when it is configured; "
                                 "the current model is always listed.")}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        provider = load_query(req, ProviderModelsQuery)["provider"]
        dump(resp, ProviderModelsSchema, await self.backend.call(list_models, self.backend.system.config, provider))
