"""Flows to bytes and back, and finding flows in scripts and modules."""

from prefect_storage.serialization.extract import extract_flow_from_file, extract_flow_from_module
from prefect_storage.serialization.flow_pickle import flow_from_bytes_pickle, flow_to_bytes_pickle, read_envelope

__all__ = [
    "extract_flow_from_file",
    "extract_flow_from_module",
    "flow_from_bytes_pickle",
    "flow_to_bytes_pickle",
    "read_envelope",
]
