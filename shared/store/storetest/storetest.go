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
func NewDB(t testing.TB) *store.DB {
	t.Helper()
	client := enginestest.DynamoDB(t)
	name := fmt.Sprintf("test-%d-%d", time.Now().UnixNano(), seq.Add(1))
	_, err := client.CreateTable(context.Background(), store.TableInput(name))
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}) })
	return store.New(client, name)
}

// NewFigures creates a fresh figures table from store.FiguresTableInput, deleted when the test
// ends.
func NewFigures(t testing.TB) *store.Figures {
	t.Helper()
	client := enginestest.DynamoDB(t)
	name := fmt.Sprintf("figures-%d-%d", time.Now().UnixNano(), seq.Add(1))
	_, err := client.CreateTable(context.Background(), store.FiguresTableInput(name))
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}) })
	return store.NewFigures(client, name)
}
