"""The migration report: per application, what was converted, approximated or not supported, with file and
line; as text for people and as JSON for tools."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .oozie.ir import Issue, IssueLevel

LEVELS: tuple[IssueLevel, ...] = ("error", "unsupported", "approximated", "converted")


@dataclass
class Report:
    source: str  # the input as the user named it
    target: str  # airflow | argo
    files: list[str] = field(default_factory=list)  # written, relative to the output directory
    issues: list[Issue] = field(default_factory=list)
    origin: str = "Oozie"  # what was migrated: Oozie | Airflow

    @property
    def ok(self) -> bool:
        return not any(issue.level == "error" for issue in self.issues)

    def counts(self) -> dict[str, int]:
        counts = Counter(issue.level for issue in self.issues)
        return {level: counts.get(level, 0) for level in LEVELS}

    def sorted_issues(self) -> list[Issue]:
        """Errors first, then by file and line: a stable order, so the same input gives the same report."""
        return sorted(_unique(self.issues), key=lambda i: (LEVELS.index(i.level), i.source.file, i.source.line or 0,
                                                           i.element, i.message))

    def to_json(self) -> str:
        data = {
            "source": self.source,
            "target": self.target,
            "ok": self.ok,
            "summary": self.counts(),
            "files": sorted(self.files),
            "issues": [{"level": i.level, "file": i.source.file, "line": i.source.line, "element": i.element,
                        "message": i.message} for i in self.sorted_issues()],
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def to_text(self) -> str:
        counts = self.counts()
        head = (f"{self.origin} {self.source} -> {self.target}: "
                + ", ".join(f"{counts[level]} {level}" for level in LEVELS if counts[level]))
        lines = [head.rstrip(": ") if not self.issues else head]
        lines += [f"  {issue}" for issue in self.sorted_issues() if issue.level != "converted"]
        if self.files:
            lines.append("Wrote: " + ", ".join(sorted(self.files)))
        elif not self.ok:
            lines.append("Nothing was written.")
        return "\n".join(lines) + "\n"


def _unique(issues: Iterable[Issue]) -> list[Issue]:
    return list(dict.fromkeys(issues))
