package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
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

// cursorKey is the plain form of a LastEvaluatedKey: all our keys are strings.
func encodeCursor(k map[string]types.AttributeValue) (string, error) {
	var plain map[string]string
	if err := attributevalue.UnmarshalMap(k, &plain); err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	b, err := json.Marshal(plain)
	if err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeCursor(s string) (map[string]types.AttributeValue, error) {
	bad := domain.Errorf(domain.Invalid, "invalid_cursor", "the page cursor is not one this API returned")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var plain map[string]string
	if err := json.Unmarshal(b, &plain); err != nil || len(plain) == 0 || len(plain) > 6 {
		return nil, bad
	}
	k, err := attributevalue.MarshalMap(plain)
	if err != nil {
		return nil, bad
	}
	return k, nil
}
