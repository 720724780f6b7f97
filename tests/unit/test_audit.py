"""The offline audit: every example yields HTML, JSON (valid against its published schema)
and Markdown; each hand modification of a rendered tree yields its finding and exit 3."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from e2e.helpers import spbe_kit

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "profiles").glob("*.yaml"))
SCHEMA = json.loads((ROOT / "schemas" / "audit.schema.json").read_text())


@pytest.mark.parametrize("profile", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_audits_in_three_formats(profile: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for fmt in ("json", "md", "html"):
        done = spbe_kit("audit", str(profile), "--tree", str(tree), "-o", str(tmp_path / f"audit.{fmt}"))
        assert done.returncode in (0, 3), done.stderr
    report = json.loads((tmp_path / "audit.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["summary"]["checks"] == len(report["results"]) >= 30
    assert all(r["controls"] for r in report["results"])
    assert {r["id"] for r in report["results"]} >= {"NET-02", "CTR-09", "SEC-01", "IMG-01", "LOC-01"}
    # Every control with its version and source; the appendix lists each cited one once.
    cited = {c["id"]: c for r in report["results"] for c in r["controls"]}
    assert all(c["version"] and c["source"]["title"] and c["source"]["kind"] for c in cited.values())
    assert [c["id"] for c in report["appendix"]] == sorted(cited)
    assert cited["cis-docker-5.26"]["version"] == "v1.6.0"
    assert cited["bssn-password-length"]["basis"] == "kit-policy"
    markdown = (tmp_path / "audit.md").read_text()
    assert markdown.startswith("# Laporan audit SPBE / SPBE audit report")
    assert "## Lampiran: kontrol dan sumbernya / Appendix: controls and their sources" in markdown
    assert markdown.count("\n| cis-docker-") == sum(c.startswith("cis-docker-") for c in cited)
    assert "CIS Docker Benchmark v1\\.6\\.0, 5\\.26" in markdown
    assert "(kebijakan kit / kit policy)" in markdown
    html = (tmp_path / "audit.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and 'lang="id"' in html
    assert html.count('<tr id="control-') == len(cited) and 'href="#control-cis-docker-5.26"' in html


@pytest.fixture()
def clean(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A demo profile with every declaration an auditor asks for and a catalog with digests,
    so its audit passes at every severity; returns (profile, catalog, tree)."""
    key = "age1ytduxg3yewxsxzkv0epez8zxqyhp7x3lpeerdfd9j2jm9fqm9s6qwcwx7e"
    data = yaml.safe_load((ROOT / "examples" / "profiles" / "demo.yaml").read_text())
    data["backup"].update(copy_to="/srv/cadangan", encrypt_to=key)
    data["security"] = {"last_audit": (datetime.date.today() - datetime.timedelta(days=100)).isoformat()}
    data["breach_notice"]["last_exercise"] = (datetime.date.today() - datetime.timedelta(days=30)).isoformat()
    data["monitoring"]["webhooks"] = ["https://chat.kuningankab.localhost/hooks/spbe"]
    profile = tmp_path / "demo.yaml"
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    catalog = tmp_path / "catalog.yaml"
    text = (ROOT / "catalog.yaml").read_text()
    counter = iter(range(1000))
    text = re.sub(
        r"(\n( +)image: (\S+)\n)",
        lambda m: f"{m.group(1)}{m.group(2)}digest: sha256:{next(counter):064x}\n",
        text,
    )
    catalog.write_text(text)
    tree = tmp_path / "tree"
    done = spbe_kit(
        "--catalog", str(catalog), "audit", str(profile), "--tree", str(tree), "--fail-on", "info"
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    return profile, catalog, tree


def audit(clean: tuple[Path, Path, Path], tmp_path: Path, images: Path | None = None) -> tuple[int, dict]:
    profile, catalog, tree = clean
    out = tmp_path / "report.json"
    done = spbe_kit(
        "--catalog",
        str(catalog),
        "audit",
        str(profile),
        "--tree",
        str(tree),
        "-o",
        str(out),
        "--fail-on",
        "medium",
        "--images",
        str(images or tmp_path / "no-image-lock"),
    )
    return done.returncode, json.loads(out.read_text())


def failing(report: dict) -> dict[str, list[dict]]:
    return {r["id"]: r["evidence"] for r in report["results"] if r["status"] == "fail"}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_published_database_port(clean, tmp_path: Path) -> None:
    compose = clean[2] / "hosts/local/postgres/compose.yaml"
    edit(compose, "    networks:\n", '    ports:\n      - "5432:5432"\n    networks:\n')
    code, report = audit(clean, tmp_path)
    assert code == 3
    found = failing(report)
    assert found["NET-02"][0]["file"] == "hosts/local/postgres/compose.yaml"
    assert found["NET-02"][0]["line"] > 1 and "5432 on 0.0.0.0" in found["NET-02"][0]["detail"]
    assert "INT-01" in found  # the file no longer matches the manifest


def test_a_privileged_container(clean, tmp_path: Path) -> None:
    compose = clean[2] / "hosts/local/simpeg/compose.yaml"
    edit(compose, "    read_only: true\n", "    read_only: true\n    privileged: true\n")
    code, report = audit(clean, tmp_path)
    assert code == 3
    evidence = failing(report)["CTR-09"][0]
    assert evidence["file"] == "hosts/local/simpeg/compose.yaml" and "privileged" in evidence["detail"]


def test_seccomp_off_a_sensitive_host_folder_and_a_host_device(clean, tmp_path: Path) -> None:
    """CIS Docker Benchmark v1.6.0 5.22, 5.6 and 5.18, each located in the compose file."""
    compose = clean[2] / "hosts/local/simpeg/compose.yaml"
    nnp = '      - "no-new-privileges:true"\n'
    edit(compose, nnp, nnp + '      - "seccomp=unconfined"\n')
    mounts = "    devices:\n      - /dev/kmsg\n    volumes:\n      - /etc/../etc/shadow:/x:ro\n"
    edit(compose, "    volumes:\n", mounts)
    code, report = audit(clean, tmp_path)
    assert code == 3
    found = failing(report)
    assert "seccomp unconfined" in found["CTR-10"][0]["detail"]
    assert "/etc/../etc/shadow" in found["CTR-11"][0]["detail"] and found["CTR-11"][0]["line"] > 1
    assert "host devices" in found["CTR-12"][0]["detail"]
    cited = {r["id"]: [c["ref"] for c in r["controls"]] for r in report["results"]}
    assert (cited["CTR-10"], cited["CTR-11"], cited["CTR-12"]) == (["5.22"], ["5.6"], ["5.18"])


def test_a_secret_value_pasted_into_an_env_file(clean, tmp_path: Path) -> None:
    from spbe_kit import pipeline
    from spbe_kit.hosts import vault
    from spbe_kit.render.context import build_context

    profile, catalog, tree = clean
    validated = pipeline.validate(profile, catalog)
    password = tmp_path / "demo.vault-password"
    password.write_text("correct horse battery staple\n")
    vault.ensure(build_context(validated.profile, validated.catalog), profile, password)
    secret = vault.Secrets(vault.load(vault.vault_path(profile), password)).data["postgres"][
        "superuser_password"
    ]
    compose = tree / "hosts/local/postgres/compose.yaml"
    edit(compose, '      PGDATA: "', f'      POSTGRES_PASSWORD: "{secret}"\n      PGDATA: "')
    code, report = audit(clean, tmp_path)
    assert code == 3
    evidence = failing(report)["SEC-01"]
    assert evidence[0]["file"] == "hosts/local/postgres/compose.yaml"
    assert secret not in json.dumps(report)  # the report points at it, never repeats it


def test_a_high_entropy_string_without_the_vault(clean, tmp_path: Path) -> None:
    compose = clean[2] / "hosts/local/e-simpati/compose.yaml"
    edit(
        compose,
        "    read_only: true\n",
        '    read_only: true\n    environment:\n      API_KEY: "q8Zr2LmX9vTb4NcW7yHs1KdP3fGj6RtE"\n',
    )
    code, report = audit(clean, tmp_path)
    assert code == 3
    assert failing(report)["SEC-02"][0]["file"] == "hosts/local/e-simpati/compose.yaml"


def test_an_image_without_a_digest(clean, tmp_path: Path) -> None:
    compose = clean[2] / "hosts/local/layanan-publik/compose.yaml"
    text = compose.read_text()
    compose.write_text(re.sub(r"(image: \"?spbe-kit/layanan-publik:1\.0\.0)@sha256:[0-9a-f]+", r"\1", text))
    code, report = audit(clean, tmp_path)
    assert code == 3
    evidence = failing(report)["IMG-01"]
    assert [e["file"] for e in evidence] == ["hosts/local/layanan-publik/compose.yaml"]


def test_an_image_id_recorded_by_images_build_or_the_bundle_pins_a_tag(clean, tmp_path: Path) -> None:
    """IMG-01 without a registry: the tag's image ID in images.lock.json (``images build``) or
    in an imported bundle's signed bundle.json pins it as a digest would; a tag neither names
    fails, naming the file it looked in."""
    compose = clean[2] / "hosts/local/layanan-publik/compose.yaml"
    text = compose.read_text()
    compose.write_text(re.sub(r"(image: \"?spbe-kit/layanan-publik:1\.0\.0)@sha256:[0-9a-f]+", r"\1", text))
    lock = tmp_path / "images"
    lock.mkdir()
    image_id = "sha256:" + "ab" * 32
    (lock / "images.lock.json").write_text(json.dumps({"spbe-kit/layanan-publik:1.0.0": {"id": image_id}}))
    _, report = audit(clean, tmp_path, lock)
    assert "IMG-01" not in failing(report)  # (the edit itself fails the manifest and asset checks)
    found = {r["id"]: r for r in report["results"]}["IMG-01"]["evidence"]
    assert any(image_id[:19] in e["detail"] and "images.lock.json" in e["detail"] for e in found)
    bundle = tmp_path / "imported"
    bundle.mkdir()
    (bundle / "bundle.json").write_text(json.dumps({"images": {"spbe-kit/simpeg:1.0.0": image_id}}))
    _, report = audit(clean, tmp_path, bundle)
    (evidence,) = failing(report)["IMG-01"]
    assert "layanan-publik:1.0.0 is a tag with no recorded image ID (not in" in evidence["detail"]
    assert "bundle.json" in evidence["detail"]


def test_a_weakened_password_policy(clean, tmp_path: Path) -> None:
    config = clean[2] / "hosts/local/simpeg/config.json"
    edit(config, '"password_min_length": 12', '"password_min_length": 8')
    code, report = audit(clean, tmp_path)
    assert code == 3
    evidence = failing(report)["AUTH-01"][0]
    assert (
        evidence["file"] == "hosts/local/simpeg/config.json"
        and "password_min_length = 8" in evidence["detail"]
    )
    passed = {r["id"]: r for r in report["results"]}["LOC-01"]
    assert passed["status"] == "pass" and passed["evidence"][0]["file"].endswith("demo.yaml")


def test_database_traffic_without_tls(clean, tmp_path: Path) -> None:
    """NET-03: a pg_hba.conf line that accepts plain TCP logins, or an app that does not verify
    the server, is found with its file and line (UU 27/2022 Pasal 35, Perban BSSN 4/2021)."""
    _, _, tree = clean
    code, report = audit(clean, tmp_path)
    assert code == 0 and "NET-03" not in failing(report)
    hba = tree / "hosts" / "local" / "postgres" / "pg_hba.conf"
    edit(hba, "hostssl    all       all       0.0.0.0/0", "host       all       all       0.0.0.0/0")
    edit(tree / "hosts" / "local" / "simpeg" / "config.json", '"verify-full"', '"disable"')
    code, report = audit(clean, tmp_path)
    found = failing(report)["NET-03"]
    assert code == 3
    files = {e["file"] for e in found}
    assert files == {"hosts/local/postgres/pg_hba.conf", "hosts/local/simpeg/config.json"}
    assert any("accepts TCP logins without TLS" in e["detail"] for e in found)
    controls = next(r["controls"] for r in report["results"] if r["id"] == "NET-03")
    assert {c["id"] for c in controls} == {"bssn-web-communication", "uu-pdp-35"}


def test_port_evidence_names_the_published_port(tmp_path: Path) -> None:
    """Karawang's proxy publishes 80 and 443 (to nginx's unprivileged 8080 and 8443 inside)."""
    out = tmp_path / "a.json"
    spbe_kit(
        "audit",
        str(ROOT / "examples" / "profiles" / "karawang.yaml"),
        "--tree",
        str(tmp_path / "t"),
        "-o",
        str(out),
    )
    details = [
        e["detail"]
        for r in json.loads(out.read_text())["results"]
        if r["id"] == "NET-01"
        for e in r["evidence"]
    ]
    assert any(d.startswith("proxy publishes 80 on ") and "(container port 8080)" in d for d in details), (
        details
    )
    assert any(d.startswith("proxy publishes 443 on ") for d in details), details


def test_secrets_older_than_the_profiles_maximum_fail_sec_03(clean, tmp_path: Path) -> None:
    from spbe_kit import pipeline
    from spbe_kit.hosts import vault
    from spbe_kit.render.context import build_context

    profile, catalog, _ = clean
    validated = pipeline.validate(profile, catalog)
    password = tmp_path / "demo.vault-password"
    password.write_text("correct horse battery staple\n")
    vault.ensure(build_context(validated.profile, validated.catalog), profile, password)
    code, report = audit(clean, tmp_path)
    assert code == 0 and "SEC-03" not in failing(report)  # a new vault: every value dated today
    data = vault.load(vault.vault_path(profile), password)
    old = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=400)
    vault.stamp(data, ["simpeg.db_password"], old)
    del data["public"]["set_at"]["postgres.superuser_password"]
    vault.save(vault.vault_path(profile), password, data)
    code, report = audit(clean, tmp_path)
    assert code == 3
    assert sorted(e["detail"] for e in failing(report)["SEC-03"]) == [
        "postgres.superuser_password: age unknown (set before the kit recorded dates); max 365 days",
        f"simpeg.db_password: set {old.date()}, 400 days ago (max 365)",
    ]
    data = yaml.safe_load(profile.read_text())
    data["security"]["secret_max_age_days"] = 500
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    code, report = audit(clean, tmp_path)
    assert [e["detail"].split(":")[0] for e in failing(report)["SEC-03"]] == ["postgres.superuser_password"]


