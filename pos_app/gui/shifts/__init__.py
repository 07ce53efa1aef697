"""The cashier's shift: open and close with a cash count, cash in and out, the X/Z report, the
manager's approval of a variance, and the manager's list of shifts."""
