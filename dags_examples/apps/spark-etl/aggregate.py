"""Stand-in for the spark-etl application's jobs/aggregate.py, run by the sandbox for the aggregate step.

    spark-submit aggregate.py <staging directory>

Reads the staged events (CSV under <staging>/<date>/) with Spark, counts them and sums their values per event
type, and writes the result as CSV to <app root>/aggregates/ in the local directory that stands for HDFS.
"""

from __future__ import annotations

import sys

from local_hdfs import APP_ROOT, local_uri, read_staged_events
from pyspark.sql import SparkSession, functions


def main(argv: list[str]) -> None:
    staging = argv[0]
    output = f"{APP_ROOT}/aggregates"
    spark = SparkSession.builder.appName("aggregate").getOrCreate()
    try:
        events = read_staged_events(spark, staging)
        totals = events.groupBy("event").agg(functions.count("*").alias("events"),
                                             functions.sum("value").alias("total")).orderBy("event")
        totals.coalesce(1).write.mode("overwrite").csv(local_uri(output))
        rows = totals.collect()
    finally:
        spark.stop()
    shown = ", ".join(f"{r['event']}={r['events']}" for r in rows)
    print(f"spark-etl aggregate: {sum(r['events'] for r in rows)} events by type ({shown}) to {output}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