def test_a_served_certificate_that_is_not_the_vaults_fails_tls_05() -> None:
    from spbe_kit.auditors import audit

    def check(served: dict[str, str], expected: dict[str, str] | None) -> list[tuple[str, str]]:
        out = audit._Results()
        audit._check_served(audit.LiveFacts(0.0, "web1", [], [], {}, [], served, expected), out)
        return [(r.status, r.evidence[0].detail if r.evidence else "") for r in out.results()]

    good, bad = "a" * 64, "b" * 64
    assert check({"simpeg.x.go.id": good}, {"simpeg.x.go.id": good})[0][0] == "pass"
    failed = check(
        {"simpeg.x.go.id": bad, "simpati.x.go.id": good}, {"simpeg.x.go.id": good, "simpati.x.go.id": good}
    )
    assert failed[0][0] == "fail" and "simpeg.x.go.id: serves bbbbbbbbbbbb, vault aaaaaaaaaaaa" in str(failed)
    assert check({"simpeg.x.go.id": bad}, None)[0][0] == "not-applicable"


def test_a_certificate_is_public_but_a_private_key_is_flagged(clean, tmp_path: Path) -> None:
    """A root certificate in the tree (tls.ca under ACME) is public; a private key is not."""
    from certs import chain

    (tmp_path / "pki").mkdir()
    files = chain(tmp_path / "pki", ["simpati.example.go.id"])
    tree = clean[2]
    (tree / "hosts/local/proxy/acme-trust.pem").write_text(files["root"].read_text())
    code, report = audit(clean, tmp_path)
    assert "SEC-02" not in failing(report)
    (tree / "hosts/local/proxy/leaked.pem").write_text(files["key"].read_text())
    code, report = audit(clean, tmp_path)
    assert code == 3 and failing(report)["SEC-02"][0]["file"] == "hosts/local/proxy/leaked.pem"


