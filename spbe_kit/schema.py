"""JSON Schemas of the profile, the catalog and the reports, as committed under ``schemas/``."""

from __future__ import annotations

import json

from spbe_kit.errors import invalid_choice


def json_schema(kind: str) -> str:
    from pydantic import BaseModel

    from spbe_kit.models.catalog import Catalog
    from spbe_kit.models.profile import Profile
    from spbe_kit.models.report import AuditReport, HandoverRecord, SignedReport

    models: dict[str, type[BaseModel]] = {
        "profile": Profile,
        "catalog": Catalog,
        "audit": AuditReport,
        "handover": HandoverRecord,
        "region-report": SignedReport,
    }
    if kind not in models:
        raise invalid_choice(kind, kind, list(models))
    schema = models[kind].model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://spbe-kit.invalid/schemas/{kind}.schema.json"
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
