"""The POS window's speed: start-up to the sign-in screen, and event-loop stalls during sales
against a distant server.

Run ``QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_gui.py`` from the repository
root (``make bench``). It starts ``pos-app serve --demo`` on SQLite in a temporary folder (its
own keyring file and terminal homes, all removed at the end), then:

1. **start-up**: pairs terminal home A, then launches the real ``pos-app`` (the console script,
   no command: the window) ``BENCH_GUI_STARTUP_RUNS`` times (default 7, after one untimed
   warm-up) with ``POS_APP_STARTUP_PROBE=1``, which makes the window print the time at its
   first paint of the sign-in screen and quit (``pos_app/gui/app.py``). Wall time is measured
   from just before the process is spawned to that paint; peak RSS is the child's
   ``ru_maxrss`` (``os.wait4``). A bare PySide6 window (``QMainWindow`` with a 1,000-row
   ``QTableWidget``, probed the same way) runs interleaved with it, for the ratio. Targets:
   p50 <= 1.0 s and <= 150 MB.
2. **stalls**: a :class:`~tests.support.latency_proxy.LatencyProxy` (in its own process, so
   its threads do not take this process's GIL) adds 200 ms to every response; terminal home B
   is paired *through* it (so the register's client and the live inventory feed both go
   through it). The real ``MainWindow`` on the real register (offscreen, 1280x800, shipped
   stylesheet, :func:`pos_app.gui.app.show_window` as ``pos-app`` does) is driven as a cashier
   does with ``QTest``, the event loop running between taps and keys (80 ms apart): sign in,
   select the event, a first sale whose Charge asks for the opening float (the shift opens,
   the sale completes), then ``BENCH_GUI_SALES`` sales (default 20): tap GA twice, type 100,
   tap Charge, until the sale is confirmed, the receipt delivered, the counts re-read and the
   live feed's update applied (+300 ms). Meanwhile a 1 ms ``PreciseTimer`` on the GUI thread
   records every event-loop iteration with the GUI thread's and the process's CPU clocks; a
   gap between two ticks is a stall. Prints, per phase, the longest stall (and how much of it
   the GUI thread itself was on a CPU) and the p99 gap against the target (longest <= 50 ms).

No timing is asserted (a slow run does not fail); any error exits non-zero. Importable:
:func:`main` returns the figures. Environment: ``BENCH_GUI_STARTUP_RUNS`` (default 7; 0 skips
part 1), ``BENCH_GUI_SALES`` (default 20; 0 skips part 2). On this shared 2-core machine other
processes show up as stall time the GUI thread spent on no CPU: read the CPU columns too.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

_WORK = Path(tempfile.mkdtemp(prefix="pos-bench-gui-"))
# A throwaway keyring file for this run only (set before keyring is imported).
os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
os.environ["XDG_DATA_HOME"] = str(_WORK / "keyring")
os.environ["POS_APP_ALLOW_INSECURE_KEYRING"] = "1"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import itertools  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import NamedTuple  # noqa: E402

from pos_app.client import TerminalPaths, pair_terminal  # noqa: E402
from tests.support.latency_proxy import spawn_latency_proxy  # noqa: E402
from tests.support.live_server import ROOT, LiveServer, free_port  # noqa: E402

STARTUP_RUNS = int(os.environ.get("BENCH_GUI_STARTUP_RUNS", "7"))
SALES = int(os.environ.get("BENCH_GUI_SALES", "20"))
LATENCY_S = 0.2
STARTUP_TARGET_S = 1.0
RSS_TARGET_MB = 150.0
STALL_TARGET_MS = 50.0
SETTLE_MS = 300  # after each sale: the live feed's update arrives LATENCY_S later
INPUT_GAP_MS = 80  # between a cashier's taps and keystrokes (the loop runs in between)
PROBE_LINE = "startup-probe shown "

BASELINE = r'''
import os, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTableWidget, QTableWidgetItem

app = QApplication(sys.argv[:1])
window = QMainWindow()
table = QTableWidget(1000, 5)
for row in range(1000):
    for column in range(5):
        table.setItem(row, column, QTableWidgetItem(f"row {row} column {column}"))
window.setCentralWidget(table)
window.resize(1280, 800)


class Probe(QObject):
    fired = False

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and not self.fired:
            self.fired = True
            QTimer.singleShot(0, self.report)
        return False

    def report(self):
        print(f"startup-probe shown {time.time():.6f}", flush=True)
        app.quit()


probe = Probe()
table.viewport().installEventFilter(probe)
window.show()
code = app.exec()
sys.stdout.flush()
os._exit(code)  # measured up to the paint; skip teardown (PySide6 may crash in it)
'''


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100) of ``values``."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --- 1. start-up ------------------------------------------------------------------------------

def launch(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``args`` until its probe line; returns (seconds from spawn to the probe's paint,
    peak RSS in MB). Raises ``RuntimeError`` when it exits non-zero or never printed it."""
    errors = _WORK / "child-stderr.txt"
    with open(errors, "wb") as stderr:
        started = time.time()
        child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=ROOT)
        assert child.stdout is not None
        output = child.stdout.read().decode(errors="replace")
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        child.stdout.close()
    shown = [line for line in output.splitlines() if line.startswith(PROBE_LINE)]
    if child.returncode != 0 or not shown:
        raise RuntimeError(f"{' '.join(args)} exited {child.returncode} without showing its "
                           f"window:\n{output}\n{errors.read_text(errors='replace')[-3000:]}")
    return float(shown[0][len(PROBE_LINE):]) - started, usage.ru_maxrss / 1024.0


