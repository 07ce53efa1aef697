"""The POS window: a stack of the sign-in screen, the sell screen, the hold desk, the
manager's page and the lock screen, a status bar, and the printer's state in the header
(pressed: the printer settings dialog).

Left idle (``lock_after``, 5 minutes unless ``POS_APP_LOCK_MINUTES`` says otherwise:
:mod:`pos_app.gui.shell.idle_lock`), the window locks: the lock screen covers everything, the
status bar and every window over the till (dialogs, the journal) are hidden, no shortcut
acts, and the sell screen stops reading. The same cashier's PIN brings it all back as it
was; another cashier's sign-in keeps the basket, its checkout hold and the terminal's shift,
and closes the previous cashier's dialogs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QMetaObject, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QBoxLayout,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import SessionResponse
from pos_app.gui.core.live_inventory import FeedFactory, LiveInventory
from pos_app.gui.core.ports import RegisterPort
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.core.widgets import named
from pos_app.gui.holds.hold_desk import HoldDesk
from pos_app.gui.holds.sell_holds import CashHoldFlow
from pos_app.gui.printing.printer_config import PrinterSettings, printer_settings_path
from pos_app.gui.printing.printer_settings import PrinterSettingsDialog
from pos_app.gui.printing.printer_status import PrinterStatusButton
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.sell.sell_screen import SellScreen
from pos_app.gui.shell.idle_lock import DEFAULT_LOCK_MINUTES, IdleWatch
from pos_app.gui.shell.journal_status import JournalStatus
from pos_app.gui.shell.lock_screen import SESSION_ENDED_WHILE_LOCKED, LockScreen
from pos_app.gui.shell.signin import SignInScreen

if TYPE_CHECKING:
    from pos_app.gui.core.ports import HoldDeskPort, ManagerPort
    from pos_app.gui.manager.manager_page import ManagerPage
    from pos_app.gui.refunds.shift_receipts import ShiftReceiptsPort

__all__ = ["MainWindow"]


class MainWindow(QMainWindow):
    """Sign-in first, then selling; Sign out returns to sign-in.

    ``printer_settings_file`` is where the printer settings dialog saves (default:
    ``printer.json`` in the terminal's home, see
    :func:`~pos_app.gui.printing.printer_config.printer_settings_path`); ``printer_problem``, a
    sentence shown in the status bar at start (the settings file was unreadable).
    ``lock_after``: the idle time after which the window locks (see the module docstring);
    ``lock_problem``, a sentence shown in the status bar at start (the setting was not
    used); ``idle_clock``, the monotonic clock the idle time is measured on (tests).

    The optional parts come as ports (``None``: the window has no such part): ``holds``, the
    cash holds (the hold desk and "Hold for cash"); ``shifts``, the shift's sales ("Receipts":
    reprint, refund); ``manager``, the manager's calls ("Manage"). The composition root
    (:func:`pos_app.gui.app.create_main_window`) builds them.

    Signals:
        signed_out(): the register signed the cashier out (or the session expired).
        printer_settings_saved(object): new printer settings were saved and are in use
            (:class:`~pos_app.gui.printing.printer_config.PrinterSettings`).
        locked(): the window locked itself (idle) or was locked (:meth:`lock`).
        unlocked(object): the lock screen let a cashier in: the ``SessionResponse`` now in
            use (the same cashier, or the one who took over).
    """

    signed_out = Signal()
    printer_settings_saved = Signal(object)
    locked = Signal()
    unlocked = Signal(object)

    def __init__(self, register: RegisterPort, runner: TaskRunner, printer: ReceiptPrinter,
                 parent: QWidget | None = None, *, feed_factory: FeedFactory | None = None,
                 printer_settings_file: Path | None = None,
                 printer_problem: str | None = None,
                 lock_after: timedelta = timedelta(minutes=DEFAULT_LOCK_MINUTES),
                 lock_problem: str | None = None,
                 idle_clock: Callable[[], float] = time.monotonic,
                 holds: HoldDeskPort | None = None, shifts: ShiftReceiptsPort | None = None,
                 manager: ManagerPort | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("Box Office")
        self.register = register
        self.runner = runner
        self.printer = printer
        self._config = register.config

        self.signin = SignInScreen(register, runner)
        self.signin.set_terminal_name(self._config.terminal_name)
        self.live = LiveInventory(feed_factory, self) if feed_factory is not None else None
        self.sell = SellScreen(register, runner, printer, live=self.live)
        self.stack = named(QStackedWidget(), "screens")
        self.lock_screen = LockScreen(register, runner)
        self.stack.addWidget(self.signin)
        self.stack.addWidget(self.sell)
        self.stack.addWidget(self.lock_screen)
        self.setCentralWidget(self.stack)
        self.idle = IdleWatch(lock_after, self, clock=idle_clock)
        self._locked_page: QWidget | None = None
        self._locked_focus: QWidget | None = None
        # Windows over the till hidden while locked, and the connection that forgets a
        # dialog closed meanwhile (never shown again then).
        self._hidden_windows: list[tuple[QWidget, QMetaObject.Connection | None]] = []
        self.printer_settings_file = (printer_settings_file if printer_settings_file is not None
                                      else printer_settings_path(register.paths))
        self.printer_status = PrinterStatusButton(printer, runner)
        self.sell.header.install_printer_status(self.printer_status)
        self.printer_status.clicked.connect(self.show_printer_settings)
        self.printer_dialog: PrinterSettingsDialog | None = None
        self.cash_holds: CashHoldFlow | None = None
        self.desk: HoldDesk | None = None
        self.desk_page: QWidget | None = None
        if holds is not None:
            self._add_hold_desk(holds, runner, printer)
        self._shift_sales = shifts
        self.receipts_button: QPushButton | None = None
        self.receipts_dialog: QWidget | None = None
        if shifts is not None:
            self._add_shift_receipts()
        self._manager = manager
        self.manage_button: QPushButton | None = None
        self.manager_page: ManagerPage | None = None
        if manager is not None:
            self._add_manage_button()

        self.server_label = named(QLabel(), "statusServer")
        self.terminal_label = named(QLabel(), "statusTerminal")
        self.activity_label = named(QLabel(), "statusActivity")
        status = self.statusBar()
        status.setSizeGripEnabled(False)
        status.addWidget(self.server_label)
        status.addWidget(self.terminal_label)
        self.journal_status = JournalStatus(register, runner)
        status.addPermanentWidget(self.journal_status)
        status.addPermanentWidget(self.activity_label)
        self.server_label.setText(f"Server  {self._config.server_url}")
        self.terminal_label.setText(f"Terminal  {self._config.terminal_name}")
        problems = [problem for problem in (printer_problem, lock_problem) if problem]
        if problems:
            self.statusBar().showMessage("  ·  ".join(problems), 60_000)

        self.signin.signed_in.connect(self.on_signin_signed_in)
        self.sell.sign_out_requested.connect(self.on_sell_sign_out_requested)
        self.sell.session_expired.connect(self.on_sell_session_expired)
        self.idle.timed_out.connect(self.on_idle_timed_out)
        self.lock_screen.unlocked.connect(self.on_lock_screen_unlocked)
        self.runner.busy_changed.connect(self.on_runner_busy_changed)
        for outcome_signal in (self.sell.sale_confirmed, self.sell.sale_refused,
                               self.sell.sale_unknown, self.sell.sale_settled):
            outcome_signal.connect(self.on_sell_outcome)
        self._journal_timer = QTimer(self)
        self._journal_timer.setInterval(30_000)
        # Automatic reconciliation (start-up, every 30 s, reconnect): look keys up only.
        self._journal_timer.timeout.connect(self.journal_status.reconcile)
        self._journal_timer.start()
        self._reconciled_at_startup = False
        self.sell.connection_changed.connect(self.on_sell_connection_changed)
        self.journal_status.refresh()
        # A session kept from an earlier run (a restart, a crash, or a window closed while
        # locked) opens locked: that cashier's PIN, or another cashier, before anything
        # shows, so closing the lock screen is no way in. The PIN signs in afresh.
        restored = register.session
        if restored is not None:
            self._locked_page = self.sell
            self._cover(restored)
            # Entries a crash left pending are settled at once all the same (keys looked up
            # and voided with the kept session; nothing is shown).
            self._reconciled_at_startup = True
            self.journal_status.reconcile(at_startup=True)
        else:
            self.show_sign_in()

    def _add_hold_desk(self, register: HoldDeskPort, runner: TaskRunner,
                       printer: ReceiptPrinter) -> None:
        """"Hold for cash" on the basket, "Holds" in the header, and the hold desk page."""
        sell = self.sell
        flow = self.cash_holds = CashHoldFlow(
            register, runner, printer, screen=sell, basket=sell.basket, panel=sell.panel,
            banner=sell.banner, events_model=sell.events_model, event_list=sell.event_list,
            checkout=sell.checkout, charging=lambda: sell.charging)
        sell.panel.add_action_button(flow.hold_button)
        layout = sell.header.layout()
        assert isinstance(layout, QBoxLayout)
        # Right side, before the shift status: Holds | Shift 1 open | Close shift | Sign out
        layout.insertWidget(max(0, layout.indexOf(sell.shifts.status_label)), flow.holds_button)
        flow.events_stale.connect(sell.refresh_events)
        flow.tender_focus_wanted.connect(sell.focus_tender)
        flow.announced.connect(sell.announce)
        sell.events_loaded.connect(flow.on_events_loaded)
        sell.events_failed.connect(flow.on_events_failed)
        self.desk = HoldDesk(register, runner, printer, shifts=self.sell.shifts)
        desk_page = self.desk_page = named(QWidget(), "holdDeskPage")
        back = named(QPushButton("← Back to selling  ·  Ctrl+L"), "secondaryButton")
        back.setAccessibleName("Back to selling")
        back.clicked.connect(self.show_selling)
        top = QHBoxLayout()
        top.setContentsMargins(20, 12, 20, 0)
        top.addWidget(back)
        top.addStretch(1)
        page = QVBoxLayout(desk_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.setSpacing(0)
        page.addLayout(top)
        page.addWidget(self.desk, 1)
        self.stack.addWidget(desk_page)
        shortcut = QShortcut(QKeySequence("Ctrl+L"), desk_page)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.show_selling)
        self.cash_holds.holds_requested.connect(self.show_hold_desk)
        self.cash_holds.hold_placed.connect(self.on_cash_holds_hold_placed)
        self.desk.session_expired.connect(self.on_desk_session_expired)
        self.desk.sell_again_requested.connect(self.on_desk_sell_again_requested)

    def on_desk_sell_again_requested(self, hold: object) -> None:
        """An expired cash hold's tickets go back in the basket, to sell them now."""
        self.show_selling()
        if self.cash_holds is not None:
            self.cash_holds.sell_again(hold)  # type: ignore[arg-type]

    def _add_shift_receipts(self) -> None:
        """"Receipts" (Ctrl+R) in the header: every sale of the shift, to reprint."""
        button = self.receipts_button = named(QPushButton("Receipts"), "headerButton")
        button.setAccessibleName("Receipts of this shift: find a sale and reprint it")
        button.setToolTip("Ctrl+R: reprint any receipt of this shift")
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        layout = self.sell.header.layout()
        assert isinstance(layout, QBoxLayout)
        anchor = (self.cash_holds.holds_button if self.cash_holds is not None
                  else self.sell.shifts.status_label)
        layout.insertWidget(max(0, layout.indexOf(anchor)), button)
        button.clicked.connect(self.show_shift_receipts)
        shortcut = QShortcut(QKeySequence("Ctrl+R"), self.sell)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.show_shift_receipts)

    def _add_manage_button(self) -> None:
        """"Manage" (Ctrl+D) in the header, shown to managers only: the manager's page."""
        button = self.manage_button = named(QPushButton("Manage"), "headerButton")
        button.setAccessibleName("Manager tools: dashboard, audit log, shifts, capacity, "
                                 "refunds")
        button.setToolTip("Ctrl+D: dashboard, audit log, shifts, capacity and refunds")
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        button.hide()
        layout = self.sell.header.layout()
        assert isinstance(layout, QBoxLayout)
        anchor = self.receipts_button or self.sell.shifts.status_label
        layout.insertWidget(max(0, layout.indexOf(anchor)), button)
        button.clicked.connect(self.show_manager_page)
        shortcut = QShortcut(QKeySequence("Ctrl+D"), self.sell)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.show_manager_page)

    def _is_manager(self) -> bool:
        session = self.register.session
        return session is not None and session.staff.role == "manager"

    def show_manager_page(self) -> None:
        """The manager's page (dashboard, audit log, shifts, capacity, refunds); managers
        only, built on first use."""
        if not self._is_manager() or self._manager is None:
            return
        if self.manager_page is None:
            from pos_app.gui.manager.manager_page import ManagerPage

            page = ManagerPage(self._manager, self.runner, self.printer, live=self.live)
            page.back_requested.connect(self.show_selling)
            page.inventory_changed.connect(self.sell.refresh_events)
            self.stack.addWidget(page)
            self.manager_page = page
        event = self.sell.current_event
        self.stack.setCurrentWidget(self.manager_page)
        self.manager_page.enter(event.timezone if event is not None else None)

    def show_shift_receipts(self) -> None:
        """Open the receipts of this terminal's open shift (reprint marked "REPRINT")."""
        from pos_app.gui.refunds.shift_receipts import open_shift_receipts

        if self.register.session is None or self._shift_sales is None:
            return
        self.receipts_dialog = open_shift_receipts(self, self._shift_sales, self.runner,
                                                   self.printer)

    def show_hold_desk(self) -> None:
        """The hold desk (cash holds: find, take payment, release)."""
        if (self.desk is not None and self.desk_page is not None
                and self.register.session is not None):
            self.stack.setCurrentWidget(self.desk_page)
            self.desk.search_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_selling(self) -> None:
        """Back from the hold desk or the manager's page to the sell screen."""
        if self.manager_page is not None and self.stack.currentWidget() is self.manager_page:
            self.manager_page.leave()
        if self.register.session is not None:
            self.stack.setCurrentWidget(self.sell)
            self.sell.refresh_events()  # a paid or released hold changed the counts
            self.sell.focus_tender()

    def on_cash_holds_hold_placed(self, _outcome: object) -> None:
        if self.desk is not None:
            self.desk.refresh_quietly()

    def show_printer_settings(self) -> None:
        """The printer settings dialog (window-modal; saving runs on the runner)."""
        if self.printer_dialog is not None:
            self.printer_dialog.raise_()
            self.printer_dialog.activateWindow()
            return
        dialog = PrinterSettingsDialog(self.printer, self.runner, self.printer_settings_file,
                                       self, receipts_dir=Path(self.register.paths.receipts_dir))
        dialog.settings_saved.connect(self.on_printer_dialog_settings_saved)
        dialog.finished.connect(self.on_printer_dialog_finished)
        self.printer_dialog = dialog
        dialog.open()

    def on_printer_dialog_settings_saved(self, settings: PrinterSettings) -> None:
        self.printer_status.refresh()
        self.printer_settings_saved.emit(settings)

    def on_printer_dialog_finished(self, _result: int) -> None:
        if self.printer_dialog is not None:
            # Deleted later: a check it started may still report to it meanwhile.
            self.printer_dialog.deleteLater()
            self.printer_dialog = None
        if self.stack.currentWidget() is self.sell:
            self.sell.focus_tender()

    def on_desk_session_expired(self) -> None:
        if not self.is_locked:
            self.stack.setCurrentWidget(self.sell)
        self.on_sell_session_expired()

    def show_sign_in(self, message: str | None = None) -> None:
        self.idle.stop()
        if self.manager_page is not None:
            self.manager_page.leave()
        if self.manage_button is not None:
            self.manage_button.hide()
        self.stack.setCurrentWidget(self.signin)
        self.signin.reset(message)

    def show_sell(self, session: SessionResponse) -> None:
        if self.manage_button is not None:
            self.manage_button.setVisible(session.staff.role == "manager")
        self.stack.setCurrentWidget(self.sell)
        self.sell.set_session(session, self._config.terminal_name)
        self.sell.event_list.setFocus(Qt.FocusReason.OtherFocusReason)
        self.idle.start()
        if not self._reconciled_at_startup:
            # The first session of this run: entries left pending were left by a crash.
            self._reconciled_at_startup = True
            self.journal_status.reconcile(at_startup=True)

    # --- the idle lock ----------------------------------------------------------------------

    @property
    def is_locked(self) -> bool:
        """``True`` while the lock screen covers the till."""
        return self.stack.currentWidget() is self.lock_screen

    def on_idle_timed_out(self) -> None:
        self.lock()

    def lock(self) -> None:
        """Lock the till now (see the module docstring); nothing happens when nobody is
        signed in or it is locked already."""
        session = self.register.session
        current = self.stack.currentWidget()
        if (session is None or current is None or not self.isVisible()
                or current in (self.signin, self.lock_screen)):
            return
        self._locked_page = current
        focus = QApplication.focusWidget()
        self._locked_focus = focus if focus is not None and current.isAncestorOf(focus) else None
        if self.manager_page is not None and current is self.manager_page:
            self.manager_page.leave()
        self._hide_windows()
        self.sell.pause()
        self._cover(session)

    def _cover(self, session: SessionResponse) -> None:
        """The lock screen over everything, asking for ``session``'s cashier's PIN."""
        self.idle.stop()
        self.statusBar().hide()
        self.lock_screen.lock(session.staff, datetime.now(UTC))
        self.stack.setCurrentWidget(self.lock_screen)
        self.lock_screen.pin_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.idle.guarding = True
        self.locked.emit()

    def on_lock_screen_unlocked(self, session: SessionResponse) -> None:
        previous = self.lock_screen.staff
        same = previous is not None and previous.id == session.staff.id
        page, self._locked_page = self._locked_page, None
        self.idle.guarding = False
        self.statusBar().show()
        self.show_sell(session)
        if same and page is not None and page is self.manager_page:
            self.show_manager_page()
        elif same and page is not None and page is self.desk_page:
            self.show_hold_desk()
        focus, self._locked_focus = self._locked_focus, None
        if same and focus is not None and shiboken6.isValid(focus) and focus.isVisible():
            focus.setFocus(Qt.FocusReason.OtherFocusReason)  # where the cashier left off
        self._bring_back_windows(show=same)
        self.unlocked.emit(session)

    def _hide_windows(self) -> None:
        """Close popups, hide every window over the till (remembered for the same cashier)."""
        popup = QApplication.activePopupWidget()
        while popup is not None:
            popup.close()
            following = QApplication.activePopupWidget()
            popup = following if following is not popup else None
        for widget in self.findChildren(QWidget):
            if widget is self or not widget.isWindow() or not widget.isVisible():
                continue
            connection = None
            if isinstance(widget, QDialog):
                connection = widget.finished.connect(
                    lambda _result, w=widget: self._forget_hidden(w))
            widget.hide()
            self._hidden_windows.append((widget, connection))

    def _forget_hidden(self, widget: QWidget) -> None:
        self._hidden_windows = [(w, c) for w, c in self._hidden_windows if w is not widget]

    def _bring_back_windows(self, *, show: bool) -> None:
        """Show the windows hidden at the lock again (``show``), else close them: they
        were the previous cashier's unfinished work."""
        hidden, self._hidden_windows = self._hidden_windows, []
        for widget, connection in hidden:
            if not shiboken6.isValid(widget):
                continue
            if connection is not None:
                QObject.disconnect(connection)
            if show:
                widget.show()
                widget.raise_()
                widget.activateWindow()
            elif isinstance(widget, QDialog):
                widget.reject()
            else:
                widget.close()

    def on_sell_connection_changed(self, connected: bool) -> None:
        if connected:
            self.journal_status.reconcile()

    def on_signin_signed_in(self, session: SessionResponse) -> None:
        self.show_sell(session)

    def on_sell_sign_out_requested(self) -> None:
        task = self.runner.write(self.register.sign_out)
        task.finished.connect(self.on_sign_out_task_done)
        task.failed.connect(self.on_sign_out_task_done)

    def on_sign_out_task_done(self, _result: object) -> None:
        self.sell.end_session()
        self.show_sign_in()
        self.signed_out.emit()

    def on_sell_session_expired(self) -> None:
        if self.is_locked:
            # The lock screen's PIN signs in afresh anyway: stay locked, say so.
            self.lock_screen.show_notice(SESSION_ENDED_WHILE_LOCKED)
            return
        # The basket (and any unknown sale blocking it) stays for the next sign-in.
        self.sell.suspend_session()
        self.show_sign_in("Your session has ended. Please sign in again - the basket is kept.")
        self.signed_out.emit()

    def on_sell_outcome(self, _outcome: object) -> None:
        self.journal_status.refresh()

    def on_runner_busy_changed(self, busy: bool) -> None:
        self.activity_label.setText("Working…" if busy else "Ready")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.idle.guarding = self.is_locked  # shown again after a close while locked

    def closeEvent(self, event: QCloseEvent) -> None:
        # A closed window neither locks nor holds the application's shortcuts back.
        self.idle.stop()
        self.idle.guarding = False
        # A sale in flight must settle in the journal before the process goes away.
        if self.manager_page is not None:
            self.manager_page.leave()
        if self.live is not None:
            self.live.stop()
        self.runner.wait_idle()
        super().closeEvent(event)
