"""The documents spbe-kit writes for auditors: the audit report and the handover record.
Their JSON Schemas are published under ``schemas/`` (``spbe-kit schema audit|handover``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from spbe_kit.models.base import Strict, Text

Severity = Literal["critical", "high", "medium", "low", "info"]


class ControlSource(Strict):
    title: str
    document: str
    url: str | None = None
    kind: Literal["primary", "secondary"] = Field(description="primary: the text itself")


class Control(Strict):
    id: str
    framework: str = Field(description="e.g. Perban BSSN 4/2021, UU 27/2022 (PDP), CIS Docker Benchmark")
    version: str = Field(description="The edition the reference belongs to, e.g. v1.6.0")
    ref: str = Field(description="Article, indicator or benchmark id")
    heading: str = Field(description="What the reference is about (the benchmark's title for CIS)")
    wording: Literal["quoted", "paraphrase"] = Field(
        description="quoted: the heading is the source's own words; paraphrase: the kit's summary"
    )
    basis: Literal["regulation", "benchmark", "kit-policy"] = Field(
        description="kit-policy: a value the kit applies to implement a heading that does not state it"
    )
    requires: str
    source: ControlSource


class Evidence(Strict):
    file: str | None = Field(default=None, description="Path in the rendered tree or the profile")
    line: int | None = None
    host: str | None = None
    command: str | None = None
    detail: str | None = None


class Finding(Strict):
    id: str = Field(description="Stable check id, e.g. NET-02")
    status: Literal["pass", "fail", "deviation", "not-applicable"] = Field(
        description="deviation: the control is not followed, for the reason the kit records (accepted)"
    )
    severity: Severity
    title: Text
    remediation: Text
    controls: list[Control] = Field(min_length=1)
    evidence: list[Evidence]
    deviation: Text | None = Field(default=None, description="why the kit deviates (status deviation only)")


class Summary(Strict):
    checks: int
    passed: int
    failed: int
    not_applicable: int
    deviations: int = Field(description="checks whose control the kit deviates from, with a recorded reason")
    failed_by_severity: dict[Severity, int]


class RegionRef(Strict):
    code: str
    name: str


class GrantRef(Strict):
    agreement: str
    donor: str


class TreeRef(Strict):
    manifest_sha256: str | None


class LiveRef(Strict):
    checked_at: str
    hosts: list[str]


class AuditReport(Strict):
    schema_: Literal["spbe-kit/audit/v1"] = Field(alias="schema")
    region: RegionRef
    grant: GrantRef
    tree: TreeRef
    live: LiveRef | None
    summary: Summary
    results: list[Finding]
    appendix: list[Control] = Field(description="Every control the results cite, once, by id")


class Party(Strict):
    role: Text
    code: str
    name: str
    unit: str | None = None
    contact: str | None = None


class HandedApp(Strict):
    id: str
    title: Text
    version: str
    host: str
    url: str
    image: str
    image_id: str | None = Field(description="sha256 of the image running on the host")
    status: Text = Field(description="container state and health on the host, in both languages")
    data_classes: list[str]


class HandedHost(Strict):
    name: str
    address: str
    roles: list[str]
    release: int | None
    components: list[str]


class Account(Strict):
    name: str
    kind: Text
    where: str


class HandoverRecord(Strict):
    schema_: Literal["spbe-kit/handover/v1"] = Field(alias="schema")
    title: Text
    agreement: str
    agreement_date: str
    deployed_at: str | None
    deployed_by: str | None
    manifest_sha256: str | None
    parties: list[Party]
    apps: list[HandedApp]
    hosts: list[HandedHost]
    accounts: list[Account]
    secrets_held_by: Text
    documents: list[Text]