def test_a_proxy_that_names_its_version_or_drops_a_hardening_header(clean, tmp_path: Path) -> None:
    """HDR-01 on the rendered proxy: server_tokens off in nginx.conf, nosniff and a frame
    policy on each virtual host, each failure located."""
    proxy = clean[2] / "hosts/local/proxy"
    edit(proxy / "nginx.conf", "server_tokens off;", "server_tokens on;")
    edit(proxy / "conf.d/simpeg.conf", 'add_header X-Frame-Options "DENY" always;\n', "")
    code, report = audit(clean, tmp_path)
    assert code == 3
    found = {(e["file"], e["detail"]) for e in failing(report)["HDR-01"]}
    assert ("hosts/local/proxy/conf.d/simpeg.conf", "no X-Frame-Options") in found
    assert any(f == "hosts/local/proxy/nginx.conf" and "server_tokens" in d for f, d in found)
    passed = next(r for r in report["results"] if r["id"] == "HDR-01")
    assert [c["ref"] for c in passed["controls"]] == ["Standar teknis keamanan aplikasi berbasis web"]


def test_headers_the_proxy_answered_with_are_audited_live() -> None:
    from spbe_kit.auditors import audit

    def check(headers: dict[str, str]) -> tuple[str, str]:
        out = audit._Results()
        audit._check_headers_served(headers, "web1", "GET https://simpeg.x.go.id/healthz", out)
        result = out.results()[0]
        return result.status, result.evidence[0].detail

    good = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "server": "nginx"}
    assert check(good)[0] == "pass"
    status, detail = check(good | {"server": "nginx/1.22.1"})
    assert status == "fail" and "Server: nginx/1.22.1 names a version" in detail
    status, detail = check({"server": "nginx"})
    assert status == "fail" and "nosniff" in detail and "X-Frame-Options" in detail


