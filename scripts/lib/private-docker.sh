# A private Docker daemon and local stand-ins for upstream base images, for the tests
# that need containers on this machine without a registry (scripts/container-test, and
# the Ansible test). Source it from bash after `set -euo pipefail` with these set:
#   ROOT  the repository's top folder        WORK  a fresh temporary folder
#   fail  a function that prints its arguments and exits
# The daemon keeps everything (images, containers, its socket) in $WORK; the debootstrapped
# Debian bookworm root file system is cached in var/container-cache/ (delete it to start
# from scratch).

# start_private_dockerd BRIDGE_CIDR [DOCKERD_OPTION...]: starts dockerd in the background
# with its own data root and socket in $WORK, exports DOCKER_HOST and sets DOCKERD_PID.
# BRIDGE_CIDR is the default bridge's address: give each script its own, so two never
# share one. `none` makes no bridge, and touches no iptables rule, for a script whose
# builds and containers all use the host's network (--network host).
start_private_dockerd() {
  export DOCKER_HOST="unix://$WORK/docker.sock"
  local network_options=(--bip "$1")
  [[ $1 == none ]] && network_options=(--bridge none --iptables=false --ip-masq=false)
  shift
  dockerd --data-root "$WORK/data" --exec-root "$WORK/exec" --pidfile "$WORK/dockerd.pid" \
    --host "$DOCKER_HOST" "${network_options[@]}" "$@" >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -n 20 "$WORK/dockerd.log"; fail "dockerd did not start"; }
}

# data_root_in_memory SIZE: call before start_private_dockerd to keep the daemon's data
# root in a tmpfs of at most SIZE (e.g. 4g), for a script whose images hold tens of
# thousands of small files: unpacking and deleting them on disk takes longer than the
# test itself. stop_private_dockerd unmounts it.
data_root_in_memory() {
  mkdir -p "$WORK/data"
  mount -t tmpfs -o "size=$1,mode=0710" birdai-docker-data "$WORK/data" || fail "mount a tmpfs on $WORK/data"
}

# stop_private_dockerd: stops the daemon started above (if any) and unmounts what it
# left behind. For a cleanup trap: never fails.
stop_private_dockerd() {
  if [[ -n "${DOCKERD_PID:-}" ]]; then
    # A network's bridge outlives the daemon, and its data root goes with $WORK: left
    # behind, it would shadow the next run's network of the same addresses.
    docker network prune --force >/dev/null 2>&1
    kill "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 1; done
    kill -9 "$DOCKERD_PID" 2>/dev/null
    DOCKERD_PID=""
  fi
  # Leftover overlay mounts (a dockerd that died hard), and data_root_in_memory's tmpfs,
  # would keep rm from working.
  grep -o "$WORK[^ ]*" /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null
  return 0
}

# import_bookworm_rootfs: the image birdai-standin/bookworm:base, a minimal Debian
# bookworm (debootstrap, cached) with this machine's CA certificates.
import_bookworm_rootfs() {
  mkdir -p "$ROOT/var/container-cache" "$WORK/standin"
  local rootfs_tar="$ROOT/var/container-cache/bookworm-minbase.tar"
  if [[ ! -f "$rootfs_tar" ]]; then
    debootstrap --variant=minbase --include=ca-certificates bookworm "$WORK/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 ||
      { tail -n 20 "$WORK/debootstrap.log"; fail "debootstrap"; }
    # Without the downloaded .debs and package lists, as the upstream images ship.
    tar -C "$WORK/rootfs" --exclude='./var/cache/apt/archives/*.deb' --exclude='./var/lib/apt/lists/*' \
      -cf "$rootfs_tar.partial" . && mv "$rootfs_tar.partial" "$rootfs_tar"
    rm -rf "$WORK/rootfs"
  fi
  docker import "$rootfs_tar" birdai-standin/bookworm:rootfs >/dev/null
  cp /etc/ssl/certs/ca-certificates.crt "$WORK/standin/ca-certificates.crt"
  standin birdai-standin/bookworm:base <<'DF'
FROM birdai-standin/bookworm:rootfs
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive
CMD ["bash"]
DF
}

