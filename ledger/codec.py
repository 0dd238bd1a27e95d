"""The event codec: eventsourcing's JSON transcoding, done by orjson.

Stored events stay the same JSON as the library's own transcoder writes — values of
registered types as ``{"_type_": name, "_data_": …}`` — so either can read what the other
wrote; orjson encodes and parses several times faster than the standard library, which
is most of the cost of storing and of replaying events.

orjson writes UUIDs as plain strings, which would come back as ``str``: event fields
are therefore never UUIDs (ids travel as the event's originator id or as text), and a
test round-trips every kind of event to keep it so.
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonTranscoder(JSONTranscoder):
    """:class:`~eventsourcing.persistence.JSONTranscoder` with orjson underneath."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=self._encode_obj, option=_OPTIONS)

    def decode(self, data: bytes) -> Any:
        obj = orjson.loads(data)
        kind = type(obj)
        if kind is dict:
            return self._revive(obj)
        if kind is list:
            return self._revive_list(obj)
        return obj

    def _revive(self, obj: dict[str, Any]) -> Any:
        """Turn tagged values back into objects, innermost first (as ``object_hook``)."""
        names = self.names
        for key, value in obj.items():
            kind = type(value)
            if kind is dict:
                data = value.get("_data_")
                if len(value) == 2 and type(data) is str and value.get("_type_") in names:
                    # the common case, a tagged scalar (a date): no recursion
                    obj[key] = names[value["_type_"]].decode(data)
                else:
                    obj[key] = self._revive(value)
            elif kind is list:
                obj[key] = self._revive_list(value)
        if len(obj) == 2 and "_type_" in obj:
            return self._decode_obj(obj)
        return obj

    def _revive_list(self, items: list[Any]) -> list[Any]:
        for index, value in enumerate(items):
            kind = type(value)
            if kind is dict:
                items[index] = self._revive(value)
            elif kind is list:
                items[index] = self._revive_list(value)
        return items