def test_the_restart_policy_is_an_accepted_deviation_with_its_reason(clean, tmp_path: Path) -> None:
    """CTR-13 (CIS Docker Benchmark v1.6.0 5.15): the kit renders unless-stopped, recorded as an
    accepted deviation with its reason in both languages and every format; on-failure:5 passes;
    always fails."""
    code, report = audit(clean, tmp_path)
    result = next(r for r in report["results"] if r["id"] == "CTR-13")
    assert code == 0 and result["status"] == "deviation", result
    assert "reboot" in result["deviation"]["en"] and "reboot" in result["deviation"]["id"]
    assert report["summary"]["deviations"] == 1 and [c["ref"] for c in result["controls"]] == ["5.15"]
    assert all("restart unless-stopped" in e["detail"] and e["line"] > 1 for e in result["evidence"])
    for fmt in ("md", "html"):
        out = tmp_path / f"audit.{fmt}"
        spbe_kit("--catalog", str(clean[1]), "audit", str(clean[0]), "--tree", str(clean[2]), "-o", str(out))
        assert "accepted deviation" in out.read_text() and "penyimpangan diterima" in out.read_text()
    compose = clean[2] / "hosts/local/simpeg/compose.yaml"
    edit(compose, "restart: unless-stopped", "restart: always")
    edit(clean[2] / "hosts/local/e-simpati/compose.yaml", "restart: unless-stopped", "restart: on-failure:5")
    code, report = audit(clean, tmp_path)
    found = failing(report)["CTR-13"]
    simpeg = ("hosts/local/simpeg/compose.yaml", "app: restart always")
    assert [(e["file"], e["detail"]) for e in found] == [simpeg]


