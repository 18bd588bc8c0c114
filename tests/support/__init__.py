"""Helpers shared by the tests of every stage (imported one way: ``from tests.support import ...``)."""
