// Package storetest gives tests a table of their own on the local DynamoDB engine
// (moto_server, started or reused by enginestest), with the store's real schema.
package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/engines/enginestest"
	"github.com/facepay/platform/shared/store"
)

var seq atomic.Int64

// NewDB creates a fresh table from store.TableInput and deletes it when the test ends. It
// fails, never skips, when the engine cannot start. Test packages using it call
// enginestest.Main from TestMain so the engine stops with them.
func NewDB(t testing.TB) *store.DB { return NewDBOn(t, enginestest.DynamoDB(t)) }

// NewDBOn is NewDB through client (a counting one, say: enginestest.CountingDynamoDB).
func NewDBOn(t testing.TB, client *dynamodb.Client) *store.DB {
	t.Helper()
	return store.New(client, table(t, client, "test", store.TableInput))
}

// NewFigures creates a fresh figures table from store.FiguresTableInput, deleted when the test
// ends.
func NewFigures(t testing.TB) *store.Figures { return NewFiguresOn(t, enginestest.DynamoDB(t)) }

// NewFiguresOn is NewFigures through client.
func NewFiguresOn(t testing.TB, client *dynamodb.Client) *store.Figures {
	t.Helper()
	return store.NewFigures(client, table(t, client, "figures", store.FiguresTableInput))
}

func table(t testing.TB, client *dynamodb.Client, prefix string, input func(string) *dynamodb.CreateTableInput) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), seq.Add(1))
	_, err := client.CreateTable(context.Background(), input(name))
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}) })
	return name
}
