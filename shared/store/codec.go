package store

import (
	"encoding/json"
	"fmt"
)

// The stored entity is the domain type's JSON (in a binary attribute), so domain types carry
// no DynamoDB tags and fields marked json:"-" (held decisions, keys) are stored through
// a wrapper in the entity's file.
func marshalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

func unmarshalJSON(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}
