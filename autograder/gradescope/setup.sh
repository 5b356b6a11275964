#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image from the zip
# (its base image is Ubuntu 22.04): Python 3.11 (the grader's code needs 3.11; 22.04's
# own python3 is 3.10, and its python3.11, from universe, is a 3.11.0 release candidate
# that the grader runs on: scripts/autograder-image-test grades with it) in a virtual
# environment, and the pinned packages of requirements-autograder.txt. It ends by running the grader's --help, so a missing
# package fails the image build, where the instructor sees it, and not a student's
# submission.
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")" && pwd)"  # /autograder/source on Gradescope
VENV="${AUTOGRADER_VENV:-/autograder/venv}"

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3.11 python3.11-venv ca-certificates
python3.11 -m venv "$VENV"
# 22.04's python3.11 brings an older pip; this is the one the project's tests install with.
"$VENV/bin/python" -m pip install --no-cache-dir --disable-pip-version-check pip==23.0.1
"$VENV/bin/python" -m pip install --no-cache-dir --disable-pip-version-check \
    -r "$SOURCE/requirements-autograder.txt"
cd "$SOURCE"
"$VENV/bin/python" -m autograder --help >/dev/null
echo "The autograder is installed in $VENV."
