"""Least-privilege campaign: the emulator's RBAC, and the shipped Role manifests against what the provider does.

1. RBAC semantics (seeded): for a random rule (verbs, apiGroups, resources with subresources and wildcards,
   resourceNames) bound to a ServiceAccount through a RoleBinding to a Role or ClusterRole or a
   ClusterRoleBinding (subject by ServiceAccount, User name or group), a request the rule covers is allowed and
   a request that differs in one respect (verb, group, resource, subresource, name, namespace, identity) gets
   the API server's 403 with its exact message. Requests go through kubernetes_asyncio with the SA's token.
2. The shipped Roles (dags_examples/manifests): the provider's flows, run with the worker ServiceAccount's token
   (the Spark pod and spark-operator launchers, the Argo hook over the Kubernetes API and over the Argo Server,
   the calendar's EventSource; spark-submit in the full size) never get a 403. Then, for each verb of each rule
   bound to the worker (a seeded sample in the short size, all in the full size), the flows run with that verb
   removed: the removal must be noticed (the worker gets a 403) unless the permission is in NOT_EXERCISED, and a
   flow that fails because of it must say which verb and resource it lacked.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.reliability import support
from tests.reliability.campaign import Result
from tests.reliability.rbac_support import (
    MANIFESTS,
    WORKER,
    WORKER_USER,
    rbac_documents,
    roles_of_worker,
    start_cluster,
    without,
)
from tests.reliability.support import environment

K8S_CONN, ARGO_CONN = "least_privilege_kubernetes", "least_privilege_argo"
NS = "spark-jobs"
# Permissions of the shipped Roles that the campaign's flows cannot take away with a visible effect, and why.
NOT_EXERCISED = {
    ("configmaps", "delete"): "spark-submit deletes what it applied only when a submission fails half-way",
    ("services", "delete"): "spark-submit deletes what it applied only when a submission fails half-way",
}
SPARK_SUBMIT_ONLY = {("configmaps", "create"), ("configmaps", "patch"), ("services", "create"),
                     ("services", "patch"), ("networkpolicies", "create"), ("networkpolicies", "patch")}
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")


# ---------------------------------------------------------------------- 1. RBAC semantics
@dataclass(frozen=True)
class Target:
    group: str
    version: str
    resource: str
    subresources: tuple[str, ...] = ()
    namespaced: bool = True


TARGETS = (
    Target("", "v1", "pods", ("log", "status")),
    Target("", "v1", "configmaps"),
    Target("", "v1", "services"),
    Target("apps", "v1", "deployments", ("status",)),
    Target("sparkoperator.k8s.io", "v1beta2", "sparkapplications", ("status",)),
    Target("argoproj.io", "v1alpha1", "workflows"),
    Target("argoproj.io", "v1alpha1", "clusterworkflowtemplates", (), False),
)


@dataclass(frozen=True)
class Request:
    verb: str
    target: Target
    subresource: str
    namespace: str
    name: str

    def method_path(self) -> tuple[str, str, dict[str, str]]:
        t = self.target
        base = f"/apis/{t.group}/{t.version}" if t.group else f"/api/{t.version}"
        if t.namespaced:
            base += f"/namespaces/{self.namespace}"
        base += f"/{t.resource}"
        query: dict[str, str] = {}
        if self.name and self.verb not in ("list", "watch", "create", "deletecollection"):
            base += f"/{self.name}"
        if self.subresource:
            base += f"/{self.subresource}"
        if self.verb == "watch":
            query = {"watch": "true", "timeoutSeconds": "0"}
        method = {"get": "GET", "list": "GET", "watch": "GET", "create": "POST", "update": "PUT", "patch": "PATCH",
                  "delete": "DELETE", "deletecollection": "DELETE"}[self.verb]
        return method, base, query

    def forbidden_message(self, user: str) -> str:
        """The API server's message, written out from its format (responsewriters.forbiddenMessage)."""
        t = self.target
        resource = f"{t.resource}/{self.subresource}" if self.subresource else t.resource
        named = self.verb not in ("list", "watch", "create", "deletecollection") and self.name
        where = f'in the namespace "{self.namespace}"' if t.namespaced else "at the cluster scope"
        if t.resource == "namespaces" and named:
            where = f'in the namespace "{self.name}"'  # a namespace's name is its namespace (RequestInfo)
        qualified = f"{t.resource}.{t.group}" if t.group else t.resource
        subject = f'{qualified} "{self.name}"' if named else qualified
        return f'{subject} is forbidden: User "{user}" cannot {self.verb} resource "{resource}" in API group ' \
               f'"{t.group}" {where}'


