"""The one settings object: everything read from the environment is read here."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.roles import Role


class Settings(BaseSettings):
    """fundflow's settings, from ``FUNDFLOW_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="FUNDFLOW_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description=(
            "sqlite:///relative/path.sqlite3, sqlite:////absolute/path.sqlite3, "
            "postgresql://user:password@host:port/dbname?schema=name, or memory:// "
            "(tests only). Default: a SQLite file under data_dir."
        ),
    )
    data_dir: Path = Field(default=Path("data"), description="Where the default SQLite file lives.")
    log_level: str = "WARNING"
    user: str = Field(default="clerk", description="Identity the CLI posts as (FUNDFLOW_USER).")
    role: Role = Field(default=Role.CLERK, description="Role the CLI acts in (FUNDFLOW_ROLE).")
    units: str | None = Field(
        default=None,
        description=(
            "Units the CLI user may act in and read: codes or full names, comma-separated "
            "(FUNDFLOW_UNITS). Unset: every unit (an operator with database access)."
        ),
    )
    clearance: bool = Field(
        default=False,
        description="The CLI shows classified (涉密) projects in detail (FUNDFLOW_CLEARANCE); "
        "by default it shows them as published: counted, aggregated, unnamed.",
    )
    max_request_bytes: int = Field(
        default=64 * 1024, description="Largest request body the service accepts."
    )
    max_batch_bytes: int = Field(
        default=4 * 1024 * 1024,
        description="Largest body of POST /v1/batch (up to 5,000 commands).",
    )
    closing_policy: Path | None = Field(
        default=None, description="Closing policy file of the service (default: packaged)."
    )
    aggregate_cache_size: int = Field(
        default=10_000,
        description=(
            "Aggregates kept in memory between commands; a cached budget line is brought up "
            "to date by reading only the events stored since (0: no cache)."
        ),
    )
    group_commit: bool = Field(
        default=True,
        description="The service stores the postings of concurrent requests together, "
        "many per transaction, through one writer (FUNDFLOW_GROUP_COMMIT).",
    )
    auditor_queries_per_minute: float = Field(
        default=60,
        ge=0,
        description="Expensive auditor queries (trail, check, books as of a past moment) "
        "one API token may make a minute, after its burst (0: no limit).",
    )
    auditor_query_burst: int = Field(
        default=30, ge=1, description="Expensive auditor queries a token may make at once."
    )
    pool_size: int = Field(default=10, description="PostgreSQL connections kept open.")
    max_overflow: int = Field(default=30, description="Extra PostgreSQL connections at peaks.")
    chain_key_file: Path | None = Field(
        default=None,
        description=(
            "File of the hash chain's keys (FUNDFLOW_CHAIN_KEY_FILE; see SECURITY.md): "
            "lines <id>:<hex secret>, the last current, readable by its owner only. "
            "Never inside the database or its backups. Without it the chain is plain "
            "SHA-256 and detects accidental damage only."
        ),
    )
    verify_state_file: Path | None = Field(
        default=None,
        description=(
            "Where `audit verify` keeps the checkpoint of its last successful run "
            "(FUNDFLOW_VERIFY_STATE_FILE), to go on from there next time (`--full`: from "
            "the first event). Outside the database, like the chain key file. Unset: "
            "every run verifies the whole log."
        ),
    )
    web_session_secret: str | None = Field(
        default=None,
        description=(
            "Key signing the 工作台's session cookies (FUNDFLOW_WEB_SESSION_SECRET). Set it "
            "when several workers serve (each would otherwise make its own, and a restart "
            "signs everyone out)."
        ),
    )
    fault_kill_after_steps: int | None = Field(
        default=None,
        description=(
            "Testing aid: the year-end close kills its own process (SIGKILL) after this many "
            "steps, to prove a rerun completes it exactly once. Never set it in production."
        ),
    )

    def persistence(self) -> dict[str, str]:
        """The eventsourcing environment for these settings."""
        env = persistence_env(self.effective_database_url)
        if self.aggregate_cache_size:
            env["AGGREGATE_CACHE_MAXSIZE"] = str(self.aggregate_cache_size)
        if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
            env["POSTGRES_POOL_SIZE"] = str(self.pool_size)
            env["POSTGRES_MAX_OVERFLOW"] = str(self.max_overflow)
            env["POSTGRES_PRE_PING"] = "y"  # a connection cut by the server is replaced
            env["APPLICATION_RECORDER_TOPIC"] = "ledger.hash_chain:ChainedPostgresRecorder"
        elif env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
            env["APPLICATION_RECORDER_TOPIC"] = "ledger.hash_chain:ChainedSQLiteRecorder"
        return env

    @property
    def unit_scope(self) -> frozenset[str] | None:
        """The CLI user's units as given (codes or names; the CLI resolves names)."""
        if self.units is None or not self.units.strip():
            return None
        return frozenset(
            unicodedata.normalize("NFC", u.strip()) for u in self.units.split(",") if u.strip()
        )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'fundflow.sqlite3'}"


def persistence_env(database_url: str) -> dict[str, str]:
    """Translate a database URL into the eventsourcing library's environment keys."""
    parts = urlsplit(database_url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if scheme == "sqlite":
        path = database_url[len("sqlite:///") :] if database_url.startswith("sqlite:///") else ""
        if not path:
            raise ValueError(f"cannot read a SQLite path from {database_url!r}: use sqlite:///path")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    if scheme in ("postgresql", "postgres"):
        query = parse_qs(parts.query)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "10",
        }
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"][0]
        return env
    raise ValueError(
        f"unsupported database URL {database_url!r}: use sqlite:///path or postgresql://…"
    )
