"""Field-selection probe (checks: ``apiaudit.http.checks.fields``).

Asks for one field (``id`` when present) in each common form until one is honoured:
``fields-fields`` (?fields=id, the guide's form), ``fields-jsonapi`` (?fields[type]=id, JSON:API sparse
fieldsets), ``fields-select`` (?select=id), ``fields-odata`` (?$select=id). At most four requests.
"""

from __future__ import annotations

import asyncio

from apiaudit.http.checks.fields import honoured, selectable
from apiaudit.http.checks.pagination import with_param
from apiaudit.http.evidence import Endpoint
from apiaudit.http.probes import ProbeSession


async def probe(session: ProbeSession, endpoint: Endpoint) -> None:
    base = session.base(endpoint)
    if base is None or not base.ok or base.status != 200:
        return
    picked = selectable(endpoint)
    if picked is None:
        return
    name, rtype = picked
    forms = (("fields", "fields"), ("jsonapi", f"fields[{rtype}]"), ("select", "select"),
             ("odata", "$select"))
    # The guide's ?fields= first; when it is ignored, the other three forms in flight together.
    first = await session.fetch(with_param(endpoint.url, "fields", name), purpose="fields-fields")
    if honoured(base, first):
        return
    await asyncio.gather(*(session.fetch(with_param(endpoint.url, key, name), purpose=f"fields-{form}")
                           for form, key in forms[1:]))
