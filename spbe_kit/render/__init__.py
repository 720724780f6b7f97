"""Render: a validated profile and the catalog become a complete, deterministic tree.

``context`` decides what runs where; ``environment`` holds the sandboxed Jinja2 set-up and
the escaping filters; ``tree`` renders every file in memory; ``write`` stages and swaps it in
atomically and checks a tree on disk against a fresh render.
"""
