package engines_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/infra/local/engines"
)

func TestStartMoto_DynamoDB(t *testing.T) {
	ctx := context.Background()
	m, err := engines.StartMoto(ctx, engines.MotoOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Stop() })
	require.True(t, strings.HasPrefix(m.Endpoint, "http://127.0.0.1:"), m.Endpoint)

	db := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(m.Endpoint),
	})
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("engines-test"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	require.NoError(t, err)
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("engines-test"),
		Item:      map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "a"}},
	})
	require.NoError(t, err)
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String("engines-test"),
		Key:       map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "a"}},
	})
	require.NoError(t, err)
	assert.Equal(t, &ddbtypes.AttributeValueMemberS{Value: "a"}, out.Item["pk"])

	pid := m.Pid()
	require.NoError(t, m.Stop())
	require.NoError(t, m.Stop(), "Stop is idempotent")
	assertGroupGone(t, pid)
	_, err = http.Get(m.Endpoint + "/moto-api/")
	assert.Error(t, err, "the proxy closed with the engine")
}

func TestStartMoto_PortTaken(t *testing.T) {
	m, err := engines.StartMoto(context.Background(), engines.MotoOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Stop() })

	// A fixed port that is taken is an error, not a silent retry elsewhere;
	// the child must not survive the failed start.
	_, err = engines.StartVersity(context.Background(), engines.VersityOptions{Port: m.Port})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not free")
}

func TestStartVersity_PutGetAndWebhook(t *testing.T) {
	ctx := context.Background()
	events := make(chan string, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Records []struct {
				EventName string `json:"eventName"`
				S3        struct {
					Object struct {
						Key string `json:"key"`
					} `json:"object"`
				} `json:"s3"`
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err == nil {
			for _, rec := range body.Records {
				events <- rec.EventName + " " + rec.S3.Object.Key
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hook.Close)

	v, err := engines.StartVersity(ctx, engines.VersityOptions{WebhookURL: hook.URL + "/"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = v.Stop() })

	client := s3Client(v)
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("engines-test")})
	require.NoError(t, err)
	_, err = client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("engines-test"), Key: aws.String("a/b.txt"), Body: strings.NewReader("hello"),
	})
	require.NoError(t, err)
	got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("engines-test"), Key: aws.String("a/b.txt")})
	require.NoError(t, err)
	body, err := io.ReadAll(got.Body)
	got.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, "hello", string(body))

	deadline := time.After(10 * time.Second)
	for created := false; !created; {
		select {
		case e := <-events:
			created = strings.Contains(e, "ObjectCreated") && strings.HasSuffix(e, " a/b.txt")
		case <-deadline:
			t.Fatal("no ObjectCreated event for a/b.txt reached the webhook")
		}
	}

	pid, dataDir := v.Pid(), v.DataDir
	require.NoError(t, v.Stop())
	require.NoError(t, v.Stop(), "Stop is idempotent")
	assertGroupGone(t, pid)
	_, err = os.Stat(dataDir)
	assert.True(t, errors.Is(err, os.ErrNotExist), "temporary data directory removed, got %v", err)
}

