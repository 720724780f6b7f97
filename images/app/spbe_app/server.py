"""HTTP server of a reference app: config, database, migrations at start, routes."""

from __future__ import annotations

import html
import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg2
import psycopg2.extras
import psycopg2.pool

from spbe_app.domain import APPS, RECORDS, SUPPORTED_GENERATION, Invalid

APP_ID = os.environ["SPBE_APP_ID"]
VERSION = os.environ["SPBE_APP_VERSION"]
GENERATION = SUPPORTED_GENERATION[VERSION]
SPEC = APPS.get(APP_ID, RECORDS)


def log(message: str) -> None:
    print(f"{APP_ID} {VERSION}: {message}", file=sys.stderr, flush=True)


def load_config() -> dict[str, Any]:
    with open(os.environ.get("SPBE_APP_CONFIG", "/etc/spbe-app/config.json"), encoding="utf-8") as f:
        config: dict[str, Any] = json.load(f)
    for name, path in config["secret_files"].items():
        if not os.access(path, os.R_OK):
            raise SystemExit(f"{APP_ID}: secret {name} is not readable at {path}")
    return config


def connect(config: dict[str, Any], wait_s: int = 60) -> psycopg2.pool.ThreadedConnectionPool:
    db = config["database"]
    with open(db["password_file"], encoding="utf-8") as f:
        password = f.read().strip()
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return psycopg2.pool.ThreadedConnectionPool(
                1,
                8,
                host=db["host"],
                port=db["port"],
                dbname=db["name"],
                user=db["user"],
                password=password,
                connect_timeout=5,
                application_name=f"{APP_ID}-{VERSION}",
                # verify-full with the region CA: the database accepts nothing but TLS.
                sslmode=db.get("sslmode", "prefer"),
                sslrootcert=db.get("sslrootcert"),
            )
        except psycopg2.OperationalError as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"{APP_ID}: database unreachable: {exc}") from None
            log(f"waiting for the database: {str(exc).strip()}")
            time.sleep(2)


def migrate(pool: psycopg2.pool.ThreadedConnectionPool) -> int:
    """Apply the migrations this version knows, once, under an advisory lock; keep every row.
    Each generation records the oldest release generation that still works on it
    (``oldest_reader``): an expand-only migration keeps the one before's, so the older release
    runs beside the newer one during a switch, or after a failed upgrade kept it."""
    conn = pool.getconn()
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (APP_ID,))
            cur.execute("""CREATE TABLE IF NOT EXISTS spbe_schema (
                             generation int PRIMARY KEY,
                             version text NOT NULL,
                             applied_at timestamptz NOT NULL DEFAULT now())""")
            cur.execute("ALTER TABLE spbe_schema ADD COLUMN IF NOT EXISTS oldest_reader int")
            cur.execute(
                "SELECT generation, coalesce(oldest_reader, generation) FROM spbe_schema "
                "ORDER BY generation DESC LIMIT 1"
            )
            current, oldest = cur.fetchone() or (0, 0)
            if current > GENERATION and oldest > GENERATION:
                raise SystemExit(
                    f"{APP_ID} {VERSION}: the database is at schema generation {current}, newer than "
                    f"this release knows ({GENERATION}); restore the backup taken before the upgrade"
                )
            if current > GENERATION:
                log(f"schema generation {current} only added to generation {GENERATION}: running on it")
                return GENERATION
            for generation in range(current + 1, GENERATION + 1):
                for statement in SPEC.migrations[generation]:
                    cur.execute(statement)
                oldest = oldest if generation in SPEC.expand and generation > 1 else generation
                cur.execute(
                    "INSERT INTO spbe_schema (generation, version, oldest_reader) VALUES (%s, %s, %s)",
                    (generation, VERSION, oldest),
                )
                log(f"migrated to schema generation {generation}")
            return GENERATION
    finally:
        pool.putconn(conn)