def pos_app_command() -> list[str]:
    """The installed ``pos-app`` console script next to this Python, else ``-m pos_app.cli``."""
    script = Path(sys.executable).with_name("pos-app")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pos_app.cli"]


def measure_startup(server: LiveServer, home: Path, runs: int) -> dict[str, dict[str, float]]:
    """Start-up of ``pos-app`` (paired, not signed in) and of the bare window, interleaved."""
    pair_terminal(server.base_url, server.add_terminal("Start-up till"), ca_file=server.ca_file,
                  paths=TerminalPaths.under(home).ensure())
    env = {**os.environ, "POS_APP_HOME": str(home), "POS_APP_STARTUP_PROBE": "1"}
    commands = {"pos-app": pos_app_command(), "bare PySide6": [sys.executable, "-c", BASELINE]}
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for args in commands.values():  # warm-up: bytecode caches, journal file created
        launch(args, env)
    for _ in range(runs):
        for name, args in commands.items():
            samples[name].append(launch(args, env))
    figures: dict[str, dict[str, float]] = {}
    print(f"Start-up to the first paint of the sign-in screen, {runs} runs each "
          "(interleaved, after one warm-up), offscreen")
    for name, pairs in samples.items():
        seconds = [s for s, _ in pairs]
        rss = [r for _, r in pairs]
        figures[name] = {"p50_s": statistics.median(seconds), "max_s": max(seconds),
                         "rss_mb": max(rss)}
        print(f"  {name:<14} p50 {figures[name]['p50_s']:5.2f} s   max "
              f"{figures[name]['max_s']:5.2f} s   peak RSS {figures[name]['rss_mb']:5.0f} MB")
    app, bare = figures["pos-app"], figures["bare PySide6"]
    met = app["p50_s"] <= STARTUP_TARGET_S and app["rss_mb"] <= RSS_TARGET_MB
    print(f"  targets: p50 <= {STARTUP_TARGET_S:.1f} s, RSS <= {RSS_TARGET_MB:.0f} MB -> "
          f"{'meets' if met else 'MISSES'} them; pos-app / bare window: "
          f"{app['p50_s'] / bare['p50_s']:.1f}x time, {app['rss_mb'] / bare['rss_mb']:.1f}x RSS")
    return figures


# --- 2. stalls --------------------------------------------------------------------------------

class Gap(NamedTuple):
    """Between two event-loop iterations (ms): wall time, the GUI thread's CPU time, and the
    CPU time of the process's other threads (workers: they may hold the GIL)."""

    wall: float
    gui_cpu: float
    others_cpu: float


@dataclass
class Counters:
    """How often each of the sell screen's outcome signals fired."""

    counts: dict[str, int] = field(default_factory=dict)

    def bump(self, name: str) -> Callable[..., None]:
        self.counts.setdefault(name, 0)

        def slot(*_args: object) -> None:
            self.counts[name] += 1
        return slot

    def __getitem__(self, name: str) -> int:
        return self.counts.get(name, 0)