func TestStartVersity_RefusesBadPresignedRequests(t *testing.T) {
	ctx := context.Background()
	v, err := engines.StartVersity(ctx, engines.VersityOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = v.Stop() })
	client := s3Client(v)
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("presign")})
	require.NoError(t, err)
	presign := s3.NewPresignClient(client)

	put := func(t *testing.T, u string) int {
		req, err := http.NewRequest(http.MethodPut, u, strings.NewReader("data"))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}

	t.Run("valid PUT accepted", func(t *testing.T) {
		p, err := presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("presign"), Key: aws.String("ok")})
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, put(t, p.URL))
	})
	t.Run("tampered signature", func(t *testing.T) {
		p, err := presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("presign"), Key: aws.String("tampered")})
		require.NoError(t, err)
		u, err := url.Parse(p.URL)
		require.NoError(t, err)
		q := u.Query()
		sig := []byte(q.Get("X-Amz-Signature"))
		require.NotEmpty(t, sig)
		sig[0] = map[bool]byte{true: 'b', false: 'a'}[sig[0] == 'a']
		q.Set("X-Amz-Signature", string(sig))
		u.RawQuery = q.Encode()
		assert.Equal(t, http.StatusForbidden, put(t, u.String()))
	})
	t.Run("expired", func(t *testing.T) {
		p, err := presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("presign"), Key: aws.String("expired")},
			s3.WithPresignExpires(time.Second))
		require.NoError(t, err)
		time.Sleep(2 * time.Second)
		assert.Equal(t, http.StatusForbidden, put(t, p.URL))
	})
	t.Run("POST above content-length-range", func(t *testing.T) {
		post := func(t *testing.T, size int) int {
			p, err := presign.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String("presign"), Key: aws.String("posted")},
				func(o *s3.PresignPostOptions) {
					o.Conditions = []any{[]any{"content-length-range", 1, 10}}
				})
			require.NoError(t, err)
			var body bytes.Buffer
			form := multipart.NewWriter(&body)
			for k, val := range p.Values {
				require.NoError(t, form.WriteField(k, val))
			}
			fw, err := form.CreateFormFile("file", "posted")
			require.NoError(t, err)
			_, err = fw.Write(bytes.Repeat([]byte("x"), size))
			require.NoError(t, err)
			require.NoError(t, form.Close())
			resp, err := http.Post(p.URL, form.FormDataContentType(), &body)
			require.NoError(t, err)
			defer resp.Body.Close()
			msg, _ := io.ReadAll(resp.Body)
			t.Logf("POST %d bytes: %d %s", size, resp.StatusCode, msg)
			return resp.StatusCode
		}
		assert.Less(t, post(t, 5), 300, "within the range")
		assert.Equal(t, http.StatusBadRequest, post(t, 11))
	})
}

func TestStop_ConcurrentCalls(t *testing.T) {
	m, err := engines.StartMoto(context.Background(), engines.MotoOptions{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, m.Stop())
		}()
	}
	wg.Wait()
	assertGroupGone(t, m.Pid())
}

func s3Client(v *engines.Versity) *s3.Client {
	return s3.New(s3.Options{
		Region:       v.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(v.AccessKey, v.SecretKey, ""),
		BaseEndpoint: aws.String(v.Endpoint),
		UsePathStyle: true,
	})
}

// assertGroupGone checks that no process is left in the process group pgid.
func assertGroupGone(t *testing.T, pgid int) {
	t.Helper()
	err := syscall.Kill(-pgid, 0)
	assert.ErrorIs(t, err, syscall.ESRCH, "process group %d still has members", pgid)
}

// assertNoProcess checks that no process's command line matches pattern.
func assertNoProcess(t *testing.T, pattern string) {
	t.Helper()
	out, err := exec.Command("pgrep", "-f", pattern).Output()
	assert.Error(t, err, "pgrep -f %q found: %s", pattern, out)
}

// TestStartMoto_DiesWithParent runs this test binary as a parent that starts
// moto_server and is then SIGKILLed: the engine must not outlive it.
func TestStartMoto_DiesWithParent(t *testing.T) {
	if os.Getenv("ENGINES_TEST_PARENT") == "1" {
		m, err := engines.StartMoto(context.Background(), engines.MotoOptions{})
		if err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString(strconv.Itoa(m.Pid()) + "\n")
		select {}
	}
	parent := exec.Command(os.Args[0], "-test.run=^TestStartMoto_DiesWithParent$")
	parent.Env = append(os.Environ(), "ENGINES_TEST_PARENT=1")
	stdout, err := parent.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, parent.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err, "parent printed %q", line)
	require.NoError(t, syscall.Kill(pid, 0), "moto_server runs while its parent lives")

	require.NoError(t, parent.Process.Kill())
	_ = parent.Wait()
	require.Eventually(t, func() bool { return syscall.Kill(-pid, 0) == syscall.ESRCH },
		5*time.Second, 50*time.Millisecond, "moto_server (group %d) outlived its SIGKILLed parent", pid)
}

// motoClient starts a moto_server for the test and returns a DynamoDB client of it.
func motoClient(t *testing.T, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	m, err := engines.StartMoto(context.Background(), engines.MotoOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Stop() })
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(m.Endpoint),
	}, optFns...)
}

// moto_server alone fails about one concurrent TransactWriteItems in ten with an HTML 500;
// behind StartMoto's proxy not one fails, even with the SDK's retries off.
func TestStartMoto_ConcurrentTransactions(t *testing.T) {
	ctx := context.Background()
	db := motoClient(t, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("tx"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	require.NoError(t, err)
	put := func(pk string) ddbtypes.TransactWriteItem {
		return ddbtypes.TransactWriteItem{Put: &ddbtypes.Put{
			TableName:           aws.String("tx"),
			Item:                map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}},
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for w := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
					put(fmt.Sprintf("e-%d-%d", w, i)), put(fmt.Sprintf("h-%d-%d", w, i)),
				}})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("tx"), Select: ddbtypes.SelectCount})
	require.NoError(t, err)
	assert.EqualValues(t, 400, out.Count)
}

