"""Estimate Pi by sampling random points in the unit square, as Spark's own SparkPi example does.

    spark-submit pi.py [partitions]

The sandbox runs this file for the driver pods of `local:///opt/spark/examples/src/main/python/pi.py` (see
dags_examples/sandbox.yaml); in a real cluster the Spark image's own example runs instead.
"""

from __future__ import annotations

import random
import sys
from operator import add

from pyspark.sql import SparkSession

SAMPLES_PER_PARTITION = 10_000  # small: the demo runs Spark in local mode on a laptop


def inside(_: int) -> int:
    x, y = random.random() * 2 - 1, random.random() * 2 - 1
    return 1 if x * x + y * y <= 1 else 0


def main(argv: list[str]) -> None:
    partitions = int(argv[1]) if len(argv) > 1 else 2
    n = SAMPLES_PER_PARTITION * partitions
    spark = SparkSession.builder.appName("PythonPi").getOrCreate()
    try:
        count = spark.sparkContext.parallelize(range(1, n + 1), partitions).map(inside).reduce(add)
        print(f"Pi is roughly {4.0 * count / n:f}", flush=True)
    finally:
        spark.stop()


if __name__ == "__main__":
    main(sys.argv)
