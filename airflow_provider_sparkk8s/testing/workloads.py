"""Label selectors of the workload kinds (apps/v1 Deployments, ReplicaSets, StatefulSets, DaemonSets, core/v1
ReplicationControllers and batch/v1 Jobs), and selectors and label maps as the API server prints Go values in
messages. The kinds' defaulting and validation are in strategies/."""

from __future__ import annotations

from .selectors import parse_label_selector


# ---------------------------------------------------------------------- label selectors
def selector_string(selector: dict | None) -> str:
    """A LabelSelector (or a ReplicationController's plain map) as metav1.FormatLabelSelector writes it."""
    if not selector:
        return ""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
        if op == "In":
            terms.append(f"{key} in ({','.join(sorted(values))})")
        elif op == "NotIn":
            terms.append(f"{key} notin ({','.join(sorted(values))})")
        elif op == "Exists":
            terms.append(key)
        elif op == "DoesNotExist":
            terms.append(f"!{key}")
    return ",".join(terms)


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """An empty selector matches nothing here: the controllers never adopt with one (it is invalid anyway)."""
    text = selector_string(selector)
    return bool(text) and parse_label_selector(text)(labels or {})


class GoValue:
    """A value as the API server prints a Go struct or map (%#v) in a message: unquoted."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def go_map_text(labels: dict) -> str:
    return "map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items())) + "}"


def go_map(labels: dict) -> GoValue:
    return GoValue(go_map_text(labels))


def go_selector(selector: dict) -> GoValue:
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return go_map(selector)
    expressions = selector.get("matchExpressions")
    return GoValue(f"&v1.LabelSelector{{MatchLabels:{go_map_text(selector.get('matchLabels') or {})}, "
                   f"MatchExpressions:[]v1.LabelSelectorRequirement{'{...}' if expressions else '(nil)'}}}")
