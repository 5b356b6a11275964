"""The proxy role writes the very configuration the tests, docker compose and the AWS
guide run: docker/nginx/proxy.conf.template with proxy.env's defaults, and the pool from
the inventory's app servers (a drained one marked down)."""

import subprocess
import textwrap

import pytest

from tests.deploy.infra_tools import ANSIBLE_DIR, INFRA_BIN, infra_tool
from tooling.servers.nginx import load_balancer_config

pytestmark = pytest.mark.database_independent


def render_proxy_config(tmp_path, drained: list[str]) -> str:
    """proxy.conf as the role's template writes it, for app servers a1 and a2."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        textwrap.dedent("""\
            all:
              children:
                proxy:
                  hosts:
                    localhost: {ansible_connection: local}
                app:
                  hosts:
                    a1: {ansible_host: 10.0.11.21}
                    a2: {ansible_host: 10.0.12.22, private_address: 10.0.12.99}
            """)
    )
    playbook = tmp_path / "render.yml"
    output = tmp_path / "proxy.conf"
    roles = ANSIBLE_DIR / "roles"
    playbook.write_text(
        textwrap.dedent(f"""\
            - name: Render the proxy configuration here
              hosts: proxy
              gather_facts: false
              tasks:
                - name: Read the role's settings
                  ansible.builtin.include_vars: {roles}/proxy/{{{{ item }}}}
                  loop: [defaults/main.yml, vars/main.yml]
                - name: Render
                  ansible.builtin.template:
                    src: {roles}/proxy/templates/proxy.conf.j2
                    dest: {output}
                    mode: "0644"
            """)
    )
    result = subprocess.run(
        [
            infra_tool("ansible-playbook"),
            "-i",
            inventory,
            playbook,
            "-e",
            f"role_path={roles / 'proxy'}",
            "-e",
            f"{{'proxy_drained': {drained}}}",
        ],
        cwd=ANSIBLE_DIR,
        capture_output=True,
        text=True,
        env={"PATH": f"{INFRA_BIN}:/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    header, config = output.read_text().split("\n", 1)
    assert header == "# Ansible managed", header
    return config


def test_it_writes_the_template_filled_as_the_tests_fill_it(tmp_path):
    config = render_proxy_config(tmp_path, drained=[])
    assert config == load_balancer_config("80", ["10.0.11.21:8000", "10.0.12.99:8000"])


def test_it_marks_a_drained_app_server_down(tmp_path):
    config = render_proxy_config(tmp_path, drained=["a1"])
    assert config == load_balancer_config("80", ["10.0.11.21:8000 down", "10.0.12.99:8000"])