def valid_verbs(target: Target, subresource: str) -> tuple[str, ...]:
    if subresource == "log":
        return ("get",)
    if subresource:
        return ("get", "update", "patch")
    return VERBS


def random_case(rng: random.Random, n: int) -> tuple[dict, list[dict], Request, Request, str]:
    """A role, its binding(s), an allowed request and a denied one, and what the denied one changes."""
    target = rng.choice(TARGETS)
    sub = rng.choice(("",) + target.subresources)
    verb = rng.choice(valid_verbs(target, sub))
    name = f"obj-{n}"
    namespace = "campaign-a"
    rule: dict[str, Any] = {"apiGroups": [rng.choice([target.group, "*"])], "verbs": [verb]}
    extra_verbs = [v for v in valid_verbs(target, sub) if v != verb]
    rule["verbs"] += rng.sample(extra_verbs, rng.randint(0, min(2, len(extra_verbs))))
    if rng.random() < 0.15:
        rule["verbs"] = ["*"]
    combined = f"{target.resource}/{sub}" if sub else target.resource
    rule["resources"] = [rng.choice([combined, "*", f"*/{sub}"] if sub else [combined, "*"])]
    named = verb not in ("list", "watch", "create", "deletecollection")
    if named and rng.random() < 0.3:
        rule["resourceNames"] = [name]
    allowed = Request(verb, target, sub, namespace, name)
    # What the denied request changes; only ways that take it outside this one rule.
    changes = ["identity"]
    if rule["verbs"] != ["*"]:
        missing = [v for v in valid_verbs(target, sub) if v not in rule["verbs"]]
        if missing:
            changes.append("verb")
    if rule["apiGroups"] != ["*"]:
        changes.append("group")
    if rule["resources"][0] != "*" and not (sub and rule["resources"][0] == f"*/{sub}"):
        changes.append("resource")
    if rule["resources"][0] == combined and not sub and target.subresources:
        changes.append("subresource")
    if rule.get("resourceNames"):
        changes.append("name")
    scope = rng.choice(["Role", "ClusterRole-by-RoleBinding", "ClusterRoleBinding"] if target.namespaced
                       else ["ClusterRoleBinding"])
    if scope != "ClusterRoleBinding":
        changes.append("namespace")
    change = rng.choice(changes)
    denied = allowed
    if change == "verb":
        missing = [v for v in valid_verbs(target, sub) if v not in rule["verbs"]]
        denied = Request(rng.choice(missing), target, sub, namespace, name)
    elif change == "group":
        other = next(t for t in TARGETS if t.group != target.group and t.namespaced == target.namespaced
                     and t.resource != target.resource) if target.namespaced else Target("", "v1", "namespaces",
                                                                                          (), False)
        denied = Request(verb if verb in valid_verbs(other, "") else "get", other, "", namespace, name)
    elif change == "resource":
        other = next((t for t in TARGETS if t.group == target.group and t.resource != target.resource
                      and t.namespaced == target.namespaced), None)
        if other is None:  # the only one of its group here: another group's, which differs in both
            other = next(t for t in TARGETS if t.resource != target.resource and t.namespaced == target.namespaced
                         ) if target.namespaced else Target("", "v1", "namespaces", (), False)
        denied = Request(verb if verb in valid_verbs(other, "") else "get", other, "", namespace, name)
    elif change == "subresource":
        denied = Request("get", target, target.subresources[0], namespace, name)
    elif change == "name":
        denied = Request(verb, target, sub, namespace, f"other-{n}")
    elif change == "namespace":
        denied = Request(verb, target, sub, "campaign-b", name)
    role_kind = "Role" if scope == "Role" else "ClusterRole"
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": role_kind,
            "metadata": {"name": f"case-{n}", **({"namespace": namespace} if role_kind == "Role" else {})},
            "rules": [rule]}
    subject = rng.choice([
        {"kind": "ServiceAccount", "name": "tester", "namespace": "campaign-a"},
        {"kind": "User", "name": "system:serviceaccount:campaign-a:tester"},
        {"kind": "Group", "name": "system:serviceaccounts:campaign-a"},
    ])
    binding_kind = "ClusterRoleBinding" if scope == "ClusterRoleBinding" else "RoleBinding"
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": binding_kind,
               "metadata": {"name": f"case-{n}", **({"namespace": namespace} if binding_kind == "RoleBinding"
                                                    else {})},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": f"case-{n}"},
               "subjects": [subject]}
    return role, [binding], allowed, denied, change


