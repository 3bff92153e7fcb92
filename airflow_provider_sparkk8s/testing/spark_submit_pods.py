"""Kept for importers of the old path: launcher pods now live in ``controllers/spark_submit.py``."""

from .controllers.spark_submit import (
    SparkSubmitArgs,
    SparkSubmitError,
    SparkSubmitProgram,
    SubmittedDriver,
    is_spark_submit,
    launcher_argv,
    parse_spark_submit,
    submit,
)

__all__ = ["SparkSubmitArgs", "SparkSubmitError", "SparkSubmitProgram", "SubmittedDriver", "is_spark_submit",
           "launcher_argv", "parse_spark_submit", "submit"]
