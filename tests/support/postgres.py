"""A throw-away PostgreSQL cluster for the test session: initdb + pg_ctl on a free local port.

PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the
``postgres`` user (``runuser -u postgres --``), with its data and socket folders in a
temporary folder owned by that user. Locally the tests are skipped, with the reason, only
when no server can be started; under ``CI=true`` that is a failure instead.

One cluster per session; each test gets its own database (``CREATE DATABASE``), dropped after.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "postgres"


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", SUPERUSER, "--", *cmd]


@dataclass
class Cluster:
    base: Path
    port: int
    pg_ctl: str

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def janitor(self, name: str, template: str | None = None):
        """pytest-postgresql's janitor: creates the database (a copy of ``template`` if given), and
        drops it after closing its connections."""
        from pytest_postgresql.janitor import DatabaseJanitor

        return DatabaseJanitor(user=SUPERUSER, host="127.0.0.1", port=self.port, dbname=name, template_dbname=template)

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.janitor(name).init()  # from template1: UTF-8 with C collation, like SQLite's byte order
        return name

    def drop_database(self, name: str) -> None:
        self.janitor(name).drop()

    def stop(self) -> None:
        subprocess.run(_as_server_user([self.pg_ctl, "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)


def start_cluster(options: str = "") -> Cluster:
    """Start a cluster, or raise RuntimeError saying why it cannot be. ``options``: more ``-c name=value`` for the server."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("未安装 PostgreSQL 服务器程序(找不到 initdb / pg_ctl;Debian: apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("未安装 psycopg(pip install -e '.[postgres]')") from exc
    base = Path(tempfile.mkdtemp(prefix="officeflow-pg-"))
    if os.geteuid() == 0:
        try:
            shutil.chown(base, SUPERUSER, SUPERUSER)
        except (LookupError, OSError) as exc:
            shutil.rmtree(base, ignore_errors=True)
            raise RuntimeError(f"以 root 运行时需要系统用户 {SUPERUSER} 来运行 PostgreSQL:{exc}") from exc
    os.chmod(base, 0o755)
    data, sock, log = base / "data", base / "sock", base / "server.log"
    run = lambda cmd: subprocess.run(_as_server_user(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, timeout=120)
    if run(["mkdir", "-p", str(sock)]).returncode != 0:
        raise RuntimeError("无法创建 PostgreSQL 套接字目录")
    if run([initdb, "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C",
            "--no-sync"]).returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError("initdb 失败")
    last = None
    for _ in range(3):  # a free port may be taken between the probe and the start
        port = _free_port()
        options = (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                   " -c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB " + options)
        started = run([pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start"])
        if started.returncode == 0:
            return Cluster(base, port, pg_ctl)
        last = log.read_text(errors="replace")[-500:] if log.exists() else ""
    shutil.rmtree(base, ignore_errors=True)
    raise RuntimeError(f"pg_ctl start 失败:{last}")


def skip_or_fail(reason: str):
    """Skipped locally with the reason; under CI a missing server is a failure, never a skip."""
    message = f"PostgreSQL 测试无法运行:{reason}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)
