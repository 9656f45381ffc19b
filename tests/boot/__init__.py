"""The boot test harness: a real app server boot, with only AWS faked (see docs/boot-test.md)."""
