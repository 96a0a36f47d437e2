package states

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// dynamoDB runs the dynamodb:getItem|putItem|updateItem|deleteItem integrations.
// Parameters are the service's request in DynamoDB JSON; the result is the response in
// the same shape.
func (s *strand) dynamoDB(op string, params any) (any, *stateError) {
	db := s.x.e.opts.DynamoDB
	if db == nil {
		return nil, newErr("DynamoDB.AmazonDynamoDBException", "no DynamoDB client is configured in the local executor")
	}
	p, ok := params.(map[string]any)
	if !ok {
		return nil, newErr("DynamoDB.ValidationException", "Parameters must be an object")
	}
	r := ddbRequest{p: p}
	ctx := s.ctx
	var out map[string]any
	var err error
	switch op {
	case "getItem":
		in := &dynamodb.GetItemInput{TableName: r.str("TableName"), Key: r.attrMap("Key"),
			ProjectionExpression: r.str("ProjectionExpression"), ExpressionAttributeNames: r.names(),
			ConsistentRead: r.boolean("ConsistentRead"), ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacity(r.s("ReturnConsumedCapacity"))}
		if r.err == nil {
			var res *dynamodb.GetItemOutput
			if res, err = db.GetItem(ctx, in); err == nil {
				out = responseWith("Item", res.Item)
			}
		}
	case "putItem":
		in := &dynamodb.PutItemInput{TableName: r.str("TableName"), Item: r.attrMap("Item"),
			ConditionExpression: r.str("ConditionExpression"), ExpressionAttributeNames: r.names(),
			ExpressionAttributeValues: r.attrMap("ExpressionAttributeValues"),
			ReturnValues:              ddbtypes.ReturnValue(r.s("ReturnValues")),
			ReturnConsumedCapacity:    ddbtypes.ReturnConsumedCapacity(r.s("ReturnConsumedCapacity"))}
		if r.err == nil {
			var res *dynamodb.PutItemOutput
			if res, err = db.PutItem(ctx, in); err == nil {
				out = responseWith("Attributes", res.Attributes)
			}
		}
	case "updateItem":
		in := &dynamodb.UpdateItemInput{TableName: r.str("TableName"), Key: r.attrMap("Key"),
			UpdateExpression: r.str("UpdateExpression"), ConditionExpression: r.str("ConditionExpression"),
			ExpressionAttributeNames: r.names(), ExpressionAttributeValues: r.attrMap("ExpressionAttributeValues"),
			ReturnValues:           ddbtypes.ReturnValue(r.s("ReturnValues")),
			ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacity(r.s("ReturnConsumedCapacity"))}
		if r.err == nil {
			var res *dynamodb.UpdateItemOutput
			if res, err = db.UpdateItem(ctx, in); err == nil {
				out = responseWith("Attributes", res.Attributes)
			}
		}
	case "deleteItem":
		in := &dynamodb.DeleteItemInput{TableName: r.str("TableName"), Key: r.attrMap("Key"),
			ConditionExpression: r.str("ConditionExpression"), ExpressionAttributeNames: r.names(),
			ExpressionAttributeValues: r.attrMap("ExpressionAttributeValues"),
			ReturnValues:              ddbtypes.ReturnValue(r.s("ReturnValues")),
			ReturnConsumedCapacity:    ddbtypes.ReturnConsumedCapacity(r.s("ReturnConsumedCapacity"))}
		if r.err == nil {
			var res *dynamodb.DeleteItemOutput
			if res, err = db.DeleteItem(ctx, in); err == nil {
				out = responseWith("Attributes", res.Attributes)
			}
		}
	default:
		return nil, newErr(errTaskFailed, "the local executor does not support dynamodb:%s", op)
	}
	if r.err != nil {
		return nil, newErr("DynamoDB.ValidationException", "%v", r.err)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, newErr(errTaskFailed, "cancelled")
		}
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return nil, newErr("DynamoDB."+ae.ErrorCode(), "%s (Service: DynamoDb, Status Code: 400, Error Code: %s)", ae.ErrorMessage(), ae.ErrorCode())
		}
		return nil, newErr("DynamoDB.AmazonDynamoDBException", "%v", err)
	}
	return out, nil
}

func responseWith(key string, attrs map[string]ddbtypes.AttributeValue) map[string]any {
	out := map[string]any{
		"SdkHttpMetadata":     map[string]any{"HttpStatusCode": intNumber(200)},
		"SdkResponseMetadata": map[string]any{"RequestId": newUUID()},
	}
	if len(attrs) > 0 {
		out[key] = attrMapToJSON(attrs)
	}
	return out
}

// ddbRequest reads request fields, remembering the first error.
type ddbRequest struct {
	p   map[string]any
	err error
}

func (r *ddbRequest) s(k string) string {
	v, ok := r.p[k]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok && r.err == nil {
		r.err = fmt.Errorf("%s must be a string", k)
	}
	return s
}

func (r *ddbRequest) str(k string) *string {
	if s := r.s(k); s != "" {
		return aws.String(s)
	}
	return nil
}

func (r *ddbRequest) boolean(k string) *bool {
	if b, ok := r.p[k].(bool); ok {
		return aws.Bool(b)
	}
	return nil
}

