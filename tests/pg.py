"""A private PostgreSQL server for the test suite, on 127.0.0.1 in a temporary folder."""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def find_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when no server is installed."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    bin_dir: Path
    root: Path
    port: int
    password: str
    as_user: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    @classmethod
    def start(cls) -> "PostgresServer":
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise RuntimeError("no PostgreSQL server binary")
        root = Path(tempfile.mkdtemp(prefix="syllabus-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root: use the postgres system user
            shutil.chown(root, "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        password = secrets.token_hex(8)
        pwfile = root / "pw"
        pwfile.write_text(password)
        if as_user:
            shutil.chown(pwfile, "postgres")
        server = cls(bin_dir, root, _free_port(), password, as_user)
        data, sockets = root / "data", root / "sock"
        server._run("mkdir", "-p", str(sockets)) if as_user else sockets.mkdir()
        server._run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8", "--no-sync",
                    "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", f"--pwfile={pwfile}")
        for attempt in range(3):  # another process (a parallel test worker) may take the free port first
            try:
                server._run(str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                            f"-p {server.port} -c listen_addresses=127.0.0.1 -k {sockets} -c fsync=off "
                            "-c synchronous_commit=off -c full_page_writes=off", "start")
                return server
            except subprocess.CalledProcessError:
                if attempt == 2:
                    raise
                server.port = _free_port()
        raise AssertionError("unreachable")

    def stop(self) -> None:
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self) -> str:
        import psycopg

        name = "t_" + secrets.token_hex(6)
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", password=self.password,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", password=self.password,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
