#!/bin/bash
# Where the checkout lives must not decide whether the suite passes (issue 19): the parts a remote test
# needs (tests/remote, the built mkhub, faultproxy and lineage, zoo/base and base-sharded as ../shared) are copied into
# a mode-700 `mktemp -d` folder, as a user cloning into root's home or a private temp folder gets, and
# one remote check runs from there. When run as root, nginx's workers must still read the served tree.
. tests/lib.sh
T=$(mktemp -d) || { not_ok "mktemp -d"; finish; }
co="$T/lineage"
trap '[ -f "$co/env" ] && (cd "$co" && tests/remote/server.sh stop work); rm -rf "$T"' EXIT
chmod 700 "$T"
[ "$(stat -c %a "$T")" = 700 ] && ok "the copy lives in a mode-700 folder ($(id -un))" || not_ok "mode of $T: $(stat -c %a "$T")"
mkdir -p "$co/tests" "$co/build/x" "$T/shared/zoo" &&
    cp -r tests/lib.sh tests/remote "$co/tests/" &&
    cp "$BUILD/lineage" "$BUILD/mkhub" "$BUILD/faultproxy" "$co/build/x/" &&
    cp -r "$LINEAGE_SHARED/zoo/base" "$LINEAGE_SHARED/zoo/base-sharded" "$T/shared/zoo/" || { not_ok "copying the checkout's parts into $T"; finish; }
cd "$co" || { not_ok "cd $co"; finish; }
export BUILD=build/x LINEAGE_SHARED=../shared
if ! tests/remote/server.sh start work; then not_ok "nginx starts from the mode-700 copy"; finish; fi
touch env   # tells the trap to stop the server
. work/env
export HF_ENDPOINT=http://127.0.0.1:$PORT XDG_CACHE_HOME=$co/work/xdg
unset HF_TOKEN
strip_model() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d.pop('model',None); d.pop('source',None); print(json.dumps(d,sort_keys=True))" "$1"; }
build/x/lineage inspect ../shared/zoo/base --json work/local.json >/dev/null 2>&1
WORK=$co/work expect_exit "inspect hf://org/base from a checkout in a mode-700 folder" 0 build/x/lineage inspect hf://org/base --json work/remote.json
if [ -s work/local.json ] && [ -s work/remote.json ] && [ "$(strip_model work/local.json)" = "$(strip_model work/remote.json)" ]; then
    ok "the remote report equals the local one"
else not_ok "remote report from the mode-700 copy differs from the local one"; fi
finish
