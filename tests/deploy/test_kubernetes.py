"""deploy/kubernetes rendered, then the invariants a cluster would only reveal later: probe paths
and ports the binary serves, settings it knows and accepts, ports and selectors that meet, a
grace period longer than the longest run, memory for every run slot, the capabilities found in
the container section.

Rendering: tests/deploy/kustomize_lite.py always (so these checks run on any Debian machine),
and `kubectl kustomize` as a cross-check where kubectl is installed (it is no Debian package;
without it the test says so and still checks everything else).
"""
import os
import shutil
import subprocess
import tempfile

import pytest
import yaml

import kustomize_lite
from deploylib import (CGROUP_PREFIX, ROOT, UID_BASE, free_port, get_json, log, settings_of_binary,
                       sh, wait_healthy)

K8S = os.path.join(ROOT, "deploy", "kubernetes")
TREES = {"base": K8S, "egress": os.path.join(K8S, "overlays", "egress"),
         "hpa-inflight": os.path.join(K8S, "overlays", "hpa-inflight")}
BASE_CAPS = {"SYS_ADMIN", "SETUID", "SETGID", "DAC_OVERRIDE"}
EGRESS_CAPS = {"NET_ADMIN", "NET_BIND_SERVICE", "SETPCAP"}
SERVER_MEMORY_MIB = 256  # server, zygotes and prepared sandboxes besides the runs (OPERATIONS.md)
UNITS = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "k": 10**3, "M": 10**6, "G": 10**9,
         "m": 1 << 20, "g": 1 << 30}


def canonical(objects):
    return sorted(objects, key=lambda o: (o["apiVersion"], o["kind"], o["metadata"]["name"]))


@pytest.fixture(scope="module", params=sorted(TREES))
def rendered(request):
    objects = kustomize_lite.render(TREES[request.param])
    if shutil.which("kubectl"):
        out = sh("kubectl", "kustomize", TREES[request.param]).stdout
        assert canonical([o for o in yaml.safe_load_all(out) if o]) == canonical(objects), \
            "kustomize_lite and kubectl kustomize disagree on " + request.param
    else:
        log("kubectl not installed (not a Debian package): %s rendered by kustomize_lite only, "
            "not cross-checked" % request.param)
    return request.param, objects


def one(objects, kind):
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, "%d %s objects" % (len(found), kind)
    return found[0]


def container_of(objects):
    return one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def env_of(objects):
    """The settings the container gets: its ConfigMaps (envFrom) and env entries."""
    c = container_of(objects)
    env = {}
    for source in c.get("envFrom", []):
        ref = source.get("configMapRef") or source.get("secretRef")
        kind = "ConfigMap" if "configMapRef" in source else "Secret"
        obj = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == ref["name"]]
        assert obj, "envFrom names a missing %s %s" % (kind, ref["name"])
        env.update(obj[0].get("data") or obj[0].get("stringData") or {})
    for e in c.get("env", []):
        env[e["name"]] = e.get("value", "<from %s>" % list(e.get("valueFrom", {})))
    return env


def setting(objects, name):
    return env_of(objects).get(name, settings_of_binary()[name])


def bytes_of(text):
    text = str(text)
    for unit, factor in sorted(UNITS.items(), key=lambda u: -len(u[0])):
        if text.endswith(unit):
            return int(float(text[:-len(unit)]) * factor)
    return int(text)


def test_every_env_var_is_a_real_setting(rendered):
    _, objects = rendered
    known = settings_of_binary()
    unknown = sorted(set(env_of(objects)) - set(known))
    assert not unknown, "not settings of `pysandbox env-example`: %s" % unknown


def test_container_port_is_port_and_host_is_reachable(rendered):
    _, objects = rendered
    ports = {p["name"]: p["containerPort"] for p in container_of(objects)["ports"]}
    assert ports["http"] == int(setting(objects, "PORT"))
    assert setting(objects, "HOST") in ("0.0.0.0", "::"), "the Service cannot reach a loopback HOST"
    service = one(objects, "Service")
    assert all(p["targetPort"] in ("http", ports["http"]) for p in service["spec"]["ports"])


