#!/usr/bin/env python3
"""Ask the region's Alertmanager, on the host it runs on (run by spbe-kit over SSH; Python 3
stdlib and the docker CLI only). Alertmanager is not published: the questions go through
``docker exec`` into its container, to amtool and to its own metrics.

Usage: spbe_alerts.py firing PROJECT
       spbe_alerts.py test PROJECT IDENT WAIT_S EXPECTED REGION REGION_NAME SUMMARY_ID SUMMARY_EN
                           RUNBOOK_ID RUNBOOK_EN
``firing`` prints the active alerts; ``test`` sends one test alert through every receiver the
profile names (EXPECTED: JSON, receivers per integration) and prints, per integration (email,
webhook, telegram), how many requests went out and how many failed, with Alertmanager's error
for a failure.
"""

import datetime
import json
import re
import subprocess
import sys
import time

AM_URL = "http://127.0.0.1:9093/alertmanager"
METRIC = re.compile(
    r'^alertmanager_notification_requests(_failed)?_total\{integration="([a-z]+)"\} ([0-9.e+]+)$'
)


def container(project):
    found = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={project}",
         "--filter", "label=com.docker.compose.service=alertmanager"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    if not found:
        raise SystemExit(f"no running Alertmanager container in {project}")
    return found[0]


def amtool(name, *argv):
    out = subprocess.run(
        ["docker", "exec", name, "amtool", f"--alertmanager.url={AM_URL}", *argv],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(out.stderr.strip()[-500:] or f"amtool exited {out.returncode}")
    return out.stdout


def requests(name):
    """Per integration: [notification requests sent, failed] since Alertmanager started."""
    script = (
        'exec 3<>/dev/tcp/127.0.0.1/9093 && printf "GET /alertmanager/metrics HTTP/1.0\\r\\n\\r\\n" >&3 '
        "&& cat <&3"
    )
    text = subprocess.run(
        ["docker", "exec", name, "bash", "-c", script], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    found = {}
    for line in text.splitlines():
        match = METRIC.match(line)
        if match:
            found.setdefault(match.group(2), [0.0, 0.0])[1 if match.group(1) else 0] = float(match.group(3))
    return found


def firing(project):
    name = container(project)
    alerts = json.loads(amtool(name, "alert", "query", "--active", "-o", "json") or "[]")
    keys = ("labels", "annotations", "startsAt")
    return {"alerts": [{k: a.get(k) for k in keys} for a in alerts]}


FAILED_RECEIVER = re.compile(r"\b(email|webhook|telegram)\[([0-9]+)\]")


def failures(name, since):
    """Per integration, the receivers (their index in the configuration) Alertmanager logged a
    failed attempt for since ``since``, each with its last such line."""
    logs = subprocess.run(["docker", "logs", "--since", since, name], capture_output=True, text=True)
    found = {}
    for line in (logs.stdout + logs.stderr).splitlines():
        if "level=error" in line or "level=warn" in line:
            for kind, index in FAILED_RECEIVER.findall(line):
                found.setdefault(kind, {})[index] = line[-400:]
    return found


def test(
    project, ident, wait_s, expected, region, region_name, summary_id, summary_en, runbook_id, runbook_en
):
    """``expected``: how many receivers of each integration the profile names. Alertmanager
    counts requests per integration only, and other notifications may go out meanwhile: a
    receiver counts as failed when Alertmanager logs a failed attempt for it (``webhook[1]``),
    the others as arrived once the integration's successful requests cover them."""
    name = container(project)
    kinds = sorted(expected)
    before = requests(name)
    started, clock = datetime.datetime.now(datetime.timezone.utc), time.monotonic()
    since = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    ends = (started + datetime.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    amtool(
        name, "alert", "add", "alertname=SPBE-TEST", "severity=warning", f"app=test-{ident}",
        f"region={region}", f"region_name={region_name}",
        f"--annotation=summary_id={summary_id}", f"--annotation=summary_en={summary_en}",
        f"--annotation=runbook_id={runbook_id}", f"--annotation=runbook_en={runbook_en}", f"--end={ends}",
    )  # fmt: skip
    deadline, settled = time.monotonic() + wait_s, None
    while True:
        now, failed = requests(name), failures(name, since)
        result = {
            k: {
                "sent": int(now.get(k, [0, 0])[0] - before.get(k, [0, 0])[0]),
                "failed": int(now.get(k, [0, 0])[1] - before.get(k, [0, 0])[1]),
                "failed_receivers": sorted(int(i) for i in failed.get(k, {})),
            }
            for k in kinds
        }
        covered = all(
            r["sent"] - r["failed"] >= expected[k] - len(r["failed_receivers"]) for k, r in result.items()
        )
        # Once covered, a moment more for a failed attempt of the same flush to be logged.
        settled = (settled or time.monotonic() + 2) if covered else None
        if (settled and time.monotonic() >= settled) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    errors = {k: lines[max(lines, key=int)] for k, lines in failed.items() if k in kinds}
    return {"integrations": result, "errors": errors, "seconds": round(time.monotonic() - clock, 1)}


def main():
    action, project = sys.argv[1], sys.argv[2]
    if action == "firing":
        out = firing(project)
    else:
        ident, wait_s, expected = sys.argv[3], float(sys.argv[4]), json.loads(sys.argv[5])
        out = test(project, ident, wait_s, expected, *sys.argv[6:12])
    print(json.dumps({"spbe_alerts": out}, sort_keys=True))


if __name__ == "__main__":
    main()