def _profile_edit(clean: tuple[Path, Path, Path], change: Any) -> None:
    """Changes the clean profile's data and renders its tree again."""
    profile, catalog, tree = clean
    data = yaml.safe_load(profile.read_text())
    change(data)
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    assert spbe_kit("--catalog", str(catalog), "render", str(profile), "-o", str(tree)).returncode == 0


def test_a_breach_notice_nobody_sends_or_nobody_rehearsed(clean, tmp_path: Path) -> None:
    """UU 27/2022 Pasal 46: PDP-05 (high) wants a notifier and a channel to the subjects, with
    the template rendered; PDP-06 (kit policy) a rehearsal within a year."""
    _profile_edit(clean, lambda d: d["breach_notice"].update(last_exercise="2020-01-01"))
    code, report = audit(clean, tmp_path)
    found = failing(report)
    assert code == 3 and set(found) == {"PDP-06"}
    assert "last rehearsed 2020-01-01" in found["PDP-06"][0]["detail"]
    assert found["PDP-06"][0]["file"].endswith("demo.yaml") and found["PDP-06"][0]["line"] > 1
    (clean[2] / "docs" / "pemberitahuan-kegagalan-pdp.md").unlink()
    _, report = audit(clean, tmp_path)
    assert "template docs/pemberitahuan-kegagalan-pdp.md missing" in failing(report)["PDP-05"][0]["detail"]
    _profile_edit(clean, lambda d: d.pop("breach_notice"))
    code, report = audit(clean, tmp_path)
    found = failing(report)
    assert code == 3 and {"PDP-05", "PDP-06"} <= set(found)
    assert "nobody is named" in found["PDP-05"][0]["detail"]
    checks = {r["id"]: r for r in report["results"]}
    assert checks["PDP-05"]["severity"] == "high" and checks["PDP-06"]["severity"] == "medium"
    assert [c["ref"] for c in checks["PDP-05"]["controls"]] == ["Pasal 46(1) dan (2)"]
    notice = (clean[2] / "docs" / "pemberitahuan-kegagalan-pdp.md").read_text()
    assert "**BELUM DIISI** (`breach_notice.notifier`)" in notice
    for field in ("Pasal 46 ayat 2 huruf a", "Pasal 46 ayat 2 huruf b", "Pasal 46 ayat 2 huruf c"):
        assert field in notice


