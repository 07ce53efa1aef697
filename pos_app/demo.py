"""``pos-app demo`` (what ``make run`` uses): embedded server, demo catalog, paired terminal,
POS window.

The server runs as a child process started through its own command line (``pos-app serve``),
exactly as a venue deploys it, and the terminal pairs with it over HTTPS like any other
terminal. Stopping the window stops the server.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["DEMO_PORT", "run_demo"]

DEMO_PORT = 8443
DEMO_TERMINAL_NAME = "Box office 1"
CATALOG = Path(__file__).resolve().parent.parent / "resources" / "demo_catalog.json"


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pos_app(*args: str) -> list[str]:
    return [sys.executable, "-m", "pos_app.cli", *args]


def _die_with_parent() -> None:
    """In the server child, before exec: ask Linux to SIGTERM it when the demo process dies,
    however it dies (SIGKILL, a crash), so no server is left behind holding the port."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _demo_staff() -> str:
    staff = json.loads(CATALOG.read_text(encoding="utf-8")).get("staff", [])
    return "\n".join(f"    {s['username']:<8} PIN {s['pin']:<6} ({s['role']}, {s['display_name']})"
                     for s in staff)


def _use_demo_keyring_if_needed() -> None:
    """Keep tokens in a plaintext keyring file when this machine has no real keyring: the file
    is kept in the terminal home (``keyring/``, folder 0700, file 0600; see
    :class:`pos_app.client.Credentials`), never in the OS user's data folder.

    Acceptable for a throwaway demo only (``shared/CLI.md``); real terminals refuse it.
    """
    import keyring
    from keyring.core import load_keyring

    from pos_app.client import InsecureKeyring, check_keyring, terminal_paths

    try:
        check_keyring()
    except InsecureKeyring:
        backend = "keyrings.alt.file.PlaintextKeyring"
        os.environ["PYTHON_KEYRING_BACKEND"] = backend
        os.environ["POS_APP_ALLOW_INSECURE_KEYRING"] = "1"
        keyring.set_keyring(load_keyring(backend))  # check_keyring() chose one already
        print(f"Demo: no system keyring found; tokens go to a plaintext keyring file in "
              f"{terminal_paths().keyring_dir} (fine for a demo, refused on a real terminal; "
              "set POS_APP_ALLOW_INSECURE_KEYRING=1 for pos-app commands at this terminal).")


def _wait_for_health(url: str, ca_file: Path, server: subprocess.Popen[bytes], log: Path,
                     timeout: float = 60) -> None:
    from pos_app.client import ClientError, InventoryClient

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The demo server stopped (exit {server.returncode}); "
                             f"see {log}:\n{log.read_text(errors='replace')[-2000:]}")
        if ca_file.exists():
            client = InventoryClient(url, ca_file=ca_file, timeout=2)
            try:
                client.health()
                return
            except ClientError:
                pass
            finally:
                client.close()
        time.sleep(0.2)
    raise SystemExit(f"The demo server did not answer within {timeout:.0f} s; see {log}")


def _ensure_paired(url: str, server_dir: Path) -> None:
    from pos_app.client import Credentials, NotPaired, load_config, pair_terminal, terminal_paths

    paths = terminal_paths()
    try:
        config = load_config(paths)
        if config.server_url == url and Credentials(url, paths).terminal_token:
            return
    except NotPaired:
        pass
    created = subprocess.run(
        _pos_app("admin", "add-terminal", DEMO_TERMINAL_NAME, "--data-dir", str(server_dir)),
        capture_output=True, text=True, check=True)
    code = created.stdout.strip().splitlines()[-1]
    config = pair_terminal(url, code, ca_file=server_dir / "tls" / "ca.pem", paths=paths)
    print(f"Paired this terminal as {config.terminal_name!r} (id {config.terminal_id}).")


def run_demo() -> int:
    """Start the demo and block until the window closes; returns the exit code."""
    from pos_app.display import display_problem

    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from pos_app.client import terminal_paths

    _use_demo_keyring_if_needed()
    server_dir = terminal_paths().home / "demo-server"
    server_dir.mkdir(parents=True, exist_ok=True)
    port = DEMO_PORT if _port_free(DEMO_PORT) else _free_port()
    url = f"https://127.0.0.1:{port}"
    log = server_dir / "server.log"
    with open(log, "ab") as log_file:
        server = subprocess.Popen(
            _pos_app("serve", "--data-dir", str(server_dir), "--host", "127.0.0.1",
                     "--port", str(port), "--demo"),
            stdout=log_file, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    try:
        _wait_for_health(url, server_dir / "tls" / "ca.pem", server, log)
        print(f"Central inventory server: {url}  (data: {server_dir})")
        _ensure_paired(url, server_dir)
        print("Demo staff - sign in with:\n" + _demo_staff())
        from pos_app.gui.launcher import run_window

        return run_window()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
