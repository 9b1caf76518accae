"""Per-run reseeding of every random state the zygote's fork would otherwise share."""
import os
import random
import sys


def reseed():
    """random, tempfile names, OpenSSL's DRBG and numpy's legacy global RandomState.

    uuid4, secrets and os.urandom read the kernel per call and need nothing. The str/bytes
    hash seed is fixed when the interpreter starts and cannot be changed here. Fork
    detection by pid is blind here: every run is pid 1 of its namespace, as the zygote is.
    """
    random.seed()
    tempfile = sys.modules.get("tempfile")
    if tempfile is not None:
        # _RandomNameSequence reseeds only when os.getpid() changes: drop it, tempfile
        # builds a fresh one lazily.
        tempfile._name_sequence = None
    ssl = sys.modules.get("ssl")
    if ssl is not None:
        # OpenSSL 3 detects forks by pid too; fresh entropy makes its DRBGs diverge.
        ssl.RAND_add(os.urandom(32), 32.0)
    if "numpy.random" in sys.modules:
        sys.modules["numpy.random"].seed()
