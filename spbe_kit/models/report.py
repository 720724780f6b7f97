"""The documents spbe-kit writes for auditors and donors: the audit report, the handover record
and the region's status report. Their JSON Schemas are published under ``schemas/``
(``spbe-kit schema audit|handover|region-report``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from spbe_kit.models.base import Strict, Text
from spbe_kit.models.shapes import ImageId, ImageRef, Moment, Name, Version, Who

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
    report_key: str | None = Field(
        description="SHA256 fingerprint of the ed25519 key the region signs its status reports with "
        "(spbe-kit report); the donor trusts a report only under this key"
    )
    parties: list[Party]
    apps: list[HandedApp]
    hosts: list[HandedHost]
    accounts: list[Account]
    secrets_held_by: Text
    documents: list[Text]


# The region's status report (``spbe-kit report``): what a donor may read about a region it
# cannot reach. Every string has a closed shape: no free text, no secret, no personal data
# beyond the deploying account that the handover record already names.
_CheckId = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,5}-[0-9]{2}$")]
_Code = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}(\.[0-9]{2}){0,3}$")]
_Plain = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 .,'()/_-]{1,120}$")]
_Days = Annotated[int, Field(ge=-100_000, le=100_000)]


class _Reported(BaseModel):
    """Read from a file a region sent: no coercion, no unknown key."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


class ReportedApp(_Reported):
    id: Name
    version: Version
    image: ImageRef | None
    image_id: ImageId | None = Field(description="sha256 of the image running on the host")
    health: Literal["healthy", "unhealthy", "missing", "unknown"]
    cert_days: _Days | None = Field(description="days the certificate served for the app is still valid")
    last_backup: Moment | None = Field(description="the newest complete backup holding this app")
    last_drill: Moment | None = Field(description="the newest restore drill that covered this app")
    drill_ok: bool | None


class ReportedDeploy(_Reported):
    release: Annotated[int, Field(ge=1, le=1_000_000)]
    when: Moment
    who: Who


class ReportedAudit(_Reported):
    checks: Annotated[int, Field(ge=0, le=10_000)]
    passed: Annotated[int, Field(ge=0, le=10_000)]
    failed: dict[Severity, list[_CheckId]] = Field(description="failing check ids, by severity")


class ReportedBackups(_Reported):
    rpo_s: Annotated[int, Field(ge=1, le=100_000_000)] = Field(
        description="the profile's recovery point target"
    )
    scheduler_ok: bool | None = Field(description="the backup scheduler's last run succeeded")


class ReportedDrift(_Reported):
    checked: bool
    differences: Annotated[int, Field(ge=0, le=100_000)]


class ReportedRegion(_Reported):
    code: _Code
    name: _Plain


class ReportedGrant(_Reported):
    agreement: _Plain
    donor: _Code


class RegionReport(_Reported):
    schema_: Literal["spbe-kit/region-report/v1"] = Field(alias="schema")
    generated: Moment
    source: Literal["hosts", "offline"] = Field(
        description="hosts: read from the region's hosts now; "
        "offline: the rendered tree and the last known state"
    )
    observed: Moment | None = Field(
        description="when the hosts were last read (the report's age for health)"
    )
    region: ReportedRegion
    grant: ReportedGrant
    kit: Version
    catalog: Version
    apps: Annotated[list[ReportedApp], Field(max_length=100)]
    deploy: ReportedDeploy | None
    backups: ReportedBackups
    audit: ReportedAudit
    drift: ReportedDrift


class ReportSignature(_Reported):
    algorithm: Literal["ed25519"]
    key: Annotated[str, StringConstraints(pattern=r"^ssh-ed25519 [A-Za-z0-9+/=]{60,80}$")]
    value: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/=]{80,100}$")]


class SignedReport(_Reported):
    report: RegionReport
    signature: ReportSignature | None = None
