#!/usr/bin/env bash
# One-shot set-up of the docker-compose stack's k3s cluster, run by the `k3s-bootstrap` service:
#   1. wait for the kubeconfig k3s writes and rewrite its server to the address Airflow uses (K3S_API_URL);
#      every later step goes through that rewritten kubeconfig, so a wrong hostname or TLS SAN fails here;
#   2. create the namespaces the example DAGs and manifests use;
#   3. install Argo Workflows and Argo Events from their pinned release manifests (INSTALL_ARGO) and the
#      Kubeflow spark-operator from its pinned Helm chart (INSTALL_SPARK_OPERATOR);
#   4. apply dags_examples/manifests (RBAC, the WorkflowTemplate, the calendar EventSource);
#   5. hand Airflow (AIRFLOW_KUBECONFIG), last, so it never sees a half-set-up cluster, a kubeconfig for the
#      `airflow-worker` service account (deploy/manifests/airflow-identity.yaml): it can do what the example
#      Roles grant and no more, never what the cluster-admin kubeconfig of k3s can.
# Every step is idempotent: `docker compose up` runs it again on an existing cluster.
set -euo pipefail

K3S_KUBECONFIG=${K3S_KUBECONFIG:-/k3s-output/kubeconfig.yaml}
K3S_API_URL=${K3S_API_URL:-https://k3s:6443}
AIRFLOW_KUBECONFIG=${AIRFLOW_KUBECONFIG:-/airflow-kube/kubeconfig.yaml}
EXAMPLES_DIR=${EXAMPLES_DIR:-/manifests/examples}
DEPLOY_DIR=${DEPLOY_DIR:-/deploy/manifests}
INSTALL_ARGO=${INSTALL_ARGO:-true}
INSTALL_SPARK_OPERATOR=${INSTALL_SPARK_OPERATOR:-true}
WAIT_SECONDS=${WAIT_SECONDS:-900}
# airflow: the namespace of the service accounts the example RBAC binds.
NAMESPACES=(airflow argo argo-events spark-jobs)

log() { printf '%s k3s-bootstrap: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { log "ERROR: $*"; exit 1; }

wait_until() {  # wait_until <what> <command...>: retry every 2 s until it succeeds or WAIT_SECONDS pass
  local what=$1 deadline=$((SECONDS + WAIT_SECONDS))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${WAIT_SECONDS}s waiting for $what"
    sleep 2
  done
}

connect() {
  log "waiting for $K3S_KUBECONFIG"
  wait_until "the k3s kubeconfig" test -s "$K3S_KUBECONFIG"
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  export KUBECONFIG="$WORK/kubeconfig.yaml"
  cp "$K3S_KUBECONFIG" "$KUBECONFIG"
  chmod 0600 "$KUBECONFIG"
  local cluster
  cluster=$(kubectl config view --minify -o jsonpath='{.clusters[0].name}')
  kubectl config set-cluster "$cluster" --server="$K3S_API_URL" >/dev/null
  log "waiting for the API server at $K3S_API_URL"
  wait_until "$K3S_API_URL/readyz" kubectl get --raw=/readyz
}

create_namespaces() {
  local ns
  for ns in "${NAMESPACES[@]}"; do
    kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f -
  done
}

install_argo() {
  : "${ARGO_WORKFLOWS_VERSION:?set ARGO_WORKFLOWS_VERSION (e.g. v3.6.2)}"
  : "${ARGO_EVENTS_VERSION:?set ARGO_EVENTS_VERSION (e.g. v1.9.2)}"
  log "installing Argo Workflows $ARGO_WORKFLOWS_VERSION"
  # Server-side apply: the CRDs are too large for the last-applied annotation; --force-conflicts takes back
  # the argo-server fields patched below, which are patched again right after.
  kubectl apply -n argo --server-side --force-conflicts \
    -f "https://github.com/argoproj/argo-workflows/releases/download/$ARGO_WORKFLOWS_VERSION/install.yaml"
  # Local stack only: the Argo Server over plain HTTP, acting with its own service account (no client token).
  kubectl -n argo patch deployment argo-server --type=json --patch-file "$DEPLOY_DIR/argo-server-patch.json"
  kubectl apply -f "$DEPLOY_DIR/argo-server-nodeport.yaml"
  kubectl apply -f "$DEPLOY_DIR/argo-executor-rbac.yaml"

  log "installing Argo Events $ARGO_EVENTS_VERSION"
  kubectl apply -n argo-events --server-side --force-conflicts \
    -f "https://github.com/argoproj/argo-events/releases/download/$ARGO_EVENTS_VERSION/install.yaml"
  kubectl wait --for=condition=Established crd --all --timeout="${WAIT_SECONDS}s"
  # The event bus the calendar EventSource publishes to (the release's own example, same tag).
  kubectl apply -n argo-events \
    -f "https://raw.githubusercontent.com/argoproj/argo-events/$ARGO_EVENTS_VERSION/examples/eventbus/jetstream.yaml"

  kubectl -n argo rollout status deployment/workflow-controller --timeout="${WAIT_SECONDS}s"
  kubectl -n argo rollout status deployment/argo-server --timeout="${WAIT_SECONDS}s"
  kubectl -n argo-events wait --for=condition=Available deployment --all --timeout="${WAIT_SECONDS}s"
}

install_spark_operator() {
  : "${SPARK_OPERATOR_CHART_VERSION:?set SPARK_OPERATOR_CHART_VERSION (e.g. 2.1.0)}"
  log "installing the spark-operator (chart $SPARK_OPERATOR_CHART_VERSION), watching spark-jobs"
  helm upgrade --install spark-operator spark-operator \
    --repo https://kubeflow.github.io/spark-operator --version "$SPARK_OPERATOR_CHART_VERSION" \
    --namespace spark-operator --create-namespace \
    --set 'spark.jobNamespaces={spark-jobs}' \
    --wait --timeout "${WAIT_SECONDS}s"
}

apply_examples() {
  log "applying dags_examples/manifests"
  kubectl apply -f "$EXAMPLES_DIR/spark-rbac.yaml"
  kubectl apply -f "$EXAMPLES_DIR/argo-rbac.yaml"
  # The template has no namespace of its own; the example DAG submits it in `argo`.
  kubectl apply -n argo -f "$EXAMPLES_DIR/spark-app-workflow-template.yaml"
  kubectl apply -f "$EXAMPLES_DIR/calendar-source.yaml"
}

hand_off() {
  kubectl apply -f "$DEPLOY_DIR/airflow-identity.yaml"
  local secret=(kubectl -n airflow get secret airflow-worker-token -o)
  wait_until "the token of service account airflow/airflow-worker" \
    test -n "$("${secret[@]}" jsonpath='{.data.token}' 2>/dev/null)"
  local token ca tmp="$AIRFLOW_KUBECONFIG.tmp"
  token=$("${secret[@]}" jsonpath='{.data.token}' | base64 -d)
  ca=$(kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
  mkdir -p "$(dirname "$AIRFLOW_KUBECONFIG")"
  rm -f "$tmp"
  (umask 027 && cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: k3s
  cluster:
    server: "$K3S_API_URL"
    certificate-authority-data: "$ca"
users:
- name: airflow-worker
  user:
    token: "$token"
contexts:
- name: airflow-worker
  context: {cluster: k3s, user: airflow-worker, namespace: spark-jobs}
current-context: airflow-worker
EOF
  )
  # Airflow runs as ${AIRFLOW_UID}:0, so group 0 can read it whatever the uid (only root can chgrp to 0).
  chgrp 0 "$tmp" 2>/dev/null || true
  # The identity works and RBAC binds it: what the Spark tasks do first.
  kubectl --kubeconfig "$tmp" -n spark-jobs get pods -o name >/dev/null \
    || fail "the airflow-worker service account cannot list pods in spark-jobs"
  mv -f "$tmp" "$AIRFLOW_KUBECONFIG"
  log "wrote $AIRFLOW_KUBECONFIG (server $K3S_API_URL, service account airflow/airflow-worker)"
}

main() {
  connect
  create_namespaces
  if [[ $INSTALL_ARGO == true ]]; then install_argo; else log "INSTALL_ARGO=$INSTALL_ARGO: Argo not installed"; fi
  apply_examples
  if [[ $INSTALL_SPARK_OPERATOR == true ]]; then
    install_spark_operator
  else
    log "INSTALL_SPARK_OPERATOR=$INSTALL_SPARK_OPERATOR: spark-operator not installed"
  fi
  hand_off
  log "done"
}

main "$@"
