#!/bin/sh
# make demo: generate demo models and show the main job on them.
set -eu
B=$1
echo "lineage demo: nothing to show yet beyond inspect."
$B/lineage --version