def test_selectors_meet_the_pods(rendered):
    _, objects = rendered
    deployment = one(objects, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selectors = [deployment["spec"]["selector"]["matchLabels"],
                 one(objects, "Service")["spec"]["selector"],
                 one(objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"]]
    selectors += [p["spec"]["podSelector"]["matchLabels"]
                  for p in objects if p["kind"] == "NetworkPolicy"]
    for s in selectors:
        assert s and all(pod_labels.get(k) == v for k, v in s.items()), (s, pod_labels)
    target = one(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])


def test_grace_period_exceeds_longest_run_and_shutdown(rendered):
    _, objects = rendered
    grace = one(objects, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    longest = int(setting(objects, "MAX_TIMEOUT")) + int(setting(objects, "SHUTDOWN_GRACE"))
    assert grace > longest, \
        "terminationGracePeriodSeconds %d <= MAX_TIMEOUT + SHUTDOWN_GRACE %d" % (grace, longest)
    assert int(setting(objects, "SANDBOX_TIMEOUT")) <= int(setting(objects, "MAX_TIMEOUT"))


def test_memory_limit_holds_every_run_slot(rendered):
    _, objects = rendered
    slots = int(setting(objects, "MAX_CONCURRENT_RUNS"))
    assert slots > 0, "MAX_CONCURRENT_RUNS=0 means 2 per node core, not per core of the CPU limit"
    limit = bytes_of(container_of(objects)["resources"]["limits"]["memory"])
    need = slots * bytes_of(setting(objects, "MEMORY_LIMIT")) + SERVER_MEMORY_MIB * (1 << 20)
    assert limit >= need, "memory limit %d < %d run slots x MEMORY_LIMIT + server" % (limit, slots)


def test_security_context_is_the_tested_one(rendered):
    name, objects = rendered
    c = container_of(objects)
    sc = c["securityContext"]
    assert sc["privileged"] is False and sc["capabilities"]["drop"] == ["ALL"]
    # Kubernetes may reject allowPrivilegeEscalation: false with SYS_ADMIN (and it is moot).
    assert sc.get("allowPrivilegeEscalation") is not False
    caps = set(sc["capabilities"]["add"])
    egress = setting(objects, "NETWORK_MODE") == "egress"
    assert caps == (BASE_CAPS | EGRESS_CAPS if egress else BASE_CAPS), (name, caps)
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    if sc.get("readOnlyRootFilesystem"):
        assert {"/run", "/tmp"} <= mounts, \
            "a read-only root needs writable /run (entrypoint, spawner) and /tmp"
    assert ("/dev/net/tun" in mounts) == egress, "egress needs /dev/net/tun, nothing else does"
    assert c["args"] == ["serve"], "the image's entrypoint prepares /proc and cgroups, then these"


def test_hpa_scales_on_cpu_and_optionally_in_flight_runs(rendered):
    name, objects = rendered
    metrics = one(objects, "HorizontalPodAutoscaler")["spec"]["metrics"]
    assert {"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 70}}} in metrics
    pods = [m for m in metrics if m["type"] == "Pods"]
    assert len(pods) == (1 if name == "hpa-inflight" else 0), metrics


@pytest.fixture(scope="module")
def server_with_base_settings():
    """The build's binary with the base ConfigMap's settings (on loopback, a free port)."""
    objects = kustomize_lite.render(TREES["base"])
    env = dict(os.environ, **env_of(objects))
    port = free_port()
    cwd = tempfile.TemporaryDirectory(prefix="pysandbox-k8s-")  # no stray .env
    # STATE_DIR: the pod's volume there, this test's temp dir here (nothing left on the host).
    env.update(HOST="127.0.0.1", PORT=str(port), CGROUP_PREFIX=CGROUP_PREFIX,
               SANDBOX_UID_BASE=UID_BASE, STATE_DIR=os.path.join(cwd.name, "state"))
    proc = subprocess.Popen([os.environ["PYSANDBOX_BIN"], "serve"], env=env, cwd=cwd.name,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_healthy("http://127.0.0.1:%d" % port, alive=lambda: proc.poll() is None)
        yield objects, port
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
        cwd.cleanup()
        assert proc.returncode == 0, err[-3000:]


def test_probes_hit_routes_the_binary_serves(server_with_base_settings):
    objects, port = server_with_base_settings
    c = container_of(objects)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe in ("livenessProbe", "startupProbe", "readinessProbe"):
        spec = c[probe]
        if "httpGet" in spec:
            assert spec["httpGet"]["port"] in ("http", ports["http"]), probe
            status, _ = get_json("http://127.0.0.1:%d%s" % (port, spec["httpGet"]["path"]))
            assert status == 200, probe
        else:  # an exec probe: run its command here, against the real server and a closed port
            command = spec["exec"]["command"]
            ok = subprocess.run(command, env=dict(os.environ, PORT=str(port)), timeout=10)
            assert ok.returncode == 0, "%s fails against a healthy server" % probe
            dead = subprocess.run(command, env=dict(os.environ, PORT=str(free_port())),
                                  stderr=subprocess.DEVNULL, timeout=10)
            assert dead.returncode != 0, "%s passes with no server" % probe
