"""Zygote start-up: pre-import PRELOAD modules (errors recorded) and list installed packages."""
import importlib
import sys

# import name → distribution name, for the packages clients ask about.
PACKAGES = {
    "numpy": "numpy", "pandas": "pandas", "matplotlib": "matplotlib", "scipy": "scipy",
    "requests": "requests", "bs4": "beautifulsoup4", "PIL": "Pillow", "yaml": "PyYAML",
    "urllib3": "urllib3", "certifi": "certifi", "charset_normalizer": "charset-normalizer",
    "idna": "idna", "soupsieve": "soupsieve", "dateutil": "python-dateutil", "pytz": "pytz",
    "lxml": "lxml", "html5lib": "html5lib", "kiwisolver": "kiwisolver", "pyparsing": "pyparsing",
    "cycler": "cycler", "fontTools": "fonttools", "packaging": "packaging", "pytest": "pytest",
}


def _import_one(name):
    if name == "matplotlib":
        import matplotlib
        matplotlib.use("Agg")
        importlib.import_module("matplotlib.pyplot")
    else:
        importlib.import_module(name)


def _warm_matplotlib():
    # A first figure loads fonts, the Agg renderer and the PNG writer lazily (~100 ms): pay
    # that once here, not in every forked run.
    import io
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [1, 4, 9], label="x")
    ax.set_title("warm-up")
    ax.legend()
    fig.savefig(io.BytesIO(), format="png")
    plt.close("all")


def _warm_pandas():
    # repr, describe, CSV and JSON paths import their helpers on first use.
    import io
    import pandas as pd
    df = pd.read_csv(io.StringIO("a,b\n1,x\n2,y\n"))
    repr(df.describe())
    repr(df.sum(numeric_only=True))
    df.to_csv(io.StringIO(), index=False)
    df.to_json()


# Work done once in the zygote after the imports, so runs start with lazy state initialised.
# Must leave no visible state behind (figures closed, no files, no threads).
WARMUPS = {"matplotlib": _warm_matplotlib, "matplotlib.pyplot": _warm_matplotlib,
           "pandas": _warm_pandas}


def warm_up(loaded):
    """Runs the warm-up of each loaded module once; failures are ignored (only speed is lost)."""
    done = set()
    for name in loaded:
        fn = WARMUPS.get(name)
        if fn is None or fn in done:
            continue
        done.add(fn)
        try:
            fn()
        except Exception:
            pass


def preload(names):
    """Import each module; returns (loaded names, {name: "ExcType: message"})."""
    loaded, failed = [], {}
    for name in names:
        try:
            _import_one(name)
            loaded.append(name)
        except BaseException as e:  # a broken package must not take the zygote down
            failed[name] = ("%s: %s" % (type(e).__name__, e))[:500]
    return loaded, failed


def packages():
    """{import name: version} for the known packages that are installed: the distribution's
    metadata, else (none, or Debian's "0.0.0" for kiwisolver) the module's __version__."""
    from importlib import metadata
    found = {}
    for mod, dist in PACKAGES.items():
        try:
            version = metadata.version(dist)
        except Exception:
            version = None
        if not version or version == "0.0.0":
            version = _module_version(mod) or version
        if version:
            found[mod] = version
    return found


def _module_version(name):
    """The module's own __version__ (imported if installed and not yet), or None."""
    import importlib.util
    try:
        module = sys.modules.get(name)
        if module is None:
            if importlib.util.find_spec(name) is None:
                return None
            module = importlib.import_module(name)
        version = getattr(module, "__version__", None)
        return version if isinstance(version, str) else None
    except Exception:
        return None


def python_version():
    """"3.11.2" without importing platform."""
    return "%d.%d.%d" % sys.version_info[:3]