async def send(api: Any, request: Request) -> tuple[int, dict]:
    from airflow_provider_sparkk8s.kube_api import KubeApiError

    method, path, query = request.method_path()
    body = None
    content_type = None
    if request.verb in ("create", "update"):
        body = {"metadata": {"name": request.name}}
    elif request.verb == "patch":
        body, content_type = {"metadata": {"labels": {"touched": "yes"}}}, "application/merge-patch+json"
    try:
        if request.verb == "get" and request.subresource == "log":
            await api.text(path, query)
        else:
            await api.request(method, path, query, body, content_type)
        return 200, {}
    except KubeApiError as exc:
        return exc.status, exc.body


def semantics(kube: Any, workdir: Path, rng: random.Random, count: int, result: Result, seed: int) -> None:
    from airflow_provider_sparkk8s.hooks.spark import SparkK8sHook

    kube.create_namespace("campaign-a")
    kube.create_namespace("campaign-b")
    tester = kube.service_account_token("campaign-a", "tester")
    other = kube.service_account_token("campaign-b", "tester")
    paths = {who: kube.write_kubeconfig(workdir / f"{who}-kubeconfig", token=token)
             for who, token in (("tester", tester), ("other", other))}

    def conn(who: str) -> dict[str, str]:
        return {f"AIRFLOW_CONN_{K8S_CONN.upper()}_{who.upper()}": json.dumps(
            {"conn_type": "kubernetes", "extra": {"kube_config_path": str(paths[who])}})}

    async def trials() -> None:
        async with SparkK8sHook(f"{K8S_CONN}_tester").api() as tester_api, \
                SparkK8sHook(f"{K8S_CONN}_other").api() as other_api:
            for n in range(count):
                await trial(n, tester_api, other_api)

    async def trial(n: int, tester_api: Any, other_api: Any) -> None:
        role, bindings, allowed, denied, change = random_case(rng, n)
        kube.apply([role, *bindings])
        who = "other" if change == "identity" else "tester"
        user = f"system:serviceaccount:{'campaign-b' if who == 'other' else 'campaign-a'}:tester"
        ok_status, ok_body = await send(tester_api, allowed)
        no_status, no_body = await send(other_api if who == "other" else tester_api, denied)
        result.trials += 1
        where = f"trial {n} (seed {seed}): rule {role['rules'][0]} via {bindings[0]['kind']} " \
                f"{bindings[0]['subjects'][0]}"
        if ok_status == 403:
            result.violate(f"{where}: {allowed} was denied: {ok_body.get('message')}")
        expected = denied.forbidden_message(user)
        if no_status != 403 or no_body.get("message") != expected or no_body.get("reason") != "Forbidden":
            result.violate(f"{where}: {denied} (changed {change}) gave {no_status} {no_body.get('message')!r}, "
                           f"expected 403 {expected!r}")
        for doc in (role, *bindings):  # leave nothing behind for the next case
            rt = kube.store.rt(doc["apiVersion"], doc["kind"])
            kube.store.delete(rt, doc["metadata"].get("namespace"), doc["metadata"]["name"])

    with environment({**conn("tester"), **conn("other")}):
        asyncio.run(trials())


