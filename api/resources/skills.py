"""Skills at the reference DevUI's paths: `/skills` (list) and `/skills/{name}` (one, with its instructions).

The reference also installs skills from a GitHub repository over `POST /skills`; here nothing is fetched
from the network: skills are SKILL.md folders in AGENTSTAGE_SKILL_DIRS, so the POST answers 405 saying so.
"""

from __future__ import annotations

import falcon.asgi

from agentstage.api.errors import FieldError
from agentstage.api.resources.base import Op, Resource, dump
from agentstage.api.schemas.common import ErrorSchema
from agentstage.api.schemas.skills import SkillDetailSchema, SkillListSchema

__all__ = ["SkillResource", "SkillsResource"]

_NO_INSTALL = ("skills are not installed over HTTP (nothing is fetched from the network): put a folder with its "
               "SKILL.md in one of AGENTSTAGE_SKILL_DIRS; it is listed at once")


class SkillsResource(Resource):
    OPS = {
        "GET": Op("Skills from the configured folders and the built-ins", "skills", SkillListSchema),
        "POST": Op("Not offered: skills are not installed over HTTP", "skills", ErrorSchema, status=405,
                   description=_NO_INSTALL),
    }

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        skills = await self.backend.call(self.backend.system.skills.all)
        dump(resp, SkillListSchema, {"skills": [s.summary() for s in skills], "count": len(skills)})

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        raise FieldError(405, title="Method not allowed", description=_NO_INSTALL, headers={"Allow": "GET"})


class SkillResource(Resource):
    OPS = {"GET": Op("One skill with its instructions", "skills", SkillDetailSchema, errors=(404,))}

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, name: str) -> None:
        dump(resp, SkillDetailSchema, (await self.backend.call(self.backend.system.skills.get, name)).to_dict())
