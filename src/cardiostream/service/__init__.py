"""The real-time monitoring service: device wire protocol, ingest, per-patient pipeline, storage.

Importing this package imports nothing heavy (no FastAPI); :mod:`cardiostream.service.protocol`
is pure Python + NumPy and is shared with the device simulator (:mod:`cardiostream.simulate`).
"""
