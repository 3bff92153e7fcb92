"""The Spark job of the Argo example (dags_examples/argo_spark_app_workflow.py): a word count over a small
in-memory text (or the words given as arguments), printed as one `my-spark-app: ...` line.

    spark-submit my-spark-app.py [words...]

In the example's WorkflowTemplate the step runs `/opt/spark/bin/spark-submit
/mounted/volume/spark-apps/my-spark-app.py`; the sandbox maps that path to this file (sandbox.yaml).
"""

from __future__ import annotations

import sys
from operator import add

from pyspark.sql import SparkSession

TEXT = [
    "spark runs on kubernetes",
    "argo runs workflows on kubernetes",
    "spark counts words and argo runs spark",
]


def main(argv: list[str]) -> None:
    lines = [" ".join(argv[1:])] if len(argv) > 1 else TEXT
    spark = SparkSession.builder.appName("my-spark-app").getOrCreate()
    try:
        counts = (spark.sparkContext.parallelize(lines, 2).flatMap(str.split).map(lambda word: (word, 1))
                  .reduceByKey(add, 2).collect())
        counts.sort(key=lambda item: (-item[1], item[0]))
        total = sum(n for _, n in counts)
        top = ", ".join(f"{word}={n}" for word, n in counts[:3])
        print(f"my-spark-app: {total} words, {len(counts)} distinct; top: {top}", flush=True)
    finally:
        spark.stop()


if __name__ == "__main__":
    main(sys.argv)