// The patched query (motopatch.py) hands moto only the items a key condition selects; the
// answers, their order and their paging must stay those of a full-table query.
func TestStartMoto_QueriesSelectTheirPartition(t *testing.T) {
	ctx := context.Background()
	db := motoClient(t)
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	str := func(name string) ddbtypes.AttributeDefinition {
		return ddbtypes.AttributeDefinition{AttributeName: aws.String(name), AttributeType: ddbtypes.ScalarAttributeTypeS}
	}
	key := func(hash, rng string) []ddbtypes.KeySchemaElement {
		return []ddbtypes.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String(rng), KeyType: ddbtypes.KeyTypeRange}}
	}
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("q"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{str("pk"), str("sk"), str("gpk"), str("gsk")},
		KeySchema:            key("pk", "sk"),
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{
			IndexName: aws.String("gsi1"), KeySchema: key("gpk", "gsk"),
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
		}},
		BillingMode: ddbtypes.BillingModePayPerRequest,
	})
	require.NoError(t, err)
	// 3 partitions of 40 items; the index holds every item but each fifth, under 2 index keys
	// that cut across the partitions, with index sort keys that repeat (moto then orders by the
	// table's keys).
	wantIndex := map[string][]string{}
	for p := range 3 {
		for i := range 40 {
			item := map[string]ddbtypes.AttributeValue{"pk": s(fmt.Sprintf("P%d", p)), "sk": s(fmt.Sprintf("S%03d", i))}
			if i%5 != 0 {
				g := fmt.Sprintf("G%d", i%2)
				item["gpk"], item["gsk"] = s(g), s(fmt.Sprintf("K%02d", i%7))
				wantIndex[g] = append(wantIndex[g], fmt.Sprintf("K%02d/P%d/S%03d", i%7, p, i))
			}
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("q"), Item: item})
			require.NoError(t, err)
		}
	}
	query := func(in *dynamodb.QueryInput) (got []string) {
		in.TableName, in.Limit = aws.String("q"), aws.Int32(7)
		pages := dynamodb.NewQueryPaginator(db, in)
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			require.NoError(t, err)
			for _, it := range page.Items {
				v := func(k string) string {
					if a, ok := it[k].(*ddbtypes.AttributeValueMemberS); ok {
						return a.Value
					}
					return ""
				}
				if in.IndexName != nil {
					got = append(got, v("gsk")+"/"+v("pk")+"/"+v("sk"))
				} else {
					got = append(got, v("pk")+"/"+v("sk"))
				}
			}
		}
		return got
	}

	got := query(&dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :s)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": s("P1"), ":s": s("S01")},
		ScanIndexForward:          aws.Bool(false),
	})
	assert.Equal(t, []string{"P1/S019", "P1/S018", "P1/S017", "P1/S016", "P1/S015", "P1/S014", "P1/S013", "P1/S012", "P1/S011", "P1/S010"}, got)
	assert.Len(t, query(&dynamodb.QueryInput{
		KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": s("P2")},
	}), 40)
	assert.Empty(t, query(&dynamodb.QueryInput{
		KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": s("P9")},
	}))
	for g, want := range wantIndex {
		slices.Sort(want)
		got := query(&dynamodb.QueryInput{
			IndexName:                 aws.String("gsi1"),
			KeyConditionExpression:    aws.String("gpk = :g"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":g": s(g)},
		})
		assert.Equal(t, want, got, g)
	}
	got = query(&dynamodb.QueryInput{
		IndexName:                 aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gpk = :g AND gsk = :k"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":g": s("G1"), ":k": s("K03")},
	})
	assert.Equal(t, []string{"K03/P0/S003", "K03/P0/S017", "K03/P0/S031", "K03/P1/S003", "K03/P1/S017", "K03/P1/S031", "K03/P2/S003", "K03/P2/S017", "K03/P2/S031"}, got)
}

// motopatch.py reads and writes AttributeValues itself instead of walking botocore's model;
// motopatch_check.py compares both on random values of every type.
func TestMotoPatch_MatchesMotosModelWalk(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3: moto_server runs unpatched")
	}
	out, err := exec.Command(python, "motopatch_check.py", "motopatch.py").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "ok\n", string(out))
}
