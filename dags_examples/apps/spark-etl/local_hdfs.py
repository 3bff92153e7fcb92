"""The local directory that stands for HDFS in the sandbox (see dags_examples/stand-ins/hdfs): the spark-etl
stand-ins read and write hdfs:// paths there."""

from __future__ import annotations

import os
import posixpath
from urllib.parse import urlsplit

# In the real application this comes from conf/app.conf (shipped with --files); the stand-ins know it.
APP_ROOT = "hdfs://namenode:8020/user/etl/apps/spark-etl"


def local_uri(path: str) -> str:
    """The file:// URI Spark reads and writes for an hdfs:// (or absolute) path."""
    root = os.environ.get("HDFS_STAND_IN_ROOT")
    if not root:
        raise SystemExit("HDFS_STAND_IN_ROOT is not set: the sandbox mapping's env of the image sets it")
    return "file://" + posixpath.join(root, posixpath.normpath(urlsplit(path).path).lstrip("/"))


def read_staged_events(spark, staging: str):  # a SparkSession; returns a DataFrame
    """The events ingest staged (CSV: user, event, value) under the hdfs:// directory ``staging``."""
    return spark.read.csv(local_uri(staging + "/*/"), schema="user STRING, event STRING, value INT")