# standin TAG: builds the Dockerfile given on stdin, with $WORK/standin as its context
# (put the files it copies there first).
standin() {
  local tag=$1
  cat >"$WORK/standin/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$WORK/standin" >/dev/null || fail "stand-in $tag"
  echo "built stand-in $tag"
}

# standin_python: python:3.11-slim-bookworm, the image's base.
standin_python() {
  standin python:3.11-slim-bookworm <<'DF'
FROM birdai-standin/bookworm:base
# Like the upstream image: python, python3 and pip on PATH, pip free to install.
RUN apt-get update && apt-get install -y --no-install-recommends python3.11 python3.11-venv python3-pip \
 && rm -rf /var/lib/apt/lists/* /usr/lib/python3.11/EXTERNALLY-MANAGED \
 && ln -s /usr/bin/python3.11 /usr/local/bin/python && ln -s /usr/bin/python3.11 /usr/local/bin/python3 \
 && ln -s /usr/bin/pip3 /usr/local/bin/pip
CMD ["python3"]
DF
}

# standin_postgis: postgis/postgis:15-3.4 from Debian's packages, with a minimal copy
# of the upstream entrypoint (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB).
standin_postgis() {
  cat >"$WORK/standin/postgres-entrypoint.sh" <<'SH'
#!/bin/bash
# Minimal stand-in for the postgres image's entrypoint: POSTGRES_USER/PASSWORD/DB.
set -euo pipefail
if [[ $(id -u) -eq 0 ]]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec runuser -u postgres -- "$0" "$@"
fi
if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  printf '%s' "$POSTGRES_PASSWORD" >/tmp/pwfile
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm /tmp/pwfile
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null
  psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "CREATE EXTENSION postgis" >/dev/null
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec "$@" -c listen_addresses='*'
SH
  chmod +x "$WORK/standin/postgres-entrypoint.sh"
  standin postgis/postgis:15-3.4 <<'DF'
FROM birdai-standin/bookworm:base
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 postgresql-15-postgis-3 \
 && rm -rf /var/lib/apt/lists/* /var/lib/postgresql/15
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
DF
}

# standin_seaweedfs WEED: chrislusf/seaweedfs:4.48 with the given weed binary (the one
# requirements-dev.txt installs).
standin_seaweedfs() {
  cp "$1" "$WORK/standin/weed"
  standin chrislusf/seaweedfs:4.48 <<'DF'
FROM birdai-standin/bookworm:base
RUN apt-get update && apt-get install -y --no-install-recommends wget && rm -rf /var/lib/apt/lists/*
COPY weed /usr/bin/weed
ENTRYPOINT ["/usr/bin/weed"]
DF
}

# fill_wheelhouse: docker/wheels/ from this machine's package indexes, for an offline
# image build (--build-arg PIP_NO_INDEX=1). Empty it afterwards (empty_wheelhouse).
fill_wheelhouse() {
  "$ROOT/.venv/bin/pip" wheel --quiet -w "$ROOT/docker/wheels" -r "$ROOT/requirements.txt" -r "$ROOT/docker/requirements-geo-libs.txt"
  # torch is pinned to its +cpu build: no CUDA library may have come along.
  local cuda_wheels
  cuda_wheels=$(find "$ROOT/docker/wheels" -iname 'nvidia_*' -o -iname 'triton-*' -o -iname 'torch-*cu1*')
  [[ -z "$cuda_wheels" ]] || fail "CUDA packages in the wheelhouse: $cuda_wheels"
  ls "$ROOT/docker/wheels" | grep -E '^torch-.*\+cpu' || fail "no CPU-only torch wheel in docker/wheels"
}

# empty_wheelhouse: the wheelhouse is rebuilt in seconds; do not leave 350 MB behind.
empty_wheelhouse() {
  find "$ROOT/docker/wheels" -type f ! -name .gitignore -delete
}

# The bird.ai image is built once per change of what goes into it, and kept as a
# `docker save` archive in var/container-cache/: scripts/container-test builds and
# saves it, the Ansible test loads it (or builds it, when run first).
birdai_image_archive() {
  local inputs_hash
  # What the Dockerfile copies (.dockerignore leaves out the rest).
  inputs_hash=$(cd "$ROOT" && find Dockerfile requirements.txt docker/requirements-geo-libs.txt manage.py \
    gunicorn.conf.py birdai accounts classifier geo history throttling shared -type f \
    ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  echo "$ROOT/var/container-cache/birdai-image-$inputs_hash.tar"
}

# save_birdai_image TAG: keeps the image as the archive above (only the newest one).
save_birdai_image() {
  local archive
  archive=$(birdai_image_archive)
  [[ -f "$archive" ]] && return 0
  find "$ROOT/var/container-cache" -name 'birdai-image-*.tar*' -delete
  docker save -o "$archive.partial" "$1" && mv "$archive.partial" "$archive"
}

# load_or_build_birdai_image TAG: the image of this checkout, tagged TAG: loaded from
# the archive if there is one, else built offline (and saved).
load_or_build_birdai_image() {
  local archive
  archive=$(birdai_image_archive)
  if [[ -f "$archive" ]]; then
    docker load -q -i "$archive" | sed -n 's/^Loaded image: //p' | head -n 1 |
      xargs -I{} docker tag {} "$1"
    echo "loaded the image from $archive"
    return 0
  fi
  echo "no $archive: building the image"
  standin_python
  fill_wheelhouse
  DOCKER_BUILDKIT=0 docker build -q --build-arg PIP_NO_INDEX=1 -t "$1" "$ROOT" >/dev/null || fail "docker build"
  empty_wheelhouse
  save_birdai_image "$1"
}

# import_jammy_rootfs TAG: the image TAG, a minimal Ubuntu 22.04 jammy (debootstrap,
# cached in var/container-cache/) with main, restricted, universe and multiverse of
# jammy, jammy-updates and jammy-security enabled, as the ubuntu:22.04 image has them.
# debootstrap checks the archive's signature with the Ubuntu archive key; Debian's
# archive has no package of it, so the key is taken from Ubuntu's ubuntu-keyring .deb
# and kept only if its fingerprint is the one pinned here (the key that signs jammy).
UBUNTU_ARCHIVE="http://archive.ubuntu.com/ubuntu"
UBUNTU_ARCHIVE_KEY="F6ECB3762474EDA9D21B7022871920D1991BC93C"  # Ubuntu Archive Automatic Signing Key (2018)
import_jammy_rootfs() {
  mkdir -p "$ROOT/var/container-cache" "$WORK/keyring"
  chmod 700 "$WORK/keyring"  # gpg's home
  local rootfs_tar="$ROOT/var/container-cache/jammy-minbase.tar"
  if [[ ! -f "$rootfs_tar" ]]; then
    curl -fsS -o "$WORK/keyring/ubuntu-keyring.deb" \
      "$UBUNTU_ARCHIVE/pool/main/u/ubuntu-keyring/ubuntu-keyring_2021.03.26_all.deb" || fail "download ubuntu-keyring"
    dpkg-deb -x "$WORK/keyring/ubuntu-keyring.deb" "$WORK/keyring/deb"
    gpg --quiet --homedir "$WORK/keyring" --import "$WORK/keyring/deb/usr/share/keyrings/ubuntu-archive-keyring.gpg" 2>/dev/null
    gpg --quiet --homedir "$WORK/keyring" --export "$UBUNTU_ARCHIVE_KEY" >"$WORK/keyring/ubuntu-archive.gpg"
    [[ -s "$WORK/keyring/ubuntu-archive.gpg" ]] || fail "ubuntu-keyring has no key $UBUNTU_ARCHIVE_KEY"
    debootstrap --variant=minbase --keyring="$WORK/keyring/ubuntu-archive.gpg" jammy "$WORK/rootfs" "$UBUNTU_ARCHIVE" \
      >"$WORK/debootstrap.log" 2>&1 || { tail -n 20 "$WORK/debootstrap.log"; fail "debootstrap jammy"; }
    local suite
    for suite in jammy jammy-updates jammy-security; do
      echo "deb $UBUNTU_ARCHIVE $suite main restricted universe multiverse"
    done >"$WORK/rootfs/etc/apt/sources.list"
    tar -C "$WORK/rootfs" --exclude='./var/cache/apt/archives/*.deb' --exclude='./var/lib/apt/lists/*' \
      -cf "$rootfs_tar.partial" . && mv "$rootfs_tar.partial" "$rootfs_tar"
    rm -rf "$WORK/rootfs"
  fi
  docker import "$rootfs_tar" "$1" >/dev/null
}
