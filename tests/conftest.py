"""Fixtures shared by the tests of every stage."""