class Handler(BaseHTTPRequestHandler):
    server_version = "spbe-app"
    sys_version = ""
    config: dict[str, Any] = {}
    pool: psycopg2.pool.ThreadedConnectionPool

    def log_message(self, format: str, *args: Any) -> None:
        log(f"{self.address_string()} {format % args}")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, default=str, ensure_ascii=False).encode(), "application/json")

    def _query(self, sql: str, args: tuple[Any, ...] = (), fetch: bool = True) -> list[dict[str, Any]]:
        conn = self.pool.getconn()
        try:
            with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                cur.execute(sql, args)
                return [dict(r) for r in cur.fetchall()] if fetch else []
        finally:
            self.pool.putconn(conn)

    def do_GET(self) -> None:
        routes = {
            "/healthz": self.health,
            "/version": self.version,
            "/": self.page,
            "/api/records": self.list_records,
            "/api/summary": self.summary,
            "/admin/": self.admin,
        }
        handler = routes.get(self.path.split("?")[0])
        if handler is None:
            self._json(404, {"error": "not found"})
            return
        try:
            handler()
        except psycopg2.Error as exc:
            self._json(503, {"error": "database", "detail": str(exc).strip()})

    def do_POST(self) -> None:
        if self.path != "/api/records":
            self._json(404, {"error": "not found"})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(min(length, 65536)) or b"{}")
            if not isinstance(body, dict):
                raise Invalid("the body must be a JSON object")
            row = SPEC.create(body, self.config, GENERATION)
            self._json(201, self.insert(row))
        except (Invalid, ValueError) as exc:
            self._json(400, {"error": str(exc)})
        except psycopg2.IntegrityError as exc:
            self._json(409, {"error": str(exc).strip()})

    def insert(self, row: dict[str, Any]) -> dict[str, Any]:
        position = row.pop("_position", None)
        columns = list(row)
        sql = (
            f"INSERT INTO {SPEC.table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))}) RETURNING id"
        )
        created = self._query(sql, tuple(row[c] for c in columns))[0]
        if position:
            self._query(
                "INSERT INTO position_history (employee_id, position) VALUES (%s, %s)",
                (created["id"], position),
                fetch=False,
            )
        return {"id": created["id"], **row}

    def health(self) -> None:
        if os.environ.get("SPBE_APP_FAIL_HEALTH") == "1":
            self._json(503, {"status": "failing", "reason": "SPBE_APP_FAIL_HEALTH=1"})
            return
        rows = self._query("SELECT coalesce(max(generation), 0) AS generation FROM spbe_schema")
        self._json(
            200,
            {"status": "ok", "app": APP_ID, "version": VERSION, "schema_generation": rows[0]["generation"]},
        )

    def admin(self) -> None:
        """The administrator's page (the proxy serves it only to proxy.admin_networks):
        what runs and how much it holds, never a secret."""
        self._json(
            200,
            {
                "app": APP_ID,
                "version": VERSION,
                "schema_generation": GENERATION,
                "records": self.count(),
                "settings": self.config.get("settings", {}),
            },
        )

    def version(self) -> None:
        self._json(
            200,
            {
                "app": APP_ID,
                "version": VERSION,
                "schema_generation": GENERATION,
                "region": self.config["region"],
            },
        )

    def count(self) -> int:
        return int(self._query(f"SELECT count(*) AS n FROM {SPEC.table}")[0]["n"])

    def list_records(self) -> None:
        columns = ", ".join(SPEC.columns(GENERATION))
        rows = self._query(f"SELECT {columns} FROM {SPEC.table} ORDER BY id DESC LIMIT 500")
        self._json(200, {"count": self.count(), "records": rows})

    def summary(self) -> None:
        if APP_ID == "e-simpati":
            rows = self._query(
                "SELECT kecamatan_code, status, count(*) AS n FROM measurements GROUP BY 1, 2 ORDER BY 1, 2"
            )
        else:
            rows = [{"count": self.count()}]
        self._json(200, {"summary": rows})

    def page(self) -> None:
        c = self.config
        title = html.escape(c["app"]["title"]["id"])
        region = html.escape(f"{c['region']['name']} ({c['region']['code']})")
        body = (
            f"<!doctype html><html lang=id><meta charset=utf-8><title>{title}</title>"
            f"<h1>{title}</h1><p>{region}</p><p>Versi {html.escape(VERSION)} &middot; "
            f"{self.count()} catatan / records</p></html>"
        )
        self._send(200, body.encode(), "text/html; charset=utf-8")


def main() -> None:
    config = load_config()
    pool = connect(config)
    migrate(pool)
    Handler.config = config
    Handler.pool = pool
    server = ThreadingHTTPServer((config["listen"]["host"], int(config["listen"]["port"])), Handler)
    # As PID 1 the default SIGTERM action is ignored; stop promptly so upgrades do not wait
    # for Docker's kill timeout.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log(f"serving {config['region']['name']} on port {config['listen']['port']}")
    server.serve_forever()
