# Runs moto_server with two fixes of its DynamoDB engine (imported by infra/local/engines,
# argv as moto_server's). moto backs up a whole table with copy.deepcopy once per item of a
# TransactWriteItems call before applying it, so a transaction of 100 items on a table of
# 10,000 copies a million items; a 100-item transaction then takes seconds to minutes. This
# backs up only the items the transaction touches, and restores them when it is cancelled: the
# same all-or-nothing semantics, at the cost of the transaction's own items. Requests reach moto
# one at a time (the serialising proxy), so swapping the module's copy reference is safe.
#
# Second fix: moto answers every Query by sorting the whole table (all_items) and then testing
# each item against the key condition, so one page of an index query on a table of 30,000
# items costs about a second. This hands the query only the items its partition key selects
# (the base table's own partition, or the items whose index key attributes equal the
# condition's): the same results in the same order, since moto sorts the candidates itself.
#
# Third fix: moto writes each response by walking botocore's model of it, looking every member
# of every AttributeValue up under several aliases, so a page of 1,000 items takes 5 seconds
# to serialize. An AttributeValue is already in its wire shape in moto's results (a one-key
# dict, binaries as bytes), so this writes it directly: base64 for B and BS, recursion into M
# and L, the rest as they are, which is what the model walk produces.
#
# Fourth fix: moto builds each stored item attribute by attribute, re-measuring the whole item
# at every attribute to enforce the 400 KB limit (quadratic in the attributes; a third of a
# write's time for an item of 20 attributes). This keeps a running size and raises the same
# error at the same attribute.
#
# Fifth fix: the same model walk reads each request, every AttributeValue member by member;
# this reads an AttributeValue directly into what the walk builds (binaries still decoded by
# moto's own blob parser).
import base64
import copy
import sys

import moto.dynamodb.models as models
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.models.table import Table
from moto.core.parse import BaseJSONParser
from moto.core.serialize import BaseJSONSerializer

_original = models.DynamoDBBackend.transact_write_items


class _NoTableCopy:
    @staticmethod
    def deepcopy(value, memo=None):
        return value


def _transact_write_items(self, transact_items):
    backup = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = self.tables.get(op.get("TableName"))
        if table is None:
            continue
        attrs = op.get("Item") or op.get("Key") or {}
        try:
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
        except KeyError:
            continue
        current = table.get_item(hash_key, range_key)
        backup.append((table, hash_key, range_key, copy.deepcopy(current) if current is not None else None))
    models.copy = _NoTableCopy
    try:
        return _original(self, transact_items)
    except Exception:
        for table, hash_key, range_key, item in reversed(backup):
            table.delete_item(hash_key, range_key)
            if item is None:
                continue
            if range_key is not None:
                table.items[hash_key][range_key] = item
            else:
                table.items[hash_key] = item
        raise
    finally:
        models.copy = copy


models.DynamoDBBackend.transact_write_items = _transact_write_items

_original_query = Table.query


def _candidates(table, hash_key, index_name, hash_key_conditions):
    if not index_name:
        if hash_key is None:
            return None
        found = table.items.get(hash_key)
        if found is None:
            return []
        return list(found.values()) if table.range_key_attr else [found]
    if not hash_key_conditions:
        return None
    return [item for item in _all_items(table) if _matches(item, hash_key_conditions)]


def _matches(item, conditions):
    for name, value in conditions:
        found = item.attrs.get(name)
        if found is None or found != value:
            return False
    return True


def _all_items(table):
    for hash_set in table.items.values():
        if table.range_key_attr:
            yield from hash_set.values()
        else:
            yield hash_set


def _query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
           scan_index_forward, projection_expressions, index_name=None, *args, **kwargs):
    items = _candidates(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
    if items is not None:
        # An instance attribute shadows the method for this one call.
        self.all_items = lambda: items
    try:
        return _original_query(self, hash_key, range_comparison, range_objs, limit,
                               exclusive_start_key, scan_index_forward, projection_expressions,
                               index_name, *args, **kwargs)
    finally:
        self.__dict__.pop("all_items", None)


Table.query = _query

_original_structure = BaseJSONSerializer._serialize_type_structure
_PLAIN = frozenset(("S", "N", "SS", "NS", "BOOL", "NULL"))


def _base64(value):
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).strip().decode("utf-8")


def _attribute_value(value):
    out = {}
    for kind, v in value.items():
        if v is None:
            continue
        if kind == "M":
            v = {k: _attribute_value(m) for k, m in v.items()}
        elif kind == "L":
            v = [_attribute_value(m) for m in v]
        elif kind == "B":
            v = _base64(v)
        elif kind == "BS":
            v = [_base64(m) for m in v]
        elif kind not in _PLAIN:
            continue
        out[kind] = v
    return out


def _serialize_type_structure(self, serialized, value, shape, key):
    if key and shape.name == "AttributeValue" and isinstance(value, dict):
        self._default_serialize(serialized, _attribute_value(value), shape, key)
        return
    _original_structure(self, serialized, value, shape, key)


BaseJSONSerializer._serialize_type_structure = _serialize_type_structure

# LimitedSizeDict's own check, counted as it goes (keys and values measured as it measures them).
_ITEM_LIMIT = 405000


def _item_init(self, hash_key, range_key, attrs):
    self.hash_key = hash_key
    self.range_key = range_key
    self.attrs = LimitedSizeDict()
    size = 0
    for key, value in attrs.items():
        value = DynamoType(value)
        size += bytesize(key) + value.size()
        if size > _ITEM_LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(self.attrs, key, value)


Item.__init__ = _item_init

_original_parse_structure = BaseJSONParser._parse_structure


def _parse_structure(self, shape, value):
    if shape.name != "AttributeValue" or not isinstance(value, dict):
        return _original_parse_structure(self, shape, value)
    members = shape.members
    out = self.MAP_TYPE()
    for name, raw in value.items():  # one member, in a well-formed value
        member = members.get(name)
        if member is None or raw is None:
            continue  # the walk reads only the model's members
        if name == "M" and isinstance(raw, dict):
            parsed = self.MAP_TYPE()
            for k, v in raw.items():
                parsed[k] = _parse_structure(self, shape, v)
            out[name] = parsed
        elif name == "L" and isinstance(raw, list):
            out[name] = [_parse_structure(self, shape, v) for v in raw]
        elif name in _PLAIN:
            out[name] = raw
        else:
            out[name] = self._parse_shape(member, raw)
    return out


BaseJSONParser._parse_structure = _parse_structure

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
