"""Stand-in for the main class com.example.etl.Score of the spark-etl application's jobs/score.jar (a JVM job
the sandbox cannot run: it runs this file instead), for the score step.

    spark-submit score.py <staging directory>

Reads the staged events with Spark, scores each user (the sum of the values of their events) and writes the
scores as CSV to <app root>/scores/ in the local directory that stands for HDFS.
"""

from __future__ import annotations

import sys

from local_hdfs import APP_ROOT, local_uri, read_staged_events
from pyspark.sql import SparkSession, functions


def main(argv: list[str]) -> None:
    staging = argv[0]
    output = f"{APP_ROOT}/scores"
    spark = SparkSession.builder.appName("score").getOrCreate()
    try:
        events = read_staged_events(spark, staging)
        scores = events.groupBy("user").agg(functions.sum("value").alias("score")).orderBy(functions.desc("score"),
                                                                                            "user")
        scores.coalesce(1).write.mode("overwrite").csv(local_uri(output))
        rows = scores.collect()
    finally:
        spark.stop()
    print(f"spark-etl score: scored {len(rows)} users, top {rows[0]['user']}={rows[0]['score']} to {output}",
          flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