def test_the_record_of_processing_lists_every_app_and_what_is_still_blank(clean, tmp_path: Path) -> None:
    """UU 27/2022 Pasal 31, rendered in Bahasa Indonesia from the catalog and the profile;
    PDP-07 fails on what it leaves blank, and profile text cannot format the document."""
    record = clean[2] / "docs" / "catatan-pemrosesan-data-pribadi.md"
    text = record.read_text()
    assert text.count("\n### ") == 3 and "data kesehatan; data anak" in text
    assert "Tujuan pemrosesan | Pemantauan tumbuh kembang balita" in text
    assert "## Yang belum diisi\n\nTidak ada." in text

    def careless(data: dict[str, Any]) -> None:
        data["hosting"].update(provider="Dinas <b>X</b> | [klik](http://x.invalid)", operator="third-party")

    _profile_edit(clean, careless)
    text = record.read_text()
    assert "dikelola pihak ketiga, perjanjian **BELUM DIISI** (`hosting.agreement`) |" in text
    assert "## Yang belum diisi\n\n- `hosting.agreement`\n" in text
    assert "Dinas \\<b\\>X\\</b\\> \\| \\[klik\\](http://x.invalid)" in text
    assert "<b>" not in text.replace("\\<b\\>", "")
    _, report = audit(clean, tmp_path)
    evidence = failing(report)["PDP-07"][0]
    assert (evidence["file"], evidence["detail"]) == (
        "docs/catatan-pemrosesan-data-pribadi.md", "still blank: hosting.agreement"
    )
    record.unlink()
    _, report = audit(clean, tmp_path)
    assert "not in the rendered tree" in failing(report)["PDP-07"][0]["detail"]


