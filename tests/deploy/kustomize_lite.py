"""The subset of kustomize that deploy/kubernetes uses, so the manifests can be rendered and
checked on a machine without kubectl (not a Debian package). test_kubernetes.py compares its
output with `kubectl kustomize` wherever kubectl exists.

Supported: resources (files, and directories holding a kustomization.yaml), labels (pairs,
without selectors or templates), images (name, newName, newTag), patches (an inline JSON 6902
patch with a target kind and name). Any other field is an error, so that a manifest change
needing more fails here instead of being rendered wrongly.
"""
import copy
import os

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "labels", "images", "patches"}


class Unsupported(Exception):
    pass


def render(path):
    """The objects `kubectl kustomize path` would print (in file order)."""
    with open(os.path.join(path, "kustomization.yaml")) as f:
        k = yaml.safe_load(f)
    extra = set(k) - SUPPORTED
    if extra:
        raise Unsupported("%s: kustomization fields %s" % (path, sorted(extra)))
    objects = []
    for r in k.get("resources", []):
        full = os.path.normpath(os.path.join(path, r))
        if os.path.isdir(full):
            objects += render(full)
        else:
            with open(full) as f:
                objects += [o for o in yaml.safe_load_all(f) if o]
    for p in k.get("patches", []):
        apply_patch(objects, p)
    for group in k.get("labels", []):
        if group.get("includeSelectors") or group.get("includeTemplates") or set(group) - {
                "pairs", "includeSelectors", "includeTemplates"}:
            raise Unsupported("labels with selectors or templates")
        for o in objects:
            o.setdefault("metadata", {}).setdefault("labels", {}).update(group["pairs"])
    for image in k.get("images", []):
        for o in objects:
            set_image(o, image)
    return objects


def apply_patch(objects, patch):
    if set(patch) != {"target", "patch"} or set(patch["target"]) - {"kind", "name"}:
        raise Unsupported("patches other than an inline JSON 6902 patch on kind and name")
    ops = yaml.safe_load(patch["patch"])
    if not isinstance(ops, list):
        raise Unsupported("strategic-merge patches")
    target = patch["target"]
    matched = [o for o in objects if all(
        (o["kind"] if key == "kind" else o["metadata"]["name"]) == value
        for key, value in target.items())]
    if not matched:
        raise ValueError("patch target %s matches nothing" % target)
    for o in matched:
        for op in ops:
            apply_op(o, op)


def apply_op(doc, op):
    parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
    parent = doc
    for key in parts[:-1]:
        parent = parent[int(key)] if isinstance(parent, list) else parent[key]
    last = parts[-1]
    kind = op["op"]
    if kind in ("add", "replace") and isinstance(parent, list):
        value = copy.deepcopy(op["value"])
        if last == "-":
            parent.append(value)
        elif kind == "add":
            parent.insert(int(last), value)
        else:
            parent[int(last)] = value
    elif kind in ("add", "replace"):
        if kind == "replace" and last not in parent:
            raise ValueError("replace of a missing path " + op["path"])
        parent[last] = copy.deepcopy(op["value"])
    elif kind == "remove":
        del parent[int(last) if isinstance(parent, list) else last]
    else:
        raise Unsupported("JSON patch op " + kind)


def set_image(obj, image):
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        name = c["image"].split("@")[0].rsplit(":", 1)[0] if ":" in c["image"].split("/")[-1] \
            else c["image"].split("@")[0]
        if name != image["name"]:
            continue
        tag = image.get("newTag")
        c["image"] = image.get("newName", name) + (":" + tag if tag else "")
