# Stand-in for the get-pip.py that ansible-test downloads from ci-files.testing.ansible.com
# (not reachable from this sandbox): the stdlib's ensurepip, then pip installs what get-pip
# would have (the pinned pip), from the configured index. tests/ovirt/test_collection.py puts
# it in ansible-test's cache under a HOME of its own. ensurepip runs in its own process: it sets
# PIP_CONFIG_FILE=/dev/null in its environment, which would hide the machine's pip config.
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
