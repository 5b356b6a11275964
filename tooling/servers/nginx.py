"""nginx in front of other servers: a caching load balancer, or a CDN-like cache for S3.

The configuration is plain text rendered here, so a test can print it and a student
can compare it with a production one. Relative paths in it are relative to the `-p`
prefix, the server's temporary directory.
"""

import os
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tooling.servers.net import LOOPBACK, free_port, tcp_port_open
from tooling.servers.process import ServerProcess, ServerStartError

# Around an `http_config` (the CDN's): a whole nginx.conf.
MAIN_CONFIG = """\
worker_processes 2;
pid nginx.pid;
error_log stderr warn;

events {{
    worker_connections 512;
}}

http {{
    access_log access.log;
    default_type application/octet-stream;
    # Keep every file nginx writes inside the prefix instead of /var/lib/nginx.
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
{http_config}
}}
"""


# The reverse proxy's one configuration, for the tests as for docker-compose.yml and
# the AWS guide (which fill in the same ${PROXY_...} names from the environment).
PROXY_TEMPLATE = Path(__file__).resolve().parents[2] / "docker" / "nginx" / "proxy.conf.template"

# The proxy's settings and their defaults, from the file the AWS guide copies
# (docker-compose.yml has the same defaults: tests/stack/test_container_files.py checks).
PROXY_DEFAULTS = PROXY_TEMPLATE.parent / "proxy.env"


def read_env_file(path: Path) -> dict[str, str]:
    """NAME=value lines, as docker's --env-file reads them (# lines are comments)."""
    lines = path.read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name: value for name, value in pairs}


PROXY_SETTINGS = read_env_file(PROXY_DEFAULTS)
TEMPLATE_NAME = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
TEMPLATE_TODO = re.compile(r"^\s*# (TODO \(assignment \d\): .*)$", re.MULTILINE)


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """${NAME} replaced as envsubst does; a name without a value is an error here."""
    missing = set(TEMPLATE_NAME.findall(template)) - set(values)
    if missing:
        raise KeyError(f"no value for {sorted(missing)}")
    return TEMPLATE_NAME.sub(lambda match: values[match.group(1)], template)


def load_balancer_config(listen: str, upstreams: Sequence[str], **settings: str) -> str:
    """The whole nginx.conf of the reverse proxy: round-robin over app servers
    ("host:port"), with the per-address limits of PROXY_SETTINGS, overridden by
    `settings` given by their names (PROXY_LOGIN_RATE="2r/s")."""
    unknown = set(settings) - set(PROXY_SETTINGS)
    if unknown:
        raise KeyError(f"not a proxy setting: {sorted(unknown)}")
    template = PROXY_TEMPLATE.read_text()
    # A course's starter code leaves parts of the template to
    # the student: say which, rather than start a proxy the tests would find wanting.
    todos = TEMPLATE_TODO.findall(template)
    if todos:
        raise NotImplementedError(f"{PROXY_TEMPLATE} still says: " + " ".join(todos))
    servers = "\n".join(f"        server {address};" for address in upstreams)
    values = {
        **PROXY_SETTINGS,
        **settings,
        "PROXY_LISTEN": listen,
        "PROXY_UPSTREAM_SERVERS": servers,
    }
    return fill_template(template, values)


# The address the CDN stand-in connects to S3 from (nginx `proxy_bind`). A bucket policy
# can let only this address read a private bucket: how the tests stand in for CloudFront's
# Origin Access Control (docs/s3-cloudfront.md). All of 127.0.0.0/8 is loopback on Linux.
CDN_SOURCE_ADDRESS = "127.0.0.2"


