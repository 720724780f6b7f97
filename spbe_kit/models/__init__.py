"""Strict pydantic models of the two inputs: the donor's catalog and a region's profile.

Raw dicts never travel past ``spbe_kit.models.parse``; everything downstream gets these.
"""
