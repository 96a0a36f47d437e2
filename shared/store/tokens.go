package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/facepay/platform/shared/domain"
)

// Items: pk=MODEL#<id> sk=TOKEN#<step>: the task token of the pipeline step waiting on a model.
// Tokens stay server-side: the API that completes a step reads it here and calls SendTask*.

// TaskToken is a stored callback token.
type TaskToken struct {
	ModelID string    `json:"modelId"`
	Step    string    `json:"step"`
	Token   string    `json:"token"`
	Since   time.Time `json:"since"`
}

func tokenSK(step string) string { return "TOKEN#" + step }

// PutTaskToken records the token the pipeline waits on for (model, step). A redelivered
// invocation with the same token is harmless; a newer token (a retried task) replaces it.
func (db *DB) PutTaskToken(ctx context.Context, t TaskToken) error {
	data, err := marshalJSON(t)
	if err != nil {
		return err
	}
	it := item{PK: "MODEL#" + t.ModelID, SK: tokenSK(t.Step), Data: data}
	cur, err := db.get(ctx, it.PK, it.SK, "token_not_found", "token")
	version := 0
	if err == nil {
		var old TaskToken
		if uerr := unmarshalJSON(cur.Data, &old); uerr == nil && old.Token == t.Token {
			return nil
		}
		version = cur.Version
	} else if domain.KindOf(err) != domain.NotFound {
		return err
	}
	w, err := db.put(it, version)
	if err != nil {
		return err
	}
	return db.write(ctx, "task token "+t.ModelID+"/"+t.Step, []types.TransactWriteItem{w}, nil)
}

// TaskTokenOf returns the token waiting on (model, step). It returns NotFound
// ("not_waiting") when the pipeline is not waiting there.
func (db *DB) TaskTokenOf(ctx context.Context, modelID, step string) (TaskToken, error) {
	it, err := db.get(ctx, "MODEL#"+modelID, tokenSK(step), "not_waiting", "a pipeline step "+step+" waiting on model "+modelID)
	if err != nil {
		return TaskToken{}, err
	}
	var t TaskToken
	return t, unmarshalJSON(it.Data, &t)
}
