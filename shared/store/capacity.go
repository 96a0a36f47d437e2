package store

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ItemSize is the size of an item as DynamoDB bills it (Developer Guide, "Item sizes and
// formats"): for every attribute its name's UTF-8 bytes plus its value's size; a string its
// UTF-8 bytes; a number about one byte per two significant digits plus one; binary its bytes;
// a boolean or null one byte; a list or map 3 bytes plus 1 byte per element plus the
// elements (a map element also its key). moto reports no real consumed capacity, so the
// benchmark computes write units from this.
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		digits := strings.Trim(strings.TrimLeft(strings.ReplaceAll(strings.TrimPrefix(v.Value, "-"), ".", ""), "0"), "0")
		return (len(digits)+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	}
	return 0
}

// WriteUnits is what writing an item of size bytes costs: one unit per started KB, twice that
// inside a transaction.
func WriteUnits(size int, transactional bool) int {
	u := (size + 1023) / 1024
	if transactional {
		u *= 2
	}
	return u
}

// ReadHalfUnits is what reading an item of size bytes costs, in half read units: one unit per started 4 KB strongly
// consistent, half that eventually consistent (returned in half units).
func ReadHalfUnits(size int, consistent bool) int {
	u := (size + 4095) / 4096
	if consistent {
		return 2 * u
	}
	return u
}
