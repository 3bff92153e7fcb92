"""Stand-in for the spark-etl application's jobs/ingest.py, run by the sandbox for the ingest step.

    spark-submit ingest.py --date YYYY-MM-DD --input <events directory>

The real job stages the day's events from the coordinator's input dataset (hdfs://namenode:8020/data/events/...).
The migrated DAG cannot name that directory (`--input` carries the migration's placeholder for coord:dataIn, which
is not migrated), so when --input is not a path this stand-in makes the day's events itself: a fixed, seeded
sample (user, event, value). Given a path, it reads the CSV files there (and fails, as Spark does, when it does
not exist). Either way it writes them with Spark as CSV to <app root>/staging/<date>/ in the local directory that
stands for HDFS.
"""

from __future__ import annotations

import argparse
import random
import sys

from local_hdfs import APP_ROOT, local_uri
from pyspark.sql import SparkSession

EVENTS = ("view", "click", "purchase")
ROWS = 40


def sample(date: str) -> list[tuple[str, str, int]]:
    rng = random.Random(date)  # the same day gives the same events
    return [(f"u{rng.randint(1, 8)}", rng.choice(EVENTS), rng.randint(1, 100)) for _ in range(ROWS)]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="ingest.py")
    parser.add_argument("--date", required=True)
    parser.add_argument("--input", required=True)
    args = parser.parse_args(argv)
    staged = f"{APP_ROOT}/staging/{args.date}"
    spark = SparkSession.builder.appName("ingest").getOrCreate()
    try:
        if args.input.startswith(("hdfs://", "/")):
            events = spark.read.csv(local_uri(args.input), schema="user STRING, event STRING, value INT")
            source = args.input
        else:
            events = spark.createDataFrame(sample(args.date), "user STRING, event STRING, value INT")
            source = "a generated sample (--input is not a path)"
        events.coalesce(1).write.mode("overwrite").csv(local_uri(staged))
        count = spark.read.csv(local_uri(staged)).count()
    finally:
        spark.stop()
    print(f"spark-etl ingest: staged {count} events of {args.date} from {source} to {staged}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
