"""Backup and restore of a ledger's database: ``pg_dump``/``pg_restore`` for PostgreSQL,
SQLite's online backup API for the embedded store. The backup holds everything: the
events, their hash chain and the read models."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from ledger.settings import persistence_env


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why."""


def _pg_args(env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    args = ["-h", env["POSTGRES_HOST"], "-p", env["POSTGRES_PORT"], "-U", env["POSTGRES_USER"]]
    extra = {"PGPASSWORD": env["POSTGRES_PASSWORD"]} if env["POSTGRES_PASSWORD"] else {}
    return args, extra


def _run(command: list[str], extra_env: dict[str, str]) -> None:
    done = subprocess.run(
        command, env={**os.environ, **extra_env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")


def backup(database_url: str, target: Path) -> Path:
    """Write a consistent backup of the ledger at ``database_url`` to ``target``."""
    env = persistence_env(database_url)
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        source = sqlite3.connect(env["SQLITE_DBNAME"])
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)  # online: consistent while the ledger keeps writing
        copy.close()
        source.close()
        return target
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        args, extra = _pg_args(env)
        schema = ["-n", env["POSTGRES_SCHEMA"]] if "POSTGRES_SCHEMA" in env else []
        _run(["pg_dump", *args, "-Fc", *schema, "-f", str(target), env["POSTGRES_DBNAME"]], extra)
        return target
    raise BackupError("an in-memory ledger has nothing to back up")


def restore(source: Path, database_url: str) -> None:
    """Restore a backup into an empty database (PostgreSQL) or a new file (SQLite)."""
    if not source.is_file():
        raise BackupError(f"there is no backup at {source}")
    env = persistence_env(database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        target = Path(env["SQLITE_DBNAME"])
        if target.exists() and target.stat().st_size > 0:
            raise BackupError(f"{target} exists already: restore into a new file")
        check = sqlite3.connect(source)
        try:
            if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is damaged")
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source} is not a SQLite backup: {error}") from None
        finally:
            check.close()
        shutil.copyfile(source, target)
        return
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        args, extra = _pg_args(env)
        _run(
            [
                "pg_restore",
                *args,
                "--exit-on-error",
                "--no-owner",
                "-d",
                env["POSTGRES_DBNAME"],
                str(source),
            ],
            extra,
        )
        return
    raise BackupError(f"cannot restore into {urlsplit(database_url).scheme}://")