# ---------------------------------------------------------------------- 2. the provider's flows
async def spark_flow(launcher: str, tag: str) -> None:
    """What SparkK8sOperator does with the pod or spark-operator launcher: adopt, submit, wait, logs, kill."""
    from airflow_provider_sparkk8s.hooks.spark import SparkK8sHook, SparkRun
    from airflow_provider_sparkk8s.identity import TaskIdentity
    from airflow_provider_sparkk8s.kube_api import SPARK_APPLICATIONS
    from airflow_provider_sparkk8s.spark_app import SparkApp

    hook = SparkK8sHook(K8S_CONN)
    identity = TaskIdentity("least_privilege", launcher, f"run-{tag}")
    template = {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"team": "data"}}}
    app = SparkApp("local:///opt/spark/examples/src/main/python/pi.py", name="lp", image="apache/spark:4.0.1",
                   service_account_name="spark", driver_pod_template=template if launcher == "pod" else None)
    async with hook.api() as api:
        await hook.find_runs(api, NS, identity, launcher)
        run = SparkRun(launcher, NS, identity.name("lp", max_len=50) + "-driver")
        if launcher == "pod":
            run.launcher_pod = run.driver_pod.removesuffix("-driver") + "-launcher"
            await hook.create_launcher(api, app, run, identity)
            await hook.create_launcher(api, app, run, identity)  # a retry adopts what exists
        else:
            run.application = run.driver_pod.removesuffix("-driver")
            await hook.create(api, SPARK_APPLICATIONS, NS, hook.spark_application_manifest(app, run, identity))
    async with hook.shared_api() as api:  # the trigger's wait
        outcome = await hook.wait(api, run, 30)
    if outcome.status != "success":
        raise RuntimeError(outcome.message)
    async with hook.api() as api:
        await hook.is_finished(api, run)
        await hook.read_log(api, NS, run.driver_pod)
        await hook.events_for(api, NS, run.driver_pod)
        await hook.delete_run(api, run)


async def argo_flow(argo_conn: str | None, tag: str) -> None:
    """What ArgoWorkflowOperator does: adopt, check the template, submit, wait, logs; then kill another one."""
    from airflow_provider_sparkk8s.hooks.argo import ArgoError, ArgoWorkflowsHook, WorkflowRef, shutdown_workflow

    hook = ArgoWorkflowsHook(argo_conn, K8S_CONN)
    params = {"arguments": {"parameters": [{"name": "sparkJobFilePath", "value": "/apps/app.py"}]}}
    refs = []
    async with hook.transport() as transport:
        for n in range(2):
            await transport.list("argo", f"campaign={tag}")
            if await transport.get_template("WorkflowTemplate", "argo", "spark-app-workflow-template") is None:
                raise ArgoError("the WorkflowTemplate was not found")
            created = await transport.create("argo", {
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                "metadata": {"name": f"lp-{tag}-{n}", "namespace": "argo", "labels": {"campaign": tag}},
                "spec": {"workflowTemplateRef": {"name": "spark-app-workflow-template"}, **params}})
            refs.append(WorkflowRef("argo", created["metadata"]["name"]))
        await shutdown_workflow(transport, refs[1], "stop")  # a kill while it runs
    async with hook.transport(shared=True) as transport:
        outcome = await transport.wait(refs[0], 30, None)
    if outcome.status != "success":
        raise ArgoError(outcome.error_message())
    async with hook.transport() as transport:
        await transport.logs("argo", refs[0].name)
        if await transport.get_template("ClusterWorkflowTemplate", "", "spark-app-cluster-template") is None:
            raise ArgoError("the ClusterWorkflowTemplate was not found")


