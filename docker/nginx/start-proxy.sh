#!/bin/sh
# Starts the reverse proxy in an nginx container (docker-compose.yml, service "proxy";
# the AWS guide's birdai-proxy.service): fills the ${PROXY_...} names of the template
# from the environment, then runs nginx in the foreground.
#
#   sh start-proxy.sh [TEMPLATE] [CONFIG] [PREFIX]
#
# Only PROXY_ names are filled in, so nginx's own $variables stay as they are. The
# tests fill the same template in Python (tooling/servers/nginx.py, fill_template);
# tests/stack/test_container_files.py checks that both give the same file.
set -eu
template=${1:-/etc/nginx/proxy.conf.template}
config=${2:-/tmp/proxy.conf}
# nginx writes its pid file, temporary files and cache below this directory.
prefix=${3:-/var/cache/nginx/}

names=$(env | sed -n 's/^\(PROXY_[A-Z0-9_]*\)=.*/${\1}/p' | tr '\n' ' ')
envsubst "$names" <"$template" >"$config"
unset_names=$(grep -o '\${PROXY_[A-Z0-9_]*}' "$config" | sort -u | tr '\n' ' ' || true)
if [ -n "$unset_names" ]; then
    echo "start-proxy.sh: set these in the environment: $unset_names" >&2
    exit 1
fi
exec nginx -p "$prefix" -c "$config" -g 'daemon off;'