def test_third_parties_holding_the_data_need_an_agreement(clean, tmp_path: Path) -> None:
    """LOC-02 (UU 27/2022 Pasal 51, PP 71/2019 Pasal 20): a data centre run by a third party and
    every declared processor, each with its agreement; both appear in the record."""
    _, report = audit(clean, tmp_path)
    assert {r["id"]: r["status"] for r in report["results"]}["LOC-02"] == "not-applicable"

    def outsourced(data: dict[str, Any]) -> None:
        data["hosting"].update(operator="third-party")
        data["processors"] = {
            "salinan": {"name": "PT Arsip Nusantara", "service": "salinan cadangan kedua",
                        "location": "Bandung", "agreement": "PKS/77/2026"},
        }  # fmt: skip
        data["backup"]["copy_processor"] = "salinan"

    _profile_edit(clean, outsourced)
    code, report = audit(clean, tmp_path)
    found = failing(report)
    assert code == 3 and set(found) == {"LOC-02", "PDP-07"}
    assert "no agreement recorded" in found["LOC-02"][0]["detail"]
    assert found["PDP-07"][0]["detail"] == "still blank: hosting.agreement"
    text = (clean[2] / "docs" / "catatan-pemrosesan-data-pribadi.md").read_text()
    copy = "salinan cadangan kedua | /srv/cadangan pada host local (Bandung, ID); dikelola PT Arsip Nusantara"
    assert f"{copy}, perjanjian PKS/77/2026 |" in text
    assert "| PT Arsip Nusantara (`salinan`) | salinan cadangan kedua | Bandung, ID | PKS/77/2026 |" in text
    _profile_edit(clean, lambda d: d["hosting"].update(agreement="SLA/12/2026"))
    code, report = audit(clean, tmp_path)
    assert code == 0, failing(report)
    passed = {r["id"]: r for r in report["results"]}["LOC-02"]
    assert [e["detail"] for e in passed["evidence"]] == [
        "data centre run by Mesin lokal (demo): agreement SLA/12/2026",
        "PT Arsip Nusantara (salinan cadangan kedua), data kept in ID: agreement PKS/77/2026",
    ]


def test_administrator_pages_open_to_all_fail_adm_01(clean, tmp_path: Path) -> None:
    """Perban BSSN 4/2021 (the administrator's interface): each app's /admin/ location is
    allowed from proxy.admin_networks only and denied to the rest; open to all, without its
    deny, or without a location of its own, it fails with the line."""
    _, report = audit(clean, tmp_path)
    passed = {r["id"]: r for r in report["results"]}["ADM-01"]
    assert passed["status"] == "pass" and len(passed["evidence"]) == 3
    assert passed["evidence"][0]["detail"] == "e-simpati /admin/: refused to every address"
    _profile_edit(clean, lambda d: d["proxy"].update(admin_networks=["10.15.30.0/24", "fd00:15::/64"]))
    vhosts = clean[2] / "hosts/local/proxy/conf.d"
    assert "        allow 10.15.30.0/24;\n        allow fd00:15::/64;\n        deny all;\n" in (
        vhosts / "simpeg.conf"
    ).read_text()
    edit(vhosts / "simpeg.conf", "        allow 10.15.30.0/24;\n", "        allow all;\n")
    edit(vhosts / "e-simpati.conf", "        deny all;\n", "")
    edit(vhosts / "layanan-publik.conf", "location ^~ /admin/ {", "location ^~ /admin-old/ {")
    code, report = audit(clean, tmp_path)
    found = {e["file"].rsplit("/", 1)[-1]: e for e in failing(report)["ADM-01"]}
    assert code == 3
    assert found["simpeg.conf"]["detail"] == "/admin/: allows all" and found["simpeg.conf"]["line"] > 1
    assert found["e-simpati.conf"]["detail"] == "/admin/: no deny all"
    assert found["layanan-publik.conf"]["detail"] == "/admin/: no location of its own, open like /"


def test_an_image_run_by_hand_or_a_missing_register_fails_ast_01(clean, tmp_path: Path) -> None:
    """PermenPANRB 59/2020 indicator 24: the asset register lists what the compose files run."""
    _, _, tree = clean
    register = (tree / "docs/daftar-aset-tik.md").read_text()
    assert "| `local` |" in register and "`spbe-kit/simpeg:1.0.0@sha256:" in register
    compose = tree / "hosts/local/simpeg/compose.yaml"
    text = compose.read_text()
    compose.write_text(re.sub(r"spbe-kit/simpeg:1\.0\.0@sha256:[0-9a-f]+", "example.org/simpeg:latest", text))
    code, report = audit(clean, tmp_path)
    assert code == 3
    evidence = failing(report)["AST-01"]
    assert evidence[0]["file"] == "docs/daftar-aset-tik.md"
    assert evidence[0]["detail"] == "not listed: image example.org/simpeg:latest"
    (tree / "docs/daftar-aset-tik.md").unlink()
    _, report = audit(clean, tmp_path)
    assert failing(report)["AST-01"][0]["detail"] == "no asset register in the tree"


