#!/bin/bash
# The layers hold: every #include "..." in src/ goes down the stack or stays in its own folder.
#   cli -> the public header only; report -> util, io (the journal's own file);
#   analysis -> infer, kernels, format, io, util; infer -> kernels, format, util;
#   kernels -> format (dtype tables), util; format -> io, util; io -> util; util -> util.
# The public header include/lineage.h may be included anywhere. Usage: t_layers.sh [TREE]
# (TREE defaults to this checkout; any other tree, e.g. an old commit, is checked the same way).
set -u
tree=${1:-$(cd "$(dirname "$0")/.." && pwd)}
fail=0; n=0
allowed() { # allowed FROM_LAYER TO_LAYER
    case "$1:$2" in
    util:util|io:io|io:util|format:format|format:io|format:util) return 0 ;;
    kernels:kernels|kernels:format|kernels:util) return 0 ;;
    infer:infer|infer:kernels|infer:format|infer:util) return 0 ;;
    analysis:analysis|analysis:infer|analysis:kernels|analysis:format|analysis:io|analysis:util) return 0 ;;
    report:report|report:util|report:io) return 0 ;;
    cli:cli) return 0 ;;
    esac
    return 1
}
# Known edges still to remove, listed (never silent); none today.
pending=""
violations=$(mktemp); known=$(mktemp)
while IFS= read -r file; do
    from=${file#"$tree"/src/}; from=${from%%/*}
    while IFS=: read -r line inc; do
        target=$(printf '%s' "$inc" | sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p')
        [ -n "$target" ] || continue
        n=$((n + 1))
        [ "$target" = lineage.h ] && continue
        case "$target" in
        */*) to=${target%%/*} ;;
        *) # a header beside the file (generated tables) stays in the layer
           to=$from ;;
        esac
        allowed "$from" "$to" && continue
        rel=${file#"$tree"/}
        case " $pending " in
        *" $rel:$to "*) echo "$rel:$line includes \"$target\" ($from -> $to)" >> "$known" ;;
        *) echo "$rel:$line includes \"$target\" ($from -> $to)" >> "$violations" ;;
        esac
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file")
done < <(find "$tree/src" -name '*.[ch]' | sort)
if [ -s "$violations" ]; then
    echo "not ok - every include goes down the layers ($(wc -l < "$violations") violations of $n includes):"
    sed 's/^/    /' "$violations"
    fail=1
else
    echo "ok - every include goes down the layers ($n includes checked)"
fi
[ -s "$known" ] && { echo "# known upward includes still to remove:"; sed 's/^/#   /' "$known"; }
rm -f "$violations" "$known"
# The rule itself can fail: an include going up is caught (checked on the default tree only).
[ $# -gt 0 ] && exit $fail
probe=$(mktemp -d); mkdir -p "$probe/src/io"
printf '#include "analysis/analysis.h"\n' > "$probe/src/io/up.c"
if bash "$0" "$probe" > /dev/null 2>&1; then echo "not ok - an upward include (io -> analysis) is reported"; fail=1
else echo "ok - an upward include (io -> analysis) is reported"; fi
rm -rf "$probe"
exit $fail