async def calendar_flow(tag: str) -> None:
    """What ArgoCalendarSensor(event_source=...) reads."""
    from airflow_provider_sparkk8s.hooks.spark import SparkK8sHook
    from airflow_provider_sparkk8s.kube_api import EVENT_SOURCES

    hook = SparkK8sHook(K8S_CONN)
    async with hook.api() as api:
        if await hook.get(api, EVENT_SOURCES, "argo-events", "calendar-source") is None:
            raise RuntimeError("the EventSource was not found")


def spark_submit_flow(tag: str) -> None:
    from airflow_provider_sparkk8s.hooks.spark import SparkK8sHook, SparkRun
    from airflow_provider_sparkk8s.identity import TaskIdentity
    from airflow_provider_sparkk8s.spark_app import SparkApp

    hook = SparkK8sHook(K8S_CONN)
    identity = TaskIdentity("least_privilege", "spark-submit", f"run-{tag}")
    run = SparkRun("spark-submit", NS, identity.name("lp", max_len=50) + "-driver")
    app = SparkApp("local:///opt/spark/examples/src/main/python/pi.py", name="lp", image="apache/spark:4.0.1",
                   service_account_name="spark")
    lines: list[str] = []
    hook.submit_with_spark_submit(app, run, identity, hook.spark_submit_binary(), timeout=120, emit=lines.append)


def flows(with_spark_submit: bool) -> dict[str, Callable[[str], Awaitable[None] | None]]:
    out: dict[str, Callable[[str], Any]] = {
        "spark pod launcher": lambda tag: spark_flow("pod", tag),
        "spark-operator launcher": lambda tag: spark_flow("spark-operator", tag),
        "argo over kubernetes": lambda tag: argo_flow(None, tag),
        "argo over the argo server": lambda tag: argo_flow(ARGO_CONN, tag),
        "calendar event source": calendar_flow,
    }
    if with_spark_submit:
        out["spark-submit"] = spark_submit_flow
    return out


def run_flows(kube: Any, selected: dict[str, Callable[[str], Any]], tag: str) -> dict[str, str]:
    """Run every flow; the error text of each that failed."""
    errors = {}
    for n, (name, flow) in enumerate(selected.items()):
        try:
            outcome = flow(f"{tag}-{n}")
            if asyncio.iscoroutine(outcome):
                asyncio.run(asyncio.wait_for(outcome, 90))
        except Exception as exc:  # noqa: BLE001 - the error text is what is checked
            errors[name] = f"{type(exc).__name__}: {exc}"
    return errors


def forbidden_calls(kube: Any, since: float) -> set[tuple[str, str]]:
    """(verb, resource) of the worker's requests refused since `since` (Argo Server requests by their kind)."""
    return {(r.verb, r.resource) for r in kube.requests.snapshot()
            if r.user == WORKER_USER and r.status == 403 and r.started >= since}


def worker_connections(kube: Any, workdir: Path) -> dict[str, str]:
    token = kube.service_account_token(*WORKER)
    kubeconfig = kube.write_kubeconfig(workdir / "worker-kubeconfig", token=token)
    return {f"AIRFLOW_CONN_{K8S_CONN.upper()}": json.dumps(
                {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}),
            f"AIRFLOW_CONN_{ARGO_CONN.upper()}": json.dumps(kube.argo_connection("argo", token=token)),
            "KUBECONFIG": str(kubeconfig)}


def replace_rbac(kube: Any, docs: list[dict]) -> None:
    """Make the cluster's RBAC objects exactly `docs`."""
    for doc in rbac_documents():
        if doc["kind"] in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"):
            rt = kube.store.rt(doc["apiVersion"], doc["kind"])
            if kube.store.try_get(rt, doc["metadata"].get("namespace"), doc["metadata"]["name"]) is not None:
                kube.store.delete(rt, doc["metadata"].get("namespace"), doc["metadata"]["name"])
    kube.apply(docs)




def removals(docs: list[dict]) -> list[tuple[int, int, str, str]]:
    """(document index, rule index, verb, resource) for every verb of every rule bound to the worker."""
    out = []
    for index, role in roles_of_worker(docs):
        for r, rule in enumerate(role["rules"]):
            for resource in rule["resources"]:
                out.extend((index, r, verb, resource) for verb in rule["verbs"])
    return out