def test_access_logs_inside_the_container_or_kept_too_long_fail_log_01_and_02(clean, tmp_path: Path) -> None:
    _, _, tree = clean
    conf = tree / "hosts/local/proxy/nginx.conf"
    assert "access_log /var/log/spbe/access-$spbe_log_day.log combined;" in conf.read_text()
    _profile_edit(clean, lambda d: d.update(logs={"retention_days": 400}))
    edit(conf, "    access_log /var/log/spbe/access-$spbe_log_day.log combined;\n", "")
    code, report = audit(clean, tmp_path)
    assert code == 3
    found = failing(report)
    assert found["LOG-01"][0]["detail"] == "no access_log under /var/log/spbe"
    evidence = found["LOG-02"][0]
    assert evidence["file"].endswith("demo.yaml") and evidence["line"] > 1
    assert evidence["detail"] == "kept 400 days (policy: 90 to 365)"


def test_a_location_that_adds_its_own_headers_must_repeat_the_hardening_ones() -> None:
    """nginx drops the server's add_header lines in a location that has any of its own: the
    maintenance page's location repeats them, and HDR-01 fails where one does not."""
    from spbe_kit.auditors.audit import _headers_missing

    vhost = """
server {
    listen 8080;
    location / { return 308 https://$host$request_uri; }
}
server {
    listen 8443 ssl http2;
    add_header X-Content-Type-Options "nosniff" always;
    add_header X-Frame-Options "DENY" always;
    location = /down.html {
        add_header Retry-After 10 always;
        add_header X-Frame-Options "DENY" always;
        return 503 "down";
    }
    location / {
        proxy_pass http://app:8000;
    }
}
"""
    assert _headers_missing(vhost) == [(10, ["X-Content-Type-Options nosniff"])]
    assert _headers_missing(vhost.replace("Retry-After 10", "X-Content-Type-Options nosniff")) == []


def test_a_restore_drill_over_the_recovery_targets_fails_bak_04() -> None:
    """BAK-04 holds the newest passing drill to 90 days and to the profile's backup.rto and
    backup.rpo, with the figures it measured as evidence."""
    import datetime

    from spbe_kit.auditors import audit

    now = datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC)

    def check(rto_s: float, rpo_s: int, days_ago: int = 1) -> tuple[str, str]:
        when = (now - datetime.timedelta(days=days_ago)).isoformat(timespec="seconds")
        figures = {"rto_s": rto_s, "rpo_s": rpo_s, "rto_target_s": 3600, "rpo_target_s": 93600}
        within = rto_s <= 3600 and rpo_s <= 93600
        drill = {"when": when, "ok": True, "host": "db1", "recovery": {**figures, "within": within}}
        out = audit._Results()
        audit._check_live(audit.LiveFacts(now.timestamp(), "web1", [], [drill], {}), out)
        found = next(r for r in out.results() if r.id == "BAK-04")
        return found.status, found.evidence[0].detail

    status, detail = check(12.3, 7200)
    assert status == "pass"
    assert detail.endswith(
        "every app restored in 12.3 s (backup.rto 1 h), newest backup 2 h old (backup.rpo 26 h)"
    )
    assert check(5400, 7200)[0] == check(12.3, 3 * 86400)[0] == check(12.3, 7200, days_ago=91)[0] == "fail"


def test_recovery_figures_and_durations_read_as_people_write_them() -> None:
    from spbe_kit.hosts.lifecycle import recovery
    from spbe_kit.models.base import seconds, span

    assert [seconds(d) for d in ("30m", "1h", "26h", "7d")] == [1800, 3600, 93600, 604800]
    shown = [span(v) for v in (3.14, 840, 7500, 7200, 266400)]
    assert shown == ["3.1 s", "14 min", "2 h 5 min", "2 h", "3 d 2 h"]
    from conftest import EXAMPLES
    from spbe_kit import pipeline
    from spbe_kit.render.context import build_context

    validated = pipeline.validate(EXAMPLES / "demo.yaml")
    ctx = build_context(validated.profile, validated.catalog)
    assert recovery(ctx, {"rto_s": 4.0, "rpo_s": 60})["within"]
    assert not recovery(ctx, {"rto_s": 4000.0, "rpo_s": 60})["within"]
    assert recovery(ctx, {"when": "2026-12-01T00:00:00+00:00"}) is None  # a drill from before the figures
