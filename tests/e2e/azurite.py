"""Azurite, the Azure Storage emulator (npm package ``azurite``), as a Pulumi state backend for tests.

Started like the emulator: on a free loopback port (``--blobPort 0``; the port is read from its
"listens on" line), in memory, in a process group of its own that :meth:`Azurite.stop` ends. Facts
it depends on, found with Pulumi v3.274.1 and Azurite 3.37.0:

- Azurite refuses every request whose ``x-ms-version`` is newer than it knows, which the Azure SDK for
  Go in the Pulumi CLI sends: ``--skipApiVersionCheck``.
- Pulumi does not create the container: :meth:`create_container` does, as an administrator would once.
- The CLI signs in from ``AZURE_STORAGE_ACCOUNT``/``AZURE_STORAGE_KEY`` (Azurite's well-known
  development account below), or ``AZURE_STORAGE_SAS_TOKEN``, and logs in to
  ``azblob://<container>?domain=127.0.0.1:<port>&protocol=http``: a ``domain`` starting with
  ``127.0.0.1`` puts the account in the path, as Azurite expects, and plain http needs ``protocol=http``.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path

from .harness import REPO

ACCOUNT = "devstoreaccount1"
# Azurite's well-known development account key: public, the same in every Azurite; not a secret.
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
READY = re.compile(r"listens on (http://127\.0\.0\.1:(\d+))")


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the test process dies, even killed (Linux
    ``PR_SET_PDEATHSIG``), so an interrupted run leaves no Azurite behind."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def azurite_bin_dir() -> str:
    """The directory of ``azurite-blob``: from PATH (scripts/test.sh puts it there), else
    scripts/azurite.sh installs it into the cache (once) and says where."""
    found = shutil.which("azurite-blob")
    if found:
        return os.path.dirname(found)
    out = subprocess.run(["bash", str(REPO / "scripts" / "azurite.sh")], check=True, capture_output=True,
                         text=True, timeout=1200)
    return out.stdout.strip().splitlines()[-1]


class Azurite:
    def __init__(self, bin_dir: str, workdir: Path, *, start_timeout: float = 120.0) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.output: list[str] = []
        ready = threading.Event()
        found: dict[str, str] = {}
        self.proc = subprocess.Popen(
            [os.path.join(bin_dir, "azurite-blob"), "--blobHost", "127.0.0.1", "--blobPort", "0",
             "--inMemoryPersistence", "--extentMemoryLimit", "256", "--skipApiVersionCheck",
             "--disableTelemetry", "--silent"],
            cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
            preexec_fn=_die_with_parent)

        def drain() -> None:  # read every line, so the pipe never fills
            for line in self.proc.stdout:
                self.output.append(line)
                match = READY.search(line)
                if match and not ready.is_set():
                    found["url"], found["port"] = match.group(1), match.group(2)
                    ready.set()
            ready.set()

        threading.Thread(target=drain, name="azurite-output", daemon=True).start()
        if not ready.wait(start_timeout) or "url" not in found:
            self.stop()
            raise RuntimeError(f"Azurite did not start within {start_timeout:.0f} s:\n{''.join(self.output)}")
        self.url, self.port = found["url"], int(found["port"])
        self.blob_endpoint = f"{self.url}/{ACCOUNT}"

    # -- what a test needs --------------------------------------------------------------------
    def client(self):
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient(self.blob_endpoint, credential={"account_name": ACCOUNT, "account_key": KEY})

    def create_container(self, name: str) -> str:
        self.client().create_container(name)
        return name

    def backend_url(self, container: str) -> str:
        return f"azblob://{container}?domain=127.0.0.1:{self.port}&protocol=http"

    @staticmethod
    def env() -> dict[str, str]:
        """The shared-key sign-in of the state backend (an administrator's, read and write)."""
        return {"AZURE_STORAGE_ACCOUNT": ACCOUNT, "AZURE_STORAGE_KEY": KEY}

    def read_only_env(self, container: str) -> dict[str, str | None]:
        """A sign-in that may only read and list the container (a SAS with ``rl``), as a reviewer's
        identity with "Storage Blob Data Reader" on it: ``AZURE_STORAGE_KEY`` unset."""
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        sas = generate_container_sas(ACCOUNT, container, account_key=KEY,
                                     permission=ContainerSasPermissions(read=True, list=True),
                                     expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2))
        return {"AZURE_STORAGE_ACCOUNT": ACCOUNT, "AZURE_STORAGE_KEY": None, "AZURE_STORAGE_SAS_TOKEN": sas}

    def blobs(self, container: str, prefix: str | None = None) -> list[str]:
        return sorted(b.name for b in self.client().get_container_client(container).list_blobs(name_starts_with=prefix))

    def read(self, container: str, name: str) -> bytes:
        return self.client().get_container_client(container).download_blob(name).readall()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
