"""Bounded facts about any Kaggle-style data folder, for the model's prompts.

A task may hold a 5 GB CSV, 200,000 images or archives of audio clips, so nothing here reads a
whole large file: tables are counted by streaming bytes and parsed only for their first rows,
images and audio are read for their headers, archives for their member lists, and the folder walk
stops at a number of entries and a time budget. Facts are gathered cheapest-first (headers of
every file, then row and record counts) so a tight budget still describes every file.

One module per job: ``base`` (the facts and file kinds), ``streams`` (bytes and record counts),
``tables``, ``parquet``, ``records`` (JSON), ``media`` (images, audio, arrays, text),
``archive_listing``, ``walk`` (the folder walk and ``take_inventory``) and ``render`` (prompt text).
"""

from mle_star.tools.task.inventory.archive_listing import archive_facts
from mle_star.tools.task.inventory.base import (
    ARCHIVE_EXT,
    AUDIO_EXT,
    IMAGE_EXT,
    JSON_EXT,
    TABLE_EXT,
    FileFacts,
    FolderFacts,
    Inventory,
    InventoryError,
    Kind,
    classify,
)
from mle_star.tools.task.inventory.media import audio_facts, image_facts
from mle_star.tools.task.inventory.records import json_facts
from mle_star.tools.task.inventory.render import render_inventory
from mle_star.tools.task.inventory.tables import count_rows, csv_facts, open_table, table_dialect
from mle_star.tools.task.inventory.walk import take_inventory

__all__ = [
    "ARCHIVE_EXT", "AUDIO_EXT", "IMAGE_EXT", "JSON_EXT", "TABLE_EXT", "FileFacts", "FolderFacts", "Inventory",
    "InventoryError", "Kind", "archive_facts", "audio_facts", "classify", "count_rows", "csv_facts", "image_facts",
    "json_facts", "open_table", "render_inventory", "table_dialect", "take_inventory",
]
