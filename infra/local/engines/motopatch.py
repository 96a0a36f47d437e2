# Runs moto_server with one fix of its DynamoDB transactions (imported by infra/local/engines,
# argv as moto_server's). moto backs up a whole table with copy.deepcopy once per item of a
# TransactWriteItems call before applying it, so a transaction of 100 items on a table of
# 10,000 copies a million items; a 100-item transaction then takes seconds to minutes. This
# backs up only the items the transaction touches, and restores them when it is cancelled: the
# same all-or-nothing semantics, at the cost of the transaction's own items. Requests reach moto
# one at a time (the serialising proxy), so swapping the module's copy reference is safe.
import copy
import sys

import moto.dynamodb.models as models
from moto.dynamodb.models.dynamo_type import DynamoType

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

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
