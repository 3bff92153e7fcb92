#!/bin/sh
# Stand-in for the spark-etl application's bin/count_rows.sh (Oozie ships it to the shell action; on Kubernetes
# the image has it), used by the check-count step: `count_rows.sh <staging dir>`.
#
# It counts the rows the ingest step staged (the CSV part files under <staging dir>/<date>/) with `hdfs dfs -cat`
# (in the sandbox: stand-ins/hdfs, on a local directory standing for HDFS) and prints `rows=<n>`, the key=value
# line that the capture-output wrapper turns into the task's XCom. Nothing staged is a failure, as `hdfs dfs -cat`
# of a glob that matches nothing is.
set -eu
staging=${1:?usage: count_rows.sh <staging dir>}
echo "count_rows.sh: run ${RUN_ID:-?}: counting the rows staged under $staging" >&2
data=$(hdfs dfs -cat "$staging/*/part-*")
printf '%s\n' "$data" | awk 'NF { n++ } END { print "rows=" n + 0 }'