def shipped_roles(kube: Any, workdir: Path, rng: random.Random, size: str, result: Result, seed: int) -> None:
    with_submit = size == "full" and support.spark_submit_available()
    if size == "full" and not with_submit:
        result.figures["spark-submit"] = "skipped (no java or spark-submit)"
    selected = flows(with_submit)
    docs = rbac_documents()
    cluster_template = yaml.safe_load((MANIFESTS / "spark-app-workflow-template.yaml").read_text())
    cluster_template["kind"] = "ClusterWorkflowTemplate"
    cluster_template["metadata"] = {"name": "spark-app-cluster-template"}
    kube.apply(cluster_template)
    with environment(worker_connections(kube, workdir)):
        since = time.time()
        errors = run_flows(kube, selected, "all")
        result.trials += 1
        refused = forbidden_calls(kube, since)
        if errors or refused:
            result.violate(f"seed {seed}: under the shipped Roles the worker was refused {sorted(refused)}; "
                           f"failed flows: {errors}")
        candidates = removals(docs)
        if size == "short":
            candidates = rng.sample(candidates, min(4, len(candidates)))
        unexercised = []
        for n, (index, rule, verb, resource) in enumerate(candidates):
            if not with_submit and (resource, verb) in SPARK_SUBMIT_ONLY:
                continue
            changed = copy.deepcopy(docs)
            role_rule = changed[index]["rules"][rule]
            if len(role_rule["resources"]) > 1:  # take only this resource's verb away
                rest = dict(role_rule, resources=[r for r in role_rule["resources"] if r != resource])
                role_rule["resources"] = [resource]
                changed[index]["rules"].append(rest)
            replace_rbac(kube, without(changed, index, rule, verb))
            since = time.time()
            # spark-submit costs a JVM: run it where only it can notice (what it applies, the pod it creates).
            needed = selected if (resource, verb) in SPARK_SUBMIT_ONLY | {("pods", "create")} else flows(False)
            errors = run_flows(kube, needed, f"rm{n}")
            refused = forbidden_calls(kube, since)
            result.trials += 1
            role = changed[index]["metadata"]["name"]
            if not refused and not errors:  # only this permission is missing: any refusal is for it
                unexercised.append((resource, verb))
                if (resource, verb) not in NOT_EXERCISED:
                    result.violate(f"trial {n} (seed {seed}): role {role} grants {verb} {resource}, but no flow of "
                                   "the provider needs it")
                continue
            for flow, error in errors.items():
                if f'cannot {verb} resource "{resource}"' not in error:
                    result.violate(f"trial {n} (seed {seed}): without {verb} {resource} (role {role}) flow {flow!r} "
                                   f"failed with an error that does not name them: {error[:400]}")
        replace_rbac(kube, docs)
    result.figures["permissions unexercised"] = ", ".join(f"{v} {r}" for r, v in unexercised) or "none"


def run(size: str, seed: int) -> Result:
    support.airflow_home()  # the session's, or a private one removed at exit
    result = Result("least_privilege")
    rng = random.Random(seed)
    workdir = Path(tempfile.mkdtemp(prefix="sparkk8s-rbac-campaign-"))
    # Pods run long enough for every wait to open its watch (a removed watch verb must be noticed).
    kube = start_cluster(workdir / "kube", pod_run_seconds=0.3, pod_pending_seconds=0.01)
    kube.pods.behave(name="lp-*-driver", run_seconds=1.0)
    try:
        semantics(kube, workdir, rng, 60 if size == "short" else 400, result, seed)
        shipped_roles(kube, workdir, rng, size, result, seed)
    finally:
        kube.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def _main() -> None:  # python -m tests.reliability.least_privilege [full]
    outcome = run(sys.argv[1] if len(sys.argv) > 1 else "short", int(sys.argv[2]) if len(sys.argv) > 2 else 20261126)
    print(outcome.trials, "trials", len(outcome.violations), "violations", outcome.figures)
    print("\n".join(outcome.violations))


if __name__ == "__main__":
    _main()