def cdn_config(
    listen: str,
    origin_url: str,
    bucket: str,
    *,
    cache_seconds: int = 3600,
    source_address: str | None = None,
) -> str:
    """Serves /<key> from <origin_url>/<bucket>/<key>, keeping copies in a disk cache.

    The edge does not sign its requests to S3, so the bucket must let it read
    anonymously: everyone (a public-read policy), or only requests coming from
    `source_address`, which nginx then connects from.

    Like CloudFront with a cache policy that leaves query strings out, the query string
    is neither part of the cache key nor passed on to S3: signed URLs for one photo
    (?Expires=...&Signature=...&Key-Pair-Id=...) with different expiry times share one
    cached copy. Unlike CloudFront, nginx does not check those signatures.
    """
    bind = f"proxy_bind {source_address};" if source_address else ""
    return f"""
    proxy_cache_path cdn_cache levels=1:2 keys_zone=cdn_cache:10m max_size=1g
                     inactive=1h use_temp_path=off;

    server {{
        listen {listen};

        location / {{
            # Read-only: uploads reach S3 through the app, never through the CDN.
            limit_except GET {{
                deny all;
            }}
            # The path alone names the cached copy; the query string goes nowhere.
            proxy_cache_key $uri;
            set $args "";
            proxy_pass {origin_url}/{bucket}/;
            {bind}
            proxy_cache cdn_cache;
            # How long to keep an object stored without Cache-Control (bird.ai's photos
            # carry their own, a year, which nginx follows).
            proxy_cache_valid 200 {cache_seconds}s;
            # Many clients missing the same object at once cause one request to S3.
            proxy_cache_lock on;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
    }}
"""


def throwaway_rsa_key() -> str:
    """A PEM private key like the one a CloudFront key group trusts: the app signs its
    photo links with it; the CDN stand-in does not check them."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class Nginx(ServerProcess):
    name = "nginx"

    def __init__(self, http_config: str = "", *, port: int, whole_config: str = "") -> None:
        """`http_config` goes inside http {...}, or `whole_config` is the whole nginx.conf;
        either must listen on 127.0.0.1:`port`."""
        super().__init__()
        self.config = whole_config or MAIN_CONFIG.format(http_config=http_config)
        self.port = port
        self.url = f"http://{LOOPBACK}:{port}"
        self.config_path = self.workdir / "nginx.conf"

    @classmethod
    def load_balancer(cls, upstreams: Sequence[str], **settings: str) -> "Nginx":
        """The reverse proxy (docker/nginx/proxy.conf.template); `settings` as in
        load_balancer_config."""
        port = free_port()
        config = load_balancer_config(f"{LOOPBACK}:{port}", upstreams, **settings)
        return cls(port=port, whole_config=config)

    @classmethod
    def cdn(
        cls,
        origin_url: str,
        bucket: str,
        *,
        cache_seconds: int = 3600,
        source_address: str | None = None,
    ) -> "Nginx":
        port = free_port()
        config = cdn_config(
            f"{LOOPBACK}:{port}",
            origin_url,
            bucket,
            cache_seconds=cache_seconds,
            source_address=source_address,
        )
        return cls(config, port=port)

    def before_first_start(self) -> None:
        # As root, nginx would run its workers as an unprivileged user, who cannot
        # enter the private temp dir to write the cache. Fine in a test, not in production.
        user_directive = "user root;\n" if os.geteuid() == 0 else ""
        self.config_path.write_text(user_directive + self.config)

    def command(self) -> list[str]:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(nginx):
            raise ServerStartError("nginx is not installed: scripts/install-system-packages --test")
        return [
            nginx,
            "-p", f"{self.workdir}/",
            "-c", str(self.config_path),
            "-e", "stderr",
            # In the foreground, so it stays our child and its log goes to our log file.
            "-g", "daemon off;",
        ]  # fmt: skip

    def is_ready(self) -> bool:
        return tcp_port_open(LOOPBACK, self.port)

    def cached_entries(self) -> list[Path]:
        """The answers the load balancer's proxy cache holds (app_cache). Entries are
        named by the MD5 of their key; a name with a dot is one still being written
        (use_temp_path=off)."""
        cache = self.workdir / "app_cache"
        return [path for path in cache.rglob("*") if path.is_file() and "." not in path.name]

    def wait_until_cached(self, entries: int = 1, timeout: float = 5.0) -> None:
        """nginx moves a cached answer into its cache folder once the app's answer has
        ended, which on a busy machine can come just after the client read the last
        byte: a request sent at once could race it and count as a miss."""
        deadline = time.monotonic() + timeout
        while len(self.cached_entries()) < entries:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nginx cached {len(self.cached_entries())} of {entries}")
            time.sleep(0.02)
