"""Run Debian's nginx (a server nobody here wrote) on 127.0.0.1 for scan tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from conftest import _wait_port, need

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

_CONF = """
worker_processes 1;
daemon off;
{user}
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/tmp/body;
  proxy_temp_path {prefix}/tmp/proxy;
  fastcgi_temp_path {prefix}/tmp/fastcgi;
  uwsgi_temp_path {prefix}/tmp/uwsgi;
  scgi_temp_path {prefix}/tmp/scgi;
{http}
}}
"""


@contextlib.contextmanager
def run_nginx(prefix: Path, http: str, ports: list[int]) -> Iterator[None]:
    """Start nginx with ``http`` as the body of its http block (servers, types...); stop it after.

    ``prefix/www`` is the usual document root; the caller fills it before entering."""
    need(os.path.exists(NGINX), "nginx (Debian nginx-light)")
    (prefix / "tmp").mkdir(exist_ok=True)
    user = "user root;" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(_CONF.format(prefix=prefix, user=user, http=http))
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for port in ports:
            _wait_port(port)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)