def measure_stalls(server: LiveServer, home: Path, sales: int) -> dict[str, dict[str, float]]:
    """Drive the real window through ``sales`` sales behind a 200 ms proxy; returns the
    stall figures per phase (``sign-in``, ``first sale``, ``sales``)."""
    from PySide6.QtCore import QEventLoop, QObject, QPoint, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWidget

    from pos_app.gui import create_main_window
    from pos_app.gui.app import apply_style, show_window
    from pos_app.journal import open_register

    class LoopProbe(QObject):
        """A 1 ms precise timer on the GUI thread: each tick is one event-loop iteration."""

        def __init__(self) -> None:
            super().__init__()
            # (wall, this thread's CPU time, the whole process's CPU time), seconds
            self.ticks: list[tuple[float, float, float]] = []
            self.timer = QTimer(self)
            self.timer.setTimerType(Qt.TimerType.PreciseTimer)
            self.timer.setInterval(1)
            self.timer.timeout.connect(self.on_timer_timeout)

        def on_timer_timeout(self) -> None:
            self.ticks.append((time.perf_counter(), time.thread_time(), time.process_time()))

        def gaps(self, start: float, end: float) -> list[Gap]:
            return [Gap((b[0] - a[0]) * 1000, (b[1] - a[1]) * 1000,
                        (b[2] - a[2] - (b[1] - a[1])) * 1000)
                    for a, b in itertools.pairwise(self.ticks) if start <= b[0] <= end]

    def run_until(done: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Run the event loop until ``done()`` (checked every 2 ms) or fail after timeout."""
        if done():
            return
        loop = QEventLoop()
        check = QTimer()
        check.setInterval(2)
        check.timeout.connect(lambda: done() and loop.quit())
        deadline = QTimer()
        deadline.setSingleShot(True)
        deadline.timeout.connect(loop.quit)
        check.start()
        deadline.start(int(timeout_s * 1000))
        loop.exec()
        check.stop()
        if not done():
            raise RuntimeError(f"timed out waiting for {what} (signals seen: {seen.counts})")

    def idle(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def tap(widget: QWidget, pos: QPoint | None = None) -> None:
        """One tap, then the event loop runs until the next input."""
        if pos is None:
            QTest.mouseClick(widget, Qt.MouseButton.LeftButton)
        else:
            QTest.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
        idle(INPUT_GAP_MS)

    def type_text(widget: QWidget, text: str, *, enter: bool = False) -> None:
        """Key by key, the event loop running between keys; ``enter``: then Return."""
        for char in text:
            QTest.keyClicks(widget, char)
            idle(INPUT_GAP_MS)
        if enter:
            QTest.keyClick(widget, Qt.Key.Key_Return)

    event_id = server.small_event(capacity=1_000_000, price=2500, types=("GA", "VIP"))
    cleanup = ExitStack()
    proxy_url = cleanup.enter_context(spawn_latency_proxy(server.port, delay=LATENCY_S))
    paths = TerminalPaths.under(home).ensure()
    pair_terminal(proxy_url, server.add_terminal("Distant till"), ca_file=server.ca_file,
                  paths=paths)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    apply_style(app)
    register = open_register(paths)
    window = create_main_window(register)
    window.resize(1280, 800)
    show_window(window)
    sell = window.sell
    seen = Counters()
    for name in ("events_loaded", "sale_confirmed", "sale_refused", "sale_unknown",
                 "charge_failed", "receipt_delivered", "receipt_failed", "inventory_applied"):
        getattr(sell, name).connect(seen.bump(name))

    def check_no_failure() -> None:
        for name in ("sale_refused", "sale_unknown", "charge_failed", "receipt_failed"):
            if seen[name]:
                raise RuntimeError(f"the window reported {name}: {sell.banner.text()!r} "
                                   f"{sell.result_card.receipt_label.text()!r}")

    probe = LoopProbe()
    phases: dict[str, list[list[Gap]]] = {"sign-in": [], "first sale": [], "sales": []}
    confirm_ms: list[float] = []
    try:
        idle(300)
        probe.timer.start()
        idle(50)

        start = time.perf_counter()
        type_text(window.signin.username_edit, "alex")
        type_text(window.signin.pin_edit, "1234", enter=True)
        run_until(lambda: seen["events_loaded"] >= 1, 30, "the events after sign-in")
        row = sell.events_model.row_of(event_id)
        if row is None:
            raise RuntimeError("the bench event is not listed")
        index = sell.events_model.index(row)
        sell.event_list.scrollTo(index)
        tap(sell.event_list.viewport(), sell.event_list.visualRect(index).center())
        if sell.current_event is None or sell.current_event.id != event_id:
            raise RuntimeError("selecting the bench event failed")
        idle(SETTLE_MS)
        phases["sign-in"].append(probe.gaps(start, time.perf_counter()))

        def sale(first: bool) -> None:
            confirmed, delivered = seen["sale_confirmed"], seen["receipt_delivered"]
            loaded, applied = seen["events_loaded"], seen["inventory_applied"]
            start = time.perf_counter()
            tap(sell.tiles.tile_named("GA"))
            if not first:
                tap(sell.tiles.tile_named("GA"))
            type_text(sell.panel.tendered_edit, "100")
            charged = time.perf_counter()
            QTest.mouseClick(sell.panel.charge_button, Qt.MouseButton.LeftButton)
            if first:  # no shift yet: Charge asks for the opening float
                shifts = sell.shifts
                run_until(lambda: shifts.float_dialog is not None
                          and shifts.float_dialog.isVisible(), 30, "the opening-float dialog")
                dialog = shifts.float_dialog
                assert dialog is not None
                type_text(dialog.amount_edit, "200", enter=True)
            run_until(lambda: seen["sale_confirmed"] > confirmed or bool(
                seen["sale_refused"] + seen["sale_unknown"] + seen["charge_failed"]),
                30, "the sale's outcome")
            check_no_failure()
            confirm_ms.append((time.perf_counter() - charged) * 1000)
            run_until(lambda: (seen["receipt_delivered"] > delivered
                               and seen["events_loaded"] > loaded
                               and seen["inventory_applied"] > applied)
                      or bool(seen["receipt_failed"]), 30,
                      "the receipt, the counts re-read and the live update")
            check_no_failure()
            idle(SETTLE_MS)
            phases["first sale" if first else "sales"].append(
                probe.gaps(start, time.perf_counter()))

        sale(first=True)
        del confirm_ms[:]  # the first one includes the float dialog
        for _ in range(sales):
            sale(first=False)
    finally:
        probe.timer.stop()
        window.close()
        register.close()
        cleanup.close()

    print(f"\nEvent-loop stalls, real window and register, {LATENCY_S * 1000:.0f} ms added to "
          f"every response; a 1 ms PreciseTimer on the GUI thread, gap between ticks (ms)")
    print(f"  {'phase':<11} {'n':>3} {'longest':>8} {'p99':>6} {'p50':>5}  {'per-sale longest':>16}"
          f"  {'longest: GUI CPU / workers CPU':>30}  {'most GUI CPU in a gap':>21}")
    figures: dict[str, dict[str, float]] = {}
    for name, per_run in phases.items():
        gaps = [g for run in per_run for g in run]
        walls = [g.wall for g in gaps]
        worst = max(gaps)
        longest = [max(g.wall for g in run) for run in per_run]
        figures[name] = {"max_ms": worst.wall, "p99_ms": percentile(walls, 99),
                         "p50_ms": statistics.median(walls), "runs": float(len(per_run)),
                         "median_longest_ms": statistics.median(longest),
                         "max_gui_cpu_ms": max(g.gui_cpu for g in gaps)}
        per_sale = (f"{statistics.median(longest):5.1f} / {max(longest):5.1f}"
                    if len(per_run) > 1 else "")
        print(f"  {name:<11} {len(per_run):>3} {worst.wall:8.1f} {percentile(walls, 99):6.1f} "
              f"{statistics.median(walls):5.1f}  {per_sale:>16}  "
              f"{worst.gui_cpu:14.1f} / {worst.others_cpu:5.1f}{'':9}  "
              f"{figures[name]['max_gui_cpu_ms']:21.1f}")
    figures["charge_to_confirmed"] = {"p50_ms": statistics.median(confirm_ms),
                                      "max_ms": max(confirm_ms)}
    print("  (per-sale longest: median / worst over the sales; a gap's wall time beyond both CPU "
          "figures was spent waiting for a core: the machine was busy)")
    print(f"  Charge -> confirmed on screen: p50 {statistics.median(confirm_ms):.0f} ms, max "
          f"{max(confirm_ms):.0f} ms (one round trip is >= {LATENCY_S * 1000:.0f} ms here)")
    worst_ms = max(figures[name]["max_ms"] for name in phases)
    print(f"  target: longest stall <= {STALL_TARGET_MS:.0f} ms -> "
          f"{'meets' if worst_ms <= STALL_TARGET_MS else 'MISSES'} it (worst phase "
          f"{worst_ms:.1f} ms; an idle loop ticks every ~1 ms)")
    return figures


def main() -> dict[str, dict[str, float]]:
    started = time.perf_counter()
    (_WORK / "server").mkdir(parents=True, exist_ok=True)
    server = LiveServer(data_dir=_WORK / "server", port=free_port(), demo=True)
    server.start()
    figures: dict[str, dict[str, float]] = {}
    try:
        if STARTUP_RUNS > 0:
            figures.update(measure_startup(server, _WORK / "terminal-a", STARTUP_RUNS))
        if SALES > 0:
            figures.update(measure_stalls(server, _WORK / "terminal-b", SALES))
    finally:
        server.stop()
        shutil.rmtree(_WORK, ignore_errors=True)
    print(f"\n(total run {time.perf_counter() - started:.1f} s)")
    return figures


if __name__ == "__main__":
    main()
