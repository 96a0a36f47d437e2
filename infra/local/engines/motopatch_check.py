# Checks motopatch.py's request parsing and response writing of AttributeValues against moto's
# own model walk, on random values of every type nested up to three deep (run by
# TestMotoPatch_MatchesMotosModelWalk; argv[1] is motopatch.py).
import base64
import json
import random
import sys

patch = sys.argv[1]
sys.argv = sys.argv[:1]
exec(open(patch).read().split('if __name__ == "__main__":')[0])

from moto.core.parse import JSONParser  # noqa: E402
from moto.core.serialize import JSONSerializer  # noqa: E402
from moto.core.utils import get_service_model  # noqa: E402

model = get_service_model("dynamodb")
put = model.operation_model("PutItem")
get = model.operation_model("GetItem")
shape = put.input_shape.members["Item"].value
rng = random.Random(1)


def value(depth=0):
    kind = rng.choice(["S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL"] + (["M", "L"] if depth < 3 else []))
    return {
        "S": lambda: {"S": "x" * rng.randint(0, 3)},
        "N": lambda: {"N": str(rng.randint(-5, 5))},
        "B": lambda: {"B": "AAE="},
        "BS": lambda: {"BS": ["AAE=", "/w=="]},
        "SS": lambda: {"SS": ["a", "b"]},
        "NS": lambda: {"NS": ["1", "2.5"]},
        "BOOL": lambda: {"BOOL": rng.random() < 0.5},
        "NULL": lambda: {"NULL": True},
        "M": lambda: {"M": {f"k{i}": value(depth + 1) for i in range(rng.randint(0, 3))}},
        "L": lambda: {"L": [value(depth + 1) for _ in range(rng.randint(0, 3))]},
    }[kind]()


def stored(v):
    # moto's results hold binaries as bytes
    if isinstance(v, dict):
        return {k: base64.b64decode(w) if k == "B" else [base64.b64decode(b) for b in w] if k == "BS" else stored(w) for k, w in v.items()}
    if isinstance(v, list):
        return [stored(w) for w in v]
    return v


def unpatched(cls, name, original, call):
    patched = getattr(cls, name)
    setattr(cls, name, original)
    try:
        return call()
    finally:
        setattr(cls, name, patched)


parser = JSONParser(put)
for _ in range(3000):
    v = value()
    mine = parser._parse_shape(shape, v)
    theirs = unpatched(BaseJSONParser, "_parse_structure", _original_parse_structure, lambda: parser._parse_shape(shape, v))
    assert mine == theirs, (v, mine, theirs)

for _ in range(3000):
    result = {"Item": {"a": stored(value())}}
    mine = JSONSerializer(operation_model=get).serialize(result)
    theirs = unpatched(BaseJSONSerializer, "_serialize_type_structure", _original_structure,
                       lambda: JSONSerializer(operation_model=get).serialize(result))
    assert json.loads(mine["body"]) == json.loads(theirs["body"]), (result, mine, theirs)
print("ok")
