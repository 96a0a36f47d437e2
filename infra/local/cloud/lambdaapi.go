package cloud

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// maxInvokePayload is Lambda's limit on a synchronous invocation's request payload (6 MB);
// an asynchronous one takes at most 1 MB.
const (
	maxInvokePayload      = 6 << 20
	maxAsyncInvokePayload = 1 << 20
)

// lambdaAPI serves Lambda's Invoke operation (POST /2015-03-31/functions/{name}/invocations)
// for the in-process functions, so `aws lambda invoke --endpoint-url` and the SDK's Invoke work
// locally: RequestResponse runs the function and answers its result (a function error is 200
// with X-Amz-Function-Error: Unhandled, as Lambda answers); Event queues it (202) with Lambda's
// asynchronous retries and failure destination; DryRun only checks the function exists (204).
func (c *Cloud) lambdaAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", func(w http.ResponseWriter, r *http.Request) {
		name := c.host.resolve(r.PathValue("name"))
		if _, ok := c.host.functions[name]; !ok {
			lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+r.PathValue("name"))
			return
		}
		typ := r.Header.Get("X-Amz-Invocation-Type")
		limit := int64(maxInvokePayload)
		if typ == "Event" {
			limit = maxAsyncInvokePayload
		}
		payload, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
			return
		}
		if int64(len(payload)) > limit {
			lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than the invocation payload limit")
			return
		}
		if len(payload) == 0 {
			payload = []byte("{}")
		}
		if !json.Valid(payload) {
			lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
			return
		}
		switch typ {
		case "Event":
			c.async.start(name, payload)
			w.WriteHeader(http.StatusAccepted)
		case "DryRun":
			w.WriteHeader(http.StatusNoContent)
		case "", "RequestResponse":
			out, err := c.host.Invoke(r.Context(), name, payload)
			w.Header().Set("X-Amz-Executed-Version", "$LATEST")
			var fnErr *FunctionError
			switch {
			case errors.As(err, &fnErr):
				w.Header().Set("X-Amz-Function-Error", "Unhandled")
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(fnErr)
			case err != nil:
				lambdaError(w, http.StatusInternalServerError, "ServiceException", err.Error())
			default:
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(out)
			}
		default:
			lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException",
				"X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not "+strings.TrimSpace(typ))
		}
	})
	return mux
}

// lambdaError answers an error the way Lambda's REST API does: the type in X-Amzn-ErrorType
// (what the SDK reads) and a JSON body.
func lambdaError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}