func (r *ddbRequest) names() map[string]string {
	m, ok := r.p["ExpressionAttributeNames"].(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok && r.err == nil {
			r.err = fmt.Errorf("ExpressionAttributeNames values must be strings")
		}
		out[k] = s
	}
	return out
}

func (r *ddbRequest) attrMap(k string) map[string]ddbtypes.AttributeValue {
	v, ok := r.p[k]
	if !ok {
		return nil
	}
	out, err := attrMapFromJSON(v)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("%s: %v", k, err)
	}
	return out
}

func attrMapFromJSON(v any) (map[string]ddbtypes.AttributeValue, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected an object of attribute values")
	}
	out := make(map[string]ddbtypes.AttributeValue, len(m))
	for k, x := range m {
		av, err := attrFromJSON(x)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func stringList(v any) ([]string, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected an array")
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		switch t := x.(type) {
		case string:
			out[i] = t
		default:
			if _, ok := toFloat(x); ok {
				out[i] = toJSON(x)
				continue
			}
			return nil, fmt.Errorf("expected strings")
		}
	}
	return out, nil
}

// attrFromJSON converts DynamoDB JSON ({"S": "x"}, {"N": "1"}, ...) to an AttributeValue.
func attrFromJSON(v any) (ddbtypes.AttributeValue, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, fmt.Errorf("an attribute value must be an object with one type key")
	}
	for typ, x := range m {
		switch typ {
		case "S":
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("S must be a string")
			}
			return &ddbtypes.AttributeValueMemberS{Value: s}, nil
		case "N":
			switch t := x.(type) {
			case string:
				return &ddbtypes.AttributeValueMemberN{Value: t}, nil
			default:
				if _, ok := toFloat(x); ok {
					return &ddbtypes.AttributeValueMemberN{Value: toJSON(x)}, nil
				}
			}
			return nil, fmt.Errorf("N must be a string")
		case "BOOL":
			b, ok := x.(bool)
			if !ok {
				return nil, fmt.Errorf("BOOL must be a boolean")
			}
			return &ddbtypes.AttributeValueMemberBOOL{Value: b}, nil
		case "NULL":
			return &ddbtypes.AttributeValueMemberNULL{Value: true}, nil
		case "B":
			s, _ := x.(string)
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("B must be base64")
			}
			return &ddbtypes.AttributeValueMemberB{Value: b}, nil
		case "SS", "NS":
			l, err := stringList(x)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", typ, err)
			}
			if typ == "SS" {
				return &ddbtypes.AttributeValueMemberSS{Value: l}, nil
			}
			return &ddbtypes.AttributeValueMemberNS{Value: l}, nil
		case "BS":
			l, err := stringList(x)
			if err != nil {
				return nil, fmt.Errorf("BS: %v", err)
			}
			var bs [][]byte
			for _, s := range l {
				b, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					return nil, fmt.Errorf("BS must hold base64")
				}
				bs = append(bs, b)
			}
			return &ddbtypes.AttributeValueMemberBS{Value: bs}, nil
		case "M":
			mm, err := attrMapFromJSON(x)
			if err != nil {
				return nil, err
			}
			return &ddbtypes.AttributeValueMemberM{Value: mm}, nil
		case "L":
			arr, ok := x.([]any)
			if !ok {
				return nil, fmt.Errorf("L must be an array")
			}
			l := make([]ddbtypes.AttributeValue, len(arr))
			for i, y := range arr {
				av, err := attrFromJSON(y)
				if err != nil {
					return nil, err
				}
				l[i] = av
			}
			return &ddbtypes.AttributeValueMemberL{Value: l}, nil
		}
		return nil, fmt.Errorf("unknown attribute type %q", typ)
	}
	return nil, fmt.Errorf("empty attribute value")
}

func attrMapToJSON(m map[string]ddbtypes.AttributeValue) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = attrToJSON(v)
	}
	return out
}

func strList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

func attrToJSON(v ddbtypes.AttributeValue) any {
	switch t := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return map[string]any{"S": t.Value}
	case *ddbtypes.AttributeValueMemberN:
		return map[string]any{"N": t.Value}
	case *ddbtypes.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": t.Value}
	case *ddbtypes.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *ddbtypes.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(t.Value)}
	case *ddbtypes.AttributeValueMemberSS:
		return map[string]any{"SS": strList(t.Value)}
	case *ddbtypes.AttributeValueMemberNS:
		return map[string]any{"NS": strList(t.Value)}
	case *ddbtypes.AttributeValueMemberBS:
		l := make([]any, len(t.Value))
		for i, b := range t.Value {
			l[i] = base64.StdEncoding.EncodeToString(b)
		}
		return map[string]any{"BS": l}
	case *ddbtypes.AttributeValueMemberM:
		return map[string]any{"M": attrMapToJSON(t.Value)}
	case *ddbtypes.AttributeValueMemberL:
		l := make([]any, len(t.Value))
		for i, x := range t.Value {
			l[i] = attrToJSON(x)
		}
		return map[string]any{"L": l}
	}
	return nil
}
